// FSG (pe.c's three FSG recognisers and fsg.c): versions 2.0, 1.33 and 1.31 decompress the
// packed section into the empty one with the aPLib-like LZ (../aplib.ts). 2.0 finds its
// registers through the stack the stub swaps in; 1.33 and 1.31 keep a table in the PE header
// that lists the original sections, each packed as its own stream. As in ClamAV, only sections
// are rebuilt: the import table stays as the stub left it (FSG rebuilds it at run time).
import { u16le, u32le } from '../../read.js';
import type { ExtractContext } from '../../types.js';
import { type AlignedSection, type AlignedView, alignedView, emptySection, within } from '../aligned.js';
import { aplibDecode } from '../aplib.js';
import { i32at } from '../bytes.js';
import { buildPe, type PeLayout, type RebuiltSection, tooBig, type UnpackResult } from '../pe.js';

const NOT_PACKED: UnpackResult = { kind: 'not-packed' };
/** ClamAV reads this many bytes at the entry point before it tries Upack, FSG or UPX. */
const MIN_EP_BYTES = 168;
const MAX_SECTIONS = 96;

/** The empty section (`dst`) and the packed one (`src`) with its file data. */
interface Pair {
  readonly v: AlignedView;
  readonly dst: AlignedSection;
  readonly src: AlignedSection;
  readonly raw: Uint8Array;
}

/** What a recogniser found: the stream's offset in the packed section, sections' RVAs, the entry point. */
interface Found {
  readonly from: number;
  readonly rvas: number[];
  readonly entry: number;
  readonly oneStream: boolean;
}

type Step = Found | UnpackResult | undefined;

/** FSG 2.0: XCHG ESP at the entry point; the new stack holds EDI, ESI and EBX. */
function v20(p: Pair): Step {
  const { v, dst, src, raw } = p;
  const b = v.epbuff;
  if (b[0] !== 0x87 || b[1] !== 0x25) return undefined;
  const base = v.imageBase;
  let at = (u32le(b, 2) - base) >>> 0;
  if (!within(src.rva, src.rsz, at, 4) || !within(0, raw.length, at - src.rva, 4)) return undefined;
  at = (u32le(raw, at - src.rva) - base) >>> 0;
  if (!within(src.rva, src.rsz, at, 4)) return undefined;
  const stack = at - src.rva;
  if (!within(0, raw.length, stack, 32)) return undefined;
  const edi = (u32le(raw, stack) - base) >>> 0;
  const esi = (u32le(raw, stack + 4) - base) >>> 0;
  const ebx = (u32le(raw, stack + 16) - base) >>> 0;
  if (edi !== dst.rva || esi < src.rva || esi - src.rva >= src.rsz) return undefined;
  if (!within(src.rva, src.rsz, ebx, 16) || ebx + 16 - src.rva > raw.length) return undefined;
  const entry = (u32le(raw, ebx + 12 - src.rva) - base) >>> 0;
  return { from: esi - src.rva, rvas: [edi], entry, oneStream: true };
}

/** The header table of 1.33 and 1.31 (up to the packed data), or undefined when it is not in the header. */
function table(p: Pair, operand: number, data: Uint8Array): Uint8Array | undefined {
  const rva = (operand - p.v.imageBase) >>> 0;
  if (rva >= p.v.hdrSize || rva >= data.length || rva >= p.src.raw) return undefined;
  return data.subarray(rva, p.src.raw);
}

/** FSG 1.33: MOV ESI to the header table (EBX, EDI, ESI, then section RVAs + 1 to a zero). */
function v133(p: Pair, data: Uint8Array): Step {
  const { v, dst, src } = p;
  const b = v.epbuff;
  const base = v.imageBase;
  if (b[0] !== 0xbe || (u32le(b, 1) - base) >>> 0 >= v.min) return undefined;
  const t = table(p, u32le(b, 1), data);
  if (t === undefined || t.length < 16) return undefined;
  const edi = (u32le(t, 4) - base) >>> 0;
  const esi = (u32le(t, 8) - base) >>> 0;
  if (esi < src.rva || esi - src.rva >= src.rsz || edi !== dst.rva) return undefined;
  const rvas = [edi];
  let k = 12;
  for (; k < t.length - 4; k += 4) {
    const r = u32le(t, k);
    if (!r) break;
    const rva = (r - base - 1) >>> 0;
    if (rva < dst.rva || rva - dst.rva >= dst.vsz) return undefined;
    rvas.push(rva);
  }
  if (k >= t.length - 4 || rvas.length > MAX_SECTIONS) return undefined;
  const entry = (v.vep + 167 + (i32at(b, 163) ?? 0)) >>> 0;
  return { from: esi - src.rva, rvas, entry, oneStream: false };
}

/** FSG 1.31: MOV EBX to the header table (16-bit page numbers + 2, to a 1 or 2), EDI, ESI. */
function v131(p: Pair, data: Uint8Array): Step {
  const { v, dst, src, raw } = p;
  const b = v.epbuff;
  const base = v.imageBase;
  if (b[0] !== 0xbb || (u32le(b, 1) - base) >>> 0 >= v.min || b[5] !== 0xbf || b[10] !== 0xbe) return undefined;
  if (v.vep < src.rva || v.vep - src.rva <= src.rva - 0xe0) return undefined;
  const t = table(p, u32le(b, 1), data);
  const esi = (u32le(b, 11) - base) >>> 0;
  const edi = (u32le(b, 6) - base) >>> 0;
  if (t === undefined || esi < src.rva || esi - src.rva >= src.raw || edi !== dst.rva) return undefined;
  const rvas = [edi];
  let k = 0;
  for (; k < t.length - 2; k += 2) {
    const page = u16le(t, k);
    if (page === 1 || page === 2) break;
    const rva = ((((page - 2) << 12) >>> 0) - base) >>> 0;
    if (rva < dst.rva || rva - dst.rva >= dst.vsz) return undefined;
    rvas.push(rva);
  }
  if (k >= t.length - 10 || u32le(t, k + 6) !== 2 || rvas.length > MAX_SECTIONS) return undefined;
  const jump = 0xda + (b[16] === 0xe8 ? 6 : 0);
  const rel = i32at(raw, jump + 2 + v.vep - src.rva);
  if (rel === undefined) return { kind: 'failed', why: 'the FSG entry jump lies outside the packed section' };
  return { from: esi - src.rva, rvas, entry: (v.vep + jump + 6 + rel) >>> 0, oneStream: false };
}

/** Decodes the streams into the empty section's memory and lays the sections out by address. */
function rebuild(p: Pair, f: Found, ctx: ExtractContext): UnpackResult {
  const dsize = p.dst.vsz;
  const buf = new Uint8Array(p.raw.length + dsize);
  buf.set(p.raw);
  let at = f.from;
  let d = p.raw.length;
  const parts: { rva: number; start: number; len: number }[] = [];
  for (const rva of f.rvas) {
    const end = aplibDecode(buf.subarray(at, p.raw.length), buf.subarray(d));
    if (end === undefined) return { kind: 'failed', why: 'an FSG stream is damaged' };
    parts.push({ rva, start: d - p.raw.length, len: end.dstEnd });
    at += end.srcEnd;
    d += end.dstEnd;
  }
  const out = buf.subarray(p.raw.length);
  let sections: RebuiltSection[];
  if (f.oneStream) sections = [{ rva: f.rvas[0] as number, virtualSize: dsize, data: out }];
  else {
    parts.sort((a, b) => a.rva - b.rva);
    let left = dsize;
    sections = parts.map((s, k) => {
      const next = parts[k + 1];
      const vsz = next === undefined ? left : next.rva - s.rva;
      left -= vsz;
      return { rva: s.rva, virtualSize: Math.max(0, vsz), data: out.subarray(s.start, s.start + s.len) };
    });
  }
  const pe = buildPe({ imageBase: p.v.imageBase, entryRva: f.entry, sections }, ctx.maxMemberSize);
  if (pe === undefined) return tooBig(ctx, 'fsg-unpacked', undefined);
  return { kind: 'unpacked', pe };
}

/**
 * Recognises FSG 2.0, 1.33 and 1.31 as ClamAV does and rebuilds the original sections:
 * not-packed when no stub matches, failed when a stream is damaged. The empty section's memory
 * is refused past `ctx.maxMemberSize`.
 */
export function unpackFsg(data: Uint8Array, pe: PeLayout, ctx: ExtractContext): UnpackResult {
  const v = alignedView(data, pe);
  if (v === undefined || v.epbuff.length < MIN_EP_BYTES) return NOT_PACKED;
  const i = emptySection(v);
  if (i < 0) return NOT_PACKED;
  const dst = v.sections[i] as AlignedSection;
  const src = v.sections[i + 1] as AlignedSection;
  const b0 = v.epbuff[0];
  if (b0 !== 0x87 && b0 !== 0xbe && b0 !== 0xbb) return NOT_PACKED;
  if (Math.max(dst.vsz, src.rsz) > ctx.maxMemberSize) return tooBig(ctx, 'fsg-unpacked', Math.max(dst.vsz, src.rsz));
  if (src.rsz <= 0x19 || dst.vsz <= src.rsz || src.raw + src.rsz > data.length) return NOT_PACKED;
  const p: Pair = { v, dst, src, raw: data.subarray(src.raw, src.raw + src.rsz) };
  const found = v20(p) ?? v133(p, data) ?? v131(p, data);
  if (found === undefined) return NOT_PACKED;
  return 'kind' in found ? found : rebuild(p, found, ctx);
}
