// TAR archives: old (V7), ustar, GNU (long names, base-256 sizes) and pax (path and size records).
import { cString, hasText, latin1 } from '../read.js';
import type { ContainerHandler, Member } from '../types.js';

const BLOCK = 512;

/** A numeric header field: octal text, or base-256 when the top bit of the first byte is set. */
function numberField(d: Uint8Array, o: number, len: number): number | undefined {
  if (((d[o] ?? 0) & 0x80) !== 0) {
    let v = (d[o] as number) & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + (d[o + i] ?? 0);
    return v;
  }
  const text = latin1(d, o, o + len)
    .replace(/[\0 ]+$/, '')
    .trim();
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? Number.parseInt(text, 8) : undefined;
}

/** True when the 512 bytes at `o` are a tar header whose checksum holds (signed or unsigned). */
export function isTarHeader(d: Uint8Array, o: number): boolean {
  if (o + BLOCK > d.length) return false;
  const stored = numberField(d, o + 148, 8);
  if (stored === undefined) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (d[o + i] as number);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  // A block of zeros sums to 256 (the blank checksum field) and is the end marker, not a header.
  return unsigned !== 256 && (stored === unsigned || stored === signed);
}

/** The records of a pax extended header (`len key=value\n`). */
function paxRecords(d: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const text = new TextDecoder().decode(d);
  let at = 0;
  while (at < text.length) {
    const sp = text.indexOf(' ', at);
    const len = Number.parseInt(text.slice(at, sp), 10);
    if (sp < 0 || !Number.isInteger(len) || len <= 0) break;
    const rec = text.slice(sp + 1, at + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    at += len;
  }
  return out;
}

export const tarHandler: ContainerHandler = {
  name: 'Tar',
  families: ['archive'],
  types: ['CL_TYPE_POSIX_TAR', 'CL_TYPE_OLD_TAR'],
  *extract(d, ctx): Generator<Member> {
    let o = 0;
    let longName: string | undefined;
    let pax = new Map<string, string>();
    while (o + BLOCK <= d.length) {
      if (!isTarHeader(d, o)) {
        if (d.subarray(o, o + BLOCK).some((b) => b !== 0)) ctx.broken(`bad header checksum at offset ${o}`);
        return;
      }
      const type = String.fromCharCode(d[o + 156] ?? 0);
      const headerSize = numberField(d, o + 124, 12);
      if (headerSize === undefined) {
        ctx.broken(`bad size field at offset ${o}`);
        return;
      }
      const size = Number(pax.get('size') ?? headerSize);
      if (!Number.isSafeInteger(size) || size < 0) {
        ctx.broken(`bad size at offset ${o}`);
        return;
      }
      const h = o;
      const start = h + BLOCK;
      const body = d.subarray(start, Math.min(d.length, start + size));
      o = start + Math.ceil(size / BLOCK) * BLOCK;
      if (type === 'L') {
        longName = cString(body, 0, body.length);
        continue;
      }
      if (type === 'x') {
        pax = paxRecords(body);
        continue;
      }
      if (type === 'g' || type === 'K') continue;
      const prefix = hasText(d, h + 257, 'ustar\0') ? cString(d, h + 345, h + 500) : '';
      const base = cString(d, h, h + 100);
      const name = pax.get('path') ?? longName ?? (prefix === '' ? base : `${prefix}/${base}`);
      longName = undefined;
      pax = new Map();
      if (type !== '0' && type !== '\0' && type !== '7') continue; // directories, links, devices
      if (size > ctx.maxMemberSize) {
        ctx.tooBig(name, size);
        continue;
      }
      if (body.length < size) ctx.broken(`${name} is cut short (${body.length} of ${size} bytes)`);
      yield { name, data: body };
    }
  },
};
