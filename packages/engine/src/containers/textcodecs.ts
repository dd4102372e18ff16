// The text encodings that carry binaries through mail and HTML: base64, quoted-printable,
// uuencode and percent-encoding. All are lenient, as mail readers are: what is not part of the
// encoding is skipped, and a damaged tail ends the data instead of failing it.

/** A string of code points 0-255 (see `latin1` in read.ts) back to bytes. */
export function latin1ToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

const B64 = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
B64['-'.charCodeAt(0)] = 62; // the URL-safe alphabet, as some senders use it
B64['_'.charCodeAt(0)] = 63;

/** Decodes base64 text, skipping what is not in the alphabet, stopping at padding. */
export function decodeBase64(text: string): Uint8Array {
  const out = new Uint8Array(Math.ceil((text.length * 3) / 4));
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d) break; // '='
    const v = c < 256 ? (B64[c] as number) : -1;
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >>> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

/** The value of an ASCII hex digit, or -1. */
export const hexValue = (c: number): number =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 55 : c >= 0x61 && c <= 0x66 ? c - 87 : -1;

/** Decodes quoted-printable text (`=XX` escapes, `=` soft line breaks). */
export function decodeQuotedPrintable(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x3d) {
      out[n++] = c & 0xff;
      continue;
    }
    const a = text.charCodeAt(i + 1);
    if (a === 0x0a || (a === 0x0d && text.charCodeAt(i + 2) === 0x0a)) {
      i += a === 0x0d ? 2 : 1;
      continue;
    }
    const h = hexValue(a);
    const l = hexValue(text.charCodeAt(i + 2));
    if (h < 0 || l < 0) {
      out[n++] = c;
      continue;
    }
    out[n++] = (h << 4) | l;
    i += 2;
  }
  return out.subarray(0, n);
}

/** Decodes `%XX` escapes (data: URIs without base64). */
export function decodePercent(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const h = c === 0x25 ? hexValue(text.charCodeAt(i + 1)) : -1;
    const l = c === 0x25 ? hexValue(text.charCodeAt(i + 2)) : -1;
    if (h >= 0 && l >= 0) {
      out[n++] = (h << 4) | l;
      i += 2;
    } else {
      out[n++] = c & 0xff;
    }
  }
  return out.subarray(0, n);
}

/** One uuencoded file found in text: its name and bytes. */
export interface Uufile {
  readonly name: string;
  readonly data: Uint8Array;
}

const UU_BEGIN = /^begin(?:-base64)? [0-7]{3,4} (.*)$/;

/** Every `begin NNN name` ... `end` block in `text`, decoded. */
export function* uudecodeAll(text: string): Generator<Uufile> {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = UU_BEGIN.exec(lines[i] as string);
    if (m === null) continue;
    const out: number[] = [];
    for (i++; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line === 'end') break;
      const len = (line.charCodeAt(0) - 32) & 63;
      if (line.length === 0) continue;
      if (len === 0) break; // the empty line (` or space) that ends the data
      const v = (k: number) => ((line.charCodeAt(k) || 32) - 32) & 63;
      for (let k = 1, got = 0; got < len; k += 4) {
        const bytes = [
          (v(k) << 2) | (v(k + 1) >> 4),
          ((v(k + 1) << 4) | (v(k + 2) >> 2)) & 0xff,
          ((v(k + 2) << 6) | v(k + 3)) & 0xff,
        ];
        for (const b of bytes) if (got++ < len) out.push(b & 0xff);
      }
    }
    yield { name: (m[1] as string).trim() || 'uudecoded', data: Uint8Array.from(out) };
  }
}
