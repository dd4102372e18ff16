// A witness (c2sp.org/tlog-witness): for each log it trusts, it keeps the latest checkpoint it
// cosigned, and cosigns a new one only when the log signed it and a consistency proof shows it
// extends that one. Checking and recording happen one request at a time, and the record is on disk
// before the cosignature leaves, so no two inconsistent checkpoints of one log are ever cosigned,
// across restarts too. Refused requests that the log did sign are kept as evidence.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Checkpoint, checkpointText, cosign, openCheckpoint } from './checkpoint.js';
import { UpdateError } from './errors.js';
import { writeAtomically } from './files.js';
import { EMPTY_ROOT, HASH_SIZE, verifyConsistency } from './merkle.js';
import type { Signer, Verifier } from './note.js';

/** At most this many proof lines in a request, as the protocol says. */
export const MAX_PROOF_LINES = 63;

export interface WitnessOptions {
  /** The witness's cosigning key (type 0x04). */
  readonly key: Signer;
  /** The logs it witnesses: origin → the log's keys. */
  readonly logs: ReadonlyMap<string, readonly Verifier[]>;
  /** Where it keeps its state and evidence. */
  readonly dir: string;
  /** Seconds since the epoch (tests fix it). */
  readonly now?: () => number;
}

/** An answer to add-checkpoint, as HTTP status, content type and body. */
export interface WitnessReply {
  readonly status: 200 | 400 | 403 | 404 | 409 | 422;
  readonly contentType: string;
  readonly body: string;
}

interface Seen {
  readonly size: number;
  readonly root: string;
  readonly note: string;
}

const text = (status: WitnessReply['status'], body: string): WitnessReply => ({
  status,
  contentType: 'text/plain; charset=utf-8',
  body: body.endsWith('\n') ? body : `${body}\n`,
});

/** A parsed add-checkpoint request body. */
export interface AddCheckpointRequest {
  readonly oldSize: number;
  readonly proof: readonly Uint8Array[];
  readonly checkpoint: string;
}

/** Reads `old N`, the proof lines, a blank line and the signed checkpoint. */
export function parseAddCheckpoint(body: string): AddCheckpointRequest {
  const bad = (why: string) => new UpdateError('E_FORMAT', `malformed add-checkpoint request: ${why}`);
  const blank = body.indexOf('\n\n');
  if (blank < 0) throw bad('no blank line before the checkpoint');
  const [first, ...proofLines] = body.slice(0, blank).split('\n');
  const m = /^old (0|[1-9][0-9]*)$/.exec(first ?? '');
  if (m === null || !Number.isSafeInteger(Number(m[1]))) throw bad(`the first line must be "old <size>"`);
  if (proofLines.length > MAX_PROOF_LINES) throw bad(`${proofLines.length} proof lines, more than ${MAX_PROOF_LINES}`);
  const proof = proofLines.map((l, i) => {
    const h = Buffer.from(l, 'base64');
    if (h.length !== HASH_SIZE || h.toString('base64') !== l) throw bad(`proof line ${i + 1} is not a base64 hash`);
    return new Uint8Array(h);
  });
  return { oldSize: Number(m[1]), proof, checkpoint: body.slice(blank + 2) };
}

/** The request body for `checkpoint` (a signed note) with a proof from `oldSize`. */
export function formatAddCheckpoint(oldSize: number, proof: readonly Uint8Array[], checkpoint: string): string {
  return `old ${oldSize}\n${proof.map((p) => `${Buffer.from(p).toString('base64')}\n`).join('')}\n${checkpoint}`;
}

export class Witness {
  private readonly statePath: string;
  private state: Record<string, Seen>;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly options: WitnessOptions) {
    mkdirSync(join(options.dir, 'evidence'), { recursive: true });
    this.statePath = join(options.dir, 'state.json');
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.state = readState(this.statePath);
  }

  get name(): string {
    return this.options.key.name;
  }

  /** The size and root last cosigned for `origin`, if any. */
  latest(origin: string): { size: number; root: Uint8Array } | undefined {
    const s = this.state[origin];
    return s === undefined ? undefined : { size: s.size, root: new Uint8Array(Buffer.from(s.root, 'base64')) };
  }

  /** Handles one add-checkpoint body; requests are taken one at a time. */
  addCheckpoint(body: string): Promise<WitnessReply> {
    const next = this.queue.then(() => this.handle(body));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private handle(body: string): WitnessReply {
    let req: AddCheckpointRequest;
    try {
      req = parseAddCheckpoint(body);
    } catch (e) {
      return text(400, (e as Error).message);
    }
    const origin = req.checkpoint.slice(0, req.checkpoint.indexOf('\n'));
    const keys = this.options.logs.get(origin);
    if (keys === undefined) return text(404, `this witness does not witness the log ${JSON.stringify(origin)}`);
    let c: Checkpoint;
    try {
      c = openCheckpoint(req.checkpoint, keys, origin).checkpoint;
    } catch (e) {
      return text(403, (e as Error).message);
    }
    if (req.oldSize > c.size) return text(400, `old size ${req.oldSize} is larger than the checkpoint's ${c.size}`);
    const seen = this.state[origin];
    const seenSize = seen?.size ?? 0;
    if (req.oldSize !== seenSize) {
      return { status: 409, contentType: 'text/x.tlog.size', body: `${seenSize}\n` };
    }
    const oldRoot = seen === undefined ? EMPTY_ROOT : new Uint8Array(Buffer.from(seen.root, 'base64'));
    if (c.size === seenSize && seen !== undefined && Buffer.compare(Buffer.from(c.root), Buffer.from(oldRoot)) !== 0) {
      this.keepEvidence(origin, body, 'same size, different root');
      return text(409, `size ${c.size} was cosigned with another root hash: a forked view of ${origin}`);
    }
    if (!verifyConsistency({ oldSize: seenSize, newSize: c.size }, req.proof, oldRoot, c.root)) {
      if (seen !== undefined) this.keepEvidence(origin, body, 'consistency proof does not verify');
      return text(422, `the consistency proof from size ${seenSize} to ${c.size} does not verify`);
    }
    const record = checkpointText(c);
    this.state = {
      ...this.state,
      [origin]: { size: c.size, root: Buffer.from(c.root).toString('base64'), note: req.checkpoint },
    };
    writeAtomically(this.statePath, `${JSON.stringify(this.state, null, 2)}\n`);
    return text(200, `${cosign(record, this.options.key, this.now())}\n`);
  }

  private keepEvidence(origin: string, body: string, why: string): void {
    const file = join(this.options.dir, 'evidence', `${Date.now()}-${origin.replace(/[^A-Za-z0-9.-]/g, '_')}.txt`);
    writeAtomically(file, `# refused: ${why}\n${body}`);
  }
}

function readState(path: string): Record<string, Seen> {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UpdateError('E_IO', `cannot read the witness state ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const s = JSON.parse(raw) as Record<string, Seen>;
    for (const [origin, v] of Object.entries(s)) {
      if (!Number.isSafeInteger(v.size) || typeof v.root !== 'string' || typeof v.note !== 'string') {
        throw new Error(`bad record for ${origin}`);
      }
    }
    return s;
  } catch (e) {
    // A witness that lost its memory must not start afresh: it could cosign a fork.
    throw new UpdateError('E_IO', `the witness state ${path} is damaged (${(e as Error).message}); refusing to start`);
  }
}
