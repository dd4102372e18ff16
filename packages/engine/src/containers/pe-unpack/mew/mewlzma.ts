// MEW's second stage (mew.c's mew_lzma): when the stub calls an LZMA routine, blocks of plain LZMA
// (lc=4, lp=0, pb=2, 16-bit probabilities kept in the image) follow the first stage's data, each
// with its size, destination and length. The "special" form has a single block whose CALL/JMP
// targets are then turned back from absolute big-endian. Bit decoding is ../image-lzma.ts's.
import { u32be, u32le } from '../../read.js';
import { within } from '../aligned.js';
import { bitTree, Damaged, literal, Probs, RangeDecoder, reverseTree } from '../image-lzma.js';

// Cell offsets of the model (LZMA's classic layout).
const IS_REP = 0xc0;
const IS_REP_G0 = 0xcc;
const IS_REP_G1 = 0xd8;
const IS_REP_G2 = 0xe4;
const IS_REP0_LONG = 0xf0;
const POS_SLOT = 0x1b0;
const SPEC_POS = 0x2af;
const ALIGN = 0x322;
const LEN = 0x332;
const REP_LEN = 0x534;
const LITERAL = 0x736;
/** lc=4: sixteen literal coders of 0x300 cells after the rest. */
const MODEL_CELLS = LITERAL + 16 * 0x300;

/** The decoder's registers between symbols: state, the four last distances, the output position. */
interface Regs {
  state: number;
  reps: [number, number, number, number];
  pos: number;
  afterMatch: boolean;
}

/** Match length, less 2, from the coder at `base` (choice bits, then 3, 3 or 8 bits). */
function length(rc: RangeDecoder, p: Probs, base: number, posState: number): number {
  if (!rc.bit(p, base)) return bitTree(rc, p, base + 2 + posState * 8, 3);
  if (!rc.bit(p, base + 1)) return 8 + bitTree(rc, p, base + 0x82 + posState * 8, 3);
  return 16 + bitTree(rc, p, base + 0x102, 8);
}

/** A new match's distance (0-based; 0xffffffff is the end mark). */
function distance(rc: RangeDecoder, p: Probs, len: number): number {
  const slot = bitTree(rc, p, POS_SLOT + Math.min(len, 3) * 64, 6);
  if (slot < 4) return slot;
  const nbits = (slot >> 1) - 1;
  let dist = ((2 | (slot & 1)) << nbits) >>> 0;
  if (slot < 14) return (dist + reverseTree(rc, p, SPEC_POS + dist - slot, nbits)) >>> 0;
  dist = (dist + ((rc.direct(nbits - 4) << 4) >>> 0)) >>> 0;
  return (dist + reverseTree(rc, p, ALIGN, 4)) >>> 0;
}

/** After a 1 under IS_MATCH: the distance now in reps[0] and the length, or 0 for a one-byte rep. */
function matchOrRep(rc: RangeDecoder, p: Probs, r: Regs, posState: number): number {
  const s = r.state;
  if (!rc.bit(p, IS_REP + s)) {
    const len = length(rc, p, LEN, posState);
    r.reps = [(distance(rc, p, len) + 1) >>> 0, r.reps[0], r.reps[1], r.reps[2]];
    r.state = s < 7 ? 7 : 10;
    return len + 2;
  }
  if (!rc.bit(p, IS_REP_G0 + s)) {
    if (!rc.bit(p, IS_REP0_LONG + s * 16 + posState)) {
      r.state = s < 7 ? 9 : 11;
      return 1;
    }
  } else {
    const [r0, r1, r2, r3] = r.reps;
    if (!rc.bit(p, IS_REP_G1 + s)) r.reps = [r1, r0, r2, r3];
    else if (!rc.bit(p, IS_REP_G2 + s)) r.reps = [r2, r0, r1, r3];
    else r.reps = [r3, r0, r1, r2];
  }
  r.state = s < 7 ? 8 : 11;
  return length(rc, p, REP_LEN, posState) + 2;
}

/** Decodes up to `size` bytes to `img[out...]`, fewer when the end mark comes first. */
function block(img: Uint8Array, rc: RangeDecoder, p: Probs, out: number, size: number): void {
  if (!within(0, img.length, out, size)) throw new Damaged('an LZMA block is written outside the image');
  const r: Regs = { state: 0, reps: [1, 1, 1, 1], pos: 0, afterMatch: false };
  while (r.pos < size) {
    const posState = r.pos & 3;
    if (!rc.bit(p, (r.state << 4) + posState)) {
      const prev = r.pos > 0 ? (img[out + r.pos - 1] as number) : 0;
      const matchByte = r.afterMatch ? byteAt(img, out + r.pos - r.reps[0]) : -1;
      r.state = r.state < 4 ? 0 : r.state < 10 ? r.state - 3 : r.state - 6;
      img[out + r.pos++] = literal(rc, p, LITERAL + (prev >> 4) * 0x300, matchByte);
      r.afterMatch = false;
      continue;
    }
    r.afterMatch = true;
    const len = matchOrRep(rc, p, r, posState);
    if (r.reps[0] === 0) return; // the end mark
    const from = out + r.pos - r.reps[0];
    if (from < 0) throw new Damaged('an LZMA match reaches before the image');
    const n = Math.min(len, size - r.pos);
    for (let k = 0; k < n; k++) img[out + r.pos + k] = img[from + k] as number;
    r.pos += n;
  }
}

function byteAt(img: Uint8Array, at: number): number {
  if (at < 0 || at >= img.length) throw new Damaged('an LZMA match byte lies outside the image');
  return img[at] as number;
}

/** Turns the E8/E9 targets in `img[at, at+len)` back from big-endian absolute to relative. */
function fixCalls(img: Uint8Array, at: number, len: number): void {
  if (len < 5 || !within(0, img.length, at, len)) return;
  for (let k = 0; k < len - 5; k++) {
    const op = img[at + k];
    if (op !== 0xe8 && op !== 0xe9) continue;
    const o = at + k + 1;
    const be = ((img[o] as number) << 24) | ((img[o + 1] as number) << 16) | ((img[o + 2] as number) << 8);
    const v = ((be | (img[o + 3] as number)) - k - 1) >>> 0;
    for (let b = 0; b < 4; b++) img[o + b] = (v >>> (8 * b)) & 0xff;
    k += 4;
  }
}

/**
 * Runs MEW's LZMA stage over `img` (the image from the first section's RVA, whose address is
 * `vma`), reading its block list at `at`. Throws Damaged on a reference outside the image; ends
 * because every block moves the list forward by at least 13 bytes.
 */
export function mewLzma(img: Uint8Array, at: number, vma: number, special: boolean): void {
  const need = (o: number, n: number) => {
    if (!within(0, img.length, o, n)) throw new Damaged('the MEW LZMA block list lies outside the image');
  };
  let pos = at;
  need(pos, special ? 8 : 4);
  const fixLen = special ? u32le(img, pos) : 0;
  if (special) pos += 4;
  const probs = new Probs(img, (u32le(img, pos) - vma) | 0, 2);
  pos += 4;
  for (;;) {
    need(pos, special ? 12 : 16);
    if (!special && u32le(img, pos) === 0) return;
    const size = u32le(img, pos);
    const out = (u32le(img, pos + 4) - vma) | 0;
    const stream = pos + 13;
    pos = stream + u32le(img, pos + 8);
    if (size === 0) continue;
    probs.reset(0, MODEL_CELLS);
    need(stream, 5);
    const code = u32be(img, stream + 1);
    block(img, new RangeDecoder(img, stream + 5, img.length, 0xffffffff, code), probs, out, size);
    if (special) {
      fixCalls(img, out, fixLen);
      return;
    }
  }
}
