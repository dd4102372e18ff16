// MEW 11 SE (mew.c's unmew11 and pe.c's recogniser): the entry point jumps into the PE header,
// where the stub names the packed data in the second section; that data is a chain of aPLib-like
// streams, each followed by the address of the next, which rebuild the empty first section. When
// the stub calls an LZMA routine, an LZMA stage (mew/mewlzma.ts) follows the chain.
import { u32le } from '../../read.js';
import type { ExtractContext } from '../../types.js';
import { type AlignedSection, type AlignedView, alignedView, alignUp, emptySection, within } from '../aligned.js';
import { aplibDecode } from '../aplib.js';
import { i32at } from '../bytes.js';
import { Damaged } from '../image-lzma.js';
import { buildPe, type PeLayout, type RebuiltSection, tooBig, type UnpackResult } from '../pe.js';
import { mewLzma } from './mewlzma.js';

const NOT_PACKED: UnpackResult = { kind: 'not-packed' };
/** ClamAV's rebuilder refuses more sections than Windows loads. */
const MAX_SECTIONS = 96;
/** The stub sits at one of these header offsets (Win9x-compatible or not). */
const STUB_AT = [0x154, 0x158];

/** What the recogniser learns from the stub before anything is decoded. */
interface MewPlan {
  /** Offset of the stub's data in the second section (where ESI points). */
  readonly off: number;
  /** Memory of the packed section and of the empty one. */
  readonly ssize: number;
  readonly dsize: number;
  /** Offset in the image of the LZMA routine, 0 when there is none. */
  readonly lzmaAt: number;
  readonly sect: AlignedSection;
  readonly first: AlignedSection;
}

/** pe.c's MEW test; undefined when the file is not MEW's, or a reason it is MEW's but unusable. */
function plan(data: Uint8Array, v: AlignedView): MewPlan | string | undefined {
  const i = emptySection(v);
  if (i < 0 || v.epbuff.length < 16 || v.epbuff[0] !== 0xe9) return undefined;
  const stub = (v.vep + (i32at(v.epbuff, 1) ?? 0) + 5) >>> 0;
  if (!STUB_AT.includes(stub) || stub + 0xb0 > data.length) return undefined;
  const empty = v.sections[i] as AlignedSection;
  const sect = v.sections[i + 1] as AlignedSection;
  let off = (u32le(data, stub + 1) - v.imageBase) >>> 0;
  // ClamAV bounds ESI by the section's file offset, not its size: kept, since it decides what is MEW
  if (off <= sect.rva || off >= sect.rva + sect.raw - 4) return undefined;
  off -= sect.rva;
  const ssize = sect.vsz;
  const dsize = empty.vsz;
  if (off >= ssize + dsize) return 'the MEW data pointer passes the sections';
  if (sect.rsz < off + 12 || sect.rsz > ssize) return 'the MEW section sizes do not agree';
  let lzmaAt = 0;
  if (data[stub + 0x7b] === 0xe8) {
    const target = (u32le(data, stub + 0x7c) + stub + 0x80) >>> 0;
    const s1 = v.sections[1] as AlignedSection;
    if (!within(s1.rva, s1.vsz, target, 4)) return undefined;
    lzmaAt = (target - (v.sections[0] as AlignedSection).rva) >>> 0;
  }
  return { off, ssize, dsize, lzmaAt, sect, first: v.sections[0] as AlignedSection };
}

/** The chain of aPLib-like streams; the sections they fill (when no LZMA follows) and where it ended. */
function chain(src: Uint8Array, p: MewPlan, vma: number): { sections: RebuiltSection[]; end: number } | string {
  const total = src.length;
  const head = p.dsize + p.off;
  let dst = (u32le(src, head + 8) - vma) >>> 0;
  let at = head + 12;
  let left = p.ssize - 12 - p.off;
  const sections: RebuiltSection[] = [];
  let start = 0;
  for (let n = 0; ; n++) {
    if (n >= MAX_SECTIONS) return 'MEW has more sections than a PE may';
    if (!within(0, total, at, left) || !within(0, total, dst, total - dst))
      return 'a MEW stream lies outside the image';
    const lz = aplibDecode(src.subarray(at, at + left), src.subarray(dst));
    const end = lz && { srcEnd: at + lz.srcEnd, dstEnd: dst + lz.dstEnd };
    if (end === undefined || !within(0, total, end.srcEnd, 4)) return 'a MEW stream is damaged';
    left -= end.srcEnd + 4 - at;
    at = end.srcEnd + 4;
    const next = u32le(src, end.srcEnd);
    dst = (next - vma) >>> 0;
    if (!p.lzmaAt) {
      const edge = alignUp(end.dstEnd, 0x1000);
      if (n && edge < start) return 'MEW sections overlap';
      const size = edge - start;
      if (start + size > p.dsize) return 'a MEW section passes the unpacked area';
      sections.push({ rva: p.first.rva + start, virtualSize: size, data: src.subarray(start, start + size) });
      start = edge;
    }
    if (next === 0) return { sections, end: end.srcEnd };
  }
}

/**
 * Recognises MEW 11 SE as ClamAV does and rebuilds the original PE: not-packed when the stub is
 * absent, failed when its data is damaged. The image is (first section's memory + the packed
 * section's) bytes, refused past `ctx.maxMemberSize`.
 */
export function unpackMew(data: Uint8Array, pe: PeLayout, ctx: ExtractContext): UnpackResult {
  const v = alignedView(data, pe);
  if (v === undefined) return NOT_PACKED;
  const p = plan(data, v);
  if (p === undefined) return NOT_PACKED;
  if (typeof p === 'string') return { kind: 'failed', why: p };
  const total = p.ssize + p.dsize;
  if (total > ctx.maxMemberSize) return tooBig(ctx, 'mew-unpacked', total);
  const src = new Uint8Array(total);
  src.set(data.subarray(p.sect.raw, p.sect.raw + p.sect.rsz), p.dsize);
  const vma = (v.imageBase + p.first.rva) >>> 0;
  const entry = u32le(src, p.dsize + p.off + 4);
  const c = chain(src, p, vma);
  if (typeof c === 'string') return { kind: 'failed', why: c };
  let sections = c.sections;
  if (p.lzmaAt) {
    if (p.lzmaAt + 8 >= total) return { kind: 'failed', why: 'the MEW LZMA routine lies outside the image' };
    if (!within(0, total, c.end + 4, 29)) return { kind: 'failed', why: 'the MEW LZMA data is cut short' };
    try {
      mewLzma(src, c.end + 4, vma, src[p.lzmaAt + 8] === 0x50);
    } catch (e) {
      if (e instanceof Damaged) return { kind: 'failed', why: `MEW LZMA: ${e.message}` };
      throw e;
    }
    sections = [{ rva: p.first.rva, virtualSize: p.dsize, data: src.subarray(0, p.dsize) }];
  }
  const out = buildPe({ imageBase: v.imageBase, entryRva: (entry - v.imageBase) >>> 0, sections }, ctx.maxMemberSize);
  if (out === undefined) return tooBig(ctx, 'mew-unpacked', undefined);
  return { kind: 'unpacked', pe: out };
}
