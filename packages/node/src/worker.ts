// A scan worker: opens the shared database once, then scans the paths it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { createScanner, openDatabase } from '@vigil/engine';
import { nodeEnv } from './env.js';
import type { WorkerInit } from './pool.js';
import { scanFile } from './scanfile.js';

const init = workerData as WorkerInit;
const scanner = createScanner(openDatabase(init.shared, nodeEnv), nodeEnv);
parentPort?.on('message', (m: { id: number; path: string }) => {
  parentPort?.postMessage({ id: m.id, outcome: scanFile(scanner, m.path, init.options) });
});
