// Upack's LZMA (upack.c's unupack399): LZMA with lp=0, pb=0 and lc set by the stub, its model of
// 32-bit cells and its coder state (range, low, four distances) kept in the image where the stub
// leaves them, decoding in place up to a given end. Matches may reach anywhere earlier in the
// image. The range decoder and probability cells are ../image-lzma.ts's; the stub is read in unpack.ts.
import { bitTree, Damaged, Probs, RangeDecoder, reverseTree } from '../image-lzma.js';

// Model cells (32-bit each) from the start of the stub's table; cells 0-5 hold the coder's state.
const ALIGN = 6;
const IS_MATCH = 0x16;
const IS_REP = 0x22;
const IS_REP_G0 = 0x2e;
const IS_REP0_LONG = 0x3a;
const IS_REP_G1 = 0x46;
const IS_REP_G2 = 0x52;
const SPEC_POS = 0x5e;
const POS_SLOT = 0xde;
const REP_LEN = 0x1de;
const LEN = 0x2f0;
const LITERAL = 0x402;

/** Where the stub left things: its table, the packed stream, the output range, the literal shift. */
export interface UpackStream {
  /** Byte offset in the image of the table (coder state, then model). */
  readonly table: number;
  /** Byte offset of the packed stream. */
  readonly input: number;
  readonly out: number;
  readonly end: number;
  /** Right shift of the previous byte that selects a literal coder (8 − lc). */
  readonly shift: number;
}

/** A match length, 1 to 272 (one less than the bytes a match writes). */
function length(rc: RangeDecoder, p: Probs, base: number): number {
  if (!rc.bit(p, base)) return 1 + bitTree(rc, p, base + 2, 3);
  if (!rc.bit(p, base + 1)) return 9 + bitTree(rc, p, base + 10, 3);
  return 17 + bitTree(rc, p, base + 18, 8);
}

/** A new match's distance, 1-based. */
function distance(rc: RangeDecoder, p: Probs, len: number): number {
  const slot = bitTree(rc, p, POS_SLOT + Math.min(len - 1, 3) * 0x40, 6);
  if (slot < 4) return slot + 1;
  const n = (slot >> 1) - 1;
  const base = ((2 | (slot & 1)) << n) >>> 0;
  if (n <= 5) return (base + reverseTree(rc, p, SPEC_POS + base, n) + 1) >>> 0;
  const mid = (rc.direct(n - 4) << 4) >>> 0;
  return (base + mid + reverseTree(rc, p, ALIGN, 4) + 1) >>> 0;
}

/** A literal; after a match, guided by `matchByte` under the bit mask `mask` (0: no guide). */
function literal(rc: RangeDecoder, p: Probs, base: number, matchByte: number, mask: number): number {
  let m = 1;
  for (let cl = mask & 0xff; cl; ) {
    const guide = matchByte & cl ? 2 : 1;
    m = ((m << 1) | rc.bit(p, base + (guide << 8) + m)) & 0xff;
    cl >>= 1;
    if (!cl) return m;
    if ((guide - m) & 1) continue;
    break; // the guide was wrong: plain bits from here
  }
  while (m < 0x100) m = (m << 1) | rc.bit(p, base + m);
  return m & 0xff;
}

function byteAt(img: Uint8Array, at: number): number {
  if (at < 0 || at >= img.length) throw new Damaged('an Upack match reaches outside the image');
  return img[at] as number;
}

/** The state after a literal (Upack's stub subtracts 3 until below 7). */
function afterLiteral(s: number): number {
  do s = s >= 3 ? s - 3 : 0;
  while (s >= 7);
  return s;
}

/**
 * Decodes `st` in place in `img`; throws Damaged when the stream or a match leaves the image.
 * Every step writes at least one byte, so it ends after at most `end − out` steps.
 */
export function upackLzma(img: Uint8Array, st: UpackStream): void {
  const p = new Probs(img, st.table, 4);
  const reps = [p.get(2), p.get(3), p.get(4), p.get(5)];
  const at = st.input;
  if (at < 0 || at + 4 > img.length) throw new Damaged('the Upack stream lies outside the image');
  const first = ((img[at] as number) << 24) | ((img[at + 1] as number) << 16) | ((img[at + 2] as number) << 8);
  const code = ((first | (img[at + 3] as number)) - p.get(1)) >>> 0;
  const rc = new RangeDecoder(img, at + 4, img.length, p.get(0), code);
  let state = 0;
  let mask = 0;
  let o = st.out;
  const put = (b: number) => {
    if (o < 0 || o >= img.length) throw new Damaged('Upack writes outside the image');
    img[o++] = b;
  };
  while (o < st.end) {
    if (!rc.bit(p, IS_MATCH + state)) {
      state = afterLiteral(state);
      const prev = o > st.out && o < img.length ? (img[o - 1] as number) : 0;
      const guide = mask ? byteAt(img, o - (reps[0] as number)) : 0;
      put(literal(rc, p, LITERAL + (prev >> st.shift) * 0x300, guide, mask));
      mask = 0;
      continue;
    }
    const s = state;
    const next = s >= 7 ? 11 : 8;
    let len: number;
    if (!rc.bit(p, IS_REP + s)) {
      state = next - 1;
      len = length(rc, p, LEN);
      reps.unshift(distance(rc, p, len));
      reps.length = 4;
    } else {
      if (!rc.bit(p, IS_REP_G0 + s)) {
        if (!rc.bit(p, IS_REP0_LONG + s)) {
          state = next | 1;
          put(byteAt(img, o - (reps[0] as number)));
          mask = 0x80;
          continue;
        }
      } else {
        const k = !rc.bit(p, IS_REP_G1 + s) ? 1 : !rc.bit(p, IS_REP_G2 + s) ? 2 : 3;
        reps.unshift(reps.splice(k, 1)[0] as number);
      }
      state = next;
      len = length(rc, p, REP_LEN);
    }
    const from = o - (reps[0] as number);
    if (from < 0 || o + len > img.length || from + len + 1 > img.length)
      throw new Damaged('an Upack match reaches outside the image');
    for (let k = 0; k <= len; k++) put(img[from + k] as number);
    mask = 0x80;
  }
}
