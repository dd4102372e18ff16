// The transparency log of published releases: an append-only list of entries in a directory,
// their leaf hashes, and the latest checkpoint, signed by the log and cosigned by witnesses.
// Layout: `entries/<index>` (each entry's bytes), `leaves` (32-byte leaf hashes, in order),
// `checkpoint` (the latest signed note). A crash leaves the log as it was before the append.
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { type Checkpoint, checkpointText, signCheckpoint } from './checkpoint.js';
import { UpdateError } from './errors.js';
import { writeAtomically } from './files.js';
import { consistencyProof, HASH_SIZE, hashLeaf, inclusionProof, treeRoot } from './merkle.js';
import { formatNote, parseNote, type Signer } from './note.js';
import { requestCosignature } from './witness-http.js';

export class TransparencyLog {
  private readonly leaves: Uint8Array[] = [];

  private constructor(
    readonly dir: string,
    readonly origin: string,
  ) {
    const file = join(dir, 'leaves');
    const bytes = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
    const whole = bytes.length - (bytes.length % HASH_SIZE);
    // A leaf hash cut short by a crash mid-append is dropped: its entry was never logged.
    if (whole !== bytes.length) truncateSync(file, whole);
    for (let i = 0; i < whole; i += HASH_SIZE) this.leaves.push(new Uint8Array(bytes.subarray(i, i + HASH_SIZE)));
  }

  /** Opens (or creates) the log in `dir`, named `origin`. */
  static open(dir: string, origin: string): TransparencyLog {
    mkdirSync(join(dir, 'entries'), { recursive: true });
    const originFile = join(dir, 'origin');
    if (existsSync(originFile)) {
      const had = readFileSync(originFile, 'utf8').trim();
      if (had !== origin) throw new UpdateError('E_FORMAT', `the log in ${dir} is ${had}, not ${origin}`);
    } else {
      writeAtomically(originFile, `${origin}\n`);
    }
    return new TransparencyLog(dir, origin);
  }

  get size(): number {
    return this.leaves.length;
  }

  /** Appends an entry and returns its index. */
  append(entry: Uint8Array): number {
    const index = this.leaves.length;
    writeAtomically(join(this.dir, 'entries', String(index)), entry);
    const leaf = hashLeaf(entry);
    appendFileSync(join(this.dir, 'leaves'), leaf);
    this.leaves.push(leaf);
    return index;
  }

  entry(index: number): Uint8Array {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new UpdateError('E_PROOF', `the log has no entry ${index}`);
    }
    return new Uint8Array(readFileSync(join(this.dir, 'entries', String(index))));
  }

  /** The tree head of the first `size` entries. */
  head(size = this.size): Checkpoint {
    return { origin: this.origin, size, root: treeRoot(this.leaves, size), extensions: [] };
  }

  inclusionProof(index: number, size = this.size): Uint8Array[] {
    return inclusionProof(this.leaves, index, size);
  }

  consistencyProof(oldSize: number, newSize = this.size): Uint8Array[] {
    return consistencyProof(this.leaves, oldSize, newSize);
  }

  /** The latest published checkpoint (a signed note), if any. */
  checkpoint(): string | undefined {
    const file = join(this.dir, 'checkpoint');
    return existsSync(file) && statSync(file).size > 0 ? readFileSync(file, 'utf8') : undefined;
  }

  /**
   * Signs the current tree head, asks each witness to cosign it (with a consistency proof from the
   * size that witness last cosigned), and publishes the checkpoint with the cosignatures it got.
   * Returns the note and the witnesses that refused, with why.
   */
  async publish(
    key: Signer,
    witnesses: readonly string[],
    timeoutMs = 10_000,
  ): Promise<{ note: string; refused: { url: string; why: string }[] }> {
    const head = this.head();
    const signed = signCheckpoint(head, key);
    const lines = [...parseNote(signed).signatures.map((s) => s.line)];
    const refused: { url: string; why: string }[] = [];
    for (const url of witnesses) {
      try {
        let r = await requestCosignature(url, { oldSize: 0, proof: [], checkpoint: signed }, timeoutMs);
        if (r.kind === 'conflict' && r.size <= head.size) {
          const proof = this.consistencyProof(r.size, head.size);
          r = await requestCosignature(url, { oldSize: r.size, proof, checkpoint: signed }, timeoutMs);
        }
        if (r.kind === 'cosigned') lines.push(...r.lines);
        else
          refused.push({ url, why: r.kind === 'conflict' ? `it has seen size ${r.size}` : `${r.status} ${r.message}` });
      } catch (e) {
        refused.push({ url, why: (e as Error).message });
      }
    }
    const note = formatNote(checkpointText(head), lines);
    writeAtomically(join(this.dir, 'checkpoint'), note);
    return { note, refused };
  }
}
