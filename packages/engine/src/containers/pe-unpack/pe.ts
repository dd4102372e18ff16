// What PE unpackers share: the packed file's layout (image base, entry point, sections with their
// names and flags), its image mapped as the loader would map it, and a new PE built from unpacked
// sections. Each packer (upx/, fsg/, ...) recognises its own stub and decodes; this file only reads
// and writes PE structure. exe/index.ts reads the facts signatures need; this reads what unpacking needs.
import { u16le, u32le } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';

/** One section of the packed file, as its header states it (untrusted). */
export interface PeSection {
  readonly name: string;
  readonly rva: number;
  readonly virtualSize: number;
  readonly rawOffset: number;
  readonly rawSize: number;
  readonly characteristics: number;
}

/** The parts of a PE's headers that unpackers read. */
export interface PeLayout {
  /** Offset of the `PE\0\0` signature. */
  readonly peOffset: number;
  readonly machine: number;
  readonly imageBase: number;
  readonly entryRva: number;
  readonly sectionAlignment: number;
  readonly fileAlignment: number;
  readonly sizeOfImage: number;
  readonly sizeOfHeaders: number;
  /** Offset of the first data directory (export table), 96 bytes into a PE32 optional header. */
  readonly dataDirOffset: number;
  readonly sections: readonly PeSection[];
}

/** Windows' loader refuses more than 96 sections; so does ClamAV. */
const MAX_SECTIONS = 96;
const PE32 = 0x10b;

/** Reads a 32-bit PE's layout, or undefined when `data` is not one. Damaged fields are kept as read. */
export function readPe(data: Uint8Array): PeLayout | undefined {
  if (data.length < 0x40 || data[0] !== 0x4d || data[1] !== 0x5a) return undefined;
  const pe = u32le(data, 0x3c);
  if (pe + 24 > data.length || u32le(data, pe) !== 0x00004550) return undefined;
  const nsect = u16le(data, pe + 6);
  const optSize = u16le(data, pe + 20);
  const opt = pe + 24;
  if (nsect === 0 || nsect > MAX_SECTIONS || opt + 96 > data.length || u16le(data, opt) !== PE32) return undefined;
  const table = opt + optSize;
  if (table + nsect * 40 > data.length) return undefined;
  const sections: PeSection[] = [];
  for (let i = 0; i < nsect; i++) {
    const s = table + i * 40;
    let name = '';
    for (let k = 0; k < 8 && data[s + k] !== 0; k++) name += String.fromCharCode(data[s + k] as number);
    sections.push({
      name,
      virtualSize: u32le(data, s + 8),
      rva: u32le(data, s + 12),
      rawSize: u32le(data, s + 16),
      rawOffset: u32le(data, s + 20),
      characteristics: u32le(data, s + 36),
    });
  }
  return {
    peOffset: pe,
    machine: u16le(data, pe + 4),
    entryRva: u32le(data, opt + 16),
    imageBase: u32le(data, opt + 28),
    sectionAlignment: u32le(data, opt + 32),
    fileAlignment: u32le(data, opt + 36),
    sizeOfImage: u32le(data, opt + 56),
    sizeOfHeaders: u32le(data, opt + 60),
    dataDirOffset: opt + 96,
    sections,
  };
}

/** The section whose memory holds `rva`, if any. */
export function sectionAt(pe: PeLayout, rva: number): PeSection | undefined {
  return pe.sections.find((s) => rva >= s.rva && rva < s.rva + Math.max(s.virtualSize, s.rawSize));
}

/** The file offset that `rva` is loaded from, or undefined when no section's file data holds it. */
export function rvaToOffset(pe: PeLayout, rva: number): number | undefined {
  if (rva < pe.sizeOfHeaders) return rva;
  for (const s of pe.sections) {
    if (rva >= s.rva && rva < s.rva + s.rawSize) return s.rawOffset + (rva - s.rva);
  }
  return undefined;
}

/**
 * The image as the loader maps it: headers, then each section's file data at its RVA, the rest
 * zero. Undefined when the image would pass `max` bytes (a hostile SizeOfImage or section).
 */
export function mapImage(data: Uint8Array, pe: PeLayout, max: number): Uint8Array | undefined {
  let size = Math.min(pe.sizeOfHeaders, data.length);
  for (const s of pe.sections) size = Math.max(size, s.rva + Math.max(s.virtualSize, s.rawSize));
  if (size > max) return undefined;
  const image = new Uint8Array(size);
  image.set(data.subarray(0, Math.min(pe.sizeOfHeaders, data.length)));
  for (const s of pe.sections) {
    if (s.rawOffset >= data.length) continue;
    const len = Math.min(s.rawSize, Math.max(s.virtualSize, s.rawSize), data.length - s.rawOffset);
    image.set(data.subarray(s.rawOffset, s.rawOffset + len), s.rva);
  }
  return image;
}

/** One section of a rebuilt PE: where it goes in memory and the bytes it holds there. */
export interface RebuiltSection {
  readonly rva: number;
  /** Memory size; at least `data.length` is used. */
  readonly virtualSize: number;
  readonly data: Uint8Array;
}

/** What a new PE needs: where it loads, where it starts, its sections; data directories if known. */
export interface RebuildSpec {
  readonly imageBase: number;
  readonly entryRva: number;
  readonly sections: readonly RebuiltSection[];
  /** (rva, size) pairs for the 16 data directories: imports at index 1, resources at 2. */
  readonly directories?: readonly (readonly [number, number])[];
}

const FILE_ALIGN = 0x200;
const SECT_ALIGN = 0x1000;
const OPT_SIZE = 0xe0;
const HEADER_AT = 0x40;

function align(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

/**
 * A well-formed 32-bit PE holding `spec`'s sections, as unpackers hand on what they decoded: the
 * scanner then reads it like any executable (its entry point, sections, and files embedded in it).
 * Undefined when it would pass `max` bytes.
 */
export function buildPe(spec: RebuildSpec, max: number): Uint8Array | undefined {
  const n = spec.sections.length;
  if (n === 0 || n > MAX_SECTIONS) return undefined;
  const table = HEADER_AT + 24 + OPT_SIZE;
  const headers = align(table + n * 40, FILE_ALIGN);
  let size = headers;
  for (const s of spec.sections) size += align(s.data.length, FILE_ALIGN);
  if (size > max) return undefined;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out[0] = 0x4d;
  out[1] = 0x5a;
  v.setUint32(0x3c, HEADER_AT, true);
  v.setUint32(HEADER_AT, 0x00004550, true);
  v.setUint16(HEADER_AT + 4, 0x14c, true); // i386
  v.setUint16(HEADER_AT + 6, n, true);
  v.setUint16(HEADER_AT + 20, OPT_SIZE, true);
  v.setUint16(HEADER_AT + 22, 0x010f, true); // executable, 32-bit, no relocations
  const opt = HEADER_AT + 24;
  let imageEnd = SECT_ALIGN;
  for (const s of spec.sections)
    imageEnd = Math.max(imageEnd, align(s.rva + Math.max(s.virtualSize, s.data.length), SECT_ALIGN));
  v.setUint16(opt, PE32, true);
  v.setUint32(opt + 16, spec.entryRva, true);
  v.setUint32(opt + 28, spec.imageBase, true);
  v.setUint32(opt + 32, SECT_ALIGN, true);
  v.setUint32(opt + 36, FILE_ALIGN, true);
  v.setUint16(opt + 40, 4, true); // OS version 4.0
  v.setUint16(opt + 48, 4, true); // subsystem version 4.0
  v.setUint32(opt + 56, imageEnd, true);
  v.setUint32(opt + 60, headers, true);
  v.setUint16(opt + 68, 2, true); // Windows GUI
  v.setUint32(opt + 92, 16, true);
  (spec.directories ?? []).slice(0, 16).forEach(([rva, len], i) => {
    v.setUint32(opt + 96 + i * 8, rva, true);
    v.setUint32(opt + 100 + i * 8, len, true);
  });
  let raw = headers;
  spec.sections.forEach((s, i) => {
    const at = table + i * 40;
    const name = `.vig${String(i).padStart(2, '0')}`;
    for (let k = 0; k < name.length; k++) out[at + k] = name.charCodeAt(k);
    v.setUint32(at + 8, Math.max(s.virtualSize, s.data.length), true);
    v.setUint32(at + 12, s.rva, true);
    v.setUint32(at + 16, align(s.data.length, FILE_ALIGN), true);
    v.setUint32(at + 20, raw, true);
    v.setUint32(at + 36, 0xe0000060, true); // code, data; read, write, execute
    out.set(s.data, raw);
    raw += align(s.data.length, FILE_ALIGN);
  });
  return out;
}

/** The result of one unpacker on one file: not its packer, unpacked, or recognised but not undone. */
export type UnpackResult =
  | { readonly kind: 'not-packed' }
  | { readonly kind: 'unpacked'; readonly pe: Uint8Array }
  | { readonly kind: 'failed'; readonly why: string };

/** A packer recognised whose unpacked image would pass the member limit: reported, not decoded. */
export function tooBig(ctx: ExtractContext, name: string, size: number | undefined): UnpackResult {
  ctx.tooBig(name, size);
  return { kind: 'not-packed' };
}

/**
 * A handler for one packer: on executables (with --scan-pe), `unpack` decides whether the file is
 * its packer's and rebuilds the original; the rebuilt PE is the one member, scanned as any file.
 */
export function unpackerHandler(
  name: string,
  unpack: (data: Uint8Array, pe: PeLayout, ctx: ExtractContext) => UnpackResult,
): ContainerHandler {
  return {
    name,
    families: ['pe'],
    types: ['CL_TYPE_MSEXE'],
    *extract(data: Uint8Array, ctx: ExtractContext): Generator<Member> {
      const pe = readPe(data);
      if (pe === undefined) return;
      const r = unpack(data, pe, ctx);
      if (r.kind === 'failed') ctx.broken(r.why);
      else if (r.kind === 'unpacked')
        yield { name: `${name.toLowerCase()}-unpacked`, data: r.pe, type: 'CL_TYPE_MSEXE' };
    },
  };
}
