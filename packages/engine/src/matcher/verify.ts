// Checks a pattern at a place in the data by walking its encoded nodes: forward from an atom's run
// to the pattern's end, backward from it to the pattern's start (trying every gap length and every
// alternative, within a step budget), and at a fixed start for anchored offsets.
import {
  ANCHOR_B,
  ANCHOR_L,
  ANCHOR_W,
  FOLD,
  OP_ALT,
  OP_ANCHOR,
  OP_GAP,
  OP_RUN,
  RUN_LITERAL,
  RUN_NOCASE,
  VAR_FULLWORD,
  VAR_WIDE,
} from './program.js';

/** Steps one verification may take before it gives up (pathological `*` chains). */
export const VERIFY_BUDGET = 200_000;

const WORD = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) {
    const ch = String.fromCharCode(c);
    t[c] = /[A-Za-z0-9]/.test(ch) ? 1 : 0;
  }
  return t;
})();

/** Walks encoded patterns over one buffer at a time. Not re-entrant; one per Matcher. */
export class Verifier {
  private data: Uint8Array = new Uint8Array(0);
  private n = 0;
  private budget = 0;
  private first = 0;
  private flags = 0;
  /** Set by a successful `verifyAtom`/`verifyAt`: where the match starts. */
  start = -1;
  /** Verifications that ran out of budget (reported as a warning by the caller if wanted). */
  exhausted = 0;
  /**
   * Memo for unbounded gaps (`*`, `{n-}`), per gap node, valid for one buffer (`memoGen`; a
   * variant's window is fixed for a buffer). Whether what follows a gap matches is monotone in where
   * the search begins, so one answer settles every later question. Forward: the tail failed from
   * `fwdFail` on (so from any later position too), or matched at `fwdOk` (so from any earlier one).
   * Backward: the head failed ending at or before `backFail`, or matched ending at `backOk` (starting
   * at `backStart`). Without it, a common atom and a `*` make verification quadratic in file size.
   */
  private readonly slot = new Map<number, number>();
  private readonly memoGen: Uint32Array;
  private readonly fwdFail: Int32Array;
  private readonly fwdOk: Int32Array;
  private readonly backFail: Int32Array;
  private readonly backOk: Int32Array;
  private readonly backStart: Int32Array;
  private gen = 0;

  constructor(
    private readonly ops: Int32Array,
    private readonly opts: Int32Array,
    private readonly lit: Uint8Array,
  ) {
    // Memo slots only for the unbounded gap nodes (a few in a thousand nodes).
    for (let j = 0; j < ops.length >> 2; j++) {
      if (ops[j * 4] === OP_GAP && (ops[j * 4 + 2] as number) < 0) this.slot.set(j, this.slot.size);
    }
    const n = this.slot.size;
    this.memoGen = new Uint32Array(n);
    this.fwdFail = new Int32Array(n);
    this.fwdOk = new Int32Array(n);
    this.backFail = new Int32Array(n);
    this.backOk = new Int32Array(n);
    this.backStart = new Int32Array(n);
  }

  reset(data: Uint8Array): void {
    this.data = data;
    this.n = data.length;
    this.gen++;
  }

  /** The memo slot of unbounded gap node `j`, cleared when it belongs to an earlier buffer. */
  private memo(j: number): number {
    const g = this.slot.get(j) as number;
    if (this.memoGen[g] === this.gen) return g;
    this.memoGen[g] = this.gen;
    this.fwdFail[g] = 0x7fffffff;
    this.fwdOk[g] = -1;
    this.backFail[g] = -1;
    this.backOk[g] = 0x7fffffff;
    this.backStart[g] = -1;
    return g;
  }

  private runAt(off: number, len: number, flags: number, pos: number): boolean {
    if (pos < 0 || pos + len > this.n) return false;
    const d = this.data;
    const lit = this.lit;
    if (flags & RUN_LITERAL) {
      if (flags & RUN_NOCASE) {
        for (let i = 0; i < len; i++) if (FOLD[d[pos + i] as number] !== lit[off + i]) return false;
      } else {
        for (let i = 0; i < len; i++) if (d[pos + i] !== lit[off + i]) return false;
      }
      return true;
    }
    for (let i = 0; i < len; i++) {
      const m = lit[off + len + i] as number;
      let b = d[pos + i] as number;
      if (m === 0xff && flags & RUN_NOCASE) b = FOLD[b] as number;
      if ((b & m) !== lit[off + i]) return false;
    }
    return true;
  }

  private anchorOk(kind: number, pos: number, before: boolean): boolean {
    const idx = before ? pos - 1 : pos;
    const outside = idx < 0 || idx >= this.n;
    const b = outside ? 0 : (this.data[idx] as number);
    if (kind === ANCHOR_B) return outside || WORD[b] === 0;
    if (kind === ANCHOR_L) return outside || b === 0x0a || b === 0x0d;
    if (kind === ANCHOR_W) return !outside && WORD[b] === 0;
    return false;
  }

  /** Fullword (`::f`): the match is not preceded or followed by a letter or digit. */
  private wordEdge(pos: number, before: boolean): boolean {
    const step = this.flags & VAR_WIDE ? 2 : 1;
    const idx = before ? pos - step : pos;
    if (idx < 0 || idx >= this.n) return true;
    return WORD[this.data[idx] as number] === 0;
  }

  /** Nodes [j, last) match starting at pos, ending at or before endMax. */
  private fwd(j: number, last: number, pos: number, endMax: number): boolean {
    const ops = this.ops;
    for (;;) {
      if (--this.budget < 0) return false;
      if (j === last) return pos <= endMax && (!(this.flags & VAR_FULLWORD) || this.wordEdge(pos, false));
      const o = j * 4;
      const op = ops[o] as number;
      if (op === OP_RUN) {
        const len = ops[o + 2] as number;
        if (!this.runAt(ops[o + 1] as number, len, ops[o + 3] as number, pos)) return false;
        pos += len;
        j++;
      } else if (op === OP_ANCHOR) {
        if (!this.anchorOk(ops[o + 1] as number, pos, j === this.first)) return false;
        j++;
      } else if (op === OP_ALT) {
        return this.altFwd(j, last, pos, endMax);
      } else if (op === OP_GAP) {
        const min = ops[o + 1] as number;
        const max = ops[o + 2] as number;
        if (max < 0) return this.fwdUnbounded(j, last, pos + min, endMax);
        const top = Math.min(endMax, pos + max);
        for (let p = pos + min; p <= top; p++) if (this.fwd(j + 1, last, p, endMax)) return true;
        return false;
      } else {
        return false;
      }
    }
  }

  /** Nodes (j, last) match starting somewhere in [from, endMax]; `j` is an unbounded gap. */
  private fwdUnbounded(j: number, last: number, from: number, endMax: number): boolean {
    const m = this.memo(j);
    if (from >= (this.fwdFail[m] as number)) return false;
    if (from <= (this.fwdOk[m] as number)) return true;
    // Positions from fwdFail on are known to fail: search only below them.
    const stop = Math.min(endMax, (this.fwdFail[m] as number) - 1);
    // Jump between the places where the next run's first literal byte occurs (a native search).
    const [k, byte] = j + 1 < last ? this.literalAt(j + 1, false) : [-1, 0];
    for (let p = from; p <= stop; p++) {
      if (k >= 0) {
        const at = this.data.indexOf(byte, p + k);
        if (at < 0 || at - k > stop) break;
        p = at - k;
      }
      // Each candidate gets the whole step budget: the memo keeps the scan linear, and a budget
      // shared by every candidate of a long file would run out and forget what was learnt.
      this.budget = VERIFY_BUDGET;
      if (this.fwd(j + 1, last, p, endMax)) {
        this.fwdOk[m] = p;
        return true;
      }
      if (this.budget < 0) this.exhausted++;
    }
    this.fwdFail[m] = from;
    return false;
  }

  /**
   * For a run node: the position of its first (`last` false) or last literal, case-sensitive byte
   * (from the run's start, or back from its end) and the byte; [-1, 0] when it has none.
   */
  private literalAt(j: number, last: boolean): [number, number] {
    const o = j * 4;
    if (this.ops[o] !== OP_RUN) return [-1, 0];
    const off = this.ops[o + 1] as number;
    const len = this.ops[o + 2] as number;
    const flags = this.ops[o + 3] as number;
    if (flags & RUN_NOCASE) return [-1, 0];
    for (let i = 0; i < len; i++) {
      const at = last ? len - 1 - i : i;
      if (flags & RUN_LITERAL || this.lit[off + len + at] === 0xff)
        return [last ? i : at, this.lit[off + at] as number];
    }
    return [-1, 0];
  }

  private altFwd(j: number, last: number, pos: number, endMax: number): boolean {
    const o = j * 4;
    const start = this.ops[o + 1] as number;
    const count = this.ops[o + 2] as number;
    const opts = this.opts;
    if (this.ops[o + 3] === 1) {
      const len = opts[start * 3 + 1] as number;
      if (pos + len > this.n) return false;
      for (let k = 0; k < count; k++) {
        const q = (start + k) * 3;
        if (this.runAt(opts[q] as number, opts[q + 1] as number, opts[q + 2] as number, pos)) return false;
      }
      return this.fwd(j + 1, last, pos + len, endMax);
    }
    for (let k = 0; k < count; k++) {
      const q = (start + k) * 3;
      const len = opts[q + 1] as number;
      if (this.runAt(opts[q] as number, len, opts[q + 2] as number, pos) && this.fwd(j + 1, last, pos + len, endMax)) {
        return true;
      }
    }
    return false;
  }

  /** Nodes [first, j] match ending at pos (exclusive), starting within [lo, hi]; sets `start`. */
  private back(j: number, pos: number, lo: number, hi: number): boolean {
    const ops = this.ops;
    for (;;) {
      if (--this.budget < 0) return false;
      if (j < this.first) {
        if (pos < lo || pos > hi) return false;
        if (this.flags & VAR_FULLWORD && !this.wordEdge(pos, true)) return false;
        this.start = pos;
        return true;
      }
      const o = j * 4;
      const op = ops[o] as number;
      if (op === OP_RUN) {
        const len = ops[o + 2] as number;
        pos -= len;
        if (pos < lo || !this.runAt(ops[o + 1] as number, len, ops[o + 3] as number, pos)) return false;
        j--;
      } else if (op === OP_ANCHOR) {
        if (!this.anchorOk(ops[o + 1] as number, pos, j === this.first)) return false;
        j--;
      } else if (op === OP_ALT) {
        return this.altBack(j, pos, lo, hi);
      } else if (op === OP_GAP) {
        const min = ops[o + 1] as number;
        const max = ops[o + 2] as number;
        if (max < 0) return this.backUnbounded(j, pos - min, lo, hi);
        const bottom = Math.max(lo, pos - max);
        for (let p = pos - min; p >= bottom; p--) if (this.back(j - 1, p, lo, hi)) return true;
        return false;
      } else {
        return false;
      }
    }
  }

  /** Nodes [first, j) match ending somewhere in [lo, from]; `j` is an unbounded gap. */
  private backUnbounded(j: number, from: number, lo: number, hi: number): boolean {
    const m = this.memo(j);
    if (from <= (this.backFail[m] as number)) return false;
    if (from >= (this.backOk[m] as number)) {
      this.start = this.backStart[m] as number;
      return true;
    }
    const stop = Math.max(lo, (this.backFail[m] as number) + 1);
    // `p` is where the node before the gap ends: jump between occurrences of its last literal byte.
    const [k, byte] = j - 1 >= this.first ? this.literalAt(j - 1, true) : [-1, 0];
    for (let p = from; p >= stop; p--) {
      if (k >= 0) {
        const at = p - 1 - k < 0 ? -1 : this.data.lastIndexOf(byte, p - 1 - k);
        if (at < 0 || at + 1 + k < stop) break;
        p = at + 1 + k;
      }
      this.budget = VERIFY_BUDGET;
      if (this.back(j - 1, p, lo, hi)) {
        this.backOk[m] = p;
        this.backStart[m] = this.start;
        return true;
      }
      if (this.budget < 0) this.exhausted++;
    }
    this.backFail[m] = from;
    return false;
  }

  private altBack(j: number, pos: number, lo: number, hi: number): boolean {
    const o = j * 4;
    const start = this.ops[o + 1] as number;
    const count = this.ops[o + 2] as number;
    const opts = this.opts;
    if (this.ops[o + 3] === 1) {
      const len = opts[start * 3 + 1] as number;
      const p = pos - len;
      if (p < 0) return false;
      for (let k = 0; k < count; k++) {
        const q = (start + k) * 3;
        if (this.runAt(opts[q] as number, opts[q + 1] as number, opts[q + 2] as number, p)) return false;
      }
      return this.back(j - 1, p, lo, hi);
    }
    for (let k = 0; k < count; k++) {
      const q = (start + k) * 3;
      const len = opts[q + 1] as number;
      const p = pos - len;
      if (p >= 0 && this.runAt(opts[q] as number, len, opts[q + 2] as number, p) && this.back(j - 1, p, lo, hi)) {
        return true;
      }
    }
    return false;
  }

  private begin(first: number, flags: number): void {
    this.first = first;
    this.flags = flags;
    this.budget = VERIFY_BUDGET;
    this.start = -1;
  }

  private end(ok: boolean): boolean {
    if (!ok && this.budget < 0) this.exhausted++;
    return ok;
  }

  /**
   * The variant whose nodes are [first, last) matches with node `j` (a run) starting at `runStart`,
   * the whole match starting in [lo, hi] and ending by endMax. Sets `start` on success.
   */
  verifyAtom(first: number, last: number, flags: number, j: number, runStart: number, w: Window): boolean {
    this.begin(first, flags);
    if (!this.fwd(j, last, runStart, w.endMax)) return this.end(false);
    return this.end(this.back(j - 1, runStart, w.lo, w.hi));
  }

  /** The variant matches starting exactly at `start`. */
  verifyAt(first: number, last: number, flags: number, start: number, endMax: number): boolean {
    this.begin(first, flags);
    if (flags & VAR_FULLWORD && !this.wordEdge(start, true)) return false;
    const ok = this.fwd(first, last, start, endMax);
    if (ok) this.start = start;
    return this.end(ok);
  }
}

/** A start window (see offsets.ts). */
export interface Window {
  readonly lo: number;
  readonly hi: number;
  readonly endMax: number;
}
