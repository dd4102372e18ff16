// ASPack 2.12 to 2.42 on Windows executables, recognised as ClamAV recognises it: the stub's first
// bytes at the entry point (pusha; call +3; jmp ...) and a `push 0; ret` at the place each version
// keeps it. The stub's data (at fixed offsets from the entry point, per version) lists the blocks to
// decompress in place in the loaded image and carries the decoder's tables; after the first block,
// the E8/E9 call and jump targets the packer made absolute are made relative again. The original
// sections (without the stub's two) become the rebuilt executable. The decoder is decode.ts.
import { u32le } from '../../read.js';
import type { ExtractContext } from '../../types.js';
import { type AlignedSection, type AlignedView, alignedView } from '../aligned.js';
import { bytesAt } from '../bytes.js';
import { buildPe, type PeLayout, tooBig, type UnpackResult, unpackerHandler } from '../pe.js';
import { AspackDecoder, type StubTables } from './decode.js';

/** Where one ASPack version keeps its things, from the byte before the entry point. */
export interface AspackVersion {
  readonly name: string;
  /** `push 0; ret` (the original entry point is patched into the push), in the entry point's code. */
  readonly ret: number;
  readonly blocks: number;
  /** The distance slots' bit counts, from which their bases are summed. */
  readonly slotBits: number;
  readonly tables: number;
  /** The byte that marks E8/E9 operands the packer rewrote. */
  readonly marker: number;
  readonly entry: number;
  /** Bytes per entry of the block list. */
  readonly step: number;
}

/** The versions ClamAV tells apart, in the order it tries them (exported for tests). */
export const ASPACK_VERSIONS: readonly AspackVersion[] = [
  { name: '2.12', ret: 0x3b9, blocks: 0x57c, slotBits: 0x70e, tables: 0x6d6, marker: 0x148, entry: 0x39b, step: 8 },
  { name: '2.2x', ret: 0x41f, blocks: 0x5d8, slotBits: 0x76a, tables: 0x732, marker: 0x13a, entry: 0x401, step: 12 },
  { name: '2.42', ret: 0x42b, blocks: 0x5e4, slotBits: 0x776, tables: 0x73e, marker: 0x148, entry: 0x40d, step: 12 },
];

const STUB_START = [0x60, 0xe8, 0x03, 0x00, 0x00, 0x00, 0xe9, 0xeb];
const PUSH_RET = [0x68, 0x00, 0x00, 0x00, 0x00, 0xc3];
const SLOTS = 58;
const TABLES_SIZE = 0x72;
/** ASPack's checks need this much of the code ClamAV reads at the entry point. */
const MIN_EP = 0x3bf;
/** A block list longer than this is not ASPack's (it writes one entry per section). */
const MAX_BLOCKS = 256;

/** The version whose stub this is, or undefined. */
function recognise(view: AlignedView): AspackVersion | undefined {
  if (!ASPACK_VERSIONS.some((v) => view.ep + 58 + v.slotBits < view.fileSize)) return undefined;
  const ep = view.epbuff;
  if (ep.length < MIN_EP || !bytesAt(ep, 0, STUB_START)) return undefined;
  return ASPACK_VERSIONS.find((v) => bytesAt(ep, v.ret, PUSH_RET));
}

/** The image as the stub finds it: each section's file data at its address; undefined if one spills. */
function loadImage(data: Uint8Array, sections: readonly AlignedSection[], size: number): Uint8Array | undefined {
  const image = new Uint8Array(size);
  for (const s of sections) {
    if (s.rsz === 0) continue;
    if (s.rva + s.rsz > size) return undefined;
    image.set(data.subarray(s.raw, s.raw + s.rsz), s.rva);
  }
  return image;
}

function stubTables(image: Uint8Array, base: number, v: AspackVersion): StubTables | undefined {
  const at = base + v.tables;
  if (at + TABLES_SIZE > image.length) return undefined;
  const slotBase = new Uint32Array(SLOTS);
  let sum = 0;
  for (let i = 0; i < SLOTS; i++) {
    slotBase[i] = sum;
    const k = base + i + v.slotBits;
    if (k < image.length) sum = (sum + (1 << (image[k] as number))) >>> 0;
  }
  return { stuff: image.slice(at, at + TABLES_SIZE), slotBase };
}

/** Makes the marked E8/E9 operands of a block relative again (ASPack made them absolute). */
function unfixCalls(image: Uint8Array, at: number, size: number, marker: number): void {
  for (let i = 0; i < size - 6; i++) {
    const b = image[at + i];
    if ((b !== 0xe8 && b !== 0xe9) || image[at + i + 1] !== marker) continue;
    const target = u32le(image, at + i + 1) >>> 8;
    const rel = (target - i) >>> 0;
    image[at + i + 1] = rel & 0xff;
    image[at + i + 2] = (rel >>> 8) & 0xff;
    image[at + i + 3] = (rel >>> 16) & 0xff;
    image[at + i + 4] = rel >>> 24;
    i += 4;
  }
}

/** Decodes the listed blocks in place; a message when one cannot be. */
function decodeBlocks(image: Uint8Array, base: number, v: AspackVersion): string | undefined {
  const tables = stubTables(image, base, v);
  if (tables === undefined) return 'ASPack: the stub lies outside the image';
  const dec = new AspackDecoder(tables);
  const marker = image[base + v.marker] ?? 0;
  let p = base + v.blocks;
  let unfix = true;
  for (let count = 0; ; count++) {
    if (p + 8 > image.length) return 'ASPack: the block list runs off the image';
    const rva = u32le(image, p);
    const size = u32le(image, p + 4);
    if (rva === 0) return undefined;
    if (size === 0 || rva + size > image.length) return 'ASPack: a block lies outside the image';
    if (count >= MAX_BLOCKS) return `ASPack: more than ${MAX_BLOCKS} blocks`;
    if (!dec.block(image, rva, size)) return `ASPack: the block at ${rva.toString(16)} does not decode`;
    if (unfix && size > 7) {
      unfixCalls(image, rva, size, marker);
      unfix = false;
    }
    p += v.step;
    // later versions skip entries whose size is -0x10e (what the stub would read as empty)
    while (v.step === 12 && p < image.length && (u32le(image, p + 4) + 0x10e) >>> 0 === 0) p += 12;
  }
}

function unpack(data: Uint8Array, pe: PeLayout, ctx: ExtractContext): UnpackResult {
  const view = alignedView(data, pe);
  const v = view && recognise(view);
  if (view === undefined || v === undefined) return { kind: 'not-packed' };
  const size = Math.max(0, ...view.sections.map((s) => s.rva + s.vsz));
  if (size === 0) return { kind: 'not-packed' };
  if (size > ctx.maxMemberSize) return tooBig(ctx, 'aspack-unpacked', size);
  const image = loadImage(data, view.sections, size);
  if (image === undefined) return { kind: 'failed', why: 'ASPack: a section lies outside the image' };
  const base = (pe.entryRva - 1) >>> 0;
  const why = decodeBlocks(image, base, v);
  if (why !== undefined) return { kind: 'failed', why };
  let sections = view.sections;
  const n = sections.length;
  if (n > 2 && base === sections[n - 2]?.rva && sections[n - 1]?.rsz === 0) sections = sections.slice(0, n - 2);
  if (sections.length === 0) return { kind: 'unpacked', pe: image };
  const rebuilt = buildPe(
    {
      imageBase: pe.imageBase,
      entryRva: u32le(image, base + v.entry),
      sections: sections.map((s) => ({ rva: s.rva, virtualSize: s.vsz, data: image.subarray(s.rva, s.rva + s.vsz) })),
    },
    ctx.maxMemberSize,
  );
  if (rebuilt === undefined) return tooBig(ctx, 'aspack-unpacked', undefined);
  return { kind: 'unpacked', pe: rebuilt };
}

/** ASPack 2.12, 2.2x-2.3x and 2.42 on 32-bit Windows executables. */
export const aspackHandler = unpackerHandler('ASPack', unpack);
