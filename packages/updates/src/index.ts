// The updates package: the transparency log of releases (Merkle tree, checkpoints, witnesses) and
// what clients check against it.
export {
  type Checkpoint,
  checkpointText,
  cosign,
  openCheckpoint,
  parseCheckpointText,
  signCheckpoint,
  verifyCosignatures,
} from './checkpoint.js';
export { applyCdiff, type DatabaseFiles, openCdiff } from './clamav/cdiff.js';
export { type DatabaseResult, dnsVersions, type FreshclamOptions, freshclam } from './clamav/freshclam.js';
export { UpdateError, type UpdateErrorCode } from './errors.js';
export { TransparencyLog } from './log.js';
export * from './merkle.js';
export * from './note.js';
export { LICENCE_HEADER, licenceGate, staticServer, type TargetGate } from './serve.js';
export {
  clientId,
  cohort,
  databasePath,
  previousPath,
  readTrust,
  trustRoot,
  type UpdateOptions,
  type UpdateResult,
  update,
} from './tuf/client.js';
export { loadTufSigner, newTufSigner, saveTufSigner, type TufSigner } from './tuf/keys.js';
export { type ClientTrust, type ReleaseInfo, Repository, releaseEntry, releaseOf } from './tuf/repository.js';
export {
  type LoggedEntry,
  type LogPolicy,
  SplitViewError,
  type SplitViewEvidence,
  verifyLoggedEntry,
} from './verify.js';
export { Witness, type WitnessOptions, type WitnessReply } from './witness.js';
export { requestCosignature, witnessServer } from './witness-http.js';
