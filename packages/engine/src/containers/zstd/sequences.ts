// A compressed block's sequences section (RFC 8878 §3.1.1.3.2 and §3.1.1.4): the three code tables
// (predefined, RLE, described or repeated), the interleaved FSE states, and the execution of each
// sequence (literals, then a match through the repeat offsets) into the frame's output. The
// literals and the output buffer are given by block.ts.
import type { BoundedOutput } from '../output.js';
import { BackwardBits, ZstdError } from './bits.js';
import { type FseTable, LL_DEFAULT, ML_DEFAULT, OF_DEFAULT, readTable, rleTable } from './fse.js';

const LL_BASE = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024,
  2048, 4096, 8192, 16384, 32768, 65536,
];
const LL_BITS = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
];
const ML_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,
  34, 35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051, 4099, 8195, 16387, 32771, 65539,
];
const ML_BITS = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3,
  3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
];
/** Offset codes beyond this would need more than 31 extra bits. */
const MAX_OFFSET_CODE = 31;

/** What sequences carry from block to block of a frame: the last tables and the repeat offsets. */
export interface SequenceState {
  ll: FseTable | undefined;
  of: FseTable | undefined;
  ml: FseTable | undefined;
  readonly repeat: [number, number, number];
}

/** The state a frame starts with. */
export function newSequenceState(): SequenceState {
  return { ll: undefined, of: undefined, ml: undefined, repeat: [1, 4, 8] };
}

type Kind = 'll' | 'of' | 'ml';
const DEFAULTS = { ll: LL_DEFAULT, of: OF_DEFAULT, ml: ML_DEFAULT };
const LIMITS = {
  ll: { maxLog: 9, maxSymbol: 35 },
  of: { maxLog: 8, maxSymbol: MAX_OFFSET_CODE },
  ml: { maxLog: 9, maxSymbol: 52 },
};

/** The table of one code in `mode` at `p`; returns the bytes its description took. */
function chooseTable(
  d: Uint8Array,
  range: { start: number; end: number },
  kind: Kind,
  mode: number,
  s: SequenceState,
): number {
  if (mode === 0) {
    s[kind] = DEFAULTS[kind];
    return 0;
  }
  if (mode === 1) {
    if (range.start >= range.end) throw new ZstdError('an RLE code table ends early');
    const symbol = d[range.start] as number;
    if (symbol > LIMITS[kind].maxSymbol) throw new ZstdError(`an RLE ${kind} code ${symbol} is out of range`);
    s[kind] = rleTable(symbol);
    return 1;
  }
  if (mode === 2) {
    const { table, size } = readTable(d, range, LIMITS[kind]);
    if (range.start + size > range.end) throw new ZstdError('an FSE table description ends early');
    s[kind] = table;
    return size;
  }
  if (s[kind] === undefined) throw new ZstdError(`a repeated ${kind} table comes before any table`);
  return 0;
}

/** The sequence count at `o` and where the section goes on. */
function sequenceCount(d: Uint8Array, o: number, end: number): [number, number] {
  const b0 = d[o];
  if (b0 === undefined || o >= end) throw new ZstdError('a sequences section is missing');
  if (b0 < 128) return [b0, o + 1];
  if (o + 2 > end) throw new ZstdError('a sequence count ends early');
  if (b0 < 255) return [((b0 - 128) << 8) + (d[o + 1] as number), o + 2];
  if (o + 3 > end) throw new ZstdError('a sequence count ends early');
  return [(d[o + 1] as number) + ((d[o + 2] as number) << 8) + 0x7f00, o + 3];
}

/** What executing sequences needs besides the section: literals, output, the frame's start and window. */
export interface Target {
  readonly literals: Uint8Array;
  readonly out: BoundedOutput;
  /** Where this frame's output starts in `out` (matches may not reach before it). */
  readonly frameStart: number;
  readonly windowSize: number;
  /** The output position the block may not pass (its maximum size). */
  readonly blockLimit: number;
}

/** The offset a sequence's offset value names, with the repeat offsets updated. */
function resolveOffset(value: number, literalLength: number, rep: [number, number, number]): number {
  if (value > 3) {
    rep[2] = rep[1];
    rep[1] = rep[0];
    rep[0] = value - 3;
    return rep[0];
  }
  const index = value + (literalLength === 0 ? 1 : 0);
  if (index === 1) return rep[0];
  if (index === 2) {
    const o = rep[1];
    rep[1] = rep[0];
    rep[0] = o;
    return o;
  }
  if (index === 3) {
    const o = rep[2];
    rep[2] = rep[1];
    rep[1] = rep[0];
    rep[0] = o;
    return o;
  }
  const o = rep[0] - 1;
  if (o === 0) throw new ZstdError('a repeat offset of zero');
  rep[2] = rep[1];
  rep[1] = rep[0];
  rep[0] = o;
  return o;
}

/**
 * Decodes the sequences section `d[o..end)` and executes it into `t.out`. Returns false when the
 * output would pass its limit.
 */
export function executeSequences(
  d: Uint8Array,
  range: { start: number; end: number },
  s: SequenceState,
  t: Target,
): boolean {
  const [count, afterCount] = sequenceCount(d, range.start, range.end);
  const { literals } = t;
  if (count === 0) {
    if (afterCount !== range.end) throw new ZstdError('a block has bytes after its sections');
    return copyLiterals(t, 0, literals.length);
  }
  const modes = d[afterCount];
  if (modes === undefined || afterCount >= range.end) throw new ZstdError('the sequence modes are missing');
  if ((modes & 3) !== 0) throw new ZstdError('the reserved bits of the sequence modes are set');
  let p = afterCount + 1;
  p += chooseTable(d, { start: p, end: range.end }, 'll', modes >>> 6, s);
  p += chooseTable(d, { start: p, end: range.end }, 'of', (modes >>> 4) & 3, s);
  p += chooseTable(d, { start: p, end: range.end }, 'ml', (modes >>> 2) & 3, s);
  const ll = s.ll as FseTable;
  const of = s.of as FseTable;
  const ml = s.ml as FseTable;
  const bits = new BackwardBits(d, p, range.end, 'a sequence stream');
  let llState = bits.read(ll.accuracyLog);
  let ofState = bits.read(of.accuracyLog);
  let mlState = bits.read(ml.accuracyLog);
  let lit = 0;
  for (let i = 0; i < count; i++) {
    const ofCode = of.symbol[ofState] as number;
    const llCode = ll.symbol[llState] as number;
    const mlCode = ml.symbol[mlState] as number;
    if (ofCode > MAX_OFFSET_CODE) throw new ZstdError(`offset code ${ofCode} is out of range`);
    const offsetValue = 2 ** ofCode + bits.read(ofCode);
    const matchLength = (ML_BASE[mlCode] as number) + bits.read(ML_BITS[mlCode] as number);
    const literalLength = (LL_BASE[llCode] as number) + bits.read(LL_BITS[llCode] as number);
    if (i + 1 < count) {
      llState = (ll.base[llState] as number) + bits.read(ll.bits[llState] as number);
      mlState = (ml.base[mlState] as number) + bits.read(ml.bits[mlState] as number);
      ofState = (of.base[ofState] as number) + bits.read(of.bits[ofState] as number);
    }
    if (bits.remaining < 0) throw new ZstdError('a sequence stream ends early');
    if (lit + literalLength > literals.length) throw new ZstdError('a sequence uses more literals than there are');
    if (!copyLiterals(t, lit, literalLength)) return false;
    lit += literalLength;
    const offset = resolveOffset(offsetValue, literalLength, s.repeat);
    if (!copyMatch(t, offset, matchLength)) return false;
  }
  if (bits.remaining !== 0) throw new ZstdError('a sequence stream does not end with its last sequence');
  return copyLiterals(t, lit, literals.length - lit);
}

function copyLiterals(t: Target, from: number, n: number): boolean {
  const { out, literals } = t;
  if (out.n + n > t.blockLimit) throw new ZstdError('a block decodes past the block maximum');
  if (!out.room(n)) return false;
  out.out.set(literals.subarray(from, from + n), out.n);
  out.n += n;
  return true;
}

function copyMatch(t: Target, offset: number, length: number): boolean {
  const { out } = t;
  if (offset > out.n - t.frameStart || offset > t.windowSize) {
    throw new ZstdError(`a match reaches ${offset} bytes back, before the frame or its window`);
  }
  if (out.n + length > t.blockLimit) throw new ZstdError('a block decodes past the block maximum');
  if (!out.room(length)) return false;
  const b = out.out;
  let from = out.n - offset;
  let to = out.n;
  if (offset >= length) b.copyWithin(to, from, from + length);
  else for (let k = 0; k < length; k++) b[to++] = b[from++] as number;
  out.n += length;
  return true;
}
