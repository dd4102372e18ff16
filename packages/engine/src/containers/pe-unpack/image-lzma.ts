// The LZMA pieces that MEW's and Upack's stubs share: a range decoder reading from the image being
// unpacked, adaptive bit probabilities stored in that image (16-bit cells for MEW, 32-bit for
// Upack, where the stubs keep them), and the bit-tree readers. Each packer lays out its own model
// and state machine (mew/mewlzma.ts, upack/decode.ts); containers/xz/lzma.ts decodes real .lzma/.xz
// streams and cannot be used here because these stubs keep their model inside the image. Damage is
// reported with xz's `Damaged`, the engine's one error for a broken LZMA stream.
import { Damaged } from '../xz/lzma.js';

export { Damaged };

/** Adaptive probabilities kept in the image: cell `i` sits at `base + i × width` bytes. */
export class Probs {
  constructor(
    private readonly img: Uint8Array,
    private readonly base: number,
    private readonly width: 2 | 4,
  ) {}
  private at(i: number): number {
    const o = this.base + i * this.width;
    if (o < 0 || o + 4 > this.img.length) throw new Damaged('an LZMA probability lies outside the image');
    return o;
  }
  get(i: number): number {
    const o = this.at(i);
    const lo = (this.img[o] as number) | ((this.img[o + 1] as number) << 8);
    if (this.width === 2) return lo;
    return (lo | ((this.img[o + 2] as number) << 16) | ((this.img[o + 3] as number) << 24)) >>> 0;
  }
  set(i: number, v: number): void {
    const o = this.at(i);
    this.img[o] = v & 0xff;
    this.img[o + 1] = (v >>> 8) & 0xff;
    if (this.width === 4) {
      this.img[o + 2] = (v >>> 16) & 0xff;
      this.img[o + 3] = (v >>> 24) & 0xff;
    }
  }
  /** Sets `n` cells from `from` to the starting probability one half (0x400 of 0x800). */
  reset(from: number, n: number, v = 0x400): void {
    for (let i = 0; i < n; i++) this.set(from + i, v);
  }
}

/** The range decoder over image bytes from `pos` up to `end`. */
export class RangeDecoder {
  constructor(
    private readonly img: Uint8Array,
    public pos: number,
    private readonly end: number,
    public range: number,
    public code: number,
  ) {}
  private next(): number {
    if (this.pos < 0 || this.pos >= this.end) throw new Damaged('the LZMA stream runs past its data');
    return this.img[this.pos++] as number;
  }
  private normalise(): void {
    if (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.next()) >>> 0;
    }
  }
  /** One bit under cell `i` of `p`, adapting it (11-bit probabilities, shift 5). */
  bit(p: Probs, i: number): number {
    const prob = p.get(i);
    const bound = ((this.range >>> 11) * prob) >>> 0;
    let b: number;
    if (this.code < bound) {
      this.range = bound;
      p.set(i, prob + ((0x800 - prob) >> 5));
      b = 0;
    } else {
      this.range = (this.range - bound) >>> 0;
      this.code = (this.code - bound) >>> 0;
      p.set(i, prob - (prob >>> 5));
      b = 1;
    }
    this.normalise();
    return b;
  }
  /** `n` bits at probability one half, most significant first. */
  direct(n: number): number {
    let v = 0;
    for (let k = 0; k < n; k++) {
      this.range >>>= 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code = (this.code - this.range) >>> 0;
        b = 1;
      }
      v = ((v << 1) | b) >>> 0;
      this.normalise();
    }
    return v;
  }
}

/** An `n`-bit value read most significant bit first through cells `base + node` (node 1 is the root). */
export function bitTree(rc: RangeDecoder, p: Probs, base: number, n: number): number {
  let m = 1;
  for (let k = 0; k < n; k++) m = (m << 1) | rc.bit(p, base + m);
  return m - (1 << n);
}

/** As bitTree, but the bits read form the value least significant first (LZMA's distance tails). */
export function reverseTree(rc: RangeDecoder, p: Probs, base: number, n: number): number {
  let m = 1;
  let v = 0;
  for (let k = 0; k < n; k++) {
    const b = rc.bit(p, base + m);
    m = (m << 1) | b;
    v |= b << k;
  }
  return v >>> 0;
}

/** A literal: eight bits through a 0x300-cell coder, guided by `matchByte` after a match (-1: none). */
export function literal(rc: RangeDecoder, p: Probs, base: number, matchByte: number): number {
  let m = 1;
  if (matchByte >= 0) {
    let mb = matchByte;
    while (m < 0x100) {
      const mbit = (mb >> 7) & 1;
      mb <<= 1;
      const b = rc.bit(p, base + 0x100 + (mbit << 8) + m);
      m = (m << 1) | b;
      if (b !== mbit) break;
    }
  }
  while (m < 0x100) m = (m << 1) | rc.bit(p, base + m);
  return m & 0xff;
}
