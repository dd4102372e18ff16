// ClamAV's adjusted view of a packed PE, as its PE parser hands it to the Petite, WWPack, yC and
// PESpin unpackers (they live in sibling folders and import this): section addresses rounded down
// and sizes rounded up to the alignments, raw sizes cut at the end of the file, sections that start
// past the end dropped, and the entry point's file offset. pe.ts reads the headers as written; the
// checks of these four packers are stated on this adjusted view, so it is kept in one place here.
import { u16le } from '../../read.js';
import type { ExtractContext } from '../../types.js';
import type { PeLayout, UnpackResult } from '../pe.js';

/** One section as ClamAV's unpackers see it (`u*` fields: as written, raw size cut at the file's end). */
export interface AlignedSection {
  readonly name: string;
  /** Index of the section's 40-byte entry in the header's section table. */
  readonly index: number;
  readonly rva: number;
  readonly vsz: number;
  readonly raw: number;
  readonly rsz: number;
  readonly uvsz: number;
  readonly uraw: number;
  readonly ursz: number;
}

/** The adjusted layout: sections, the span of their file data in memory, the entry point. */
export interface AlignedView {
  readonly sections: readonly AlignedSection[];
  /** Lowest section RVA. */
  readonly min: number;
  /** Highest `rva + rsz` of any section. */
  readonly max: number;
  /** SizeOfHeaders rounded up to the section alignment. */
  readonly hdrSize: number;
  /** File offset of the entry point. */
  readonly ep: number;
  /** File offset of the section table. */
  readonly sectionTable: number;
}

const alignDown = (v: number, a: number): number => (a ? Math.floor(v / a) * a : v);
const alignUp = (v: number, a: number): number => (a ? Math.ceil(v / a) * a : v);

/**
 * The view ClamAV's unpackers work on, or undefined where ClamAV's parser gives up (a field with
 * its sign bit set, the only section missing, an entry point no section's file data holds).
 */
export function alignedView(data: Uint8Array, pe: PeLayout): AlignedView | undefined {
  const fsize = data.length;
  const salign = pe.sectionAlignment;
  let falign = pe.fileAlignment;
  // A section placed on 0x200 but not on the stated file alignment makes ClamAV fall back to 0x200.
  if (falign !== 0x200) {
    for (const s of pe.sections)
      if (falign && s.rawSize && s.rawOffset % falign && !(s.rawOffset % 0x200)) falign = 0x200;
  }
  const sections: AlignedSection[] = [];
  let min = 0;
  let max = 0;
  for (const [index, s] of pe.sections.entries()) {
    const raw = alignDown(s.rawOffset, falign);
    let rsz = alignUp(s.rawSize, falign);
    let ursz = s.rawSize;
    if (rsz) {
      if (raw >= fsize || s.rawOffset >= fsize) {
        if (pe.sections.length === 1) return undefined;
        continue;
      }
      if (raw + rsz > fsize) rsz = fsize - raw;
      if (s.rawOffset + ursz > fsize) ursz = fsize - s.rawOffset;
    }
    let vsz = alignUp(s.virtualSize, salign);
    if (!vsz && rsz) vsz = alignUp(ursz, salign);
    if (s.rva >= 0x80000000 || s.virtualSize >= 0x80000000 || ursz >= 0x80000000) return undefined;
    if (rsz && s.rawOffset >= 0x80000000) return undefined;
    const rva = alignDown(s.rva, salign);
    if (sections.length === 0 || rva < min) min = rva;
    if (sections.length === 0 || rva + rsz > max) max = rva + rsz;
    sections.push({ name: s.name, index, rva, vsz, raw, rsz, uvsz: s.virtualSize, uraw: s.rawOffset, ursz });
  }
  if (sections.length === 0) return undefined;
  const hdrSize = alignUp(pe.sizeOfHeaders, salign);
  const ep = rawAddress(pe.entryRva, sections, hdrSize, fsize);
  if (ep === undefined) return undefined;
  const sectionTable = pe.peOffset + 24 + u16le(data, pe.peOffset + 20);
  return { sections, min, max, hdrSize, ep, sectionTable };
}

/** The file offset of `rva` as ClamAV maps it (headers, then the last section holding it). */
export function rawAddress(
  rva: number,
  sections: readonly AlignedSection[],
  hdrSize: number,
  fsize: number,
): number | undefined {
  if (rva < hdrSize) return rva < fsize ? rva : undefined;
  for (let i = sections.length - 1; i >= 0; i--) {
    const s = sections[i] as AlignedSection;
    if (s.rsz && s.rva <= rva && s.rsz > rva - s.rva) return s.raw + (rva - s.rva);
  }
  return undefined;
}

/** True when `data` holds `bytes` at `at`. */
export function bytesAt(data: Uint8Array, at: number, bytes: readonly number[]): boolean {
  if (at < 0 || at + bytes.length > data.length) return false;
  return bytes.every((b, i) => data[at + i] === b);
}

/** Signed 32-bit little-endian at `o` (0 past the end), as ClamAV's `cli_readint32` returns it. */
export function i32le(d: Uint8Array, o: number): number {
  return (d[o] ?? 0) | ((d[o + 1] ?? 0) << 8) | ((d[o + 2] ?? 0) << 16) | ((d[o + 3] ?? 0) << 24);
}

/** Writes an unsigned 32-bit little-endian value (the caller has checked the bounds). */
export function putU32(d: Uint8Array, o: number, v: number): void {
  d[o] = v & 0xff;
  d[o + 1] = (v >>> 8) & 0xff;
  d[o + 2] = (v >>> 16) & 0xff;
  d[o + 3] = (v >>> 24) & 0xff;
}

/** A packer recognised whose unpacked image would pass the member limit: reported, not decoded. */
export function tooBig(ctx: ExtractContext, name: string, size: number | undefined): UnpackResult {
  ctx.tooBig(name, size);
  return { kind: 'not-packed' };
}
