// ARJ archives: stored members, methods 1-3 (LZ77 with Huffman-coded blocks, the algorithm of
// LHA's ar002) and method 4 (LZ77 with unary-prefixed numbers); garbled (password-protected)
// members are reported as encrypted.
import { CanonicalCode } from '../huffman.js';
import { cString, u16le, u32le } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';

class Damaged extends Error {}

const HEADER_ID = 0xea60;
const GARBLED = 0x01;
const THRESHOLD = 3;
const NC = 255 + 256 + 2 - THRESHOLD; // literals, lengths, and the two extra codes
const NP = 17;
const NT = 19;
const CBIT = 9;
const PBIT = 5;
const TBIT = 5;

/** MSB-first bits; reading past the end is damage. */
class Bits {
  private pos = 0;
  private bit = 0;
  constructor(private readonly d: Uint8Array) {}
  one(): number {
    if (this.pos >= this.d.length) throw new Damaged('the data ends early');
    const v = ((this.d[this.pos] as number) >>> (7 - this.bit)) & 1;
    if (++this.bit === 8) {
      this.bit = 0;
      this.pos++;
    }
    return v;
  }
  get(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | this.one();
    return v;
  }
  readonly next = () => this.one();
}

/** A code that may be a single symbol sent as such (a count of 0). */
type Table = { readonly only: number } | { readonly code: CanonicalCode };
function symbolOf(t: Table, bits: Bits): number {
  if ('only' in t) return t.only;
  const sym = t.code.decode(bits.next);
  if (sym === undefined) throw new Damaged('a Huffman code is not in the table');
  return sym;
}

function readPtLen(bits: Bits, nn: number, nbit: number, special: number): { table: Table; lengths: Uint8Array } {
  const n = bits.get(nbit);
  const lengths = new Uint8Array(nn);
  if (n === 0) return { table: { only: bits.get(nbit) }, lengths };
  if (n > nn) throw new Damaged('too many code lengths');
  for (let i = 0; i < n; ) {
    let c = bits.get(3);
    if (c === 7) while (bits.one() === 1) if (++c > 16) throw new Damaged('a code length is too long');
    lengths[i++] = c;
    if (i === special) for (let z = bits.get(2); z > 0 && i < nn; z--) lengths[i++] = 0;
  }
  return { table: { code: new CanonicalCode(lengths) }, lengths };
}

function readCLen(bits: Bits, pt: Table): Table {
  const n = bits.get(CBIT);
  if (n === 0) return { only: bits.get(CBIT) };
  if (n > NC) throw new Damaged('too many literal code lengths');
  const lengths = new Uint8Array(NC);
  for (let i = 0; i < n; ) {
    const c = symbolOf(pt, bits);
    if (c > 2) {
      lengths[i++] = c - 2;
      continue;
    }
    const zeros = c === 0 ? 1 : c === 1 ? bits.get(4) + 3 : bits.get(CBIT) + 20;
    if (i + zeros > NC) throw new Damaged('code lengths run past their count');
    i += zeros;
  }
  return { code: new CanonicalCode(lengths) };
}

/** Methods 1-3: `size` bytes (already checked against the member limit) out of `d`. */
function decode(d: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const bits = new Bits(d);
  let n = 0;
  let left = 0;
  let c: Table = { only: 0 };
  let p: Table = { only: 0 };
  while (n < size) {
    if (left === 0) {
      left = bits.get(16);
      const pt = readPtLen(bits, NT, TBIT, 3).table;
      c = readCLen(bits, pt);
      p = readPtLen(bits, NP, PBIT, -1).table;
    }
    left--;
    const sym = symbolOf(c, bits);
    if (sym <= 255) {
      out[n++] = sym;
      continue;
    }
    const len = sym - (256 - THRESHOLD);
    let dist = symbolOf(p, bits);
    if (dist !== 0) dist = (1 << (dist - 1)) + bits.get(dist - 1);
    const from = n - dist - 1;
    if (from < 0) throw new Damaged('a distance reaches before the start');
    for (let k = 0; k < len && n < size; k++) out[n++] = out[from + k] as number;
  }
  return out;
}

/** A number in method 4's code: unary-prefixed widths from `start` up to `stop` bits. */
function fastNumber(bits: Bits, start: number, stop: number): number {
  let plus = 0;
  let power = 1 << start;
  let width = start;
  for (; width < stop; width++) {
    if (bits.one() === 0) break;
    plus += power;
    power <<= 1;
  }
  return (width === 0 ? 0 : bits.get(width)) + plus;
}

/** Method 4 ("fastest"): literals and matches with Elias-style lengths and distances. */
function decodeFast(d: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const bits = new Bits(d);
  let n = 0;
  while (n < size) {
    const c = fastNumber(bits, 0, 7);
    if (c === 0) {
      out[n++] = bits.get(8);
      continue;
    }
    const len = c - 1 + THRESHOLD;
    const from = n - fastNumber(bits, 9, 13) - 1;
    if (from < 0) throw new Damaged('a distance reaches before the start');
    for (let k = 0; k < len && n < size; k++) out[n++] = out[from + k] as number;
  }
  return out;
}

function* members(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  let o = 0;
  let main = true;
  while (o + 4 <= d.length && u16le(d, o) === HEADER_ID) {
    const size = u16le(d, o + 2);
    if (size === 0) return; // the end of the archive
    const h = o + 4;
    let next = h + size + 4; // the header's CRC
    for (let ext = u16le(d, next); ext !== 0; ext = u16le(d, next)) next += 2 + ext + 4;
    next += 2;
    if (main) {
      main = false;
      o = next;
      continue;
    }
    const firstSize = d[h] ?? 0;
    const flags = d[h + 4] ?? 0;
    const method = d[h + 5] ?? 0;
    const packed = u32le(d, h + 12);
    const original = u32le(d, h + 16);
    const name = cString(d, h + firstSize, h + size);
    const data = d.subarray(next, Math.min(d.length, next + packed));
    o = next + packed;
    if ((d[h + 6] ?? 0) > 1) continue; // directories and volume labels
    if ((flags & GARBLED) !== 0) {
      ctx.encrypted(name);
      continue;
    }
    if (original > ctx.maxMemberSize) {
      ctx.tooBig(name, original);
      continue;
    }
    if (method === 0) {
      yield { name, data };
      continue;
    }
    if (method > 4) {
      ctx.broken(`${name}: method ${method} is not supported`);
      continue;
    }
    try {
      yield { name, data: method === 4 ? decodeFast(data, original) : decode(data, original) };
    } catch (e) {
      if (!(e instanceof Damaged)) throw e;
      ctx.broken(`${name}: ${e.message}`);
    }
  }
}

export const arjHandler: ContainerHandler = {
  name: 'ARJ',
  families: ['archive'],
  types: ['CL_TYPE_ARJ'],
  extract: members,
};
