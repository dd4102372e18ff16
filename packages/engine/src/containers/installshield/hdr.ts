// InstallShield cabinets (the `ISc(` format of older, non-MSI setups): data1.hdr lists the files,
// each with its size, its compressed size, which dataN.cab holds it and where. A file's stream is a
// run of chunks, each a 16-bit length and a raw deflate stream of its own. Finding data1.hdr and
// the dataN.cab files (in a setup's overlay) is setup.ts's job.
import { concatBytes, cString, u16le, u32le } from '../read.js';
import type { ExtractContext, Member } from '../types.js';
import { CHUNK_BUDGET, CHUNK_EARNS, HDR_FILE_ITEM, HDR_MAGIC, HDR_NAME_MAX, HDR_OBJECTS } from './limits.js';

/** A file stored in the data: its offset and size there. */
export interface Span {
  readonly off: number;
  readonly size: number;
}

/** One dataN.cab found beside data1.hdr. */
export interface Cabinet extends Span {
  readonly number: number;
}

const INTERNAL = 4;
const HAS_PREVIOUS_DUPLICATE = 1;

const u64le = (d: Uint8Array, o: number) => u32le(d, o + 4) * 0x100000000 + u32le(d, o);

/** The result of reading data1.hdr: the files extracted, and whether its raw files should be scanned too. */
export interface HdrOutcome {
  /** ClamAV scans data1.hdr and the cabinets themselves only when something in them was amiss. */
  rawToo: boolean;
}

/** Chunks a setup may still decode (CHUNK_BUDGET at first, more as they produce output). */
export interface ChunkBudget {
  left: number;
}

/**
 * Decodes one file's chunked stream. Undefined when a chunk is damaged or the chunks run out
 * before the stream does (ClamAV then drops the file); 'over-limit' past `max` bytes;
 * 'budget' when the setup's chunk budget runs out.
 */
export function decodeChunks(
  d: Uint8Array,
  stream: Span,
  ctx: ExtractContext,
  budget: ChunkBudget,
): Uint8Array | 'over-limit' | 'budget' | undefined {
  const max = ctx.maxMemberSize;
  const parts: Uint8Array[] = [];
  let total = 0;
  let ok = false;
  let o = stream.off;
  let left = stream.size;
  while (left > 0) {
    ok = false;
    if (left < 2) return undefined;
    const n = u16le(d, o);
    o += 2;
    left -= 2;
    if (n === 0) continue;
    if (n > left) return undefined;
    if (budget.left-- <= 0) return 'budget';
    const out = ctx.env.inflate('raw', d.subarray(o, o + n), max - total);
    o += n;
    left -= n;
    if (out.status === 'over-limit') return 'over-limit';
    if (out.status === 'corrupt') return undefined;
    parts.push(out.data);
    total += out.data.length;
    budget.left += out.data.length / CHUNK_EARNS;
    ok = true;
  }
  if (!ok) return undefined;
  return concatBytes(parts);
}

/** A NUL-terminated name at `o` in the data, or '' when it is out of reach. */
function nameAt(d: Uint8Array, o: number): string {
  if (o >= d.length) return '';
  const end = Math.min(d.length, o + HDR_NAME_MAX);
  const nul = d.subarray(o, end).indexOf(0);
  return nul < 0 && end < d.length ? '' : cString(d, o, end);
}

interface Context {
  readonly d: Uint8Array;
  /** Where data1.hdr starts in the data. */
  readonly hdr: number;
  /** Offset of the directory table from data1.hdr's start: names are relative to it. */
  readonly names: number;
  readonly cabs: readonly Cabinet[];
  readonly ctx: ExtractContext;
  readonly budget: ChunkBudget;
}

/**
 * What one file record yields: a member, or nothing; `amiss` when ClamAV would count it a fault,
 * `stop` when the chunk budget is spent.
 */
function fileItem(c: Context, at: number): { member?: Member; amiss: boolean; stop?: boolean } {
  const { d, ctx } = c;
  const flags = u16le(d, at);
  if (flags !== INTERNAL || (d[at + 84] as number) & HAS_PREVIOUS_DUPLICATE) return { amiss: false };
  const size = u64le(d, at + 2);
  const csize = u64le(d, at + 10);
  if (size === 0) return { amiss: false };
  const name = nameAt(d, c.hdr + ((c.names + u32le(d, at + 58)) >>> 0)) || `file@${at - c.hdr}`;
  if (csize > ctx.maxMemberSize) {
    ctx.tooBig(name, size);
    return { amiss: false };
  }
  const number = u16le(d, at + 85);
  const cab = c.cabs.find((k) => k.number === number);
  if (cab === undefined) {
    ctx.broken(`InstallShield cabinet: ${name}: data${number}.cab is not in this setup`);
    return { amiss: true };
  }
  const start = cab.off + u64le(d, at + 18);
  if (csize === 0 || cab.size === 0 || start + csize > cab.off + cab.size) {
    ctx.broken(`InstallShield cabinet: ${name} lies outside data${number}.cab`);
    return { amiss: true };
  }
  const out = decodeChunks(d, { off: start, size: csize }, ctx, c.budget);
  if (out === 'budget') {
    ctx.broken(`InstallShield cabinet: too many compressed chunks for their output; ${name} and the rest are not read`);
    return { amiss: false, stop: true };
  }
  if (out === 'over-limit') {
    ctx.tooBig(name, size);
    return { amiss: false };
  }
  if (out === undefined) {
    ctx.broken(`InstallShield cabinet: ${name}: damaged compressed stream`);
    return { amiss: true };
  }
  return { member: { name, data: out }, amiss: false };
}

/**
 * Extracts the files data1.hdr (at `hdr`, `hdrSize` bytes, inside `d`) lists from the cabinets.
 * Offsets inside data1.hdr may reach past it into the rest of the data, as ClamAV lets them.
 */
export function* hdrFiles(
  d: Uint8Array,
  hdr: Span | undefined,
  cabs: readonly Cabinet[],
  ctx: ExtractContext,
): Generator<Member, HdrOutcome> {
  if (hdr === undefined || hdr.size === 0 || cabs.length === 0) return { rawToo: true };
  const dataOff = u32le(d, hdr.off + 12);
  const objs = hdr.off + dataOff;
  if (objs + HDR_OBJECTS > d.length) return { rawToo: true };
  if (u32le(d, hdr.off) !== HDR_MAGIC) {
    ctx.broken('InstallShield cabinet: data1.hdr has a bad magic');
    return { rawToo: true };
  }
  const names = (dataOff + u32le(d, objs + 12)) >>> 0;
  let count = u32le(d, objs + 40);
  let rel = (names + u32le(d, objs + 44)) >>> 0;
  let rawToo = false;
  const c: Context = { d, hdr: hdr.off, names, cabs, ctx, budget: { left: CHUNK_BUDGET } };
  for (; count > 0; count--, rel = (rel + HDR_FILE_ITEM) >>> 0) {
    const at = hdr.off + rel;
    if (at + HDR_FILE_ITEM > d.length) {
      // Every later record is out of reach too, unless the 32-bit offset wraps: stop here.
      ctx.broken('InstallShield cabinet: data1.hdr lists files past its end');
      return { rawToo: true };
    }
    const r = fileItem(c, at);
    if (r.stop === true) return { rawToo: false };
    if (r.amiss) rawToo = true;
    if (r.member !== undefined) yield r.member;
  }
  return { rawToo };
}
