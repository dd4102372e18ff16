// ClamAV's adjusted view of a packed PE, which every unpacker's checks are stated on (pe.c's header
// pass): section addresses rounded down and sizes up to the alignments (in 32 bits, wrapping as C
// does), raw sizes cut at the end of the file, sections that start past it dropped, and the entry
// point's file offset with the bytes there. Where ClamAV's parser gives up (a field with its sign
// bit set, no section left, an entry point no file data holds) there is no view, and ClamAV tries
// no unpacker. pe.ts reads the headers as written; each packer's folder decides what is its own.
import { u16le } from '../read.js';
import type { PeLayout } from './pe.js';

/** One section as ClamAV's unpackers see it: rounded (`rva`, `vsz`, `raw`, `rsz`) and as written. */
export interface AlignedSection {
  readonly rva: number;
  readonly vsz: number;
  readonly raw: number;
  readonly rsz: number;
  /** PointerToRawData as written. */
  readonly uraw: number;
  /** SizeOfRawData as written, cut at the end of the file. */
  readonly ursz: number;
}

/** The adjusted view: sections, their span in memory, the entry point and the bytes there. */
export interface AlignedView {
  readonly sections: readonly AlignedSection[];
  readonly imageBase: number;
  /** Entry point RVA. */
  readonly vep: number;
  /** Entry point file offset. */
  readonly ep: number;
  /** Up to 4096 bytes at the entry point, as much as ClamAV reads there. */
  readonly epbuff: Uint8Array;
  /** Lowest section RVA. */
  readonly min: number;
  /** Highest `rva + rsz` of any section. */
  readonly max: number;
  /** SizeOfHeaders rounded up to the section alignment. */
  readonly hdrSize: number;
  /** SizeOfOptionalHeader (Upack's 0x148 mark). */
  readonly optSize: number;
  /** File offset of the section table. */
  readonly sectionTable: number;
  readonly fileSize: number;
}

/** ClamAV reads this much code at the entry point. */
const EP_READ = 4096;
const SIGN = 0x80000000;

/** Rounds down to a multiple of `a` (no rounding when `a` is 0), in 32 bits. */
export function alignDown(v: number, a: number): number {
  return (a ? Math.floor(v / a) * a : v) >>> 0;
}

/** Rounds up to a multiple of `a` (no rounding when `a` is 0), wrapping at 32 bits as ClamAV's arithmetic does. */
export function alignUp(v: number, a: number): number {
  return (a ? Math.ceil(v / a) * a : v) >>> 0;
}

/** True when [at, at+len) is a non-empty range inside [start, start+size) (ClamAV's containment test). */
export function within(start: number, size: number, at: number, len: number): boolean {
  return size > 0 && len > 0 && len <= size && at >= start && at + len <= start + size;
}

/** The file alignment ClamAV uses: 0x200 when a section's offset betrays that the header's is wrong. */
function fileAlignment(pe: PeLayout): number {
  const fa = pe.fileAlignment;
  if (fa === 0x200 || fa === 0) return fa;
  for (const s of pe.sections) if (s.rawSize && s.rawOffset % fa && !(s.rawOffset % 0x200)) return 0x200;
  return fa;
}

/** The sections ClamAV keeps, or undefined when one has a sign bit set (ClamAV refuses the file). */
function alignedSections(pe: PeLayout, fsize: number): AlignedSection[] | undefined {
  const salign = pe.sectionAlignment;
  const falign = fileAlignment(pe);
  const out: AlignedSection[] = [];
  for (const s of pe.sections) {
    const raw = alignDown(s.rawOffset, falign);
    let rsz = alignUp(s.rawSize, falign);
    let ursz = s.rawSize;
    if (rsz) {
      if (raw >= fsize || s.rawOffset >= fsize) continue; // starts past the end: dropped
      if (raw + rsz > fsize) rsz = fsize - raw;
      if (s.rawOffset + ursz > fsize) ursz = fsize - s.rawOffset;
    }
    let vsz = alignUp(s.virtualSize, salign);
    if (!vsz && rsz) vsz = alignUp(ursz, salign);
    if (s.rva >= SIGN || s.virtualSize >= SIGN || (rsz && s.rawOffset >= SIGN) || ursz >= SIGN) return undefined;
    out.push({ rva: alignDown(s.rva, salign), vsz, raw, rsz, uraw: s.rawOffset, ursz });
  }
  return out;
}

/** The file offset of `rva` as ClamAV maps it: inside the headers the RVA itself, else the last section holding it. */
export function rawAddress(
  view: Pick<AlignedView, 'sections' | 'hdrSize' | 'fileSize'>,
  rva: number,
): number | undefined {
  if (rva < view.hdrSize) return rva < view.fileSize ? rva : undefined;
  const { sections } = view;
  for (let i = sections.length - 1; i >= 0; i--) {
    const s = sections[i] as AlignedSection;
    if (s.rsz && s.rva <= rva && s.rsz > rva - s.rva) return s.raw + (rva - s.rva);
  }
  return undefined;
}

/** ClamAV's view of `data`, or undefined where its parser gives up and no unpacker is tried. */
export function alignedView(data: Uint8Array, pe: PeLayout): AlignedView | undefined {
  const fileSize = data.length;
  const sections = alignedSections(pe, fileSize);
  if (sections === undefined || sections.length === 0) return undefined;
  const hdrSize = alignUp(pe.sizeOfHeaders, pe.sectionAlignment);
  const ep = rawAddress({ sections, hdrSize, fileSize }, pe.entryRva);
  if (ep === undefined) return undefined;
  const optSize = u16le(data, pe.peOffset + 20);
  return {
    sections,
    imageBase: pe.imageBase,
    vep: pe.entryRva,
    ep,
    epbuff: data.subarray(ep, Math.min(fileSize, ep + EP_READ)),
    min: Math.min(...sections.map((s) => s.rva)),
    max: Math.max(...sections.map((s) => s.rva + s.rsz)),
    hdrSize,
    optSize,
    sectionTable: pe.peOffset + 24 + optSize,
    fileSize,
  };
}

/**
 * The first section with memory but no file data followed by one with both: where UPX, FSG and
 * MEW unpack to (ClamAV's "empty section found"); -1 when there is none.
 */
export function emptySection(view: AlignedView): number {
  const s = view.sections;
  for (let i = 0; i + 1 < s.length; i++) {
    const a = s[i] as AlignedSection;
    const b = s[i + 1] as AlignedSection;
    if (!a.rsz && a.vsz && b.rsz && b.vsz) return i;
  }
  return -1;
}
