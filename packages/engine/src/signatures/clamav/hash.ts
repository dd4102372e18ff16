// Hash signature lines: .hdb .hsb .fp .sfp (`Digest:Size:Name[:MinFL[:MaxFL]]`) and .mdb .msb .imp
// (`Size:Digest:Name[:MinFL[:MaxFL]]`). A database holds millions of them, so the common good line
// is read in place from the file's bytes (`readHashLineBytes`); every other line goes through
// `parseHashLine`, which splits it into fields and explains what is wrong.
import type { HashSignature, SourceRef } from '../types.js';
import {
  decimal,
  type Field,
  FieldError,
  fieldCount,
  flevelFields,
  requireFlevel,
  signatureName,
  splitFields,
} from './fields.js';

const ALGO_BY_LENGTH: Record<number, HashSignature['algo']> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };

/** A hex digit's character code (either case). */
function isHexCode(code: number): boolean {
  const c = code | 0x20;
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
}

function isHex(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isHexCode(s.charCodeAt(i))) return false;
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
  const fields = splitFields(line, ':');
  fieldCount(fields, 3, 5, sizeFirst ? 'Size:Hash:Name[:MinFL[:MaxFL]]' : 'Hash:Size:Name[:MinFL[:MaxFL]]');
  const [f0, f1, f2] = fields as [Field, Field, Field];
  const flevel = flevelFields(fields, 3);
  requireFlevel(flevel);
  const { digest, algo } = digestOf(sizeFirst ? f1 : f0);
  const size = sizeOf(sizeFirst ? f0 : f1);
  const name = signatureName(f2);
  return { scope, algo, digest, size, name, source, ...(flevel === undefined ? {} : { flevel }) };
}

function hexRun(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isHexCode(b[i] as number)) return false;
  return true;
}

/** A hash line read in place: where its digest and name are, and its size. */
export interface HashLineBytes {
  algo: HashSignature['algo'];
  digestAt: number;
  size: number | null;
  nameStart: number;
}

/**
 * Reads the common hash line `a:b:Name` (exactly three fields, ASCII name) in place from the
 * file's bytes `b[start, end)`, into `out`. False when the line is anything else (flevel fields, a
 * bad field, a non-ASCII name): then the string parser reads it and explains what is wrong.
 */
export function readHashLineBytes(
  b: Uint8Array,
  start: number,
  end: number,
  sizeFirst: boolean,
  out: HashLineBytes,
): boolean {
  const c1 = b.indexOf(0x3a, start);
  if (c1 < 0 || c1 >= end) return false;
  const c2 = b.indexOf(0x3a, c1 + 1);
  if (c2 < 0 || c2 >= end || c2 + 1 >= end) return false;
  const c3 = b.indexOf(0x3a, c2 + 1);
  if (c3 >= 0 && c3 < end) return false;
  const dStart = sizeFirst ? c1 + 1 : start;
  const dEnd = sizeFirst ? c2 : c1;
  const sStart = sizeFirst ? start : c1 + 1;
  const sEnd = sizeFirst ? c1 : c2;
  const algo = ALGO_BY_LENGTH[dEnd - dStart];
  if (algo === undefined || !hexRun(b, dStart, dEnd)) return false;
  let size: number | null = null;
  if (!(sEnd - sStart === 1 && b[sStart] === 0x2a)) {
    if (sEnd === sStart || sEnd - sStart > 15) return false;
    size = 0;
    for (let i = sStart; i < sEnd; i++) {
      const d = (b[i] as number) - 0x30;
      if (d < 0 || d > 9) return false;
      size = size * 10 + d;
    }
  }
  for (let i = c2 + 1; i < end; i++) {
    const c = b[i] as number;
    if (c < 0x20 || c > 0x7e) return false;
  }
  out.algo = algo;
  out.digestAt = dStart;
  out.size = size;
  out.nameStart = c2 + 1;
  return true;
}
