// The engine's host services on Node.js: hashing with node:crypto, deflate with node:zlib (bounded).
import { createHash } from 'node:crypto';
import { constants, gunzipSync, inflateRawSync, inflateSync, type ZlibOptions } from 'node:zlib';
import type { DeflateFormat, EngineEnv, Inflated } from '@vigil/engine';

const INFLATERS: Record<DeflateFormat, (data: Uint8Array, options: ZlibOptions) => Buffer> = {
  raw: inflateRawSync,
  gzip: gunzipSync,
  zlib: inflateSync,
};

const NOTHING = new Uint8Array(0);

function inflate(format: DeflateFormat, data: Uint8Array, maxOutput: number, history?: Uint8Array): Inflated {
  try {
    // A sync flush at the end makes a truncated stream yield what it holds instead of failing.
    const out = INFLATERS[format](data, {
      maxOutputLength: Math.max(1, maxOutput),
      finishFlush: constants.Z_SYNC_FLUSH,
      ...(history !== undefined && history.length > 0 ? { dictionary: history } : {}),
    });
    return { status: 'ok', data: new Uint8Array(out.buffer, out.byteOffset, out.length) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE') return { status: 'over-limit', data: NOTHING };
    return { status: 'corrupt', data: NOTHING, message: err.message };
  }
}

export const nodeEnv: EngineEnv = {
  hash: (algo, data) => new Uint8Array(createHash(algo).update(data).digest()),
  gunzip: (data, maxOutput) => new Uint8Array(gunzipSync(data, { maxOutputLength: maxOutput })),
  inflate,
};
