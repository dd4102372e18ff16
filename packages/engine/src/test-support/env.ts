// An EngineEnv for the engine's own tests, backed by node:crypto and node:zlib. (The production
// one lives in packages/node; the engine cannot depend on it.)
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { EngineEnv } from '../env.js';

export const testEnv: EngineEnv = {
  hash: (algo, data) => new Uint8Array(createHash(algo).update(data).digest()),
  gunzip: (data, maxOutput) => new Uint8Array(gunzipSync(data, { maxOutputLength: maxOutput })),
};
