// What a client checks before it takes an update: the release is in the log (an inclusion proof
// to a checkpoint), the checkpoint is signed by the log and cosigned by enough of the witnesses it
// trusts, and it extends the checkpoint the client stored last time (a consistency proof). A
// checkpoint that does not extend it is a forked view, such as a release made for one client only:
// it is refused, and the refusal carries both checkpoints and the proof as evidence.
import { type Checkpoint, openCheckpoint, verifyCosignatures } from './checkpoint.js';
import { UpdateError } from './errors.js';
import { hashLeaf, verifyConsistency, verifyInclusion } from './merkle.js';
import type { Verifier } from './note.js';

/** Whom the client trusts for one log. */
export interface LogPolicy {
  readonly origin: string;
  readonly logKeys: readonly Verifier[];
  readonly witnesses: readonly Verifier[];
  /** How many distinct witnesses must have cosigned. */
  readonly quorum: number;
}

/** A log entry as served to a client, with its proofs. */
export interface LoggedEntry {
  readonly entry: Uint8Array;
  readonly index: number;
  readonly inclusionProof: readonly Uint8Array[];
  /** The checkpoint (signed note with cosignatures) the proof leads to. */
  readonly checkpoint: string;
  /** A consistency proof from the client's stored checkpoint to this one. */
  readonly consistencyProof: readonly Uint8Array[];
}

/** The evidence of a forked view: what the client had, what it was shown, and the proof that failed. */
export interface SplitViewEvidence {
  readonly stored: string;
  readonly received: string;
  readonly consistencyProof: readonly string[];
}

export class SplitViewError extends UpdateError {
  constructor(
    message: string,
    readonly evidence: SplitViewEvidence,
  ) {
    super('E_SPLIT_VIEW', message);
  }
}

/**
 * Checks `got` against the policy and the stored checkpoint (a signed note, or undefined on first
 * use). Returns the checkpoint to store from now on; throws UpdateError (E_SPLIT_VIEW with evidence
 * for a fork) otherwise.
 */
export function verifyLoggedEntry(policy: LogPolicy, got: LoggedEntry, stored: string | undefined): Checkpoint {
  const { checkpoint, note } = openCheckpoint(got.checkpoint, policy.logKeys, policy.origin);
  const cosigners = verifyCosignatures(note, policy.witnesses);
  if (cosigners.length < policy.quorum) {
    throw new UpdateError(
      'E_QUORUM',
      `the checkpoint of ${policy.origin} at size ${checkpoint.size} has ${cosigners.length} of the ${policy.quorum} witness cosignatures required`,
    );
  }
  const at = { index: got.index, size: checkpoint.size };
  if (!verifyInclusion(hashLeaf(got.entry), at, got.inclusionProof, checkpoint.root)) {
    throw new UpdateError(
      'E_PROOF',
      `entry ${got.index} is not in the log at size ${checkpoint.size}: the inclusion proof does not verify`,
    );
  }
  if (stored === undefined) return checkpoint;
  const before = openCheckpoint(stored, policy.logKeys, policy.origin).checkpoint;
  const evidence = (): SplitViewEvidence => ({
    stored,
    received: got.checkpoint,
    consistencyProof: got.consistencyProof.map((p) => Buffer.from(p).toString('base64')),
  });
  if (checkpoint.size < before.size) {
    throw new UpdateError(
      'E_PROOF',
      `the log at size ${checkpoint.size} is older than the size ${before.size} already seen`,
    );
  }
  const sizes = { oldSize: before.size, newSize: checkpoint.size };
  if (!verifyConsistency(sizes, got.consistencyProof, before.root, checkpoint.root)) {
    throw new SplitViewError(
      `the log ${policy.origin} at size ${checkpoint.size} does not extend the size ${before.size} seen before: a forked view`,
      evidence(),
    );
  }
  return checkpoint;
}
