// WWPack32's decompressor as ClamAV runs it: a stream of 32-bit words read from the top bit down,
// literal bytes taken whole from the same stream, two-byte copies with short distances and longer
// copies with coded distances and lengths; a 9-bit distance of all ones ends a block. index.ts
// finds the blocks in the packer's table and rebuilds the executable around the decoded image.
import { u32le } from '../../read.js';

/** Reads WWPack's bits: a 32-bit word at a time, most significant bit first. */
class BitStream {
  private word = 0;
  private left = 0;
  pos = 0;
  /** Set when a read needed a word past the end; the caller stops at its next step. */
  failed = false;

  constructor(readonly src: Uint8Array) {
    this.reload();
  }

  private reload(): void {
    if (this.pos + 4 <= this.src.length) {
      this.word = u32le(this.src, this.pos);
      this.pos += 4;
    } else this.failed = true;
    this.left = 32;
  }

  bit(): number {
    const b = this.word >>> 31;
    this.word = (this.word << 1) >>> 0;
    if (--this.left === 0) this.reload();
    return b;
  }

  bits(n: number): number {
    let v = this.word >>> (32 - n);
    if (this.left >= n) {
      this.left -= n;
      this.word = n === 32 ? 0 : (this.word << n) >>> 0;
      if (this.left === 0) this.reload();
    } else if (this.pos + 4 <= this.src.length) {
      // The field straddles two words: its low bits come from the top of the next one.
      this.word = u32le(this.src, this.pos);
      this.pos += 4;
      this.left += 32 - n;
      v = (v | (this.word >>> this.left)) >>> 0;
      this.word = (this.word << (32 - this.left)) >>> 0;
    } else this.failed = true;
    return v;
  }
}

/** The distance of a long copy: a 3-bit class, then that many bits above the class's base. */
function longDistance(s: BitStream): number {
  const cls = s.bits(3);
  if (cls === 6) return s.bits(14) + 0x1fe1;
  if (cls === 7) return s.bits(15) + 0x5fe1;
  let width = cls + 5;
  if (cls === 3) width = 8 + s.bit();
  else if (cls === 4) width = 10 + s.bit();
  else if (cls === 5) width = 12;
  return s.bits(width) + (1 << width) - 31;
}

/** The length of a long copy whose 2-bit prefix was 0: 5 and up, in growing codes. */
function longLength(s: BitStream): number {
  if (!s.bit()) return s.bit() + 5;
  const three = s.bits(3);
  if (three) return three + 6;
  const four = s.bits(4);
  if (four) return four + 13;
  let width = 4;
  let base = 0x0d;
  do {
    if (width === 7) {
      width = 0x0e;
      base = 0;
      break;
    }
    base = ((base + 2) << 1) - 1;
    width++;
  } while (!s.bit());
  return s.bits(width) + base;
}

/**
 * Decodes one block from `src` into `out` at `at`. Returns where the output ended, or undefined
 * when the stream runs out or a copy leaves `out`. Each step writes at least one byte, so the loop
 * ends within `out.length` steps.
 */
export function wwDecodeBlock(src: Uint8Array, out: Uint8Array, at: number): number | undefined {
  const s = new BitStream(src);
  let dst = at;
  while (!s.failed) {
    if (!s.bit()) {
      if (s.pos >= src.length || dst >= out.length) return undefined;
      out[dst++] = src[s.pos++] as number;
      continue;
    }
    const kind = s.bits(2);
    let dist: number;
    let len: number;
    if (kind === 3) {
      const cls = s.bits(2);
      const width = cls >= 2 ? cls + 6 : cls + 5;
      const base = (1 << width) - (cls >= 2 ? 31 + 0x80 : 31);
      const v = s.bits(width);
      if (s.failed) return undefined;
      if (v === 0x1ff) return dst;
      dist = base + v;
      len = 2;
    } else {
      dist = longDistance(s);
      len = kind ? kind + 2 : longLength(s);
    }
    if (dst + len > out.length || dst - dist < 0) return undefined;
    for (let k = 0; k < len; k++, dst++) out[dst] = out[dst - dist] as number;
  }
  return undefined;
}
