// Turns the memory a UPX stub has filled back into an executable, the way ClamAV does: UPX keeps
// the original PE header after the import names at the end of what it decompresses, and the stub's
// `lea edi, [esi+imports]` says where those names start. With the header found, its sections are
// laid out again from the decoded memory; failing that, a header is searched for backwards; failing
// that, the memory gets a plain header of its own. Decoding is nrv.ts's and index.ts's.
import { u32le } from '../../read.js';
import { alignDown, alignUp } from '../aligned.js';
import { putU32 } from '../bytes.js';
import { buildPe } from '../pe.js';

/** What the stub left: its section's bytes and where the entry point is in them. */
export interface UpxStub {
  /** UPX1's file bytes (from where decoding started). */
  readonly src: Uint8Array;
  /** The entry point's offset in `src` (negative when it lies before). */
  readonly entry: number;
  /** Offsets from the entry point of the `lea edi, [esi+imm32]` operand, per decompressor. */
  readonly magic: readonly number[];
}

/** What was decoded: memory from UPX0's RVA on. */
export interface UpxMemory {
  /** The stub's window (ClamAV's dsize bytes); past `end` it holds what earlier attempts left. */
  readonly image: Uint8Array;
  /** Bytes actually decoded. */
  readonly end: number;
  /** UPX0's RVA. */
  readonly upx0: number;
}

const DOS_SIZE = 0xd0;
const NT_SIZE = 0xf8;
const SECTION_SIZE = 0x28;
/** ClamAV's allowance for a rebuilt file over the window it decoded into. */
const SLACK = 8192;

/** Whether `[at, at + len)` lies in `[0, size)`, len > 0. */
const inside = (at: number, len: number, size: number): boolean => len > 0 && at >= 0 && at + len <= size;

/** The offset (from the entry point) of the imports operand: at a known place, else searched for. */
function importsOperand(stub: UpxStub): number | undefined {
  const { src, entry } = stub;
  for (const m of stub.magic) {
    const at = entry + m - 2;
    if (inside(at, 2, src.length - 5) && src[at] === 0x8d && src[at + 1] === 0xbe) return m;
  }
  const from = entry + 0x80;
  if (!inside(from, 8, src.length - 8)) return undefined;
  // lea edi, [esi+imports] followed by mov eax, [edi]
  for (let p = from; p + 2 <= src.length - 8; p++) {
    if (src[p] === 0x8d && src[p + 1] === 0xbe && src[p + 6] === 0x8b && src[p + 7] === 0x07) return p + 2 - entry;
  }
  return undefined;
}

/** The NT header at `at` if it looks whole: its section alignment and section count, both non-zero. */
function ntHeader(image: Uint8Array, at: number): { align: number; count: number } | undefined {
  if (!inside(at, NT_SIZE, image.length) || u32le(image, at) !== 0x4550) return undefined;
  const align = u32le(image, at + 0x38);
  const count = (image[at + 6] as number) | ((image[at + 7] as number) << 8);
  if (align === 0 || count === 0 || !inside(at + NT_SIZE, count * SECTION_SIZE, image.length)) return undefined;
  return { align, count };
}

/** Past the import descriptors UPX keeps (a dll name, then function names, per entry) and 4 more. */
function skipImports(image: Uint8Array, start: number): number {
  const size = image.length;
  let p = start;
  while (inside(p, 8, size) && u32le(image, p) !== 0) {
    p += 8;
    while (inside(p, 2, size) && image[p] !== 0) {
      p++;
      while (inside(p, 2, size) && image[p] !== 0) p++;
      p++;
    }
    p++;
  }
  return p + 4;
}

interface Found {
  readonly at: number;
  /** Bytes of memory the sections may take (up to the imports, or to the header). */
  readonly extent: number;
}

function findHeader(stub: UpxStub, mem: UpxMemory): Found | undefined {
  const { image } = mem;
  const m = importsOperand(stub);
  if (m !== undefined && inside(stub.entry + m, 4, stub.src.length)) {
    const imports = u32le(stub.src, stub.entry + m);
    if (imports < image.length) {
      const at = skipImports(image, imports);
      if (ntHeader(image, at) !== undefined) return { at, extent: imports };
    }
  }
  if (mem.end <= NT_SIZE + SECTION_SIZE) return undefined;
  for (let at = mem.end - NT_SIZE - SECTION_SIZE; at > 0; at--) {
    if (image[at] === 0x50 && ntHeader(image, at) !== undefined) return { at, extent: at };
  }
  return undefined;
}

/**
 * Lays the sections out again: each at an offset aligned to the section alignment, sized to its
 * aligned memory size, taken from memory. Undefined (ClamAV then keeps the raw memory, with the
 * section headers as far as they were rewritten) when a section lies outside what was decoded.
 */
function layOut(mem: UpxMemory, found: Found): Uint8Array | undefined {
  const { image, upx0 } = mem;
  const head = ntHeader(image, found.at);
  if (head === undefined) return undefined;
  const table = found.at + NT_SIZE;
  let offset = alignUp(DOS_SIZE + NT_SIZE + SECTION_SIZE * head.count, head.align);
  const places: [number, number, number][] = [];
  for (let i = 0; i < head.count; i++) {
    const s = table + i * SECTION_SIZE;
    const vsize = alignUp(u32le(image, s + 8), head.align);
    const rva = alignDown(u32le(image, s + 12), head.align);
    if (!inside(rva - upx0, vsize, found.extent)) return undefined;
    putU32(image, s + 8, vsize);
    putU32(image, s + 12, rva);
    putU32(image, s + 16, vsize);
    putU32(image, s + 20, offset);
    places.push([offset, rva - upx0, vsize]);
    if (offset + vsize > 0xffffffff) return undefined;
    offset += vsize;
  }
  putU32(image, found.at + 8, 0x4d414c43); // the time stamp becomes "CLAM", as ClamAV marks it
  putU32(image, found.at + 0x3c, head.align); // file alignment = section alignment
  if (offset > image.length + SLACK) return undefined;
  const out = new Uint8Array(offset);
  out[0] = 0x4d;
  out[1] = 0x5a;
  putU32(out, 0x3c, DOS_SIZE);
  out.set(image.subarray(found.at, table + SECTION_SIZE * head.count), DOS_SIZE);
  for (const [to, from, len] of places) out.set(image.subarray(from, from + len), to);
  return out;
}

/**
 * The file ClamAV scans after a successful UPX decode: the rebuilt executable, or a made-up
 * one around the memory, or (when a found header does not fit) the memory itself. Undefined only
 * when that would pass `max` bytes.
 */
export function rebuildUpx(stub: UpxStub, mem: UpxMemory, max: number): Uint8Array | undefined {
  const found = findHeader(stub, mem);
  if (found === undefined) {
    const size = alignUp(mem.end, 0x1000);
    const data = mem.image.subarray(0, mem.end);
    return buildPe(
      { imageBase: 0x400000, entryRva: 0x1000, sections: [{ rva: 0x1000, virtualSize: size, data }] },
      max,
    );
  }
  const rebuilt = layOut(mem, found);
  const result = rebuilt ?? mem.image;
  return result.length > max ? undefined : result;
}
