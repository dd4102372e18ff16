// Checkpoints (c2sp.org/tlog-checkpoint): the signed statement of a log's size and root hash, and
// the witnesses' timestamped cosignatures over them (c2sp.org/tlog-cosignature, Ed25519, v1).
import { UpdateError } from './errors.js';
import { HASH_SIZE } from './merkle.js';
import {
  COSIGNATURE_V1,
  checkSignature,
  formatNote,
  type Note,
  parseNote,
  type Signer,
  signaturesBy,
  signNote,
  type Verifier,
  verifyNote,
} from './note.js';

/** A log's tree head as a checkpoint states it. */
export interface Checkpoint {
  /** The log's origin line: its unique name. */
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  /** Extension lines after the root, as the log wrote them. */
  readonly extensions: readonly string[];
}

/** The checkpoint's note text (the part that is signed). */
export function checkpointText(c: Checkpoint): string {
  return [c.origin, String(c.size), Buffer.from(c.root).toString('base64'), ...c.extensions]
    .map((l) => `${l}\n`)
    .join('');
}

/** Reads a checkpoint's text, refusing a malformed origin, size or root. */
export function parseCheckpointText(text: string): Checkpoint {
  const bad = (why: string) => new UpdateError('E_FORMAT', `malformed checkpoint: ${why}`);
  const lines = text.split('\n');
  if (lines.pop() !== '') throw bad('it does not end with a newline');
  const [origin, size, root, ...extensions] = lines;
  if (origin === undefined || origin.length === 0) throw bad('no origin line');
  if (size === undefined || !/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) {
    throw bad(`the size line ${JSON.stringify(size ?? '')} is not a decimal number without leading zeros`);
  }
  const hash = Buffer.from(root ?? '', 'base64');
  if (hash.length !== HASH_SIZE || hash.toString('base64') !== root) {
    throw bad('the root line is not the base64 of a 32-byte hash');
  }
  if (extensions.some((e) => e.length === 0)) throw bad('an empty extension line');
  return { origin, size: Number(size), root: new Uint8Array(hash), extensions };
}

/** A checkpoint with the note it came in. */
export interface SignedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: Note;
}

/** Signs a checkpoint as its log: the whole note, text and signature line. */
export function signCheckpoint(c: Checkpoint, log: Signer): string {
  const text = checkpointText(c);
  return formatNote(text, [signNote(text, log)]);
}

/**
 * Opens a signed checkpoint: the note must carry a valid signature from one of the log's keys, and
 * its origin must be the one expected (a key signs for one log).
 */
export function openCheckpoint(
  note: Uint8Array | string,
  logKeys: readonly Verifier[],
  origin: string,
): SignedCheckpoint {
  const n = parseNote(note);
  const checkpoint = parseCheckpointText(n.text);
  if (checkpoint.origin !== origin) {
    throw new UpdateError('E_SIGNATURE', `the checkpoint is for the log ${checkpoint.origin}, not ${origin}`);
  }
  verifyNote(n, logKeys);
  return { checkpoint, note: n };
}

const enc = new TextEncoder();

/** The message a v1 cosignature signs: a header, the time, and the checkpoint's text. */
const cosignedMessage = (text: string, time: number) => enc.encode(`cosignature/v1\ntime ${time}\n${text}`);

/** A witness's cosignature line over a checkpoint's text, at `time` (seconds since the epoch). */
export function cosign(text: string, witness: Signer, time: number): string {
  if (witness.type !== COSIGNATURE_V1) throw new UpdateError('E_SIGNATURE', `${witness.name} is not a witness key`);
  if (!Number.isSafeInteger(time) || time < 0) throw new UpdateError('E_FORMAT', `bad cosignature time ${time}`);
  const stamp = new Uint8Array(8);
  new DataView(stamp.buffer).setBigUint64(0, BigInt(time));
  const sig = witness.sign(cosignedMessage(text, time));
  return `\u2014 ${witness.name} ${Buffer.from(Uint8Array.of(...witness.keyId, ...stamp, ...sig)).toString('base64')}`;
}

/** A cosignature that verified: who made it and when. */
export interface Cosignature {
  readonly witness: Verifier;
  readonly time: number;
  readonly line: string;
}

/**
 * The witnesses among `witnesses` whose cosignatures on `note` verify. A cosignature from a known
 * witness that does not verify makes the whole note suspect: it is refused.
 */
export function verifyCosignatures(note: Note, witnesses: readonly Verifier[]): Cosignature[] {
  const found: Cosignature[] = [];
  for (const w of witnesses.filter((k) => k.type === COSIGNATURE_V1)) {
    for (const s of signaturesBy(note, w)) {
      if (s.signature.length !== 72) throw new UpdateError('E_SIGNATURE', `the cosignature by ${w.name} is malformed`);
      const time = new DataView(s.signature.buffer, s.signature.byteOffset).getBigUint64(0);
      if (time > BigInt(Number.MAX_SAFE_INTEGER))
        throw new UpdateError('E_SIGNATURE', `the cosignature by ${w.name} has a bad time`);
      if (!checkSignature(w, cosignedMessage(note.text, Number(time)), s.signature.subarray(8))) {
        throw new UpdateError('E_SIGNATURE', `the cosignature by ${w.name} does not verify`);
      }
      if (!found.some((f) => f.witness === w)) found.push({ witness: w, time: Number(time), line: s.line });
    }
  }
  return found;
}
