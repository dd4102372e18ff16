// Byte helpers the unpackers share beside read.ts's readers: signed reads as ClamAV's
// cli_readint32 gives them, a pattern test, and a 32-bit writer for patching rebuilt images.

/** Signed 32-bit little-endian at `o` (missing bytes read as 0), as ClamAV's `cli_readint32` returns it. */
export function i32le(d: Uint8Array, o: number): number {
  return (d[o] ?? 0) | ((d[o + 1] ?? 0) << 8) | ((d[o + 2] ?? 0) << 16) | ((d[o + 3] ?? 0) << 24);
}

/** Signed 32-bit little-endian at `o`, or undefined unless all four bytes are there. */
export function i32at(d: Uint8Array, o: number): number | undefined {
  return o >= 0 && o + 4 <= d.length ? i32le(d, o) : undefined;
}

/** True when `data` holds `bytes` at `at`. */
export function bytesAt(data: Uint8Array, at: number, bytes: readonly number[]): boolean {
  if (at < 0 || at + bytes.length > data.length) return false;
  return bytes.every((b, i) => data[at + i] === b);
}

/** Writes an unsigned 32-bit little-endian value (the caller has checked the bounds). */
export function putU32(d: Uint8Array, o: number, v: number): void {
  d[o] = v & 0xff;
  d[o + 1] = (v >>> 8) & 0xff;
  d[o + 2] = (v >>> 16) & 0xff;
  d[o + 3] = (v >>> 24) & 0xff;
}
