// CONTRACT (being implemented): the scan pipeline. type -> views -> matcher pass -> hashes -> logic -> detections.
import type { ByteSource } from '../bytesource.js';
import type { Database } from '../database/api.js';
import type { EngineEnv } from '../env.js';
import { VigilError } from '../errors.js';
import type { ScanOptions } from './options.js';
import type { ScanResult } from './types.js';

/** Scans byte sources against one database. Cheap to create; holds no per-file state between calls. */
export interface Scanner {
  scan(source: ByteSource, options: ScanOptions): ScanResult;
}

export function createScanner(_db: Database, _env: EngineEnv): Scanner {
  throw new VigilError('E_INTERNAL', 'createScanner: not implemented yet');
}
