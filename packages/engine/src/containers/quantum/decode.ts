// The Quantum decoder (CAB's method 2), as libmspack's qtmd reads it: an adaptive arithmetic coder
// with 16-bit registers over an MSB-first bit stream, whose symbols pick a literal from one of four
// ranges or a match of 3, 4 or 5-259 bytes at an offset given by a slot and raw extra bits, in a
// window of 2^10 to 2^21 bytes. Output comes in frames of 32 KiB; after each the coder restarts at
// the next byte boundary past a 0xFF marker (which cab/folders.ts appends to each data block, as
// libmspack does). Where a file lies in the stream is the container's business.
import {
  LENGTH_BASE,
  LENGTH_EXTRA,
  narrow,
  newModels,
  POSITION_BASE,
  POSITION_EXTRA,
  type QuantumModel,
  type QuantumModels,
} from './model.js';

/** Output is coded in frames of this size. */
export const QUANTUM_FRAME = 32768;
/** A match is at most this long (selector 6, slot 25 with all its extra bits, or slot 26). */
const MAX_MATCH = 259;

/** A damaged Quantum stream; the message says where. */
export class QuantumError extends Error {}

/** Bytes read from a stream, and why it stopped early if it did. */
export interface QuantumRead {
  readonly data: Uint8Array;
  readonly error?: string;
}

/** An MSB-first bit reader; like libmspack, it lends two zero bytes past the end, then fails. */
class Bits {
  private pos = 0;
  private readonly limit: number;

  constructor(private readonly d: Uint8Array) {
    this.limit = (d.length + 2) * 8;
  }

  bit(): number {
    const p = this.pos;
    if (p >= this.limit) throw new QuantumError('the Quantum stream ends early');
    this.pos = p + 1;
    return ((this.d[p >>> 3] ?? 0) >>> (7 - (p & 7))) & 1;
  }

  read(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  /** Skips to the next byte boundary, then past the next 0xFF byte. */
  resync(): void {
    this.pos = (this.pos + 7) & ~7;
    while (this.read(8) !== 0xff);
  }
}

/** One Quantum stream, read forwards; a damaged stream stops for good at the first error. */
export class QuantumStream {
  private readonly bits: Bits;
  private readonly models: QuantumModels;
  /** The window, a ring of the last `size` bytes decoded. */
  private readonly window: Uint8Array;
  private readonly size: number;
  /** Bytes decoded so far, and handed out so far. */
  private decoded = 0;
  private given = 0;
  private frameLeft = QUANTUM_FRAME;
  private headerRead = false;
  private high = 0;
  private low = 0;
  private code = 0;
  private failed: string | undefined;

  private constructor(input: Uint8Array, windowBits: number) {
    this.bits = new Bits(input);
    this.models = newModels(windowBits);
    this.size = 2 ** windowBits;
    this.window = new Uint8Array(this.size);
  }

  /** A stream over `input` (the folder's blocks, each followed by 0xFF), or why it cannot be read. */
  static open(input: Uint8Array, windowBits: number): QuantumStream | string {
    if (!Number.isInteger(windowBits) || windowBits < 10 || windowBits > 21) {
      return `Quantum window size 2^${windowBits} is not supported`;
    }
    return new QuantumStream(input, windowBits);
  }

  /** Stream bytes handed out so far. */
  get offset(): number {
    return this.given;
  }

  /** The next `n` bytes of output (fewer, with `error`, when the stream is damaged or ends). */
  read(n: number): QuantumRead {
    const data = new Uint8Array(n);
    let at = 0;
    const error = this.advance(n, (chunk) => {
      data.set(chunk, at);
      at += chunk.length;
    });
    return error === undefined ? { data } : { data: data.subarray(0, at), error };
  }

  /** Decodes and drops `n` bytes; a message when the stream stops first. */
  skip(n: number): string | undefined {
    return this.advance(n, () => {});
  }

  private advance(n: number, take: (chunk: Uint8Array) => void): string | undefined {
    let left = n;
    while (left > 0) {
      if (this.decoded === this.given) {
        if (this.failed !== undefined) return this.failed;
        try {
          // Decode while the window still holds everything not yet handed out.
          while (this.decoded - this.given < this.size - MAX_MATCH && this.decoded - this.given < left) this.symbol();
        } catch (e) {
          if (!(e instanceof QuantumError)) throw e;
          this.failed = e.message;
        }
      }
      const start = this.given % this.size;
      const k = Math.min(left, this.decoded - this.given, this.size - start);
      if (k === 0) return this.failed;
      take(this.window.subarray(start, start + k));
      this.given += k;
      left -= k;
    }
    return undefined;
  }

  /** Decodes one symbol of the model, with the coder's renormalisation after it. */
  private decodeSymbol(m: QuantumModel): number {
    const range = ((this.high - this.low) & 0xffff) + 1;
    const scaled = (this.code - this.low + 1) * (m.cumfreq[0] as number) - 1;
    const target = Math.floor((scaled >>> 0) / range) & 0xffff;
    const k = m.find(target);
    const s = m.sym[k] as number;
    [this.low, this.high] = narrow(m, k, this.low, this.high);
    m.update(k);
    for (;;) {
      if ((this.low & 0x8000) !== (this.high & 0x8000)) {
        if ((this.low & 0x4000) === 0 || (this.high & 0x4000) !== 0) break;
        // The interval straddles the middle: widen it around there.
        this.code ^= 0x4000;
        this.low &= 0x3fff;
        this.high |= 0x4000;
      }
      this.low = (this.low << 1) & 0xffff;
      this.high = ((this.high << 1) | 1) & 0xffff;
      this.code = ((this.code << 1) | this.bits.bit()) & 0xffff;
    }
    return s;
  }

  /** Decodes one literal or match into the window. */
  private symbol(): void {
    const b = this.bits;
    const md = this.models;
    if (!this.headerRead) {
      this.high = 0xffff;
      this.low = 0;
      this.code = b.read(16);
      this.headerRead = true;
    }
    const selector = this.decodeSymbol(md.selector);
    if (selector < 4) {
      this.put(this.decodeSymbol(md.literals[selector] as QuantumModel));
      this.frameLeft--;
    } else {
      let length: number;
      let slot: number;
      if (selector === 6) {
        const ls = this.decodeSymbol(md.lengthN);
        length = (LENGTH_BASE[ls] as number) + b.read(LENGTH_EXTRA[ls] as number) + 5;
        slot = this.decodeSymbol(md.offsetN);
      } else {
        length = selector === 4 ? 3 : 4;
        slot = this.decodeSymbol(selector === 4 ? md.offset3 : md.offset4);
      }
      const offset = (POSITION_BASE[slot] as number) + b.read(POSITION_EXTRA[slot] as number) + 1;
      if (offset - (this.decoded % this.size) > this.size) throw new QuantumError('a match reaches outside the window');
      this.frameLeft -= length;
      if (this.frameLeft < 0) throw new QuantumError('a match crosses a frame boundary');
      // Before the stream's start the window reads as zeros.
      for (let i = 0; i < length; i++) this.put(this.window[(this.decoded - offset + this.size) % this.size] as number);
    }
    if (this.frameLeft === 0) {
      b.resync();
      this.headerRead = false;
      this.frameLeft = QUANTUM_FRAME;
    }
  }

  private put(byte: number): void {
    this.window[this.decoded % this.size] = byte;
    this.decoded++;
  }
}
