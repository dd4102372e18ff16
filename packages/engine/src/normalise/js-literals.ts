// Literals of the JavaScript normaliser (js.ts), decoded and written as ClamAV's js-norm does:
// string escapes, unescape(), C's atoi for integers and printf's %g for decimals (each checked
// with clamscan 1.4.6). Tokenizing and renaming are js.ts's.

import { hexValue } from '../containers/textcodecs.js';

/** A hexadecimal digit's value, or -1 (also for no byte: past the end). */
const hex = (c: number | undefined): number => (c === undefined ? -1 : hexValue(c));
const hexOr0 = (c: number | undefined): number => Math.max(0, hex(c));

/** UTF-8 of a 16-bit unit as a byte string (0 becomes byte 1, as ClamAV never writes a NUL). */
function utf8(u: number): string {
  if (u === 0) return '\x01';
  if (u < 0x80) return String.fromCharCode(u);
  if (u < 0x800) return String.fromCharCode(0xc0 | (u >> 6), 0x80 | (u & 0x3f));
  return String.fromCharCode(0xe0 | (u >> 12), 0x80 | ((u >> 6) & 0x3f), 0x80 | (u & 0x3f));
}

/** A string literal's bytes `d[start, end)` with JavaScript escapes decoded, as a byte string. */
export function decodeEscapes(d: Uint8Array, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; i++) {
    let c = d[i] as number;
    if (c === 0x5c && i + 1 < end) {
      i++;
      const e = d[i] as number;
      const simple = 'b\bt\tn\nv\vf\fr\r0\0'.indexOf(String.fromCharCode(e));
      if (simple >= 0 && simple % 2 === 0) c = 'b\bt\tn\nv\vf\fr\r0\0'.charCodeAt(simple + 1);
      else if (e === 0x78) {
        // Like ClamAV: a bad second digit makes the byte 0xff; too few digits leave the backslash.
        if (i + 2 < end) c = ((hexOr0(d[i + 1]) << 4) | hex(d[i + 2])) & 0xff;
        i += 2;
      } else if (e === 0x75) {
        if (i + 4 < end) {
          const u =
            ((hexOr0(d[i + 1]) << 12) | (hexOr0(d[i + 2]) << 8) | (hexOr0(d[i + 3]) << 4) | hex(d[i + 4])) & 0xffff;
          out += utf8(u);
          i += 4;
          continue;
        }
      } else c = e;
    }
    out += String.fromCharCode(c === 0 ? 1 : c);
  }
  return out;
}

/** JavaScript's unescape() as ClamAV does it: %HH and %uHHHH (as UTF-8). */
export function jsUnescape(s: string): string {
  let out = '';
  const x = (k: number): boolean => hex(s.charCodeAt(k)) >= 0;
  for (let k = 0; k < s.length; k++) {
    let c = s.charCodeAt(k);
    if (c === 0x25) {
      if (k + 5 < s.length && s[k + 1] === 'u' && x(k + 2) && x(k + 3) && x(k + 4) && x(k + 5)) {
        const u = Number.parseInt(s.slice(k + 2, k + 6), 16);
        out += utf8(u);
        k += 5;
        continue;
      }
      if (k + 2 < s.length && x(k + 1) && x(k + 2)) {
        c = Number.parseInt(s.slice(k + 1, k + 3), 16);
        k += 2;
      }
    }
    out += String.fromCharCode(c === 0 ? 1 : c);
  }
  return out;
}

/** C's atoi on a run of digits: strtol's saturation, then the low 32 bits. */
export function atoi(digits: string): string {
  let v = BigInt(digits === '' ? '0' : digits);
  if (v > 0x7fffffffffffffffn) v = 0x7fffffffffffffffn;
  return BigInt.asIntN(32, v).toString();
}
