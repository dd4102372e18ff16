// @vigil/node: the engine's Node.js adapters (host services, database loading, files, workers).
export {
  type DatabaseCache,
  DEFAULT_DATABASE_DIR,
  type LoadedDatabase,
  loadDatabase,
  readDatabaseInputs,
  writeFileAtomically,
} from './database.js';
export { nodeEnv } from './env.js';
export { ScanPool, type WorkerInit } from './pool.js';
export { type FileOutcome, ioErrorText, scanBytes, scanFile } from './scanfile.js';
