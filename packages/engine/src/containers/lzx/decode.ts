// The Microsoft LZX decoder (CAB's LZX folders, CHM's LZXC section): a sliding window of 2^15 to
// 2^21 bytes, output in 32 KiB frames, verbatim / aligned-offset / uncompressed blocks, a queue of
// three repeated offsets, optional resets every N frames (CHM) and the E8 call translation. The
// caller says how long the stream is and how much of it to read; where a member lies in it is the
// container's business. Follows libmspack's lzxd, which ClamAV uses: matches may not cross a frame.
import { concatBytes } from '../read.js';
import { BitReader, HuffmanTable, LzxError } from './bits.js';

/** Output is produced, translated and realigned in frames of this size. */
export const LZX_FRAME = 32768;

const VERBATIM = 1;
const ALIGNED = 2;
const UNCOMPRESSED = 3;
const LITERALS = 256;
const LENGTH_SYMBOLS = 249;
const MIN_MATCH = 2;
/** Position slots for window sizes 2^15 .. 2^21. */
const SLOTS = [30, 32, 34, 36, 38, 42, 50];
/** E8 translation stops after this many frames (1 GiB of output). */
const E8_FRAMES = 32768;

/** Extra offset bits and offset base of each position slot. */
const EXTRA = new Uint8Array(50);
const BASE = new Uint32Array(50);
for (let s = 0; s < 50; s++) {
  EXTRA[s] = s < 4 ? 0 : Math.min(17, (s >> 1) - 1);
  if (s > 0) BASE[s] = (BASE[s - 1] as number) + (1 << (EXTRA[s - 1] as number));
}

/** How to read one LZX stream. */
export interface LzxParams {
  /** log2 of the window size, 15..21. */
  readonly windowBits: number;
  /** Bytes the whole stream decodes to; only the last frame may be shorter than 32 KiB. */
  readonly length: number;
  /** Frames between resets of the coder state (CHM); 0 or absent: never. */
  readonly resetInterval?: number;
}

/** Bytes read from a stream, and why it stopped early if it did. */
export interface LzxRead {
  readonly data: Uint8Array;
  readonly error?: string;
}

/** One LZX stream, read forwards; a damaged stream stops for good at the first error. */
export class LzxStream {
  private readonly bits: BitReader;
  private readonly window: Uint8Array;
  private readonly mainTree: HuffmanTable;
  private readonly lengthTree = new HuffmanTable(LENGTH_SYMBOLS + 1);
  private readonly alignedTree = new HuffmanTable(8, 3);
  private readonly preTree = new HuffmanTable(20, 4);
  private readonly length: number;
  private readonly resetInterval: number;
  private r0 = 1;
  private r1 = 1;
  private r2 = 1;
  private headerRead = false;
  private e8Size = 0;
  private e8Seen = false;
  private blockType = 0;
  private blockLength = 0;
  private blockRemaining = 0;
  private windowPos = 0;
  private framePos = 0;
  private frame = 0;
  /** Stream bytes in the frames decoded so far. */
  private decoded = 0;
  /** The current frame's output and how much of it has been read. */
  private out: Uint8Array = new Uint8Array(0);
  private outAt = 0;
  private failed: string | undefined;

  private constructor(input: Uint8Array, params: LzxParams) {
    this.bits = new BitReader(input);
    this.window = new Uint8Array(2 ** params.windowBits);
    this.mainTree = new HuffmanTable(LITERALS + (SLOTS[params.windowBits - 15] as number) * 8);
    this.length = params.length;
    this.resetInterval = params.resetInterval ?? 0;
  }

  /** A stream over `input`, or a message when the parameters are impossible. */
  static open(input: Uint8Array, params: LzxParams): LzxStream | string {
    const { windowBits, length, resetInterval = 0 } = params;
    if (!Number.isInteger(windowBits) || windowBits < 15 || windowBits > 21) {
      return `LZX window size 2^${windowBits} is not supported`;
    }
    if (!(length >= 0) || !(resetInterval >= 0)) return 'LZX stream parameters are invalid';
    return new LzxStream(input, params);
  }

  /** Stream bytes handed out so far. */
  get offset(): number {
    return this.decoded - (this.out.length - this.outAt);
  }

  /** The next `n` bytes of output (fewer, with `error`, when the stream is damaged or ends). */
  read(n: number): LzxRead {
    const parts: Uint8Array[] = [];
    const error = this.advance(n, (chunk) => {
      parts.push(chunk.slice());
    });
    return withError(parts.length === 1 ? (parts[0] as Uint8Array) : concatBytes(parts), error);
  }

  /** Decodes and drops `n` bytes; a message when the stream stops first. */
  skip(n: number): string | undefined {
    return this.advance(n, () => {});
  }

  /** Hands the next `n` bytes to `take` a frame's worth at a time. */
  private advance(n: number, take: (chunk: Uint8Array) => void): string | undefined {
    let left = n;
    while (left > 0) {
      if (this.outAt >= this.out.length) {
        if (this.failed === undefined && this.decoded >= this.length) this.failed = 'the LZX stream ends early';
        if (this.failed !== undefined) return this.failed;
        try {
          this.decodeFrame();
        } catch (e) {
          if (!(e instanceof LzxError)) throw e;
          this.failed = e.message;
          return this.failed;
        }
      }
      const k = Math.min(left, this.out.length - this.outAt);
      take(this.out.subarray(this.outAt, this.outAt + k));
      this.outAt += k;
      left -= k;
    }
    return undefined;
  }

  /** Forgets the coder state at a reset point; the window's contents stay. */
  private resetState(): void {
    this.r0 = this.r1 = this.r2 = 1;
    this.headerRead = false;
    this.blockRemaining = 0;
    this.blockType = 0;
    this.mainTree.lengths.fill(0);
    this.lengthTree.lengths.fill(0);
  }

  /** Decodes one frame into the window and sets `out` to its (translated) bytes. */
  private decodeFrame(): void {
    const br = this.bits;
    if (this.resetInterval > 0 && this.frame % this.resetInterval === 0) this.resetState();
    if (!this.headerRead) {
      this.e8Size = br.read(1) === 1 ? (br.read(16) << 16) | br.read(16) | 0 : 0;
      this.headerRead = true;
    }
    const frameSize = Math.min(LZX_FRAME, this.length - this.decoded);
    const end = this.framePos + frameSize;
    while (this.windowPos < end) {
      if (this.blockRemaining === 0) this.readBlockHeader();
      const run = Math.min(this.blockRemaining, end - this.windowPos);
      if (this.blockType === UNCOMPRESSED) {
        br.copyBytes(this.window, this.windowPos, run);
        this.windowPos += run;
      } else {
        this.decodeRun(run);
      }
      this.blockRemaining -= run;
    }
    br.alignToWord();
    let out = this.window.subarray(this.framePos, end);
    if (this.e8Seen && this.e8Size !== 0 && this.frame < E8_FRAMES && frameSize > 10) {
      out = out.slice();
      translateE8(out, this.decoded, this.e8Size);
    }
    this.out = out;
    this.outAt = 0;
    this.decoded += frameSize;
    this.frame++;
    this.framePos = end === this.window.length ? 0 : end;
    if (this.windowPos === this.window.length) this.windowPos = 0;
  }

  /** Reads a block's type and length, and its trees or its stored repeated offsets. */
  private readBlockHeader(): void {
    const br = this.bits;
    if (this.blockType === UNCOMPRESSED && (this.blockLength & 1) === 1) br.byte();
    this.blockType = br.read(3);
    this.blockLength = this.blockRemaining = (br.read(16) << 8) | br.read(8);
    if (this.blockType === ALIGNED) {
      for (let i = 0; i < 8; i++) this.alignedTree.lengths[i] = br.read(3);
      if (!this.alignedTree.build(false)) throw new LzxError('an aligned offset tree is invalid');
    }
    if (this.blockType === VERBATIM || this.blockType === ALIGNED) {
      this.readLengths(this.mainTree.lengths, 0, LITERALS);
      this.readLengths(this.mainTree.lengths, LITERALS, this.mainTree.symbols);
      if (!this.mainTree.build(false)) throw new LzxError('a main tree is invalid');
      if (this.mainTree.lengths[0xe8] !== 0) this.e8Seen = true;
      this.readLengths(this.lengthTree.lengths, 0, LENGTH_SYMBOLS);
      if (!this.lengthTree.build(true)) throw new LzxError('a length tree is invalid');
    } else if (this.blockType === UNCOMPRESSED) {
      this.e8Seen = true;
      br.alignToBytes();
      this.r0 = readU32(br);
      this.r1 = readU32(br);
      this.r2 = readU32(br);
    } else {
      throw new LzxError(`block type ${this.blockType} is invalid`);
    }
  }

  /** Reads code lengths `[first, last)` as changes to the previous ones, through a pre-tree. */
  private readLengths(lengths: Uint8Array, first: number, last: number): void {
    const br = this.bits;
    const pre = this.preTree;
    for (let i = 0; i < 20; i++) pre.lengths[i] = br.read(4);
    if (!pre.build(false)) throw new LzxError('a pre-tree is invalid');
    const delta = (x: number, z: number) => {
      const v = (lengths[x] ?? 0) - z;
      return v < 0 ? v + 17 : v;
    };
    let x = first;
    while (x < last) {
      const z = pre.decode(br);
      if (z === 17 || z === 18) {
        const run = z === 17 ? br.read(4) + 4 : br.read(5) + 20;
        lengths.fill(0, x, x + run);
        x += run;
      } else if (z === 19) {
        const run = br.read(1) + 4;
        const v = delta(x, pre.decode(br));
        lengths.fill(v, x, x + run);
        x += run;
      } else {
        lengths[x] = delta(x, z);
        x++;
      }
    }
  }

  /** Decodes exactly `run` bytes of a verbatim or aligned block into the window. */
  private decodeRun(run: number): void {
    const br = this.bits;
    const w = this.window;
    const aligned = this.blockType === ALIGNED;
    let pos = this.windowPos;
    const stop = pos + run;
    while (pos < stop) {
      const sym = this.mainTree.decode(br);
      if (sym < LITERALS) {
        w[pos++] = sym;
        continue;
      }
      const header = sym - LITERALS;
      let len = header & 7;
      if (len === 7) {
        if (this.lengthTree.empty) throw new LzxError('a match length needs the empty length tree');
        len += this.lengthTree.decode(br);
      }
      len += MIN_MATCH;
      const slot = header >> 3;
      let off: number;
      if (slot === 0) off = this.r0;
      else if (slot === 1) {
        off = this.r1;
        this.r1 = this.r0;
        this.r0 = off;
      } else if (slot === 2) {
        off = this.r2;
        this.r2 = this.r0;
        this.r0 = off;
      } else {
        const extra = slot >= 36 ? 17 : (EXTRA[slot] as number);
        off = (BASE[slot] as number) - 2;
        if (aligned && extra >= 3) {
          off += br.read(extra - 3) * 8;
          off += this.alignedTree.decode(br);
        } else {
          off += br.read(extra);
        }
        this.r2 = this.r1;
        this.r1 = this.r0;
        this.r0 = off;
      }
      if (pos + len > stop) throw new LzxError('a match runs past the end of its frame or block');
      this.copyMatch(pos, off, len);
      pos += len;
    }
    this.windowPos = pos;
  }

  /** Copies `len` bytes from `off` back, reaching round the window's end when the stream has filled it. */
  private copyMatch(pos: number, off: number, len: number): void {
    const w = this.window;
    if (off <= pos) {
      for (let i = 0; i < len; i++) w[pos + i] = w[pos - off + i] as number;
      return;
    }
    const back = off - pos;
    if (off > this.decoded || back > w.length) throw new LzxError('a match reaches before the start of the stream');
    let src = w.length - back;
    for (let i = 0; i < len; i++) {
      w[pos + i] = w[src] as number;
      src = src + 1 === w.length ? 0 : src + 1;
    }
  }
}

/** A little-endian 32-bit value from the raw bytes of an uncompressed block's header. */
function readU32(br: BitReader): number {
  const a = br.byte();
  const b = br.byte();
  const c = br.byte();
  const d = br.byte();
  return (a | (b << 8) | (c << 16) | (d << 24)) >>> 0;
}

/** Undoes the encoder's E8 translation: call targets stored as absolute positions become relative again. */
function translateE8(frame: Uint8Array, start: number, fileSize: number): void {
  let cur = start | 0;
  const stop = frame.length - 10;
  let i = 0;
  while (i < stop) {
    if (frame[i++] !== 0xe8) {
      cur++;
      continue;
    }
    const abs =
      (frame[i] as number) |
      ((frame[i + 1] as number) << 8) |
      ((frame[i + 2] as number) << 16) |
      ((frame[i + 3] as number) << 24);
    if (abs >= -cur && abs < fileSize) {
      const rel = abs >= 0 ? abs - cur : abs + fileSize;
      frame[i] = rel & 0xff;
      frame[i + 1] = (rel >>> 8) & 0xff;
      frame[i + 2] = (rel >>> 16) & 0xff;
      frame[i + 3] = (rel >>> 24) & 0xff;
    }
    i += 4;
    cur += 5;
  }
}

function withError(data: Uint8Array, error: string | undefined): LzxRead {
  return error === undefined ? { data } : { data, error };
}

/** The result of decoding a whole stream at once. */
export interface LzxResult {
  /** `over-limit`: the stream is longer than `maxOutput` (nothing is decoded). */
  readonly status: 'ok' | 'corrupt' | 'over-limit';
  /** The output (what decoded before the damage, when `corrupt`). */
  readonly data: Uint8Array;
  readonly message?: string;
}

/** Decodes a whole LZX stream of `params.length` bytes, if that is at most `maxOutput`. */
export function lzxDecompress(input: Uint8Array, params: LzxParams, maxOutput: number): LzxResult {
  if (params.length > maxOutput) return { status: 'over-limit', data: new Uint8Array(0) };
  const s = LzxStream.open(input, params);
  if (typeof s === 'string') return { status: 'corrupt', data: new Uint8Array(0), message: s };
  const r = s.read(params.length);
  return r.error === undefined ? { status: 'ok', data: r.data } : { status: 'corrupt', data: r.data, message: r.error };
}
