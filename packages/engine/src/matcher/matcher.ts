// The scan side of the matcher: one pass over the data looking up each position's next bytes in
// the atom tables (a bloom filter first, then the bucket), verifying the variants found there, and
// in-place checks for patterns pinned to an offset. Opened over typed arrays without copying them.
import type { SectionArray } from '../database/format.js';
import { section } from '../database/format.js';
import { VigilError } from '../errors.js';
import type { FileFacts } from '../filetypes/types.js';
import { BLOOM_MUL, BUCKET_MUL } from './atoms.js';
import { type MatcherMeta, PAT_FIRST_ONLY, tableName } from './compile.js';
import { OFFSET_ABS, OFFSET_ANY, OFFSET_EOF, startWindow } from './offsets.js';
import { FOLD } from './program.js';
import { Verifier, type Window } from './verify.js';

/** What one pass found: per pattern id, the distinct start offsets of its matches. */
export interface MatchSet {
  ids(): Iterable<number>;
  count(id: number): number;
  /** Start offsets, ascending. */
  offsets(id: number): readonly number[];
}

/**
 * Match starts per pattern id. Each distinct start is counted; the starts themselves are kept up to
 * MAX_KEPT per pattern (what byte compares read from), as ClamAV keeps a bounded number of offsets,
 * so a pattern that matches at every position of a long run costs a count, not an array of them.
 */
class Matches implements MatchSet {
  private readonly starts = new Map<number, Set<number>>();
  private readonly extra = new Map<number, number>();
  record(id: number, start: number): void {
    let set = this.starts.get(id);
    if (set === undefined) {
      set = new Set();
      this.starts.set(id, set);
    }
    if (set.has(start)) return;
    if (set.size < MAX_KEPT) set.add(start);
    else this.extra.set(id, (this.extra.get(id) ?? 0) + 1);
  }
  has(id: number): boolean {
    return this.starts.has(id);
  }
  ids(): Iterable<number> {
    return [...this.starts.keys()].sort((a, b) => a - b);
  }
  count(id: number): number {
    return (this.starts.get(id)?.size ?? 0) + (this.extra.get(id) ?? 0);
  }
  offsets(id: number): readonly number[] {
    return [...(this.starts.get(id) ?? [])].sort((a, b) => a - b);
  }
}

/** Starts kept per pattern and pass (more are counted, not kept). */
const MAX_KEPT = 4096;

interface Table {
  readonly k: number;
  readonly fold: boolean;
  readonly keyMask: number;
  readonly bucketShift: number;
  readonly bloomShift: number;
  readonly start: Uint32Array;
  readonly key: Uint32Array;
  readonly variant: Uint32Array;
  readonly node: Uint32Array;
  readonly pos: Uint16Array;
  readonly bloom: Uint32Array;
}

export class Matcher {
  private readonly a: {
    pKind: Uint8Array;
    pN: Int32Array;
    pShift: Int32Array;
    pIndex: Int32Array;
    pFlags: Uint8Array;
    vFirst: Uint32Array;
    vCount: Uint32Array;
    vId: Uint32Array;
    vFlags: Uint8Array;
    gStart: Uint32Array;
    gPattern: Uint32Array;
    dVariant: Uint32Array;
    dByte: Uint16Array;
    everywhere: Uint32Array;
  };
  private readonly tables: readonly Table[];
  private readonly verifier: Verifier;
  readonly meta: MatcherMeta;

  constructor(tables: { readonly arrays: Record<string, SectionArray>; readonly meta: unknown }) {
    const s = tables.arrays;
    this.meta = tables.meta as MatcherMeta;
    if (typeof this.meta !== 'object' || this.meta === null || !Array.isArray(this.meta.tables)) {
      throw new VigilError('E_DATABASE_FORMAT', 'Cannot open compiled database: matcher meta is malformed');
    }
    this.a = {
      pKind: section(s, 'pKind', Uint8Array),
      pN: section(s, 'pN', Int32Array),
      pShift: section(s, 'pShift', Int32Array),
      pIndex: section(s, 'pIndex', Int32Array),
      pFlags: section(s, 'pFlags', Uint8Array),
      vFirst: section(s, 'vFirst', Uint32Array),
      vCount: section(s, 'vCount', Uint32Array),
      vId: section(s, 'vId', Uint32Array),
      vFlags: section(s, 'vFlags', Uint8Array),
      gStart: section(s, 'gStart', Uint32Array),
      gPattern: section(s, 'gPattern', Uint32Array),
      dVariant: section(s, 'dVariant', Uint32Array),
      dByte: section(s, 'dByte', Uint16Array),
      everywhere: section(s, 'everywhere', Uint32Array),
    };
    this.tables = this.meta.tables.map((t) => {
      const name = tableName(t.k, t.fold);
      return {
        k: t.k,
        fold: t.fold,
        keyMask: t.k === 4 ? 0xffffffff : (1 << (8 * t.k)) - 1,
        bucketShift: 32 - t.bucketBits,
        bloomShift: 32 - t.bloomBits,
        start: section(s, `${name}.start`, Uint32Array),
        key: section(s, `${name}.key`, Uint32Array),
        variant: section(s, `${name}.variant`, Uint32Array),
        node: section(s, `${name}.node`, Uint32Array),
        pos: section(s, `${name}.pos`, Uint16Array),
        bloom: section(s, `${name}.bloom`, Uint32Array),
      };
    });
    this.verifier = new Verifier(
      section(s, 'ops', Int32Array),
      section(s, 'opts', Int32Array),
      section(s, 'lit', Uint8Array),
    );
  }

  /** Matches every pattern against `data` in one pass. */
  scan(data: Uint8Array, facts: FileFacts): MatchSet {
    const found = new Matches();
    const pass = new Pass(this.a, this.verifier, data, facts, found);
    this.verifier.reset(data);
    try {
      for (let g = 0; g + 1 < this.a.gStart.length; g++) pass.pinned(g);
      for (const v of this.a.everywhere) pass.everywhere(v);
      if (this.tables.length > 0) this.sweep(data, pass);
    } finally {
      this.verifier.reset(new Uint8Array(0));
    }
    return found;
  }

  private sweep(d: Uint8Array, pass: Pass): void {
    const n = d.length;
    const tables = this.tables;
    const anyFold = tables.some((t) => t.fold);
    let v = 0;
    let vf = 0;
    for (let i = 0; i < 3 && i < n; i++) {
      v |= (d[i] as number) << (8 * i);
      vf |= (FOLD[d[i] as number] as number) << (8 * i);
    }
    for (let i = 0; i < n; i++) {
      const b3 = i + 3 < n ? (d[i + 3] as number) : 0;
      v = (v | (b3 << 24)) >>> 0;
      if (anyFold) vf = (vf | ((FOLD[b3] as number) << 24)) >>> 0;
      const left = n - i;
      for (let t = 0; t < tables.length; t++) {
        const tb = tables[t] as Table;
        if (tb.k > left) continue;
        const key = ((tb.fold ? vf : v) & tb.keyMask) >>> 0;
        const h = Math.imul(key, BLOOM_MUL) >>> tb.bloomShift;
        if (((tb.bloom[h >>> 5] as number) & (1 << (h & 31))) === 0) continue;
        const b = Math.imul(key, BUCKET_MUL) >>> tb.bucketShift;
        const end = tb.start[b + 1] as number;
        for (let e = tb.start[b] as number; e < end; e++) {
          if (tb.key[e] === key) pass.atom(tb.variant[e] as number, tb.node[e] as number, i - (tb.pos[e] as number));
        }
      }
      v >>>= 8;
      vf >>>= 8;
    }
  }
}

/** The state of one pass over one buffer. */
class Pass {
  /** The window of the pattern last asked about (`setWindow`): reused, never reallocated. */
  private readonly w = { lo: 0, hi: 0, endMax: 0 };
  private readonly size: number;

  constructor(
    private readonly a: Matcher['a'],
    private readonly verifier: Verifier,
    private readonly data: Uint8Array,
    private readonly facts: FileFacts,
    private readonly found: Matches,
  ) {
    this.size = data.length;
  }

  /**
   * Sets `w` to where pattern `id` may start in this buffer; false when it cannot apply. The common
   * kinds are computed inline: this runs for every pinned group and every atom hit.
   */
  private setWindow(id: number): boolean {
    const kind = this.a.pKind[id] as number;
    const w = this.w;
    const size = this.size;
    if (kind === OFFSET_ANY) {
      w.lo = 0;
      w.hi = size;
      w.endMax = size;
      return true;
    }
    const shift = this.a.pShift[id] as number;
    if (kind === OFFSET_ABS || kind === OFFSET_EOF) {
      const n = this.a.pN[id] as number;
      const base = kind === OFFSET_ABS ? n : size - n;
      if (base > size || base + shift < 0) return false;
      w.lo = Math.max(base, 0);
      w.hi = Math.min(size, base + shift);
      w.endMax = size;
      return true;
    }
    const o = { n: this.a.pN[id] as number, shift, index: this.a.pIndex[id] as number };
    const got = startWindow(kind, o, this.facts, size);
    if (got === undefined) return false;
    w.lo = got.lo;
    w.hi = got.hi;
    w.endMax = got.endMax;
    return true;
  }

  private skip(id: number): boolean {
    return ((this.a.pFlags[id] as number) & PAT_FIRST_ONLY) !== 0 && this.found.has(id);
  }

  private hit(id: number, start: number): void {
    this.found.record(id, start);
  }

  /** An atom of variant `v` was seen; its run (node `node`, relative to the variant) starts at `runStart`. */
  atom(v: number, node: number, runStart: number): void {
    const id = this.a.vId[v] as number;
    if (this.skip(id)) return;
    if (!this.setWindow(id) || runStart < this.w.lo) return;
    const w = this.w;
    const first = this.a.vFirst[v] as number;
    const last = first + (this.a.vCount[v] as number);
    if (this.verifier.verifyAtom(first, last, this.a.vFlags[v] as number, first + node, runStart, w)) {
      this.hit(id, this.verifier.start);
    }
  }

  /** A group of patterns pinned to the same few start positions: try those whose first byte is there. */
  pinned(g: number): void {
    const a = this.a;
    const from = a.gStart[g] as number;
    const to = a.gStart[g + 1] as number;
    if (!this.setWindow(a.gPattern[g] as number)) return;
    const w = this.w;
    const d = this.data;
    for (let s = w.lo; s <= w.hi && s < d.length; s++) {
      const b = d[s] as number;
      // Members are sorted by first byte (256, any byte, last): find the run of b.
      let lo = from;
      let hi = to;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((a.dByte[mid] as number) < b) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < to && a.dByte[i] === b; i++) this.tryAt(a.dVariant[i] as number, s, w);
      for (let i = to - 1; i >= from && a.dByte[i] === 256; i--) this.tryAt(a.dVariant[i] as number, s, w);
    }
  }

  private tryAt(v: number, s: number, w: Window): void {
    const id = this.a.vId[v] as number;
    if (this.skip(id)) return;
    const first = this.a.vFirst[v] as number;
    const last = first + (this.a.vCount[v] as number);
    if (this.verifier.verifyAt(first, last, this.a.vFlags[v] as number, s, w.endMax)) this.hit(id, s);
  }

  /** A pattern with no fixed byte to look for: try every position (rare; ClamAV refuses most). */
  everywhere(v: number): void {
    const id = this.a.vId[v] as number;
    if (!this.setWindow(id)) return;
    this.tryRange(v, id, this.w);
  }

  private tryRange(v: number, id: number, w: Window): void {
    const first = this.a.vFirst[v] as number;
    const last = first + (this.a.vCount[v] as number);
    const flags = this.a.vFlags[v] as number;
    for (let s = w.lo; s <= w.hi; s++) {
      if (this.skip(id)) return;
      if (this.verifier.verifyAt(first, last, flags, s, w.endMax)) this.hit(id, s);
    }
  }
}
