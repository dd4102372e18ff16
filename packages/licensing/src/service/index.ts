// The licensing service's public API: offline licence files (licence-file.ts), the licence store
// and its SQLite and PostgreSQL implementations (store.ts, sqlite-store.ts, postgres-store.ts),
// the operations (service.ts) and their HTTP API (http.ts). The regional policy they enforce is
// the package's root API.
export type {
  ActivationResult,
  DeactivationResult,
  IssueRequest,
  LicenceView,
  RenewalResult,
  RequestContext,
  SignedLicence,
  TransferRequest,
  TransferResult,
  UpdatesAnswer,
} from './answers.js';
export {
  isLicenceError,
  LicenceError,
  type LicenceErrorCode,
  type LicenceErrorDetails,
  type PolicyRefusal,
} from './errors.js';
export { HTTP_STATUS, type LicensingServerOptions, licensingServer } from './http.js';
export {
  canonicalJson,
  checkLicence,
  generateLicenceKeys,
  issueLicenceFile,
  LICENCE_FIELDS,
  type Licence,
  type LicenceFile,
  type LicenceKeys,
  licenceKeyId,
  privateKeyFrom,
  publicKeyFrom,
  verifyLicenceFile,
} from './licence-file.js';
export { SERVICE_LIMITS } from './limits.js';
export {
  describeDatabase,
  isPostgresUrl,
  PostgresLicenceStore,
  type PostgresStoreOptions,
} from './postgres-store.js';
export { LicensingService, type LicensingServiceOptions } from './service.js';
export { SqliteLicenceStore, type SqliteStoreOptions } from './sqlite-store.js';
export type {
  Activation,
  AuditAction,
  AuditEntry,
  AuditQuery,
  LicenceChanges,
  LicenceStatus,
  LicenceStore,
  NewAuditEntry,
  Plan,
  Product,
  StoredLicence,
  StoreTransaction,
} from './store.js';
