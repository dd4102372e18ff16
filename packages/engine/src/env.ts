// What the pure engine needs from its host: hashing and decompression. packages/node supplies
// implementations backed by node:crypto and node:zlib; tests may supply their own.

/** A digest algorithm a hash signature can name. */
export type HashAlgo = 'md5' | 'sha1' | 'sha256';

/** The zlib family of formats: raw deflate (ZIP, CAB), gzip, and zlib-wrapped deflate (PDF). */
export type DeflateFormat = 'raw' | 'gzip' | 'zlib';

/**
 * The result of a bounded decompression. `over-limit`: the output would pass `maxOutput` (nothing
 * is returned); `corrupt`: the stream is damaged (`data` holds what decoded before the damage, when
 * the host can tell). A truncated stream yields what it holds, as `ok`.
 */
export interface Inflated {
  readonly status: 'ok' | 'over-limit' | 'corrupt';
  readonly data: Uint8Array;
  readonly message?: string;
}

/** Host services handed to the engine. */
export interface EngineEnv {
  /** Digest of `data`, raw bytes (16, 20 or 32 of them). */
  hash(algo: HashAlgo, data: Uint8Array): Uint8Array;
  /** gzip-decompress (for .cvd containers); throws on corrupt input. `maxOutput` bounds the result. */
  gunzip(data: Uint8Array, maxOutput: number): Uint8Array;
  /**
   * Decompress a deflate stream of the given wrapping, never past `maxOutput` bytes; never throws.
   * `history` (raw streams only) is output that back-references may reach into (CAB's MSZIP).
   */
  inflate(format: DeflateFormat, data: Uint8Array, maxOutput: number, history?: Uint8Array): Inflated;
}
