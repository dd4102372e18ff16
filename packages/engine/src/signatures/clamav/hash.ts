// Hash signature lines: .hdb .hsb .fp .sfp (`Digest:Size:Name[:MinFL[:MaxFL]]`) and .mdb .msb .imp
// (`Size:Digest:Name[:MinFL[:MaxFL]]`). A database holds millions of them, so the common good line
// is read with indexOf and no intermediate objects; fields are only built to explain a bad one.
import type { HashSignature, SourceRef } from '../types.js';
import { decimal, type Field, FieldError, fieldCount, flevelFields, signatureName, splitFields } from './fields.js';

const ALGO_BY_LENGTH: Record<number, HashSignature['algo']> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };

function isHex(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

function digestOf(f: Field): { digest: string; algo: HashSignature['algo'] } {
  const algo = ALGO_BY_LENGTH[f.text.length];
  if (algo === undefined) {
    throw new FieldError(
      'S002',
      `hash '${f.text}' has ${f.text.length} hex digits (MD5 32, SHA1 40, SHA256 64)`,
      f.column,
    );
  }
  if (!isHex(f.text)) throw new FieldError('S002', `hash '${f.text}' is not hexadecimal`, f.column);
  return { digest: f.text.toLowerCase(), algo };
}

function sizeOf(f: Field): number | null {
  return f.text === '*' ? null : decimal(f, 'size', 'S003');
}

/** The hash lines of one file, in field order `digest-first` (.hdb) or `size-first` (.mdb). */
export function parseHashLine(
  line: string,
  scope: HashSignature['scope'],
  sizeFirst: boolean,
  source: SourceRef,
): HashSignature {
  // Fast path: exactly three fields, no flevel.
  const a = line.indexOf(':');
  const b = a < 0 ? -1 : line.indexOf(':', a + 1);
  if (b > 0 && line.indexOf(':', b + 1) < 0) {
    const first = line.slice(0, a);
    const second = line.slice(a + 1, b);
    const digestText = sizeFirst ? second : first;
    const sizeText = sizeFirst ? first : second;
    const algo = ALGO_BY_LENGTH[digestText.length];
    const size = sizeText === '*' ? null : /^\d+$/.test(sizeText) ? Number(sizeText) : Number.NaN;
    const name = line.slice(b + 1);
    if (algo !== undefined && isHex(digestText) && !Number.isNaN(size) && name !== '') {
      return { scope, algo, digest: digestText.toLowerCase(), size, name, source };
    }
  }
  const fields = splitFields(line, ':');
  fieldCount(fields, 3, 5, sizeFirst ? 'Size:Hash:Name[:MinFL[:MaxFL]]' : 'Hash:Size:Name[:MinFL[:MaxFL]]');
  const [f0, f1, f2] = fields as [Field, Field, Field];
  const { digest, algo } = digestOf(sizeFirst ? f1 : f0);
  const size = sizeOf(sizeFirst ? f0 : f1);
  const name = signatureName(f2);
  const flevel = flevelFields(fields, 3);
  return { scope, algo, digest, size, name, source, ...(flevel === undefined ? {} : { flevel }) };
}
