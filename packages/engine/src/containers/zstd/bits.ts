// Zstandard's two bit orders (RFC 8878 §4.1): table descriptions are read forwards from a byte,
// low bits first; Huffman and sequence streams are read backwards from a marker bit in their last
// byte, high bits first. Both are bounds-checked; what they mean is fse.ts's and the others'.

/** Damaged or unsupported Zstandard data; the message says what and is shown to the user. */
export class ZstdError extends Error {}

/** The bits of `d` from bit `pos` (0 = bit 0 of `d[0]`), `n` ≤ 24 of them, as a little-endian number. */
function bitsAt(d: Uint8Array, pos: number, n: number): number {
  const b = pos >>> 3;
  const word = (d[b] ?? 0) | ((d[b + 1] ?? 0) << 8) | ((d[b + 2] ?? 0) << 16) | ((d[b + 3] ?? 0) << 24);
  return ((word >>> (pos & 7)) & ((1 << n) - 1)) >>> 0;
}

/** A forward bit reader over `d` from byte `start`: bits past the end read as zero. */
export class ForwardBits {
  /** Bits read so far. */
  pos = 0;
  private readonly d: Uint8Array;

  constructor(d: Uint8Array, start: number, end: number) {
    this.d = d.subarray(start, end);
  }

  /** The next `n` (≤ 24) bits. */
  read(n: number): number {
    const v = bitsAt(this.d, this.pos, n);
    this.pos += n;
    return v;
  }

  /** Puts back the last `n` bits read. */
  unread(n: number): void {
    this.pos -= n;
  }

  /** True when more bits were read than the bytes hold. */
  get overrun(): boolean {
    return this.pos > this.d.length * 8;
  }

  /** Whole bytes the reader has used. */
  get bytes(): number {
    return (this.pos + 7) >>> 3;
  }
}

/**
 * A backward bit stream: its last byte's highest set bit marks where it starts; values are read
 * towards the first byte, each one's high bits first. Reading past the first byte yields zeros and
 * sets `remaining` below zero, which the callers check at the end.
 */
export class BackwardBits {
  /** Bits not yet read; negative once the stream was over-read. */
  remaining: number;
  private readonly d: Uint8Array;

  constructor(d: Uint8Array, start: number, end: number, what: string) {
    this.d = d.subarray(start, end);
    const last = this.d[this.d.length - 1];
    if (last === undefined || last === 0) throw new ZstdError(`${what} has no start marker`);
    this.remaining = this.d.length * 8 - (8 - (31 - Math.clz32(last)));
  }

  /** The next `n` bits (≤ 31). */
  read(n: number): number {
    if (n === 0) return 0;
    if (n > 24) {
      const high = this.read(n - 16);
      return high * 65536 + this.read(16);
    }
    const v = this.peek(n);
    this.remaining -= n;
    return v;
  }

  /** The next `n` (1..24) bits without consuming them. */
  peek(n: number): number {
    const at = this.remaining - n;
    if (at >= 0) return bitsAt(this.d, at, n);
    if (n + at <= 0) return 0;
    return bitsAt(this.d, 0, n + at) << -at;
  }

  /** Consumes `n` bits after a peek. */
  skip(n: number): void {
    this.remaining -= n;
  }
}
