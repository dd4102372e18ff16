// A scan worker: opens the shared database, scans the jobs it is sent in order, and switches to a
// new database when told (between jobs, so no scan sees two).
import { parentPort, workerData } from 'node:worker_threads';
import { createScanner, openDatabase, type Scanner } from '@vigil/engine';
import { nodeEnv } from './env.js';
import type { WorkerInit, WorkerMessage } from './pool.js';
import { scanBytes, scanFd, scanFile } from './scanfile.js';

const init = workerData as WorkerInit;
let scanner: Scanner = createScanner(openDatabase(init.shared, nodeEnv), nodeEnv);
parentPort?.on('message', (m: WorkerMessage) => {
  if (m.type === 'database') {
    scanner = createScanner(openDatabase(m.shared, nodeEnv), nodeEnv);
    return;
  }
  const options = m.options ?? init.options;
  const job = m.job;
  const outcome =
    'path' in job
      ? scanFile(scanner, job.path, options)
      : 'bytes' in job
        ? scanBytes(scanner, job.bytes, options, job.name)
        : scanFd(scanner, job.fd, options, job.name);
  parentPort?.postMessage(outcome);
});
