// Deflate64 ("enhanced deflate", ZIP method 9): deflate with a 64 KiB window, length code 285
// carrying 16 extra bits and distance codes 30 and 31. zlib does not read it, so it is decoded
// here, bounded in output and never throwing.
import type { Inflated } from '../../env.js';
import { CanonicalCode } from '../huffman.js';
import { BoundedOutput } from '../output.js';

class Damaged extends Error {}

const LENGTH_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 3,
];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 16];
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
  8193, 12289, 16385, 24577, 32769, 49153,
];
const DIST_EXTRA = [
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14,
];
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

class Inflater extends BoundedOutput {
  private pos = 0;
  private bitBuf = 0;
  private bitCount = 0;

  constructor(
    private readonly d: Uint8Array,
    max: number,
  ) {
    super(Math.max(1024, d.length * 4), max);
  }

  bits(need: number): number {
    let v = this.bitBuf;
    while (this.bitCount < need) {
      const b = this.d[this.pos++];
      if (b === undefined) throw new Damaged('the stream ends early');
      v |= b << this.bitCount;
      this.bitCount += 8;
    }
    this.bitBuf = v >>> need;
    this.bitCount -= need;
    return v & ((1 << need) - 1);
  }

  private readonly bit = () => this.bits(1);

  decode(h: CanonicalCode): number {
    const sym = h.decode(this.bit);
    if (sym === undefined) throw new Damaged('a Huffman code is not in the table');
    return sym;
  }

  stored(): boolean {
    this.bitBuf = 0;
    this.bitCount = 0;
    const len = (this.d[this.pos] ?? 0) | ((this.d[this.pos + 1] ?? 0) << 8);
    const nlen = (this.d[this.pos + 2] ?? 0) | ((this.d[this.pos + 3] ?? 0) << 8);
    if ((len ^ 0xffff) !== nlen) throw new Damaged('a stored block has a bad length');
    this.pos += 4;
    if (this.pos + len > this.d.length) throw new Damaged('the stream ends early');
    if (!this.room(len)) return false;
    this.out.set(this.d.subarray(this.pos, this.pos + len), this.n);
    this.n += len;
    this.pos += len;
    return true;
  }

  codes(lit: CanonicalCode, dist: CanonicalCode): boolean {
    for (;;) {
      const sym = this.decode(lit);
      if (sym < 256) {
        if (!this.room(1)) return false;
        this.out[this.n++] = sym;
        continue;
      }
      if (sym === 256) return true;
      const li = sym - 257;
      if (li >= LENGTH_BASE.length) throw new Damaged(`bad length code ${sym}`);
      const len = (LENGTH_BASE[li] as number) + this.bits(LENGTH_EXTRA[li] as number);
      const di = this.decode(dist);
      if (di >= DIST_BASE.length) throw new Damaged(`bad distance code ${di}`);
      const distance = (DIST_BASE[di] as number) + this.bits(DIST_EXTRA[di] as number);
      if (distance > this.n) throw new Damaged('a distance reaches before the start');
      if (!this.room(len)) return false;
      const out = this.out;
      for (let k = 0; k < len; k++, this.n++) out[this.n] = out[this.n - distance] as number;
    }
  }

  dynamic(): boolean {
    const nlen = this.bits(5) + 257;
    const ndist = this.bits(5) + 1;
    const ncode = this.bits(4) + 4;
    const lengths = new Uint8Array(320);
    for (let i = 0; i < ncode; i++) lengths[CODE_LENGTH_ORDER[i] as number] = this.bits(3);
    const lencode = new CanonicalCode(lengths.subarray(0, 19));
    const all = new Uint8Array(nlen + ndist);
    for (let i = 0; i < nlen + ndist; ) {
      const sym = this.decode(lencode);
      if (sym < 16) {
        all[i++] = sym;
        continue;
      }
      let repeat: number;
      let value = 0;
      if (sym === 16) {
        if (i === 0) throw new Damaged('a repeat with nothing before it');
        value = all[i - 1] as number;
        repeat = 3 + this.bits(2);
      } else repeat = sym === 17 ? 3 + this.bits(3) : 11 + this.bits(7);
      if (i + repeat > nlen + ndist) throw new Damaged('code lengths run past their count');
      all.fill(value, i, i + repeat);
      i += repeat;
    }
    return this.codes(new CanonicalCode(all.subarray(0, nlen)), new CanonicalCode(all.subarray(nlen)));
  }
}

const FIXED_LIT = new CanonicalCode(
  Array.from({ length: 288 }, (_, s) => (s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8)),
);
const FIXED_DIST = new CanonicalCode(new Array(32).fill(5));

/** Decompresses a Deflate64 stream, never past `maxOutput` bytes. */
export function inflate64(input: Uint8Array, maxOutput: number): Inflated {
  const z = new Inflater(input, maxOutput);
  const result = (status: Inflated['status'], message?: string): Inflated => ({
    status,
    data: status === 'over-limit' ? new Uint8Array(0) : z.out.subarray(0, z.n),
    ...(message === undefined ? {} : { message }),
  });
  try {
    for (let last = 0; last === 0; ) {
      last = z.bits(1);
      const type = z.bits(2);
      const ok =
        type === 0 ? z.stored() : type === 1 ? z.codes(FIXED_LIT, FIXED_DIST) : type === 2 ? z.dynamic() : undefined;
      if (ok === undefined) throw new Damaged('block type 3 does not exist');
      if (!ok) return result('over-limit');
    }
  } catch (e) {
    if (e instanceof Damaged) return result('corrupt', e.message);
    throw e;
  }
  return result('ok');
}
