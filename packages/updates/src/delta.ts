// Binary deltas between two releases of a database: the new file as copies of ranges of the old
// one and literal bytes. Made by the repository when it publishes, applied by the client to the
// database it has. A delta is only a cheaper way to the same bytes: the client still checks the
// result against the full release's length and SHA-256 in the signed targets metadata.
//
// Format (`VGDELTA1`): magic (8), SHA-256 of the old file (32), length of the new file (u64 LE),
// then, compressed with raw deflate, operations until the end: 0x01 COPY offset len (varints:
// bytes of the old file), 0x02 ADD len (varint) then that many bytes.
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { UpdateError } from './errors.js';

const MAGIC = new TextEncoder().encode('VGDELTA1');
const HEADER = MAGIC.length + 32 + 8;
const COPY = 1;
const ADD = 2;
/** Bytes hashed per block of the old file; matches shorter than this are sent as literals. */
const BLOCK = 32;
/** Slots in the block index: a power of two, at least twice the blocks indexed. */
const MAX_SLOTS = 1 << 24;
const PRIME = 0x01000193;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

/** B^(BLOCK-1) mod 2^32, to take the outgoing byte out of the rolling hash. */
const OUT_FACTOR = (() => {
  let f = 1;
  for (let i = 1; i < BLOCK; i++) f = Math.imul(f, PRIME);
  return f;
})();

function blockHash(d: Uint8Array, at: number): number {
  let h = 0;
  for (let i = 0; i < BLOCK; i++) h = (Math.imul(h, PRIME) + (d[at + i] as number)) | 0;
  return h;
}

/** Index of the old file's aligned blocks by hash (open addressing; offset + 1, 0 for empty). */
function indexBlocks(old: Uint8Array): { slots: Int32Array; mask: number } {
  const blocks = Math.floor(old.length / BLOCK);
  let size = 1024;
  while (size < blocks * 2 && size < MAX_SLOTS) size *= 2;
  const slots = new Int32Array(size);
  const mask = size - 1;
  for (let b = 0; b < blocks; b++) {
    let s = blockHash(old, b * BLOCK) & mask;
    // A crowded neighbourhood drops the block: its bytes are then sent as literals if they recur.
    for (let probe = 0; probe < 8; probe++, s = (s + 1) & mask) {
      if (slots[s] === 0) {
        slots[s] = b * BLOCK + 1;
        break;
      }
    }
  }
  return { slots, mask };
}

class Writer {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(1 << 16);
  private n = 0;
  byte(b: number): void {
    if (this.n === this.buf.length) this.flush();
    this.buf[this.n++] = b;
  }
  varint(v: number): void {
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
  }
  /** Appends `b` without copying it: the caller leaves it unchanged until `result()`. */
  bytes(b: Uint8Array): void {
    this.flush();
    this.chunks.push(b);
  }
  flush(): void {
    if (this.n > 0) this.chunks.push(this.buf.slice(0, this.n));
    this.n = 0;
  }
  result(): Uint8Array {
    this.flush();
    return Buffer.concat(this.chunks);
  }
}

/** The delta that turns `old` into `next`. */
export function makeDelta(old: Uint8Array, next: Uint8Array): Uint8Array {
  const head = new Uint8Array(HEADER);
  head.set(MAGIC);
  head.set(sha256(old), MAGIC.length);
  new DataView(head.buffer).setBigUint64(MAGIC.length + 32, BigInt(next.length), true);
  return Buffer.concat([head, deflateRawSync(operations(old, next), { level: 9 })]);
}

/** The copies and literals that make `next` from `old`. */
function operations(old: Uint8Array, next: Uint8Array): Uint8Array {
  const w = new Writer();
  const { slots, mask } = indexBlocks(old);
  let literal = 0; // start of the bytes not yet sent
  const emitLiteral = (end: number) => {
    if (end <= literal) return;
    w.byte(ADD);
    w.varint(end - literal);
    w.bytes(next.subarray(literal, end));
  };
  let i = 0;
  let h = next.length >= BLOCK ? blockHash(next, 0) : 0;
  while (i + BLOCK <= next.length) {
    const match = findMatch(old, next, i, h, slots, mask);
    if (match !== undefined) {
      // Grow the match backwards into the pending literal, and forwards as far as it holds.
      let from = match;
      let at = i;
      while (at > literal && from > 0 && old[from - 1] === next[at - 1]) {
        from--;
        at--;
      }
      let end = i + BLOCK;
      while (end < next.length && match + (end - i) < old.length && old[match + (end - i)] === next[end]) end++;
      emitLiteral(at);
      w.byte(COPY);
      w.varint(from);
      w.varint(end - at);
      literal = end;
      i = end;
      if (i + BLOCK <= next.length) h = blockHash(next, i);
      continue;
    }
    if (i + BLOCK < next.length) {
      h = (Math.imul(h - Math.imul(next[i] as number, OUT_FACTOR), PRIME) + (next[i + BLOCK] as number)) | 0;
    }
    i++;
  }
  emitLiteral(next.length);
  return w.result();
}

function findMatch(
  old: Uint8Array,
  next: Uint8Array,
  i: number,
  h: number,
  slots: Int32Array,
  mask: number,
): number | undefined {
  let s = h & mask;
  for (let probe = 0; probe < 8; probe++, s = (s + 1) & mask) {
    const at = (slots[s] as number) - 1;
    if (at < 0) return undefined;
    let k = 0;
    while (k < BLOCK && old[at + k] === next[i + k]) k++;
    if (k === BLOCK) return at;
  }
  return undefined;
}

/** Reads a varint at `d[p.at]`, advancing it; undefined past the end or beyond 2^53. */
function readVarint(d: Uint8Array, p: { at: number }): number | undefined {
  let v = 0;
  let scale = 1;
  for (let k = 0; k < 8; k++) {
    const b = d[p.at++];
    if (b === undefined) return undefined;
    v += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return v;
    scale *= 0x80;
  }
  return undefined;
}

/**
 * The file `delta` makes from `old`. Throws E_FORMAT when the delta is for another file, is
 * damaged, or would make more than `maxLength` bytes; nothing else is trusted from it.
 */
export function applyDelta(old: Uint8Array, delta: Uint8Array, maxLength: number): Uint8Array {
  const bad = (why: string) => new UpdateError('E_FORMAT', `the delta is unusable: ${why}`);
  if (delta.length < HEADER || !MAGIC.every((b, k) => delta[k] === b)) throw bad('not a Vigil delta');
  if (!sha256(old).equals(delta.subarray(MAGIC.length, MAGIC.length + 32))) {
    throw bad('it was made from another version of the database');
  }
  const length = Number(new DataView(delta.buffer, delta.byteOffset).getBigUint64(MAGIC.length + 32, true));
  if (length > maxLength) throw bad(`it would make ${length} bytes, more than the ${maxLength} expected`);
  let ops: Uint8Array;
  try {
    // Literals never pass the new file's length; the copies' few bytes each are allowed for twice over.
    ops = inflateRawSync(delta.subarray(HEADER), { maxOutputLength: 2 * length + 65_536 });
  } catch (e) {
    throw bad(`its operations do not decompress (${(e as Error).message})`);
  }
  const out = new Uint8Array(length);
  let n = 0;
  const p = { at: 0 };
  while (p.at < ops.length) {
    const op = ops[p.at++];
    const a = readVarint(ops, p);
    if (op === COPY) {
      const len = readVarint(ops, p);
      if (a === undefined || len === undefined || a + len > old.length || n + len > length) {
        throw bad(`a copy at byte ${p.at} reaches past the old file or the new length`);
      }
      out.set(old.subarray(a, a + len), n);
      n += len;
    } else if (op === ADD) {
      if (a === undefined || p.at + a > ops.length || n + a > length)
        throw bad(`literal bytes cut short at byte ${p.at}`);
      out.set(ops.subarray(p.at, p.at + a), n);
      p.at += a;
      n += a;
    } else {
      throw bad(`unknown operation ${op} at byte ${p.at - 1}`);
    }
  }
  if (n !== length) throw bad(`it makes ${n} bytes, its header says ${length}`);
  return out;
}
