// ClamAV's reading of a packed PE (pe.c's header pass), which the MEW, Upack and FSG recognisers
// compare against: section addresses and sizes rounded to the alignments, raw sizes cut at the
// end of the file, sections wholly past it dropped, the entry point's file offset and the bytes
// there. Shared by mew/, upack/ and fsg/; it reads, and leaves every decision to the packers.
import { u16le, u32le } from '../../read.js';
import type { PeLayout } from '../pe.js';

/** One section as ClamAV sees it: rounded (`rva`, `vsz`, `raw`, `rsz`) and as written (`uraw`, `ursz`). */
export interface ClamSection {
  readonly rva: number;
  readonly vsz: number;
  readonly raw: number;
  readonly rsz: number;
  readonly uraw: number;
  readonly ursz: number;
}

/** What the packer checks read: sections, entry point (RVA and file offset), its first bytes. */
export interface ClamPe {
  readonly sections: readonly ClamSection[];
  readonly imageBase: number;
  /** Entry point RVA. */
  readonly vep: number;
  /** Entry point file offset. */
  readonly ep: number;
  /** Lowest section RVA. */
  readonly min: number;
  /** SizeOfHeaders rounded up to the section alignment. */
  readonly hdrSize: number;
  /** SizeOfOptionalHeader (Upack's 0x148 mark). */
  readonly optSize: number;
  /** Up to 4096 bytes at the entry point. */
  readonly epbuff: Uint8Array;
}

/** Rounds down to `a` (no rounding when `a` is 0). */
export const alignDown = (o: number, a: number): number => (a ? Math.floor(o / a) * a : o) >>> 0;
/** Rounds up to `a` (no rounding when `a` is 0), wrapping at 32 bits as ClamAV's arithmetic does. */
export const alignUp = (o: number, a: number): number => (a ? Math.ceil(o / a) * a : o) >>> 0;

/** True when [at, at+len) is a non-empty range inside [start, start+size) (ClamAV's containment test). */
export function within(start: number, size: number, at: number, len: number): boolean {
  return size > 0 && len > 0 && len <= size && at >= start && at + len <= start + size;
}

/** A signed 32-bit little-endian read, undefined past the end. */
export function i32at(d: Uint8Array, o: number): number | undefined {
  return o >= 0 && o + 4 <= d.length ? u32le(d, o) | 0 : undefined;
}

function sectionsOf(data: Uint8Array, pe: PeLayout): ClamSection[] | undefined {
  const salign = pe.sectionAlignment;
  let falign = pe.fileAlignment;
  if (falign !== 0x200) {
    for (const s of pe.sections)
      if (falign && s.rawSize && s.rawOffset % falign && !(s.rawOffset % 0x200)) falign = 0x200;
  }
  const out: ClamSection[] = [];
  for (const s of pe.sections) {
    let rsz = alignUp(s.rawSize, falign);
    let ursz = s.rawSize;
    const raw = alignDown(s.rawOffset, falign);
    if (rsz) {
      if (raw >= data.length || s.rawOffset >= data.length) continue; // ClamAV drops it
      if (raw + rsz > data.length) rsz = data.length - raw;
      if (s.rawOffset + ursz > data.length) ursz = data.length - s.rawOffset;
    }
    let vsz = alignUp(s.virtualSize, salign);
    if (!vsz && rsz) vsz = alignUp(ursz, salign);
    if (s.rva >>> 31 || s.virtualSize >>> 31 || (rsz && s.rawOffset >>> 31) || ursz >>> 31) return undefined;
    out.push({ rva: alignDown(s.rva, salign), vsz, raw, rsz, uraw: s.rawOffset, ursz });
  }
  return out.length ? out : undefined;
}

/** ClamAV's file offset for `rva`, or undefined when no section's file data holds it. */
export function rawAddr(sections: readonly ClamSection[], rva: number, hdrSize: number, size: number) {
  if (rva < hdrSize) return rva < size ? rva : undefined;
  for (let i = sections.length - 1; i >= 0; i--) {
    const s = sections[i] as ClamSection;
    if (s.rsz && s.rva <= rva && s.rsz > rva - s.rva) return rva - s.rva + s.raw;
  }
  return undefined;
}

/** ClamAV's view of `data`, or undefined where ClamAV would not try its unpackers at all. */
export function clamView(data: Uint8Array, pe: PeLayout): ClamPe | undefined {
  const sections = sectionsOf(data, pe);
  if (sections === undefined) return undefined;
  const hdrSize = alignUp(pe.sizeOfHeaders, pe.sectionAlignment);
  const ep = rawAddr(sections, pe.entryRva, hdrSize, data.length);
  if (ep === undefined) return undefined;
  return {
    sections,
    imageBase: pe.imageBase,
    vep: pe.entryRva,
    ep,
    min: Math.min(...sections.map((s) => s.rva)),
    hdrSize,
    optSize: u16le(data, pe.peOffset + 20),
    epbuff: data.subarray(ep, Math.min(data.length, ep + 4096)),
  };
}

/**
 * The first section with no file data but memory, followed by one with both: where UPX, FSG and
 * MEW unpack to (ClamAV's "empty section found"); -1 when there is none.
 */
export function emptySection(v: ClamPe): number {
  const s = v.sections;
  for (let i = 0; i + 1 < s.length; i++) {
    const a = s[i] as ClamSection;
    const b = s[i + 1] as ClamSection;
    if (!a.rsz && a.vsz && b.rsz && b.vsz) return i;
  }
  return -1;
}
