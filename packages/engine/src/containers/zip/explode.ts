// PKWARE's "implode" (ZIP method 6), decoded: LZ77 with Shannon-Fano-coded literals, lengths and
// distance high bits. The trees' codes are the ones' complements of canonical Huffman codes, so
// the decoder reads complemented bits through a canonical table. Bounded by the declared size,
// never throwing.
import type { Inflated } from '../../env.js';
import { CanonicalCode } from '../huffman.js';

class Damaged extends Error {}

const EIGHT_K_DICTIONARY = 2;
const LITERAL_TREE = 4;

class Bits {
  private pos = 0;
  private bit = 0;
  constructor(private readonly d: Uint8Array) {}
  one(): number {
    if (this.pos >= this.d.length) throw new Damaged('the data ends early');
    const v = ((this.d[this.pos] as number) >>> this.bit) & 1;
    if (++this.bit === 8) {
      this.bit = 0;
      this.pos++;
    }
    return v;
  }
  get(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v |= this.one() << i;
    return v;
  }
  byte(): number {
    return this.get(8);
  }
  readonly complemented = () => this.one() ^ 1;
}

/** A tree as stored: a byte count, then bytes of (bit length - 1, run length - 1) nibbles. */
function readTree(bits: Bits, size: number): CanonicalCode {
  const lengths = new Uint8Array(size);
  let n = 0;
  for (let k = bits.byte() + 1; k > 0; k--) {
    const b = bits.byte();
    for (let run = (b >>> 4) + 1; run > 0; run--) {
      if (n >= size) throw new Damaged('a tree describes too many values');
      lengths[n++] = (b & 0x0f) + 1;
    }
  }
  if (n !== size) throw new Damaged('a tree describes too few values');
  return new CanonicalCode(lengths);
}

/** The next value of `tree`, whose codes are stored complemented. */
function decode(tree: CanonicalCode, bits: Bits): number {
  const v = tree.decode(bits.complemented);
  if (v === undefined) throw new Damaged('a code is not in the tree');
  return v;
}

/** Explodes `size` bytes from `d` (the ZIP entry's general-purpose `flags` choose the variant). */
export function explode(d: Uint8Array, flags: number, size: number): Inflated {
  const out = new Uint8Array(size);
  let n = 0;
  const result = (status: Inflated['status'], message?: string): Inflated => ({
    status,
    data: out.subarray(0, n),
    ...(message === undefined ? {} : { message }),
  });
  try {
    const bits = new Bits(d);
    const literals = (flags & LITERAL_TREE) !== 0 ? readTree(bits, 256) : undefined;
    const lengths = readTree(bits, 64);
    const distances = readTree(bits, 64);
    const lowBits = (flags & EIGHT_K_DICTIONARY) !== 0 ? 7 : 6;
    const minMatch = literals === undefined ? 2 : 3;
    while (n < size) {
      if (bits.one() === 1) {
        out[n++] = literals === undefined ? bits.byte() : decode(literals, bits);
        continue;
      }
      const low = bits.get(lowBits);
      const dist = ((decode(distances, bits) << lowBits) | low) + 1;
      let len = decode(lengths, bits);
      if (len === 63) len += bits.byte();
      len += minMatch;
      // A reference before the start reads zeros, as PKWARE's own decoder does.
      for (let k = 0; k < len && n < size; k++, n++) out[n] = n - dist >= 0 ? (out[n - dist] as number) : 0;
    }
  } catch (e) {
    if (e instanceof Damaged) return result('corrupt', e.message);
    throw e;
  }
  return result('ok');
}
