// ClamAV's normalised view of a packed file's sections, which its unpackers (UPX, ASPack) reason
// with: addresses and memory sizes rounded to the section alignment, file offsets and file sizes
// to the file alignment, file sizes cut at the end of the file, sections that start past the end
// dropped. pe.ts keeps the headers as written; this only derives the view. Shared by upx/ and aspack/.
import type { PeLayout } from '../pe.js';

/** One section as ClamAV's unpackers see it. */
export interface ViewSection {
  readonly rva: number;
  readonly vsz: number;
  readonly raw: number;
  readonly rsz: number;
  /** The header's own values, before rounding. */
  readonly urva: number;
  readonly uvsz: number;
}

/** Rounds down to a multiple of `a` (no rounding when `a` is 0), in 32 bits. */
export function alignDown(v: number, a: number): number {
  return a === 0 ? v >>> 0 : (Math.floor(v / a) * a) >>> 0;
}

/** Rounds up to a multiple of `a` (no rounding when `a` is 0), wrapping in 32 bits as ClamAV does. */
export function alignUp(v: number, a: number): number {
  return a === 0 ? v >>> 0 : (Math.ceil(v / a) * a) >>> 0;
}

/** The file alignment ClamAV uses: 0x200 when a section's offset betrays that the header's is wrong. */
function fileAlignment(pe: PeLayout): number {
  const fa = pe.fileAlignment;
  if (fa === 0x200 || fa === 0) return fa;
  for (const s of pe.sections) if (s.rawSize !== 0 && s.rawOffset % fa !== 0 && s.rawOffset % 0x200 === 0) return 0x200;
  return fa;
}

/** A packed file as ClamAV's unpackers see it. */
export interface PeView {
  readonly sections: readonly ViewSection[];
  /** SizeOfHeaders rounded up to the section alignment. */
  readonly headerSize: number;
  readonly fileSize: number;
}

/** `pe` (a file of `size` bytes) as ClamAV's unpackers see it. */
export function viewPe(pe: PeLayout, size: number): PeView {
  return {
    sections: viewSections(pe, size),
    headerSize: alignUp(pe.sizeOfHeaders, pe.sectionAlignment),
    fileSize: size,
  };
}

function viewSections(pe: PeLayout, size: number): ViewSection[] {
  const sa = pe.sectionAlignment;
  const fa = fileAlignment(pe);
  const out: ViewSection[] = [];
  for (const s of pe.sections) {
    const raw = alignDown(s.rawOffset, fa);
    let rsz = alignUp(s.rawSize, fa);
    if (rsz !== 0) {
      if (raw >= size || s.rawOffset >= size) continue;
      if (raw + rsz > size) rsz = size - raw;
    }
    let vsz = alignUp(s.virtualSize, sa);
    if (vsz === 0 && rsz !== 0) vsz = alignUp(Math.min(s.rawSize, size - s.rawOffset), sa);
    out.push({ rva: alignDown(s.rva, sa), vsz, raw, rsz, urva: s.rva, uvsz: s.virtualSize });
  }
  return out;
}

/**
 * The file offset of `rva` as ClamAV finds it: inside the (aligned) headers it is the RVA itself,
 * else the last section whose file data holds it. Undefined when no file data holds it.
 */
export function viewOffset(view: PeView, rva: number): number | undefined {
  const { sections } = view;
  if (rva < view.headerSize) return rva < view.fileSize ? rva : undefined;
  for (let i = sections.length - 1; i >= 0; i--) {
    const s = sections[i] as ViewSection;
    if (s.rsz !== 0 && s.rva <= rva && s.rsz > rva - s.rva) return s.raw + (rva - s.rva);
  }
  return undefined;
}
