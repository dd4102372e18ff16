// ASPack's bit reader and its canonical prefix-code tables. Bits are read most significant first;
// a read needs the four bytes under the cursor to be in the input (the caller pads the input as
// ASPack's stub does). A table maps codes of up to 15 bits to symbols: an 8-bit index gives the
// length of short codes, longer ones are found by comparing against each length's upper bound.
// How tables are transmitted and used is decode.ts's.

/** Thrown on damaged input; caught by the block decoder, never leaves the unpacker. */
export class Damaged extends Error {}

/** The most-significant-first bit cursor over one block's (padded) compressed bytes. */
export class BitReader {
  /** Bits consumed. */
  private pos = 0;
  constructor(private readonly input: Uint8Array) {}

  /** The next 24 bits, without consuming them; Damaged when the input cannot supply them. */
  peek24(): number {
    const o = this.pos >>> 3;
    if (o + 4 > this.input.length) throw new Damaged('the compressed data ends early');
    const d = this.input;
    const word =
      ((d[o] as number) << 24) | ((d[o + 1] as number) << 16) | ((d[o + 2] as number) << 8) | (d[o + 3] as number);
    return ((word << (this.pos & 7)) >>> 8) & 0xffffff;
  }

  /** The next `n` bits (0 to 24) as a number, consumed. */
  bits(n: number): number {
    if (n > 24) throw new Damaged('a bit count past 24');
    const next = this.peek24(); // even for no bits: the stub checks its input here
    this.pos += n;
    return n === 0 ? 0 : next >>> (24 - n);
  }

  skip(n: number): void {
    this.pos += n;
  }
}

const MAX_LEN = 15;
/** Code lengths a table may be given (16 and 17 pass the check but take no code space). */
const MAX_LENGTH_VALUE = 17;
const FULL = 0x1000000;

/** One prefix-code table of `size` symbols. State persists between rebuilds, as in ASPack's stub. */
export class CodeTable {
  /** Upper bound (exclusive, left-justified in 24 bits) of the codes of each length. */
  private readonly limit = new Uint32Array(MAX_LEN + 1);
  /** Index in `symbols` of the first code of each length. */
  private readonly first = new Uint32Array(MAX_LEN + 1);
  /** Code length by the top 8 bits, for codes of up to 8 bits. */
  private readonly short = new Uint8Array(256);
  private readonly symbols: Uint32Array;

  constructor(readonly size: number) {
    this.symbols = new Uint32Array(size);
  }

  /** Builds the table from `size` code lengths; false when they do not make a complete code. */
  build(lengths: Uint8Array): boolean {
    const count = new Array<number>(MAX_LENGTH_VALUE + 1).fill(0);
    for (let i = 0; i < this.size; i++) {
      const l = lengths[i] as number;
      if (l > MAX_LENGTH_VALUE) return false;
      count[l] = (count[l] as number) + 1;
    }
    const next = new Array<number>(MAX_LENGTH_VALUE + 1).fill(0);
    let sum = 0;
    let end = 0;
    this.limit[0] = 0;
    this.first[0] = 0;
    for (let len = 1; len <= MAX_LEN; len++) {
      // 32-bit arithmetic, as the stub's: a wrapped sum is then caught by the checks below or later
      sum = (sum + (((count[len] as number) << (24 - len)) >>> 0)) >>> 0;
      if (sum > FULL) return false;
      this.limit[len] = sum;
      const at = ((count[len - 1] as number) + (this.first[len - 1] as number)) >>> 0;
      this.first[len] = at;
      next[len] = at;
      if (len <= 8) {
        const from = end;
        end = sum >>> 16;
        if (end < from || end > 256) return false;
        this.short.fill(len, from, end);
      }
    }
    if (sum !== FULL) return false;
    for (let i = 0; i < this.size; i++) {
      const l = lengths[i] as number;
      if (l === 0) continue;
      const k = next[l] as number;
      if (k >= this.size) return false;
      this.symbols[k] = i;
      next[l] = k + 1;
    }
    return true;
  }

  /** Reads one symbol; Damaged on a code the table does not hold or input that runs out. */
  decode(r: BitReader): number {
    const code = r.peek24() & 0xfffe00;
    let len: number;
    if (code < (this.limit[8] as number)) {
      len = this.short[code >>> 16] as number;
      if (len === 0) throw new Damaged('a code the table does not hold');
    } else {
      len = 9;
      while (len < MAX_LEN && code >= (this.limit[len] as number)) len++;
    }
    r.skip(len);
    const index =
      ((((code - (this.limit[len - 1] as number)) >>> 0) >>> (24 - len)) + (this.first[len] as number)) >>> 0;
    if (index >= this.size) throw new Damaged('a code past the table');
    return this.symbols[index] as number;
  }
}
