// The engine's host services on Node.js: hashing with node:crypto, gzip with node:zlib (bounded).
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { EngineEnv } from '@vigil/engine';

export const nodeEnv: EngineEnv = {
  hash: (algo, data) => new Uint8Array(createHash(algo).update(data).digest()),
  gunzip: (data, maxOutput) => new Uint8Array(gunzipSync(data, { maxOutputLength: maxOutput })),
};
