// Public surface of @vigil/engine: the pure scanning engine (no node:* imports).
export { type ByteSource, bytesSource } from './bytesource.js';
export {
  type Allocate,
  type CompileResult,
  checkDatabase,
  compileDatabase,
  compiledLayout,
  type Database,
  type DatabaseInfo,
  type DatabaseInput,
  isCompiledDatabase,
  type LoadOptions,
  openDatabase,
  type PageSource,
  serializeDatabase,
} from './database/api.js';
export type { DeflateFormat, EngineEnv, HashAlgo, Inflated } from './env.js';
export { isVigilError, VigilError, type VigilErrorCode } from './errors.js';
export { DEFAULT_SCAN_OPTIONS, resolveScanOptions, type ScanOptions } from './scan/options.js';
export { createScanner, type Scanner } from './scan/scanner.js';
export type { Detection, LimitHit, ScanResult } from './scan/types.js';
export {
  CLAMAV_CDIFF_KEY,
  CLAMAV_KEY,
  type Cvd,
  type CvdHeader,
  type CvdMember,
  type DsigKey,
  openCvd,
  parseCvdHeader,
  readTar,
  verifyDsig,
  verifyDsig2,
} from './signatures/clamav/cvd.js';
export { type Diagnostic, type DiagnosticCode, formatDiagnostic } from './signatures/diagnostics.js';
export { databaseExtension, isDatabaseFileName } from './signatures/load.js';
