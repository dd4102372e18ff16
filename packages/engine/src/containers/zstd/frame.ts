// Zstandard frames (RFC 8878 §3.1): the frame header, its blocks (raw, RLE, compressed), the
// content checksum, skippable frames, and frames one after another, all decoded into one bounded
// output. Nothing is allocated from a size the data claims: the output grows as it is written and
// stops at the caller's limit. Literals and sequences are literals.ts's and sequences.ts's.
import { BoundedOutput } from '../output.js';
import { u32le } from '../read.js';
import { ZstdError } from './bits.js';
import { type LiteralsState, MAX_BLOCK, readLiterals } from './literals.js';
import { executeSequences, newSequenceState, type SequenceState } from './sequences.js';
import { xxh64 } from './xxh64.js';

const MAGIC = 0xfd2fb528;
/** Skippable frames have magic 0x184D2A50 to 0x184D2A5F. */
const SKIPPABLE = 0x184d2a50;
/** Bytes the output starts with room for; it doubles from there as it fills. */
const INITIAL_OUTPUT = 64 * 1024;

/** How a decode ended: `over-limit` when the output would pass `max` (the output so far is kept). */
export interface ZstdResult {
  readonly status: 'ok' | 'over-limit' | 'corrupt';
  readonly data: Uint8Array;
  readonly message?: string;
  /** Frames whose content checksum was present and matched. */
  readonly checked: number;
}

/** A frame header's facts. */
interface FrameHeader {
  readonly windowSize: number;
  readonly contentSize: number | undefined;
  readonly checksum: boolean;
  /** Where the first block starts. */
  readonly next: number;
}

/** Little-endian unsigned of `n` bytes at `o` (as a double: exact up to 2^53). */
function uintLe(d: Uint8Array, o: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + (d[o + i] as number);
  return v;
}

function readHeader(d: Uint8Array, o: number): FrameHeader {
  const fhd = d[o];
  if (fhd === undefined) throw new ZstdError('the frame header ends early');
  if ((fhd & 0x08) !== 0) throw new ZstdError('the reserved bit of the frame header is set');
  const single = (fhd & 0x20) !== 0;
  const dictBytes = [0, 1, 2, 4][fhd & 3] as number;
  const fcsFlag = fhd >>> 6;
  const fcsBytes = fcsFlag === 0 ? (single ? 1 : 0) : ([0, 2, 4, 8][fcsFlag] as number);
  let p = o + 1;
  const length = (single ? 0 : 1) + dictBytes + fcsBytes;
  if (p + length > d.length) throw new ZstdError('the frame header ends early');
  let windowSize = 0;
  if (!single) {
    const wd = d[p++] as number;
    const base = 2 ** (10 + (wd >>> 3));
    windowSize = base + (base / 8) * (wd & 7);
  }
  const dictionary = uintLe(d, p, dictBytes);
  p += dictBytes;
  if (dictionary !== 0) throw new ZstdError(`the frame needs dictionary ${dictionary}, which is not available`);
  let contentSize: number | undefined;
  if (fcsBytes > 0) contentSize = uintLe(d, p, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
  p += fcsBytes;
  if (single) windowSize = contentSize as number;
  return { windowSize, contentSize, checksum: (fhd & 4) !== 0, next: p };
}

/** Per-frame decoding state. */
interface Frame {
  readonly header: FrameHeader;
  readonly start: number;
  readonly literals: LiteralsState;
  readonly sequences: SequenceState;
}

/** One block at `o`: returns the offset after it, or -1 at the output limit; `last` says if it ends the frame. */
function block(d: Uint8Array, o: number, f: Frame, out: BoundedOutput): { next: number; last: boolean } {
  if (o + 3 > d.length) throw new ZstdError('a block header is missing');
  const h = (d[o] as number) | ((d[o + 1] as number) << 8) | ((d[o + 2] as number) << 16);
  const last = (h & 1) !== 0;
  const type = (h >>> 1) & 3;
  const size = h >>> 3;
  const max = Math.min(MAX_BLOCK, f.header.windowSize);
  const p = o + 3;
  if (type === 3) throw new ZstdError('a block has the reserved type');
  if (size > max) throw new ZstdError(`a block of ${size} bytes passes the maximum of ${max}`);
  if (type === 1) {
    if (p >= d.length) throw new ZstdError('an RLE block ends early');
    if (!out.room(size)) return { next: -1, last };
    out.out.fill(d[p] as number, out.n, out.n + size);
    out.n += size;
    return { next: p + 1, last };
  }
  if (p + size > d.length) throw new ZstdError('a block ends early');
  if (type === 0) {
    if (!out.room(size)) return { next: -1, last };
    out.out.set(d.subarray(p, p + size), out.n);
    out.n += size;
    return { next: p + size, last };
  }
  const end = p + size;
  const lit = readLiterals(d, p, end, f.literals);
  const target = {
    literals: lit.literals,
    out,
    frameStart: f.start,
    windowSize: f.header.windowSize,
    blockLimit: out.n + max,
  };
  const ok = executeSequences(d, { start: lit.next, end }, f.sequences, target);
  return { next: ok ? end : -1, last };
}

/** One frame at `o` (after its magic): the offset after it, or -1 at the output limit. */
function frame(d: Uint8Array, o: number, out: BoundedOutput, counts: { checked: number }): number {
  const header = readHeader(d, o);
  const f: Frame = { header, start: out.n, literals: { huffman: undefined }, sequences: newSequenceState() };
  let p = header.next;
  for (;;) {
    const b = block(d, p, f, out);
    if (b.next < 0) return -1;
    p = b.next;
    if (header.contentSize !== undefined && out.n - f.start > header.contentSize) {
      throw new ZstdError(`the frame decodes to more than the ${header.contentSize} bytes it declares`);
    }
    if (b.last) break;
  }
  const produced = out.n - f.start;
  if (header.contentSize !== undefined && produced !== header.contentSize) {
    throw new ZstdError(`the frame decodes to ${produced} bytes, not the ${header.contentSize} it declares`);
  }
  if (!header.checksum) return p;
  if (p + 4 > d.length) throw new ZstdError('the content checksum is missing');
  const [, low] = xxh64(out.out.subarray(f.start, out.n));
  if (low !== u32le(d, p)) throw new ZstdError('the content checksum does not match');
  counts.checked++;
  return p + 4;
}

/** Decodes every frame of `d` (skipping skippable ones) into at most `max` bytes. */
export function decodeZstd(d: Uint8Array, max: number): ZstdResult {
  const out = new BoundedOutput(INITIAL_OUTPUT, max);
  const counts = { checked: 0 };
  let o = 0;
  try {
    while (o < d.length) {
      if (o + 4 > d.length) throw new ZstdError('bytes after the last frame are not a frame');
      const magic = u32le(d, o);
      if (magic === MAGIC) {
        o = frame(d, o + 4, out, counts);
        if (o < 0) return { status: 'over-limit', data: out.data, checked: counts.checked };
      } else if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE) {
        const size = u32le(d, o + 4);
        if (o + 8 + size > d.length) throw new ZstdError('a skippable frame ends early');
        o += 8 + size;
      } else throw new ZstdError(o === 0 ? 'not a Zstandard frame' : 'bytes after the last frame are not a frame');
    }
  } catch (e) {
    if (!(e instanceof ZstdError)) throw e;
    return { status: 'corrupt', data: out.data, message: e.message, checked: counts.checked };
  }
  return { status: 'ok', data: out.data, checked: counts.checked };
}
