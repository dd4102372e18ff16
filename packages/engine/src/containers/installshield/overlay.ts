// Where a PE32 file's overlay (the bytes after its sections) starts, computed as ClamAV's PE
// header parser does, since InstallShield setups append their files there. Only the headers this
// needs are read; PE32+ files and headers ClamAV rejects have no overlay here, as they have none
// for ClamAV's InstallShield reader. Everything else about the PE is left to the exe/ readers.
import { u16le, u32le } from '../read.js';

const PE_SIGNATURE = 0x00004550;
const PE32_PLUS = 0x20b;
/** ClamAV's PE32 optional header structure, without its data directories. */
const MIN_OPTIONAL_HEADER = 96;
const SECTION_HEADER = 40;

/** `v` rounded down to a multiple of `a` (unchanged when `a` is 0). */
const alignDown = (v: number, a: number) => (a === 0 ? v : Math.floor(v / a) * a);
/** `v` rounded up to a multiple of `a` (unchanged when `a` is 0). */
const alignUp = (v: number, a: number) => (a === 0 ? v : Math.ceil(v / a) * a);

interface Sect {
  readonly rva: number;
  readonly raw: number;
  readonly rsz: number;
  readonly urva: number;
  readonly uvsz: number;
  readonly uraw: number;
  readonly ursz: number;
}

/** The file alignment, or 0x200 when a section's raw offset shows the header's value is wrong. */
function fileAlignment(d: Uint8Array, table: number, count: number, stated: number): number {
  if (stated === 0x200) return stated;
  for (let i = 0; i < count; i++) {
    const s = table + i * SECTION_HEADER;
    const ptr = u32le(d, s + 20);
    if (stated !== 0 && u32le(d, s + 16) !== 0 && ptr % stated !== 0 && ptr % 0x200 === 0) return 0x200;
  }
  return stated;
}

/** The sections as ClamAV keeps them: aligned, cut at the end of the file, those past it dropped. */
function sections(d: Uint8Array, table: number, count: number, align: { s: number; f: number }): Sect[] | undefined {
  const out: Sect[] = [];
  for (let i = 0; i < count; i++) {
    const h = table + i * SECTION_HEADER;
    const urva = u32le(d, h + 12);
    const uraw = u32le(d, h + 20);
    const raw = alignDown(uraw, align.f);
    let rsz = alignUp(u32le(d, h + 16), align.f);
    let ursz = u32le(d, h + 16);
    if (rsz !== 0) {
      if (raw >= d.length || uraw >= d.length) continue;
      if (raw + rsz > d.length) rsz = d.length - raw;
      if (uraw + ursz > d.length) ursz = d.length - uraw;
    }
    const sect = { rva: alignDown(urva, align.s), raw, rsz, urva, uvsz: u32le(d, h + 8), uraw, ursz };
    if (urva >= 0x80000000 || sect.uvsz >= 0x80000000 || (rsz !== 0 && uraw >= 0x80000000) || ursz >= 0x80000000) {
      return undefined;
    }
    out.push(sect);
  }
  // ClamAV refuses a file whose only section lay outside it.
  return out.length === 0 && count > 0 ? undefined : out;
}

/** True when the entry point maps into the file (ClamAV refuses the PE otherwise). */
function entryMaps(rva: number, list: readonly Sect[], hdrSize: number, size: number): boolean {
  if (rva < hdrSize) return rva < size;
  return list.some((s) => s.rsz !== 0 && s.rva <= rva && s.rsz > rva - s.rva);
}

/**
 * The overlay of a PE32 file, `{ start, size }`, as ClamAV finds it: the end of the raw data of the
 * section that reaches furthest in memory, unless that is the first section (ClamAV then sees none).
 * Undefined for PE32+ files, damaged headers, and files without an overlay.
 */
export function peOverlay(d: Uint8Array): { start: number; size: number } | undefined {
  const magic = u16le(d, 0);
  if ((magic !== 0x5a4d && magic !== 0x4d5a) || d.length < 0x40) return undefined;
  const pe = u32le(d, 0x3c);
  if (pe === 0 || pe + 24 > d.length || u32le(d, pe) !== PE_SIGNATURE) return undefined;
  const count = u16le(d, pe + 6);
  const optSize = u16le(d, pe + 20);
  const opt = pe + 24;
  if (count === 0 || optSize < MIN_OPTIONAL_HEADER || opt + MIN_OPTIONAL_HEADER > d.length) return undefined;
  if (u16le(d, opt) === PE32_PLUS) return undefined;
  const table = opt + optSize;
  if (table + count * SECTION_HEADER > d.length) return undefined;
  const s = u32le(d, opt + 32);
  const align = { s, f: fileAlignment(d, table, count, u32le(d, opt + 36)) };
  const list = sections(d, table, count, align);
  if (list === undefined) return undefined;
  let max = 0;
  let start = 0;
  list.forEach((sect, i) => {
    if (i === 0) max = sect.rva + sect.rsz;
    else if (sect.rva + sect.rsz > max) {
      max = sect.rva + sect.rsz;
      start = sect.raw + sect.rsz;
    }
  });
  if (!entryMaps(u32le(d, opt + 16), list, alignUp(u32le(d, opt + 60), s), d.length)) return undefined;
  if (start === 0 || start >= d.length) return undefined;
  return { start, size: d.length - start };
}
