// A canonical Huffman code given by its code lengths, decoded a bit at a time: shorter codes come
// first, and within one length, lower symbols. Deflate64, ZIP's implode and ARJ all send their
// codes this way; each supplies its own bit order.

const MAX_LENGTH = 16;

export class CanonicalCode {
  /** How many codes have each length (index 0 unused). */
  private readonly count = new Uint16Array(MAX_LENGTH + 1);
  /** The symbols in code order. */
  private readonly symbol: Uint16Array;

  /** `lengths[s]` is the code length of symbol `s` (0: not used), at most 16. */
  constructor(lengths: ArrayLike<number>) {
    for (let s = 0; s < lengths.length; s++) {
      const l = lengths[s] as number;
      this.count[l] = (this.count[l] as number) + 1;
    }
    this.count[0] = 0;
    const offs = new Uint16Array(MAX_LENGTH + 2);
    for (let l = 1; l <= MAX_LENGTH; l++) offs[l + 1] = (offs[l] as number) + (this.count[l] as number);
    this.symbol = new Uint16Array(lengths.length);
    for (let s = 0; s < lengths.length; s++) {
      const l = lengths[s] as number;
      if (l === 0) continue;
      const at = offs[l] as number;
      this.symbol[at] = s;
      offs[l] = at + 1;
    }
  }

  /** The next symbol, reading the code's bits first to last from `bit`; undefined when none matches. */
  decode(bit: () => number): number | undefined {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len <= MAX_LENGTH; len++) {
      code |= bit();
      const count = this.count[len] as number;
      if (code - count < first) return this.symbol[index + (code - first)];
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    return undefined;
  }
}
