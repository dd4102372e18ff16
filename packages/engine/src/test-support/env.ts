// An EngineEnv for the engine's own tests, backed by node:crypto and node:zlib. (The production
// one lives in packages/node; the engine cannot depend on it.)
import { createHash } from 'node:crypto';
import { constants, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { EngineEnv } from '../env.js';

const INFLATERS = { raw: inflateRawSync, gzip: gunzipSync, zlib: inflateSync };

export const testEnv: EngineEnv = {
  hash: (algo, data) => new Uint8Array(createHash(algo).update(data).digest()),
  gunzip: (data, maxOutput) => new Uint8Array(gunzipSync(data, { maxOutputLength: maxOutput })),
  inflate(format, data, maxOutput, history) {
    try {
      const options = {
        maxOutputLength: Math.max(1, maxOutput),
        finishFlush: constants.Z_SYNC_FLUSH,
        ...(history !== undefined && history.length > 0 ? { dictionary: history } : {}),
      };
      return { status: 'ok', data: new Uint8Array(INFLATERS[format](data, options)) };
    } catch (e) {
      const over = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
      return { status: over ? 'over-limit' : 'corrupt', data: new Uint8Array(0), message: (e as Error).message };
    }
  },
};
