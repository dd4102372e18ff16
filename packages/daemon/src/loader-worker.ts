// The database loader thread (see loader.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { formatDiagnostic } from '@vigil/engine';
import { loadDatabase } from '@vigil/node';
import type { LoaderReply, LoadRequest } from './loader.js';

const request = workerData as LoadRequest;
let reply: LoaderReply;
try {
  const cache = request.cacheDirectory === undefined ? undefined : { dir: request.cacheDirectory };
  const loaded = loadDatabase([request.directory], { detectPua: request.detectPua }, cache);
  reply = {
    ok: {
      shared: loaded.shared,
      // Not the descriptor: this thread's close when it ends. The daemon opens the file again.
      ...(loaded.file !== undefined ? { file: loaded.file } : {}),
      info: loaded.database.info,
      warnings: loaded.diagnostics.map(formatDiagnostic),
      ...(loaded.cacheFile !== undefined ? { compiledFile: loaded.cacheFile } : {}),
      ...(loaded.precompiled ? { compiledFile: request.directory } : {}),
    },
  };
} catch (e) {
  reply = { error: e instanceof Error ? e.message : String(e) };
}
parentPort?.postMessage(reply);
