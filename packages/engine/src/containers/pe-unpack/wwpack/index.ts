// WWPack32: recognises its stub at the entry point (the last section's start), maps the other
// sections into an image laid out by address, decodes each block listed in the packer's table in
// place (decode.ts), and fixes the image's own headers as ClamAV does (sections as mapped, the
// packer's section dropped, the original entry point), so the image itself is the rebuilt PE.
import { u32le } from '../../read.js';
import type { ExtractContext } from '../../types.js';
import { type AlignedSection, type AlignedView, alignedView } from '../aligned.js';
import { bytesAt, putU32 } from '../bytes.js';
import { type PeLayout, tooBig, type UnpackResult, unpackerHandler } from '../pe.js';
import { wwDecodeBlock } from './decode.js';

const STUB_START = [0x53, 0x55, 0x8b, 0xe8, 0x33, 0xdb, 0xeb];
const STUB_AT_68 = [
  0xe8, 0x00, 0x00, 0x00, 0x00, 0x58, 0x2d, 0x6d, 0x00, 0x00, 0x00, 0x50, 0x60, 0x33, 0xc9, 0x50, 0x58, 0x50, 0x50,
];
/** Where the packer's table of blocks starts in its section, and the size of one entry. */
const TABLE_AT = 0x2a1;
const ENTRY_SIZE = 17;
/** Where the packer keeps the original entry point, relative to its code at +0x299. */
const OEP_AT = 0x295;
/** Blocks decoded at most (WWPack writes one per packed area; each may fill the whole image). */
const MAX_BLOCKS = 256;

function isWwpack(data: Uint8Array, pe: PeLayout, view: AlignedView): boolean {
  const last = view.sections[view.sections.length - 1] as AlignedSection;
  return (
    view.sections.length > 1 &&
    pe.entryRva === last.rva &&
    bytesAt(data, view.ep, STUB_START) &&
    bytesAt(data, view.ep + 0x68, STUB_AT_68)
  );
}

/** Decodes every block the packer's table lists; false when one is damaged. */
function decodeBlocks(image: Uint8Array, packer: Uint8Array, packerRva: number): boolean {
  for (let at = TABLE_AT, n = 0; at + ENTRY_SIZE <= packer.length; at += ENTRY_SIZE) {
    if (++n > MAX_BLOCKS) return false;
    const base = (packerRva - u32le(packer, at)) >>> 0;
    const size = (u32le(packer, at + 8) * 4) >>> 0;
    const end = u32le(packer, at + 12);
    const start = (base + end + 4 - size) >>> 0;
    // A block outside the image ends the table, as in ClamAV, which then writes what it has.
    if (!size || start + size > image.length) return true;
    const compressed = image.slice(start, start + size);
    image.fill(0xff, start, start + size);
    if (wwDecodeBlock(compressed, image, start) === undefined) return false;
    if (!packer[at + 16]) return true;
  }
  return true;
}

/** Makes the image's headers describe it: sections as mapped, the packer's dropped, its entry point. */
function fixHeaders(image: Uint8Array, pe: PeLayout, view: AlignedView, packer: Uint8Array): boolean {
  const kept = view.sections.slice(0, -1);
  const last = view.sections[kept.length] as AlignedSection;
  const at = pe.peOffset;
  if (at + 0x54 > image.length || packer.length < OEP_AT + 4) return false;
  image[at + 6] = kept.length & 0xff;
  image[at + 7] = kept.length >> 8;
  putU32(image, at + 0x28, u32le(packer, OEP_AT) + last.rva + 0x299);
  putU32(image, at + 0x50, u32le(image, at + 0x50) - last.vsz);
  let entry = at + 0x18 + (u32le(image, at + 0x14) & 0xffff);
  for (const s of kept) {
    if (entry + 0x28 > image.length) return false;
    putU32(image, entry + 8, s.vsz);
    putU32(image, entry + 12, s.rva);
    putU32(image, entry + 16, s.vsz);
    putU32(image, entry + 20, s.rva);
    entry += 0x28;
  }
  if (entry + 0x28 > image.length) return false;
  image.fill(0, entry, entry + 0x28);
  return true;
}

/** The image: headers up to the first section's data, then each section but the packer's. */
function layOut(data: Uint8Array, view: AlignedView, size: number): Uint8Array | undefined {
  const kept = view.sections.slice(0, -1);
  const head = Math.min(...view.sections.map((s) => s.raw));
  if (!head || head > size || head > data.length) return undefined;
  const image = new Uint8Array(size);
  image.set(data.subarray(0, head));
  for (const s of kept) {
    if (!s.rsz) continue;
    if (s.rva + s.rsz > size) return undefined;
    image.set(data.subarray(s.raw, s.raw + s.rsz), s.rva);
  }
  return image;
}

function unpack(data: Uint8Array, pe: PeLayout, ctx: ExtractContext): UnpackResult {
  const view = alignedView(data, pe);
  if (view === undefined || !isWwpack(data, pe, view)) return { kind: 'not-packed' };
  const last = view.sections[view.sections.length - 1] as AlignedSection;
  const size = Math.max(0, ...view.sections.slice(0, -1).map((s) => s.rva + s.vsz));
  if (size > ctx.maxMemberSize) return tooBig(ctx, 'wwpack-unpacked', size);
  const image = layOut(data, view, size);
  if (image === undefined) return { kind: 'failed', why: 'WWPack: its sections do not fit its image' };
  if (!last.rsz) return { kind: 'failed', why: "WWPack: the packer's section has no data" };
  const packer = data.subarray(last.raw, last.raw + last.rsz);
  if (!decodeBlocks(image, packer, last.rva)) return { kind: 'failed', why: 'WWPack: its compressed data is damaged' };
  if (!fixHeaders(image, pe, view, packer)) return { kind: 'failed', why: 'WWPack: its headers lie outside its image' };
  return { kind: 'unpacked', pe: image };
}

/** Unpacks WWPack32 executables, as ClamAV's wwunpack.c does. */
export const wwpackHandler = unpackerHandler('WWPack', unpack);
