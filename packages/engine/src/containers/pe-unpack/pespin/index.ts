// PESpin 1.3: recognises the stub (a CALL/POP prologue at the entry point in the last section),
// peels its layers in ClamAV's order (layers.ts): the stub's own keys, the sections' XOR stream
// keyed by the file's checksum, the POLY1 snippet; then expands the compressed sections and the
// compressed part of the resources (FSG's aPLib-like LZ, ../aplib.ts) and rebuilds a PE from the
// other sections.
import { u32le } from '../../read.js';
import type { ExtractContext } from '../../types.js';
import { type AlignedSection, type AlignedView, alignedView } from '../aligned.js';
import { aplibDecode } from '../aplib.js';
import { bytesAt } from '../bytes.js';
import { buildPe, type PeLayout, tooBig, type UnpackResult, unpackerHandler } from '../pe.js';
import { lfsrXor, runPoly1, spinChecksum } from './layers.js';

const PROLOGUE = [0xe8, 0, 0, 0, 0, 0x8b, 0x1c, 0x24, 0x83, 0xc3];
/** The stub reaches this far past the entry point; all its offsets below lie within. */
const STUB_SPAN = 0x3217 + 4;

type Fail = { readonly why: string };

function isPespin(data: Uint8Array, pe: PeLayout, view: AlignedView): boolean {
  const last = view.sections[view.sections.length - 1] as AlignedSection;
  return (
    view.sections.length > 1 &&
    pe.entryRva >= last.rva &&
    pe.entryRva - last.rva + STUB_SPAN < last.rsz &&
    bytesAt(data, view.ep + 4, PROLOGUE)
  );
}

/** Undoes the layers that cover the stub itself, in a copy of its section; the sections' key. */
function openStub(file: Uint8Array, last: AlignedSection, ep: number): number | Fail {
  const stub = file.slice(last.raw, last.raw + last.rsz);
  if (stub[ep + 0xdb] !== 0xbb || stub[ep + 0xe0] !== 0xb9 || u32le(stub, ep + 0xe1) !== 0x11fe)
    return { why: 'not a PESpin 1.3 stub' };
  let key8 = stub[ep + 0xdc] as number;
  for (let p = ep + 0x1fe5 + 0x11fe - 1; p >= ep + 0x1fe5; p--) {
    stub[p] = (stub[p] as number) ^ key8;
    key8 = (key8 - 1) & 0xff;
  }
  if (u32le(stub, ep + 0x26f0) !== 0x5a0) return { why: 'not a PESpin 1.3 stub' };
  lfsrXor(stub, ep + 0x2d5, 0x5a0, { key: u32le(stub, ep + 0x26eb), poly: 0x8c328834, tapOn: 1 });
  // The sections' key is the stored one minus a checksum of the file up to the stored size.
  const summed = file.length - u32le(stub, ep + 0x429);
  if (summed < 0 || summed >= file.length) return { why: 'its checksum length lies outside the file' };
  const key = (u32le(stub, ep + 0x3217) - spinChecksum(file, summed)) >>> 0;
  file.set(stub, last.raw);
  return key;
}

/** Decrypts the stub's remaining layers and the sections, in place in `file`. */
function decryptAll(file: Uint8Array, view: AlignedView, epRva: number): Fail | undefined {
  const last = view.sections[view.sections.length - 1] as AlignedSection;
  const key = openStub(file, last, epRva - last.rva);
  if (typeof key !== 'number') return key;
  const ep = last.raw + epRva - last.rva;
  const sects = view.sections.slice(0, -1);
  let bitmap = u32le(file, ep + 0x3207);
  for (const s of sects) {
    if (bitmap & 1) {
      if (!s.rsz) return { why: 'an encrypted section has no data' };
      lfsrXor(file, s.raw, s.rsz, { key, poly: 0xed43af31, tapOn: 0 });
    }
    bitmap >>>= 1;
  }
  if (u32le(file, ep + 0x644) !== 0x180) return { why: 'not a PESpin 1.3 stub' };
  lfsrXor(file, ep + 0x28d3, 0x180, { key: u32le(file, ep + 0x650), poly: 0xed43af32, tapOn: 1 });
  if (u32le(file, ep + 0x28dd) !== 0x1a1) return { why: 'not a PESpin 1.3 stub' };
  if (!runPoly1(file, ep + 0x28ec, ep + 0x6d4, 0x1a1)) return { why: 'its POLY1 code cannot be run' };
  bitmap = u32le(file, ep + 0x6f1);
  for (const s of sects) {
    if (bitmap & 1 && !runPoly1(file, ep + 0x755, s.raw, s.rsz)) return { why: 'its section code cannot be run' };
    bitmap >>>= 1;
  }
  return undefined;
}

/** Each section's bytes: expanded where the compression bitmap says, else as stored. */
function expandSections(file: Uint8Array, sects: readonly AlignedSection[], bitmap: number): Uint8Array[] | undefined {
  const out: Uint8Array[] = [];
  for (const [j, s] of sects.entries()) {
    const raw = file.subarray(s.raw, s.raw + s.rsz);
    if (j < 32 && (bitmap >>> j) & 1) {
      const grown = new Uint8Array(s.vsz);
      if (aplibDecode(raw, grown) === undefined) return undefined;
      out.push(grown);
    } else out.push(raw);
  }
  return out;
}

/** The resources' section may be stored up to `resRva` and compressed after it: expands that part. */
function growResources(
  file: Uint8Array,
  sects: readonly AlignedSection[],
  data: Uint8Array[],
  bitmap: number,
  resRva: number,
): void {
  const j = sects.findIndex(
    (s) => s.rva <= resRva && resRva - s.rva < s.vsz && resRva - s.rva > 0 && resRva - s.rva <= s.rsz,
  );
  const s = sects[j];
  if (s === undefined || (j < 32 && (bitmap >>> j) & 1)) return;
  const stored = resRva - s.rva;
  const grown = new Uint8Array(s.vsz);
  grown.set(file.subarray(s.raw, s.raw + stored));
  // As in ClamAV, resources that do not expand are kept as stored.
  if (aplibDecode(file.subarray(s.raw + stored, s.raw + s.rsz), grown.subarray(stored)) !== undefined) data[j] = grown;
}

function unpack(data: Uint8Array, pe: PeLayout, ctx: ExtractContext): UnpackResult {
  const view = alignedView(data, pe);
  if (view === undefined || !isPespin(data, pe, view)) return { kind: 'not-packed' };
  if (data.length > ctx.maxMemberSize) return tooBig(ctx, 'pespin-unpacked', data.length);
  const file = data.slice();
  const failed = decryptAll(file, view, pe.entryRva);
  if (failed !== undefined) return { kind: 'failed', why: `PESpin: ${failed.why}` };
  const ep = view.ep;
  const sects = view.sections.slice(0, -1);
  const bitmap = u32le(file, ep + 0x3061);
  const grownSize = sects.reduce((n, s, j) => n + (j < 32 && (bitmap >>> j) & 1 ? s.vsz : 0), 0);
  if (grownSize > ctx.maxMemberSize) return tooBig(ctx, 'pespin-unpacked', grownSize);
  const parts = expandSections(file, sects, bitmap);
  if (parts === undefined) return { kind: 'failed', why: 'PESpin: a compressed section is damaged' };
  const resRva = u32le(file, ep + 0x2fee);
  if (resRva) growResources(file, sects, parts, bitmap, resRva);
  const sections = sects.map((s, j) => ({ rva: s.rva, virtualSize: s.vsz, data: parts[j] as Uint8Array }));
  // ClamAV does not recover the entry point or the image base; it writes these fixed values.
  const rebuilt = buildPe({ imageBase: 0x400000, entryRva: 0x1000, sections }, ctx.maxMemberSize);
  if (rebuilt === undefined) return tooBig(ctx, 'pespin-unpacked', undefined);
  return { kind: 'unpacked', pe: rebuilt };
}

/** Unpacks PESpin 1.3 executables, as ClamAV's spin.c does. */
export const pespinHandler = unpackerHandler('PESpin', unpack);
