// A bzip2 decoder (Burrows-Wheeler, MTF, Huffman), bounded in output, never throwing: damaged or
// truncated input yields the blocks decoded before the damage. Written by hand: Node has no bzip2,
// and the npm decoders are unmaintained or stream-only.
import type { Inflated } from '../../env.js';
import { BoundedOutput } from '../output.js';

class Damaged extends Error {}

const MAX_CODE_LEN = 20;
const GROUP_SIZE = 50;

/** MSB-first bit reader over a byte array. */
class Bits {
  pos = 0;
  constructor(private readonly d: Uint8Array) {}

  /** The next `n` bits (1 ≤ n ≤ 24) as an unsigned number. */
  read(n: number): number {
    const d = this.d;
    const p = this.pos;
    const i = p >>> 3;
    if (i + 4 <= d.length) {
      const w =
        (((d[i] as number) << 24) |
          ((d[i + 1] as number) << 16) |
          ((d[i + 2] as number) << 8) |
          (d[i + 3] as number)) >>>
        0;
      this.pos = p + n;
      return ((w << (p & 7)) >>> (32 - n)) >>> 0;
    }
    let v = 0;
    for (let k = 0; k < n; k++) {
      const byte = d[this.pos >>> 3];
      if (byte === undefined) throw new Damaged('the stream ends early');
      v = (v << 1) | ((byte >>> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v >>> 0;
  }

  alignToByte(): void {
    this.pos = (this.pos + 7) & ~7;
  }
}

/** Canonical Huffman decoding tables of one group. */
interface Table {
  readonly minLen: number;
  readonly maxLen: number;
  readonly limit: Int32Array;
  readonly firstCode: Int32Array;
  readonly firstIdx: Int32Array;
  readonly perm: Uint16Array;
}

function makeTable(lengths: Uint8Array, alphaSize: number): Table {
  let minLen = MAX_CODE_LEN;
  let maxLen = 0;
  const count = new Int32Array(MAX_CODE_LEN + 2);
  for (let s = 0; s < alphaSize; s++) {
    const l = lengths[s] as number;
    if (l < minLen) minLen = l;
    if (l > maxLen) maxLen = l;
    count[l] = (count[l] as number) + 1;
  }
  const perm = new Uint16Array(alphaSize);
  let pp = 0;
  for (let l = minLen; l <= maxLen; l++) for (let s = 0; s < alphaSize; s++) if (lengths[s] === l) perm[pp++] = s;
  const limit = new Int32Array(MAX_CODE_LEN + 2);
  const firstCode = new Int32Array(MAX_CODE_LEN + 2);
  const firstIdx = new Int32Array(MAX_CODE_LEN + 2);
  let code = 0;
  let idx = 0;
  for (let l = minLen; l <= maxLen; l++) {
    firstCode[l] = code;
    firstIdx[l] = idx;
    code += count[l] as number;
    idx += count[l] as number;
    limit[l] = code - 1;
    code <<= 1;
  }
  return { minLen, maxLen, limit, firstCode, firstIdx, perm };
}

function decodeSymbol(bits: Bits, t: Table): number {
  let l = t.minLen;
  let v = bits.read(l);
  while (v > (t.limit[l] as number)) {
    if (++l > t.maxLen) throw new Damaged('a Huffman code is not in the table');
    v = (v << 1) | bits.read(1);
  }
  const sym = t.perm[(t.firstIdx[l] as number) + v - (t.firstCode[l] as number)];
  if (sym === undefined) throw new Damaged('a Huffman code is not in the table');
  return sym;
}

/** Decodes one block into `sink`; false when the output limit stopped it. */
function decodeBlock(bits: Bits, blockSize: number, ll: Uint8Array, next: Uint32Array, sink: BoundedOutput): boolean {
  if (bits.read(1) !== 0) throw new Damaged('randomised blocks (bzip2 0.9.0) are not supported');
  const origPtr = bits.read(24);
  const used = bits.read(16);
  const seqToUnseq: number[] = [];
  for (let i = 0; i < 16; i++) {
    if ((used & (0x8000 >>> i)) === 0) continue;
    const w = bits.read(16);
    for (let j = 0; j < 16; j++) if ((w & (0x8000 >>> j)) !== 0) seqToUnseq.push(i * 16 + j);
  }
  if (seqToUnseq.length === 0) throw new Damaged('a block uses no byte values');
  const alphaSize = seqToUnseq.length + 2;
  const nGroups = bits.read(3);
  if (nGroups < 2 || nGroups > 6) throw new Damaged(`bad number of Huffman groups ${nGroups}`);
  const nSelectors = bits.read(15);
  if (nSelectors < 1) throw new Damaged('a block has no selectors');
  const order = Array.from({ length: nGroups }, (_, i) => i);
  const selectors = new Uint8Array(nSelectors);
  for (let i = 0; i < nSelectors; i++) {
    let j = 0;
    while (bits.read(1) === 1) if (++j >= nGroups) throw new Damaged('a selector names no group');
    const v = order[j] as number;
    order.splice(j, 1);
    order.unshift(v);
    selectors[i] = v;
  }
  const tables: Table[] = [];
  const lengths = new Uint8Array(alphaSize);
  for (let t = 0; t < nGroups; t++) {
    let curr = bits.read(5);
    for (let s = 0; s < alphaSize; s++) {
      for (;;) {
        if (curr < 1 || curr > MAX_CODE_LEN) throw new Damaged('a Huffman code length is out of range');
        if (bits.read(1) === 0) break;
        curr += bits.read(1) === 0 ? 1 : -1;
      }
      lengths[s] = curr;
    }
    tables.push(makeTable(lengths, alphaSize));
  }

  const counts = new Int32Array(256);
  const mtf = Uint8Array.from(seqToUnseq, (_, i) => i);
  const eob = alphaSize - 1;
  let n = 0;
  let group = -1;
  let left = 0;
  let run = 0;
  let runBit = 1;
  let table = tables[0] as Table;
  for (;;) {
    if (left === 0) {
      if (++group >= nSelectors) throw new Damaged('a block outruns its selectors');
      table = tables[selectors[group] as number] as Table;
      left = GROUP_SIZE;
    }
    left--;
    const sym = decodeSymbol(bits, table);
    if (sym <= 1) {
      run += runBit << sym;
      runBit <<= 1;
      if (run > blockSize) throw new Damaged('a run passes the block size');
      continue;
    }
    if (run > 0) {
      const b = seqToUnseq[mtf[0] as number] as number;
      if (n + run > blockSize) throw new Damaged('a block passes its declared size');
      ll.fill(b, n, n + run);
      counts[b] = (counts[b] as number) + run;
      n += run;
      run = 0;
      runBit = 1;
    }
    if (sym === eob) break;
    const idx = sym - 1;
    const v = mtf[idx] as number;
    mtf.copyWithin(1, 0, idx);
    mtf[0] = v;
    const b = seqToUnseq[v] as number;
    if (n >= blockSize) throw new Damaged('a block passes its declared size');
    ll[n++] = b;
    counts[b] = (counts[b] as number) + 1;
  }
  if (origPtr >= n) throw new Damaged('the block origin lies outside the block');

  // Inverse Burrows-Wheeler: next[] links each position to the one that follows it in the text.
  const start = new Int32Array(256);
  for (let i = 1; i < 256; i++) start[i] = (start[i - 1] as number) + (counts[i - 1] as number);
  for (let i = 0; i < n; i++) {
    const b = ll[i] as number;
    next[start[b] as number] = i;
    start[b] = (start[b] as number) + 1;
  }
  // Undo the initial run-length coding: four equal bytes are followed by a count of more.
  let t = next[origPtr] as number;
  let last = -1;
  let same = 0;
  for (let k = 0; k < n; k++) {
    const b = ll[t] as number;
    t = next[t] as number;
    if (same === 4) {
      if (!sink.room(b)) return false;
      sink.out.fill(last, sink.n, sink.n + b);
      sink.n += b;
      same = 0;
      last = -1;
      continue;
    }
    same = b === last ? same + 1 : 1;
    last = b;
    if (!sink.room(1)) return false;
    sink.out[sink.n++] = b;
  }
  return true;
}

/** True when `d` starts a bzip2 stream at `o` ('BZh' and a level digit). */
export function isBzip2At(d: Uint8Array, o: number): boolean {
  const level = d[o + 3] ?? 0;
  return d[o] === 0x42 && d[o + 1] === 0x5a && d[o + 2] === 0x68 && level >= 0x31 && level <= 0x39;
}

/** Decompresses one or more concatenated bzip2 streams, never past `maxOutput` bytes. */
export function bunzip2(input: Uint8Array, maxOutput: number): Inflated {
  const sink = new BoundedOutput(Math.max(16, input.length * 4), maxOutput);
  const bits = new Bits(input);
  const done = (status: Inflated['status'], message?: string): Inflated => ({
    status,
    data: status === 'over-limit' ? new Uint8Array(0) : sink.data,
    ...(message === undefined ? {} : { message }),
  });
  if (!isBzip2At(input, 0)) return done('corrupt', 'not a bzip2 stream');
  let ll = new Uint8Array(0);
  let next = new Uint32Array(0);
  try {
    while (isBzip2At(input, bits.pos >>> 3)) {
      const blockSize = ((input[(bits.pos >>> 3) + 3] as number) - 0x30) * 100_000;
      bits.pos += 32;
      if (ll.length < blockSize) {
        ll = new Uint8Array(blockSize);
        next = new Uint32Array(blockSize);
      }
      for (;;) {
        const hi = bits.read(24);
        const lo = bits.read(24);
        bits.read(16);
        bits.read(16); // block or stream CRC
        if (hi === 0x177245 && lo === 0x385090) break;
        if (hi !== 0x314159 || lo !== 0x265359) throw new Damaged('a block does not start with the block magic');
        if (!decodeBlock(bits, blockSize, ll, next, sink)) return done('over-limit');
      }
      bits.alignToByte();
    }
  } catch (e) {
    if (e instanceof Damaged) return done('corrupt', e.message);
    throw e;
  }
  return done('ok');
}
