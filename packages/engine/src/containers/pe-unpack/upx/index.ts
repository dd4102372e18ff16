// UPX on Windows executables, recognised as ClamAV recognises it: a section with memory but no file
// data (UPX0) followed by one with both (UPX1), then the decompression loop's bytes at known places
// after the entry point say NRV2B, NRV2D, NRV2E or LZMA. The preferred decompressor runs first
// (with the start `mov esi` suggests), then, as ClamAV does, the other NRV ones blindly; an LZMA
// stub decides alone. Decoders are nrv.ts and xz's LZMA; rebuilding the file is rebuild.ts's.

import { u32le } from '../../read.js';
import type { ExtractContext } from '../../types.js';
import { Damaged, LzmaDecoder, lzmaProps } from '../../xz/lzma.js';
import { type AlignedSection, alignedView, emptySection } from '../aligned.js';
import { type PeLayout, tooBig, type UnpackResult, unpackerHandler } from '../pe.js';
import { type NrvMethod, nrvDecode } from './nrv.js';
import { rebuildUpx } from './rebuild.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (b) => Number.parseInt(b, 16));

/** Runs of each NRV decompression loop as UPX's PE stubs assemble it. */
const LOOPS: Record<NrvMethod, Uint8Array> = {
  '2b': hex('11db11c901db75078b1e83eefc11db11c911c975204101db'),
  '2d': hex('83f0ff7478d1f889c5eb0b01db75078b1e83eefc11db11c9'),
  '2e': hex('eb5231c983e8037211c1e0088a064683f0ff7475d1f889c5'),
};
/** The LZMA stubs' set-up: properties written for the decoder, then its prologue. */
const LZMA1_FIRST = hex('5683c3045350c703');
const LZMA1_SECOND = hex('9090905557565383');
const LZMA2 = hex('5683c3045350c703030002009090909090555756');

/** Where, from the entry point, each decompressor's code keeps the imports' `lea edi` operand. */
const MAGIC: Record<NrvMethod | 'lzma', readonly number[]> = {
  '2b': [0x108, 0x110, 0xd5],
  '2d': [0x11c, 0x124],
  '2e': [0x128, 0x130],
  lzma: [0xb16, 0xb1e],
};

/** ClamAV gives up on less than this much code at the entry point. */
const MIN_EP = 168;
/** Another place the compressed data may start: past a 0x15-byte header some UPX versions leave. */
const ALT_SKEW = 0x15;

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

const same = (a: Uint8Array, at: number, b: Uint8Array): boolean => indexOf(a.subarray(at, at + b.length), b) === 0;

/** The decompressor whose loop shows 13 bytes in at 0x69 or 0x71 past the entry point. */
function stubMethod(ep: Uint8Array): NrvMethod | undefined {
  for (const m of ['2b', '2d', '2e'] as const) {
    for (const at of [0x69, 0x71]) if (indexOf(LOOPS[m], ep.subarray(at, at + 13)) >= 0) return m;
  }
  return undefined;
}

/** Everything one attempt needs, fixed for the file. */
interface Job {
  readonly data: Uint8Array;
  readonly upx0: AlignedSection;
  readonly upx1: AlignedSection;
  readonly entryRva: number;
  /** The stub's memory window (UPX0 and UPX1), reused across attempts as ClamAV reuses its buffer. */
  readonly window: Uint8Array;
  readonly max: number;
}

/** An attempt's outcome: the file to scan, "decoded but too big", or undefined (did not decode). */
type Outcome = Uint8Array | 'too-big' | undefined;

/** One NRV attempt with its compressed data starting `skew` bytes into UPX1. */
function tryNrv(job: Job, method: NrvMethod, skew: number): Outcome {
  const start = job.upx1.raw + skew;
  const end = job.upx1.raw + job.upx1.rsz;
  const r = nrvDecode(job.data, { start, end }, job.window, { method });
  if (r === undefined) return undefined;
  const stub = { src: job.data.subarray(start, end), entry: job.entryRva - skew - job.upx1.rva, magic: MAGIC[method] };
  return rebuildUpx(stub, { image: job.window, end: r.written, upx0: job.upx0.rva }, job.max) ?? 'too-big';
}

/** The LZMA attempt: `props` packs lc, lp, pb in its low three bytes; `size` is what the stub expects. */
function tryLzma(job: Job, props: number, size: number, skew: number): Outcome {
  const lc = props & 0xff;
  const lp = (props >>> 8) & 0xff;
  const pb = (props >>> 16) & 0xff;
  const p = lc < 9 && lp < 5 && pb < 5 ? lzmaProps(lc + 9 * (5 * pb + lp)) : undefined;
  if (p === undefined) return undefined;
  const start = job.upx1.raw + skew;
  const end = job.upx1.raw + job.upx1.rsz;
  const dec = new LzmaDecoder(size);
  dec.reset(p);
  try {
    dec.decode(job.data, start + 2, end, size);
  } catch (e) {
    if (e instanceof Damaged) return undefined;
    throw e;
  }
  job.window.set(dec.data);
  // ClamAV keeps the unskewed entry point here, and its offsets for LZMA stubs expect that.
  const stub = { src: job.data.subarray(start, end), entry: job.entryRva - job.upx1.rva, magic: MAGIC.lzma };
  const image = job.window.subarray(0, size);
  return rebuildUpx(stub, { image, end: size, upx0: job.upx0.rva }, job.max) ?? 'too-big';
}

/** The NRV attempts in ClamAV's order: the stub's own method (skewed, then not), then the others. */
function nrvAttempts(job: Job, ep: Uint8Array, imageBase: number): { method?: NrvMethod; out: Outcome } {
  const method = stubMethod(ep);
  let out: Outcome;
  if (method !== undefined) {
    let skew = (u32le(ep, 2) - imageBase - job.upx1.rva) | 0;
    if (ep[1] !== 0xbe || skew <= 0 || skew > 0xfff || skew > job.upx1.rsz) skew = 0;
    out = tryNrv(job, method, skew);
    if (out === undefined && skew !== 0) out = tryNrv(job, method, 0);
  }
  for (const m of ['2b', '2d', '2e'] as const) {
    if (out !== undefined || m === method) continue;
    out = tryNrv(job, m, 0) ?? tryNrv(job, m, ALT_SKEW);
  }
  return method === undefined ? { out } : { method, out };
}

/** The LZMA stub's properties and expected size, when the entry point shows one. */
function lzmaStub(ep: Uint8Array): { props: number; size: number } | undefined {
  if (same(ep, 0x2f, LZMA2)) return { props: 0x20003, size: u32le(ep, 0x21) };
  if (same(ep, 0x39, LZMA1_FIRST) && same(ep, 0x45, LZMA1_SECOND))
    return { props: u32le(ep, 0x41), size: u32le(ep, 0x2b) };
  return undefined;
}

function unpack(data: Uint8Array, pe: PeLayout, ctx: ExtractContext): UnpackResult {
  const view = alignedView(data, pe);
  const i = view === undefined ? -1 : emptySection(view);
  if (view === undefined || i < 0) return { kind: 'not-packed' };
  const ep = view.epbuff;
  const upx0 = view.sections[i] as AlignedSection;
  const upx1 = view.sections[i + 1] as AlignedSection;
  const ssize = upx1.rsz;
  const dsize = (upx0.vsz + upx1.vsz) >>> 0;
  if (ep.length < MIN_EP || ssize <= 0x19 || dsize <= ssize) return { kind: 'not-packed' };
  if (dsize > ctx.maxMemberSize) return tooBig(ctx, 'upx-unpacked', dsize);
  const job: Job = { data, upx0, upx1, entryRva: pe.entryRva, window: new Uint8Array(dsize), max: ctx.maxMemberSize };
  const nrv = nrvAttempts(job, ep, pe.imageBase);
  let out = nrv.out;
  const lzma = lzmaStub(ep);
  if (lzma !== undefined && lzma.size <= dsize) {
    let skew =
      ssize > ALT_SKEW && ep[0] === 0x60 && ep[1] === 0xbe ? (u32le(ep, 2) - upx1.rva - pe.imageBase) >>> 0 : 0;
    if (skew !== ALT_SKEW) skew = 0;
    out = tryLzma(job, lzma.props, lzma.size, skew);
  }
  if (out === 'too-big') return tooBig(ctx, 'upx-unpacked', undefined);
  if (out !== undefined) return { kind: 'unpacked', pe: out };
  if (nrv.method !== undefined || lzma !== undefined)
    return { kind: 'failed', why: 'UPX: the compressed data does not decode' };
  return { kind: 'not-packed' };
}

/** UPX (NRV2B, NRV2D, NRV2E, LZMA) on 32-bit Windows executables. */
export const upxHandler = unpackerHandler('UPX', unpack);
