// An LZMA decoder (the range-coded LZ77 of 7-Zip and XZ), bounded in output. `LzmaDecoder` keeps
// its state between calls so that LZMA2's chunks can continue one dictionary and one model.
import { BoundedOutput } from '../output.js';

export class Damaged extends Error {}

const NUM_STATES = 12;
const POS_STATES_MAX = 16;
const LEN_LOW = 8;
const LEN_MID = 8;
const LEN_HIGH = 256;
const END_POS_MODEL = 14;
const FULL_DISTANCES = 128;
const ALIGN_BITS = 4;
const MATCH_MIN = 2;

const probs = (n: number) => new Uint16Array(n).fill(1024);

/** The range decoder over one run of compressed bytes. */
class Range {
  private range = 0xffffffff;
  private code = 0;
  constructor(
    private readonly d: Uint8Array,
    public pos: number,
    private readonly end: number,
  ) {
    if (this.byte() !== 0) throw new Damaged('the range coder does not start with 0');
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.byte()) >>> 0;
    if (this.code === this.range) throw new Damaged('bad range coder start');
  }
  private byte(): number {
    if (this.pos >= this.end) throw new Damaged('the stream ends early');
    return this.d[this.pos++] as number;
  }
  private normalise(): void {
    if (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.byte()) >>> 0;
    }
  }
  bit(p: Uint16Array, i: number): number {
    const prob = p[i] as number;
    const bound = (this.range >>> 11) * prob;
    let b: number;
    if (this.code < bound) {
      this.range = bound;
      p[i] = prob + ((2048 - prob) >>> 5);
      b = 0;
    } else {
      this.range -= bound;
      this.code -= bound;
      p[i] = prob - (prob >>> 5);
      b = 1;
    }
    this.normalise();
    return b;
  }
  direct(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      this.range >>>= 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        b = 1;
      }
      v = ((v << 1) | b) >>> 0;
      this.normalise();
    }
    return v;
  }
  tree(p: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) | this.bit(p, base + m);
    return m - (1 << bits);
  }
  reverse(p: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let v = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(p, base + m);
      m = (m << 1) | b;
      v |= b << i;
    }
    return v;
  }
}

class LenDecoder {
  private readonly choice = probs(2);
  private readonly low = probs(POS_STATES_MAX << 3);
  private readonly mid = probs(POS_STATES_MAX << 3);
  private readonly high = probs(LEN_HIGH);
  decode(rc: Range, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return rc.tree(this.low, posState << 3, 3);
    if (rc.bit(this.choice, 1) === 0) return LEN_LOW + rc.tree(this.mid, posState << 3, 3);
    return LEN_LOW + LEN_MID + rc.tree(this.high, 0, 8);
  }
}

/** Properties: literal context bits, literal position bits, position bits. */
export interface LzmaProps {
  readonly lc: number;
  readonly lp: number;
  readonly pb: number;
}

/** Reads the lc/lp/pb byte; undefined when it is out of range. */
export function lzmaProps(b: number): LzmaProps | undefined {
  if (b >= 9 * 5 * 5) return undefined;
  return { lc: b % 9, lp: Math.floor(b / 9) % 5, pb: Math.floor(b / 45) };
}

/** The decoder's model and dictionary; the output is the dictionary (the whole stream, bounded). */
export class LzmaDecoder extends BoundedOutput {
  private props: LzmaProps = { lc: 3, lp: 0, pb: 2 };
  private literal = probs(0x300 << 3);
  private isMatch = probs(NUM_STATES << 4);
  private isRep = probs(NUM_STATES);
  private isRepG0 = probs(NUM_STATES);
  private isRepG1 = probs(NUM_STATES);
  private isRepG2 = probs(NUM_STATES);
  private isRep0Long = probs(NUM_STATES << 4);
  private posSlot = probs(4 << 6);
  private posSpecial = probs(1 + FULL_DISTANCES - END_POS_MODEL);
  private align = probs(1 << ALIGN_BITS);
  private lenDec = new LenDecoder();
  private repLenDec = new LenDecoder();
  private state = 0;
  private rep0 = 0;
  private rep1 = 0;
  private rep2 = 0;
  private rep3 = 0;
  /** Where the current dictionary starts (LZMA2 may reset it). */
  private dictStart = 0;

  constructor(max: number) {
    super(1 << 16, max);
  }

  /** New properties and a fresh model (and state), as LZMA2's resets ask. */
  reset(props?: LzmaProps): void {
    if (props !== undefined) this.props = props;
    this.literal = probs(0x300 << (this.props.lc + this.props.lp));
    for (const p of [this.isMatch, this.isRep, this.isRepG0, this.isRepG1, this.isRepG2, this.isRep0Long]) p.fill(1024);
    for (const p of [this.posSlot, this.posSpecial, this.align]) p.fill(1024);
    this.lenDec = new LenDecoder();
    this.repLenDec = new LenDecoder();
    this.state = 0;
    this.rep0 = 0;
    this.rep1 = 0;
    this.rep2 = 0;
    this.rep3 = 0;
  }

  resetDictionary(): void {
    this.dictStart = this.n;
  }

  /** Appends uncompressed bytes (LZMA2's stored chunks). */
  copy(bytes: Uint8Array): boolean {
    if (!this.room(bytes.length)) return false;
    this.out.set(bytes, this.n);
    this.n += bytes.length;
    return true;
  }

  /**
   * Decodes from `d[start, end)` until `unpacked` bytes are out (or, when undefined, the end
   * marker). Returns false when the output limit stopped it.
   */
  decode(d: Uint8Array, start: number, end: number, unpacked: number | undefined): boolean {
    const rc = new Range(d, start, end);
    const { lc, lp, pb } = this.props;
    const pbMask = (1 << pb) - 1;
    const lpMask = (1 << lp) - 1;
    const stop = unpacked === undefined ? Number.POSITIVE_INFINITY : this.n + unpacked;
    const out = () => this.out;
    while (this.n < stop) {
      const posState = this.n & pbMask;
      const s = this.state;
      if (rc.bit(this.isMatch, (s << 4) + posState) === 0) {
        if (!this.room(1)) return false;
        const prev = this.n > this.dictStart ? (out()[this.n - 1] as number) : 0;
        const base = 0x300 * (((this.n & lpMask) << lc) + (prev >>> (8 - lc)));
        let sym = 1;
        if (s >= 7) {
          const at = this.n - this.rep0 - 1;
          if (at < this.dictStart) throw new Damaged('a distance reaches before the dictionary');
          let match = out()[at] as number;
          do {
            const mb = (match >>> 7) & 1;
            match <<= 1;
            const b = rc.bit(this.literal, base + ((1 + mb) << 8) + sym);
            sym = (sym << 1) | b;
            if (mb !== b) break;
          } while (sym < 0x100);
        }
        while (sym < 0x100) sym = (sym << 1) | rc.bit(this.literal, base + sym);
        out()[this.n++] = sym & 0xff;
        this.state = s < 4 ? 0 : s < 10 ? s - 3 : s - 6;
        continue;
      }
      let len: number;
      if (rc.bit(this.isRep, s) !== 0) {
        if (this.n === this.dictStart) throw new Damaged('a repeated match before any data');
        if (rc.bit(this.isRepG0, s) === 0) {
          if (rc.bit(this.isRep0Long, (s << 4) + posState) === 0) {
            this.state = s < 7 ? 9 : 11;
            if (!this.room(1)) return false;
            if (this.n - this.rep0 - 1 < this.dictStart) throw new Damaged('a distance reaches before the dictionary');
            out()[this.n] = out()[this.n - this.rep0 - 1] as number;
            this.n++;
            continue;
          }
        } else {
          let dist: number;
          if (rc.bit(this.isRepG1, s) === 0) dist = this.rep1;
          else if (rc.bit(this.isRepG2, s) === 0) {
            dist = this.rep2;
            this.rep2 = this.rep1;
          } else {
            dist = this.rep3;
            this.rep3 = this.rep2;
            this.rep2 = this.rep1;
          }
          this.rep1 = this.rep0;
          this.rep0 = dist;
        }
        len = this.repLenDec.decode(rc, posState);
        this.state = s < 7 ? 8 : 11;
      } else {
        this.rep3 = this.rep2;
        this.rep2 = this.rep1;
        this.rep1 = this.rep0;
        len = this.lenDec.decode(rc, posState);
        this.state = s < 7 ? 7 : 10;
        const lenState = Math.min(len, 3);
        const slot = rc.tree(this.posSlot, lenState << 6, 6);
        let dist: number;
        if (slot < 4) dist = slot;
        else {
          const direct = (slot >>> 1) - 1;
          dist = ((2 | (slot & 1)) << direct) >>> 0;
          if (slot < END_POS_MODEL) dist += rc.reverse(this.posSpecial, dist - slot, direct);
          else {
            dist = (dist + ((rc.direct(direct - ALIGN_BITS) << ALIGN_BITS) >>> 0)) >>> 0;
            dist += rc.reverse(this.align, 0, ALIGN_BITS);
          }
          if (dist === 0xffffffff) return true; // the end marker
        }
        this.rep0 = dist;
      }
      len += MATCH_MIN;
      const distance = this.rep0 + 1;
      if (distance > this.n - this.dictStart) throw new Damaged('a distance reaches before the dictionary');
      if (this.n + len > stop) throw new Damaged('a match runs past the chunk');
      if (!this.room(len)) return false;
      const o = out();
      for (let k = 0; k < len; k++, this.n++) o[this.n] = o[this.n - distance] as number;
    }
    return true;
  }
}
