// Upack (pe.c's recogniser and upack.c's unupack): Upack 0.39 and later keep part of the stub in
// the PE header (SizeOfOptionalHeader 0x148) and the packed data in the second section. The three-
// section form is laid out as ClamAV lays it out, its stub read (stub.ts), its LZMA decoded
// (decode.ts) and one section rebuilt. The two-section forms (0.39 and 1.1/1.2) are recognised but
// not unpacked: they are reported, and no test file exercises them.
import { u32le } from '../../read.js';
import type { ExtractContext } from '../../types.js';
import { type AlignedSection, type AlignedView, alignedView, emptySection } from '../aligned.js';
import { Damaged } from '../image-lzma.js';
import { buildPe, type PeLayout, tooBig, type UnpackResult } from '../pe.js';
import { upackLzma } from './decode.js';
import { fixCalls, readStub } from './stub.js';

const NOT_PACKED: UnpackResult = { kind: 'not-packed' };
/** ClamAV reads this many bytes at the entry point before it tries Upack, FSG or UPX. */
const MIN_EP_BYTES = 168;

type Form = 'three' | 'two' | undefined;

/** pe.c's Upack test on the entry point's first bytes and the section count. */
function form(v: AlignedView): Form {
  const b = v.epbuff;
  if (b.length < MIN_EP_BYTES) return undefined;
  const operand = (u32le(b, 1) - v.imageBase) >>> 0;
  if (v.optSize === 0x148) {
    const movEsi = b[0] === 0xbe && operand > v.min;
    const ok = movEsi && ((b[5] === 0xad && b[6] === 0x50) || (b[5] === 0xff && b[6] === 0x36));
    return v.sections.length === 3 && ok ? 'three' : undefined;
  }
  if (v.sections.length !== 2 || emptySection(v) < 0) return undefined;
  const pushadCall = b[0] === 0x60 && b[1] === 0xe8 && u32le(b, 2) === 9;
  const movEsi = b[0] === 0xbe && operand < v.min && (u32le(b, 1) | 0) > (v.imageBase | 0);
  const v11 = movEsi && b[5] === 0xad && b[6] === 0x8b && b[7] === 0xf8;
  return pushadCall || v11 ? 'two' : undefined;
}

/** The image as pe.c builds it for the three-section form; undefined where ClamAV skips the file. */
function layOut(data: Uint8Array, v: AlignedView, ctx: ExtractContext): Uint8Array | 'too-big' | undefined {
  const [s0, s1, s2] = v.sections as [AlignedSection, AlignedSection, AlignedSection];
  const dsize = (s0.vsz + s1.vsz + s2.vsz) >>> 0;
  const ssize = (s0.ursz + s0.uraw) >>> 0;
  const biggest = Math.max(dsize, ssize, s1.ursz);
  if (biggest > ctx.maxMemberSize) {
    ctx.tooBig('upack-unpacked', biggest);
    return 'too-big';
  }
  const fits = (at: number, n: number) => dsize > 0 && n > 0 && n <= dsize && at + n <= dsize && at < dsize;
  const s1At = (s1.rva - s0.rva) >>> 0;
  const s2At = (s2.rva - s0.rva) >>> 0;
  if (!fits(s1At, s1.ursz) || !fits(s2At, ssize) || ssize > dsize) return undefined;
  if (ssize > data.length || s1.uraw + s1.ursz > data.length) return undefined;
  const img = new Uint8Array(dsize);
  img.set(data.subarray(0, ssize));
  img.copyWithin(s2At, 0, ssize);
  img.set(data.subarray(s1.uraw, s1.uraw + s1.ursz), s1At);
  return img;
}

/**
 * Recognises Upack as ClamAV does and rebuilds the three-section form's original PE: not-packed
 * when the stub is absent, failed when it is damaged or of a form not unpacked here. The image
 * (the three sections' memory) is refused past `ctx.maxMemberSize`.
 */
export function unpackUpack(data: Uint8Array, pe: PeLayout, ctx: ExtractContext): UnpackResult {
  const v = alignedView(data, pe);
  const f = v && form(v);
  if (v === undefined || f === undefined) return NOT_PACKED;
  if (f === 'two') return { kind: 'failed', why: 'the two-section Upack forms are not unpacked' };
  const img = layOut(data, v, ctx);
  if (img === 'too-big' || img === undefined) return NOT_PACKED;
  const first = v.sections[0] as AlignedSection;
  const vma = (v.imageBase + first.rva) >>> 0;
  const alt = v.epbuff[5] === 0xff && v.epbuff[6] === 0x36;
  let size: number;
  let entry: number;
  try {
    const plan = readStub(img, { ep: v.ep, entryOperand: u32le(v.epbuff, 1), alt, vma, base: v.imageBase });
    upackLzma(img, plan.stream);
    fixCalls(img, plan);
    size = plan.stream.end - plan.stream.out;
    entry = plan.entry;
  } catch (e) {
    if (e instanceof Damaged) return { kind: 'failed', why: e.message };
    throw e;
  }
  if (size > img.length) return { kind: 'failed', why: 'the Upack output passes its image' };
  // ClamAV rebuilds from the image's start, whatever the output's start, and so does this
  const section = { rva: first.rva, virtualSize: size, data: img.subarray(0, size) };
  const out = buildPe({ imageBase: v.imageBase, entryRva: entry, sections: [section] }, ctx.maxMemberSize);
  if (out === undefined) return tooBig(ctx, 'upack-unpacked', undefined);
  return { kind: 'unpacked', pe: out };
}
