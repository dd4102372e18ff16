// What the pure engine needs from its host: hashing and decompression. packages/node supplies
// implementations backed by node:crypto and node:zlib; tests may supply their own.

/** A digest algorithm a hash signature can name. */
export type HashAlgo = 'md5' | 'sha1' | 'sha256';

/** Host services handed to the engine. */
export interface EngineEnv {
  /** Digest of `data`, raw bytes (16, 20 or 32 of them). */
  hash(algo: HashAlgo, data: Uint8Array): Uint8Array;
  /** gzip-decompress (for .cvd containers); throws on corrupt input. `maxOutput` bounds the result. */
  gunzip(data: Uint8Array, maxOutput: number): Uint8Array;
}
