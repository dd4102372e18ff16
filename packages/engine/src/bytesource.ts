// The one way the engine reads bytes: a bounds-checked source, as ClamAV's fmap. Files, sockets and
// extracted members are adapted to it by the callers (packages/node); the engine never opens anything.

/** A read-only, random-access run of bytes. */
export interface ByteSource {
  /** Total length in bytes. */
  readonly size: number;
  /**
   * Returns the bytes in `[offset, offset + length)` clipped to the source: fewer at the end, none
   * past it or for a negative or non-integral request. Never throws for an out-of-range request.
   */
  read(offset: number, length: number): Uint8Array;
}

/** A ByteSource over bytes already in memory; `read` returns views, not copies. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read(offset, length) {
      if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length <= 0) {
        return bytes.subarray(0, 0);
      }
      return bytes.subarray(offset, Math.min(bytes.length, offset + length));
    },
  };
}
