// A scan worker: opens the shared database, scans the jobs it is sent in order, and switches to a
// new database when told (between jobs, so no scan sees two).
import { parentPort, workerData } from 'node:worker_threads';
import { createScanner, type Scanner } from '@vigil/engine';
import { openShared } from './database.js';
import { nodeEnv } from './env.js';
import type { WorkerInit, WorkerMessage, WorkerReply } from './pool.js';
import { scanBytes, scanFd, scanFile } from './scanfile.js';

const init = workerData as WorkerInit;
let scanner: Scanner = createScanner(openShared(init.database), nodeEnv);
parentPort?.postMessage({ ready: true } satisfies WorkerReply);
parentPort?.on('message', (m: WorkerMessage) => {
  if (m.type === 'database') {
    scanner = createScanner(openShared(m.database), nodeEnv);
    // The old database is no longer used here: its file may be closed once every thread says so.
    parentPort?.postMessage({ switched: m.generation } satisfies WorkerReply);
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
  parentPort?.postMessage({ outcome } satisfies WorkerReply);
});
