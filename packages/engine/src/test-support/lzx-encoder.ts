// A small LZX encoder for tests (no CAB or CHM writer here makes LZX): greedy matching with the
// repeated-offset queue, verbatim / aligned / uncompressed blocks as the caller lays them out,
// resets every N frames (CHM) and the E8 translation. It aims to exercise the decoder, not to
// compress well; the engine never calls it.

const FRAME = 32768;
const SLOTS = [30, 32, 34, 36, 38, 42, 50];
const EXTRA: number[] = [];
const BASE: number[] = [];
for (let s = 0; s < 50; s++) {
  EXTRA.push(s < 4 ? 0 : Math.min(17, (s >> 1) - 1));
  BASE.push(s === 0 ? 0 : (BASE[s - 1] as number) + (1 << (EXTRA[s - 1] as number)));
}

/** One block of the stream, covering the next `size` bytes of input. */
export interface TestBlock {
  readonly type: 'verbatim' | 'aligned' | 'uncompressed';
  readonly size: number;
}

/** How to encode. */
export interface TestEncodeOptions {
  readonly windowBits?: number;
  /** Blocks in order; what they leave uncovered becomes one verbatim block. */
  readonly blocks?: readonly TestBlock[];
  /** Frames between resets (CHM); blocks are cut at each reset. */
  readonly resetInterval?: number;
  /** Writes the E8 header with this translation size and translates calls. */
  readonly e8Size?: number;
}

/** The encoded stream and the compressed offset of each frame (a CHM reset table's content). */
export interface TestEncoded {
  readonly data: Uint8Array;
  readonly frameOffsets: readonly number[];
}

class BitWriter {
  readonly bytes: number[] = [];
  private acc = 0;
  private n = 0;

  write(v: number, k: number): void {
    for (let i = k - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | (Math.floor(v / 2 ** i) & 1);
      if (++this.n === 16) {
        this.bytes.push(this.acc & 0xff, this.acc >>> 8);
        this.acc = 0;
        this.n = 0;
      }
    }
  }

  padWord(): void {
    if (this.n > 0) this.write(0, 16 - this.n);
  }

  get bitAligned(): boolean {
    return this.n === 0;
  }
}

/** Huffman code lengths for `freq` of at most `limit` bits; at least two symbols get a code. */
export function codeLengths(freq: readonly number[], limit: number): number[] {
  let f = freq.map((x) => x);
  for (;;) {
    const used = f.map((x, s) => [x, s] as const).filter(([x]) => x > 0);
    for (let s = 0; used.length < 2; s++) if ((f[s] ?? 0) === 0) used.push([1, s]);
    type Node = { w: number; syms: number[] };
    let nodes: Node[] = used.map(([w, s]) => ({ w, syms: [s] }));
    const len = new Array<number>(freq.length).fill(0);
    while (nodes.length > 1) {
      nodes.sort((a, b) => a.w - b.w);
      const [a, b] = nodes as [Node, Node];
      for (const s of [...a.syms, ...b.syms]) len[s] = (len[s] as number) + 1;
      nodes = [{ w: a.w + b.w, syms: [...a.syms, ...b.syms] }, ...nodes.slice(2)];
    }
    if (Math.max(...len) <= limit) return len;
    f = f.map((x) => (x > 0 ? Math.ceil(x / 4) : 0));
  }
}

/** Canonical codes for `len`, MSB-first. */
function canonical(len: readonly number[]): number[] {
  const codes = new Array<number>(len.length).fill(0);
  let code = 0;
  for (let l = 1; l <= 16; l++) {
    for (let s = 0; s < len.length; s++) {
      if (len[s] !== l) continue;
      codes[s] = code;
      code++;
    }
    code <<= 1;
  }
  return codes;
}

type Token = { lit: number } | { sym: number; lenSym?: number; footer: number; extra: number };

/** Writes `next` lengths as changes from `prev`, with a pre-tree. */
function writeLengths(bw: BitWriter, prev: number[], next: readonly number[], first: number, last: number): void {
  const ops: Array<{ z: number; bits?: [number, number]; second?: number }> = [];
  for (let x = first; x < last; ) {
    let run = 1;
    while (x + run < last && next[x + run] === next[x] && run < 51) run++;
    if (next[x] === 0 && run >= 20) {
      ops.push({ z: 18, bits: [run - 20, 5] });
      x += run;
    } else if (next[x] === 0 && run >= 4) {
      const r = Math.min(run, 19);
      ops.push({ z: 17, bits: [r - 4, 4] });
      x += r;
    } else if (run >= 4) {
      const r = Math.min(run, 5);
      ops.push({ z: 19, bits: [r - 4, 1], second: ((prev[x] as number) - (next[x] as number) + 17) % 17 });
      x += r;
    } else {
      ops.push({ z: ((prev[x] as number) - (next[x] as number) + 17) % 17 });
      x++;
    }
  }
  const freq = new Array<number>(20).fill(0);
  for (const o of ops) {
    freq[o.z] = (freq[o.z] as number) + 1;
    if (o.second !== undefined) freq[o.second] = (freq[o.second] as number) + 1;
  }
  const pl = codeLengths(freq, 15);
  const pc = canonical(pl);
  for (const l of pl) bw.write(l, 4);
  for (const o of ops) {
    bw.write(pc[o.z] as number, pl[o.z] as number);
    if (o.bits) bw.write(o.bits[0], o.bits[1]);
    if (o.second !== undefined) bw.write(pc[o.second] as number, pl[o.second] as number);
  }
  for (let x = first; x < last; x++) prev[x] = next[x] as number;
}

/** The E8 translation an encoder applies to one frame starting at stream offset `start`. */
function e8Forward(frame: Uint8Array, start: number, size: number): void {
  let cur = start;
  for (let i = 0; i < frame.length - 10; ) {
    if (frame[i++] !== 0xe8) {
      cur++;
      continue;
    }
    const rel = new DataView(frame.buffer, frame.byteOffset + i, 4).getInt32(0, true);
    let abs = rel;
    if (rel >= -cur && rel < size - cur) abs = rel + cur;
    else if (rel >= size - cur && rel < size) abs = rel - size;
    new DataView(frame.buffer, frame.byteOffset + i, 4).setInt32(0, abs, true);
    i += 4;
    cur += 5;
  }
}

/** Encodes `input` as an LZX stream. */
export function lzxEncode(input: Uint8Array, options: TestEncodeOptions = {}): TestEncoded {
  const windowBits = options.windowBits ?? 16;
  const slots = SLOTS[windowBits - 15] as number;
  const resetEvery = (options.resetInterval ?? 0) * FRAME;
  const data = input.slice();
  if (options.e8Size !== undefined) {
    for (let f = 0; f * FRAME < data.length; f++) {
      const frame = data.subarray(f * FRAME, Math.min(data.length, (f + 1) * FRAME));
      if (frame.length > 10) e8Forward(frame, f * FRAME, options.e8Size);
    }
  }
  const blocks = cutBlocks(data.length, options.blocks ?? [], resetEvery);
  const bw = new BitWriter();
  const frameOffsets: number[] = [];
  const st = {
    r: [1, 1, 1],
    prevMain: new Array<number>(256 + slots * 8).fill(0),
    prevLen: new Array<number>(249).fill(0),
  };
  let pos = 0;
  let lastReset = -1;
  for (const b of blocks) {
    const resetHere = resetEvery > 0 ? Math.floor(pos / resetEvery) * resetEvery : 0;
    if (pos === 0 || (resetEvery > 0 && pos % resetEvery === 0 && pos !== lastReset)) {
      lastReset = pos;
      st.r = [1, 1, 1];
      st.prevMain.fill(0);
      st.prevLen.fill(0);
      frameOffsets.push(bw.bytes.length);
      if (options.e8Size !== undefined) {
        bw.write(1, 1);
        bw.write(options.e8Size >>> 16, 16);
        bw.write(options.e8Size & 0xffff, 16);
      } else bw.write(0, 1);
    }
    const writeFrameEnd = (at: number) => {
      if (at % FRAME === 0 || at === data.length) {
        bw.padWord();
        if (at % FRAME === 0 && at < data.length && !(resetEvery > 0 && at % resetEvery === 0))
          frameOffsets.push(bw.bytes.length);
      }
    };
    if (b.type === 'uncompressed') {
      // A reset forgets the block type, so an odd block ending at one is not padded.
      const padded = !(resetEvery > 0 && (pos + b.size) % resetEvery === 0);
      writeUncompressed(bw, data.subarray(pos, pos + b.size), st.r, (i) => writeFrameEnd(pos + i), padded);
    } else {
      const tokens = parse(data, pos, b.size, { windowBits, floor: resetHere, r: st.r });
      writeCoded(bw, tokens, b, st, slots, pos, writeFrameEnd);
    }
    pos += b.size;
  }
  return { data: Uint8Array.from(bw.bytes), frameOffsets };
}

function cutBlocks(total: number, asked: readonly TestBlock[], resetEvery: number): TestBlock[] {
  const out: TestBlock[] = [];
  let pos = 0;
  const list = [...asked];
  if (asked.reduce((a, b) => a + b.size, 0) < total)
    list.push({ type: 'verbatim', size: total - asked.reduce((a, b) => a + b.size, 0) });
  for (const b of list) {
    let left = b.size;
    while (left > 0) {
      const room = resetEvery > 0 ? resetEvery - (pos % resetEvery) : left;
      const n = Math.min(left, room);
      out.push({ type: b.type, size: n });
      pos += n;
      left -= n;
    }
  }
  return out;
}

function writeUncompressed(
  bw: BitWriter,
  data: Uint8Array,
  r: number[],
  frameEnd: (at: number) => void,
  padded: boolean,
): void {
  const size = data.length;
  bw.write(3, 3);
  bw.write(size >>> 8, 16);
  bw.write(size & 0xff, 8);
  if (bw.bitAligned) bw.write(0, 16);
  else bw.padWord();
  for (const v of r) bw.bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
  for (let i = 0; i < size; i++) {
    bw.bytes.push(data[i] as number);
    frameEnd(i + 1);
  }
  if (size & 1 && padded) bw.bytes.push(0);
}

interface ParseOptions {
  readonly windowBits: number;
  /** Matches may not reach before this position (the last reset). */
  readonly floor: number;
  readonly r: number[];
}

/** Greedy matching over `[pos, pos+size)`; updates the repeated-offset queue `o.r`. */
function parse(data: Uint8Array, pos: number, size: number, o: ParseOptions): Token[] {
  const maxOff = 2 ** o.windowBits - 3;
  const tokens: Token[] = [];
  const heads = new Map<number, number[]>();
  const key = (i: number) => ((data[i] as number) << 16) | ((data[i + 1] as number) << 8) | (data[i + 2] as number);
  for (let i = Math.max(o.floor, pos - 4096); i < pos; i++) addHead(heads, key(i), i);
  const end = pos + size;
  let i = pos;
  while (i < end) {
    const limit = Math.min(257, end - i, FRAME - (i % FRAME));
    let best = { len: 0, off: 0 };
    const cand = [...o.r, ...(heads.get(key(i)) ?? []).map((p) => i - p)];
    for (const off of cand) {
      if (off <= 0 || off > maxOff || i - off < o.floor) continue;
      let l = 0;
      while (l < limit && data[i + l] === data[i - off + l]) l++;
      if (l > best.len) best = { len: l, off };
    }
    if (best.len >= 3 || (best.len === 2 && o.r.includes(best.off))) {
      tokens.push(matchToken(best.len, best.off, o.r));
      for (let k = 0; k < best.len; k++) if (i + k + 2 < data.length) addHead(heads, key(i + k), i + k);
      i += best.len;
    } else {
      tokens.push({ lit: data[i] as number });
      if (i + 2 < data.length) addHead(heads, key(i), i);
      i++;
    }
  }
  return tokens;
}

function addHead(heads: Map<number, number[]>, k: number, i: number): void {
  const list = heads.get(k);
  if (list === undefined) heads.set(k, [i]);
  else {
    list.unshift(i);
    if (list.length > 16) list.pop();
  }
}

function matchToken(len: number, off: number, r: number[]): Token {
  const lenHeader = Math.min(len - 2, 7);
  const lenSym = len - 2 >= 7 ? len - 2 - 7 : undefined;
  let slot = r.indexOf(off);
  let footer = 0;
  let extra = 0;
  if (slot === 0) {
    // R0 stays.
  } else if (slot === 1 || slot === 2) {
    r[slot] = r[0] as number;
    r[0] = off;
  } else {
    const formatted = off + 2;
    slot = 3;
    while (slot + 1 < BASE.length && (BASE[slot + 1] as number) <= formatted) slot++;
    footer = formatted - (BASE[slot] as number);
    extra = EXTRA[slot] as number;
    r[2] = r[1] as number;
    r[1] = r[0] as number;
    r[0] = off;
  }
  const sym = 256 + slot * 8 + lenHeader;
  return lenSym === undefined ? { sym, footer, extra } : { sym, lenSym, footer, extra };
}

interface CoderState {
  prevMain: number[];
  prevLen: number[];
}

function writeCoded(
  bw: BitWriter,
  tokens: Token[],
  b: TestBlock,
  st: CoderState,
  slots: number,
  start: number,
  frameEnd: (at: number) => void,
): void {
  const aligned = b.type === 'aligned';
  const mainFreq = new Array<number>(256 + slots * 8).fill(0);
  const lenFreq = new Array<number>(249).fill(0);
  const alFreq = new Array<number>(8).fill(0);
  for (const t of tokens) {
    if ('lit' in t) mainFreq[t.lit] = (mainFreq[t.lit] as number) + 1;
    else {
      mainFreq[t.sym] = (mainFreq[t.sym] as number) + 1;
      if (t.lenSym !== undefined) lenFreq[t.lenSym] = (lenFreq[t.lenSym] as number) + 1;
      if (aligned && t.extra >= 3) alFreq[t.footer & 7] = (alFreq[t.footer & 7] as number) + 1;
    }
  }
  bw.write(aligned ? 2 : 1, 3);
  bw.write(b.size >>> 8, 16);
  bw.write(b.size & 0xff, 8);
  const al = codeLengths(alFreq, 7);
  if (aligned) for (const l of al) bw.write(l, 3);
  const ml = codeLengths(mainFreq, 16);
  writeLengths(bw, st.prevMain, ml, 0, 256);
  writeLengths(bw, st.prevMain, ml, 256, ml.length);
  const ll = lenFreq.some((x) => x > 0) ? codeLengths(lenFreq, 16) : lenFreq.map(() => 0);
  writeLengths(bw, st.prevLen, ll, 0, 249);
  const mc = canonical(ml);
  const lc = canonical(ll);
  const ac = canonical(al);
  let at = start;
  for (const t of tokens) {
    if ('lit' in t) {
      bw.write(mc[t.lit] as number, ml[t.lit] as number);
      frameEnd(++at);
      continue;
    }
    bw.write(mc[t.sym] as number, ml[t.sym] as number);
    if (t.lenSym !== undefined) bw.write(lc[t.lenSym] as number, ll[t.lenSym] as number);
    if (aligned && t.extra >= 3) {
      bw.write(t.footer >>> 3, t.extra - 3);
      bw.write(ac[t.footer & 7] as number, al[t.footer & 7] as number);
    } else if (t.extra > 0) bw.write(t.footer, t.extra);
    const len = ((t.sym - 256) & 7) + 2 + (t.lenSym ?? 0);
    at += len;
    frameEnd(at);
  }
}
