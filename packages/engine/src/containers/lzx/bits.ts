// LZX's bit input and Huffman tables. Bits come from 16-bit little-endian words, most significant
// bit first; codes are canonical with lengths of at most 16 bits and must fill their code space.
// The block layout and what the symbols mean are left to decode.ts.

/** A damaged or truncated LZX stream; caught inside this folder, never thrown out of it. */
export class LzxError extends Error {}

/** Zero bytes supplied past the end of the input before it counts as cut short (libmspack's 2). */
const END_SLACK = 2;

/** Reads the input as LZX does: refills 16 bits at a time into a 32-bit buffer, left-aligned. */
export class BitReader {
  private buf = 0;
  private left = 0;
  /** The next input byte not yet taken into the buffer. */
  pos = 0;

  constructor(private readonly data: Uint8Array) {}

  /** The next input byte; a few zeros past the end, then an error. */
  byte(): number {
    const p = this.pos++;
    if (p < this.data.length) return this.data[p] as number;
    if (p < this.data.length + END_SLACK) return 0;
    throw new LzxError('the compressed data ends early');
  }

  /** Makes at least `n` (at most 17) bits available. */
  ensure(n: number): void {
    while (this.left < n) {
      const lo = this.byte();
      const word = lo | (this.byte() << 8);
      this.buf = (this.buf | (word << (16 - this.left))) >>> 0;
      this.left += 16;
    }
  }

  /** The next `n` (1..17) bits without taking them; call `ensure` first. */
  peek(n: number): number {
    return this.buf >>> (32 - n);
  }

  /** Drops `n` bits already made available. */
  remove(n: number): void {
    this.buf = (this.buf << n) >>> 0;
    this.left -= n;
  }

  /** The next `n` (0..17) bits as an unsigned number. */
  read(n: number): number {
    if (n === 0) return 0;
    this.ensure(n);
    const v = this.buf >>> (32 - n);
    this.remove(n);
    return v;
  }

  /** Drops the bits of the current word (a whole word if none is pending), as uncompressed blocks do. */
  alignToBytes(): void {
    if (this.left === 0) this.ensure(16);
    this.buf = 0;
    this.left = 0;
  }

  /** Drops what is left of a 16-bit word, as the end of each 32 KiB frame does. */
  alignToWord(): void {
    if (this.left > 0) this.ensure(16);
    this.remove(this.left & 15);
  }

  /** Copies `n` raw bytes (the buffer must be empty) into `out` at `at`. */
  copyBytes(out: Uint8Array, at: number, n: number): void {
    const direct = Math.max(0, Math.min(n, this.data.length - this.pos));
    out.set(this.data.subarray(this.pos, this.pos + direct), at);
    this.pos += direct;
    for (let i = direct; i < n; i++) out[at + i] = this.byte();
  }
}

const MAX_BITS = 16;

/** One Huffman code: its lengths (with room for the run overflow LZX allows) and a lookup table. */
export class HuffmanTable {
  /** Code lengths by symbol; 64 spare entries take runs that overshoot the last symbol. */
  readonly lengths: Uint8Array;
  /** Indexed by the next `bits` input bits: symbol << 5 | code length. */
  private readonly table: Uint32Array;
  private bits = 0;

  /** `symbols` codes whose lengths fit in `lengthBits` bits (so are at most 2^lengthBits - 1). */
  constructor(
    readonly symbols: number,
    lengthBits = 5,
  ) {
    this.lengths = new Uint8Array(symbols + 64);
    this.table = new Uint32Array(1 << Math.min(MAX_BITS, (1 << lengthBits) - 1));
  }

  /** True when the code is empty (allowed for the length tree only: it may not be used then). */
  get empty(): boolean {
    return this.bits === 0;
  }

  /**
   * Builds the table from `lengths`; false when they do not make a complete code. An empty code
   * builds (as `empty`) only when `mayBeEmpty`.
   */
  build(mayBeEmpty: boolean): boolean {
    const count = new Uint32Array(MAX_BITS + 1);
    let maxLen = 0;
    for (let s = 0; s < this.symbols; s++) {
      const l = this.lengths[s] as number;
      if (l === 0) continue;
      count[l] = (count[l] as number) + 1;
      if (l > maxLen) maxLen = l;
    }
    this.bits = 0;
    if (maxLen === 0) return mayBeEmpty;
    let space = 0;
    for (let l = 1; l <= maxLen; l++) space += (count[l] as number) * 2 ** (maxLen - l);
    if (maxLen > MAX_BITS || space !== 2 ** maxLen || this.table.length < 1 << maxLen) return false;
    let code = 0;
    for (let l = 1; l <= maxLen; l++) {
      const span = 1 << (maxLen - l);
      for (let s = 0; s < this.symbols; s++) {
        if (this.lengths[s] !== l) continue;
        this.table.fill((s << 5) | l, code, code + span);
        code += span;
      }
    }
    this.bits = maxLen;
    return true;
  }

  /** The next symbol from `br`. */
  decode(br: BitReader): number {
    br.ensure(MAX_BITS);
    const e = this.table[br.peek(this.bits)] as number;
    br.remove(e & 31);
    return e >>> 5;
  }
}
