// Little helpers for reading container headers: bounds-safe integers and Latin-1 names.

/** Unsigned 16-bit little-endian at `o`, or 0 past the end. */
export function u16le(d: Uint8Array, o: number): number {
  return ((d[o] ?? 0) | ((d[o + 1] ?? 0) << 8)) >>> 0;
}

/** Unsigned 32-bit little-endian at `o`, or 0 past the end. */
export function u32le(d: Uint8Array, o: number): number {
  return ((d[o] ?? 0) | ((d[o + 1] ?? 0) << 8) | ((d[o + 2] ?? 0) << 16) | ((d[o + 3] ?? 0) << 24)) >>> 0;
}

/** Unsigned 16-bit big-endian at `o`, or 0 past the end. */
export function u16be(d: Uint8Array, o: number): number {
  return (((d[o] ?? 0) << 8) | (d[o + 1] ?? 0)) >>> 0;
}

/** Unsigned 32-bit big-endian at `o`, or 0 past the end. */
export function u32be(d: Uint8Array, o: number): number {
  return (((d[o] ?? 0) << 24) | ((d[o + 1] ?? 0) << 16) | ((d[o + 2] ?? 0) << 8) | (d[o + 3] ?? 0)) >>> 0;
}

/** Bytes `[start, end)` as Latin-1 text, one code point per byte (names in archives are bytes). */
export function latin1(d: Uint8Array, start = 0, end = d.length): string {
  const parts: string[] = [];
  const stop = Math.min(end, d.length);
  for (let i = Math.max(0, start); i < stop; i += 8192) {
    parts.push(String.fromCharCode(...d.subarray(i, Math.min(stop, i + 8192))));
  }
  return parts.join('');
}

/** Latin-1 text of `[start, end)` up to the first NUL. */
export function cString(d: Uint8Array, start: number, end: number): string {
  let stop = Math.min(end, d.length);
  const nul = d.indexOf(0, start);
  if (nul >= 0 && nul < stop) stop = nul;
  return latin1(d, start, stop);
}

/** True when `d` holds the ASCII text `s` at `o`. */
export function hasText(d: Uint8Array, o: number, s: string): boolean {
  if (o < 0 || o + s.length > d.length) return false;
  for (let i = 0; i < s.length; i++) if (d[o + i] !== s.charCodeAt(i)) return false;
  return true;
}

/**
 * The name of a compressed file's content: `clam.exe.gz` → `clam.exe`, `x.tgz` → `x.tar`; a name
 * without the suffix gets `.out`, as a decompressor would write it.
 */
export function decodedName(name: string, suffix: RegExp): string {
  const m = suffix.exec(name);
  if (m === null || m.index === 0) return `${name}.out`;
  return name.slice(0, m.index) + (m[0].toLowerCase().startsWith('.t') ? '.tar' : '');
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** The CRC-32 of `d` (ISO-HDLC, as ZIP, gzip and ARJ use it). */
export function crc32(d: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < d.length; i++) c = (CRC_TABLE[(c ^ (d[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The bytes of `parts` one after another, in one new buffer. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
