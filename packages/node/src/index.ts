// @vigil/node: the engine's Node.js adapters (host services, database loading, files, workers).
export {
  closeDatabase,
  type DatabaseCache,
  DEFAULT_DATABASE_DIR,
  defaultCacheDir,
  type LoadedDatabase,
  loadDatabase,
  openShared,
  type PagedFile,
  readDatabaseInputs,
  reopenShared,
  type SharedDatabase,
  writeFileAtomically,
} from './database.js';
export { type FileDocument, fileDocument } from './document.js';
export { nodeEnv } from './env.js';
export { type ScanJob, ScanPool, type WorkerInit } from './pool.js';
export { type FileOutcome, ioErrorText, scanBytes, scanFd, scanFile } from './scanfile.js';
