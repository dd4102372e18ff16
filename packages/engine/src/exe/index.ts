// Executable facts for offsets and target descriptions: PE (MZ + PE header) and ELF (32/64-bit,
// either byte order). Only headers are read; damaged headers yield partial facts, never a throw.
import type { ByteSource } from '../bytesource.js';
import type { ExecutableFacts, FileType, Section } from '../filetypes/types.js';

class Reader {
  constructor(
    private readonly d: Uint8Array,
    private readonly little = true,
  ) {}
  has(at: number, n: number): boolean {
    return at >= 0 && at + n <= this.d.length;
  }
  u16(at: number): number {
    const a = this.d[at] ?? 0;
    const b = this.d[at + 1] ?? 0;
    return this.little ? a | (b << 8) : (a << 8) | b;
  }
  u32(at: number): number {
    const lo = this.u16(this.little ? at : at + 2);
    const hi = this.u16(this.little ? at + 2 : at);
    return hi * 0x10000 + lo;
  }
  u64(at: number): number {
    const lo = this.u32(this.little ? at : at + 4);
    const hi = this.u32(this.little ? at + 4 : at);
    return hi * 0x100000000 + lo;
  }
}

/** PE headers are within the first few KiB; sections are at most 96 (Windows' loader limit is 96). */
const PE_HEAD = 64 * 1024;
const MAX_SECTIONS = 96;

function alignDown(v: number, a: number): number {
  return a === 0 ? v : Math.floor(v / a) * a;
}
function alignUp(v: number, a: number): number {
  return a === 0 ? v : Math.ceil(v / a) * a;
}

/** PE: sections with raw offsets aligned as ClamAV aligns them, and the entry point as a file offset. */
export function parsePe(source: ByteSource): ExecutableFacts | undefined {
  const d = source.read(0, PE_HEAD);
  const r = new Reader(d);
  if (!r.has(0x3c, 4)) return undefined;
  const pe = r.u32(0x3c);
  if (!r.has(pe, 24) || r.u32(pe) !== 0x00004550) return undefined;
  const nsect = r.u16(pe + 6);
  const optSize = r.u16(pe + 20);
  const opt = pe + 24;
  if (!r.has(opt, 40)) return { format: 'pe', entryPoint: undefined, sections: [], malformed: true };
  const epRva = r.u32(opt + 16);
  const fa = r.u32(opt + 36);
  const falign = fa !== 0 && (fa & (fa - 1)) === 0 ? fa : 0;
  const sections: Section[] = [];
  let malformed = nsect > MAX_SECTIONS;
  const table = opt + optSize;
  for (let i = 0; i < Math.min(nsect, MAX_SECTIONS); i++) {
    const s = table + i * 40;
    if (!r.has(s, 40)) {
      malformed = true;
      break;
    }
    const rawOffset = alignDown(r.u32(s + 20), falign);
    let rawSize = alignUp(r.u32(s + 16), falign);
    if (rawSize > 0 && rawOffset + rawSize > source.size) rawSize = Math.max(0, source.size - rawOffset);
    sections.push({ rva: r.u32(s + 12), virtualSize: r.u32(s + 8), rawOffset, rawSize });
  }
  return { format: 'pe', entryPoint: rvaToOffset(epRva, sections, source.size), sections, malformed };
}

function rvaToOffset(rva: number, sections: readonly Section[], size: number): number | undefined {
  const first = sections[0];
  if (first === undefined || rva < first.rva) return rva < size ? rva : undefined;
  for (const s of sections) {
    if (s.rawSize > 0 && rva >= s.rva && rva < s.rva + s.rawSize) {
      const off = s.rawOffset + (rva - s.rva);
      return off < size ? off : undefined;
    }
  }
  return undefined;
}

/** ELF: the entry point through the program headers, sections from the section header table. */
export function parseElf(source: ByteSource): ExecutableFacts | undefined {
  const head = source.read(0, 64);
  if (head.length < 52 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46)
    return undefined;
  const is64 = head[4] === 2;
  const little = head[5] !== 2;
  const r = new Reader(head, little);
  const entry = is64 ? r.u64(24) : r.u32(24);
  const phoff = is64 ? r.u64(32) : r.u32(28);
  const shoff = is64 ? r.u64(40) : r.u32(32);
  const phentsize = r.u16(is64 ? 54 : 42);
  const phnum = r.u16(is64 ? 56 : 44);
  const shentsize = r.u16(is64 ? 58 : 46);
  const shnum = r.u16(is64 ? 60 : 48);
  let malformed = false;
  let entryPoint: number | undefined;
  if (phnum > 0 && phentsize >= (is64 ? 56 : 32) && phnum <= 4096) {
    const ph = source.read(phoff, phnum * phentsize);
    if (ph.length < phnum * phentsize) malformed = true;
    const p = new Reader(ph, little);
    for (let i = 0; i * phentsize + phentsize <= ph.length; i++) {
      const at = i * phentsize;
      if (p.u32(at) !== 1) continue; // PT_LOAD
      const offset = is64 ? p.u64(at + 8) : p.u32(at + 4);
      const vaddr = is64 ? p.u64(at + 16) : p.u32(at + 8);
      const filesz = is64 ? p.u64(at + 32) : p.u32(at + 16);
      if (entry >= vaddr && entry < vaddr + filesz) {
        entryPoint = offset + (entry - vaddr);
        break;
      }
    }
  }
  if (entryPoint !== undefined && entryPoint >= source.size) entryPoint = undefined;
  const sections: Section[] = [];
  if (shnum > 0 && shentsize >= (is64 ? 64 : 40) && shnum <= 65535) {
    const sh = source.read(shoff, shnum * shentsize);
    if (sh.length < shnum * shentsize) malformed = true;
    const s = new Reader(sh, little);
    for (let i = 0; i * shentsize + shentsize <= sh.length; i++) {
      const at = i * shentsize;
      const type = s.u32(at + 4);
      const addr = is64 ? s.u64(at + 16) : s.u32(at + 12);
      const offset = is64 ? s.u64(at + 24) : s.u32(at + 16);
      const size = is64 ? s.u64(at + 32) : s.u32(at + 20);
      sections.push({ rva: addr, virtualSize: size, rawOffset: offset, rawSize: type === 8 ? 0 : size });
    }
  }
  return { format: 'elf', entryPoint, sections, malformed };
}

/** The executable facts of a file of the given type, or undefined when it is not one. */
export function parseExecutable(source: ByteSource, type: FileType): ExecutableFacts | undefined {
  if (type === 'CL_TYPE_MSEXE') return parsePe(source);
  if (type === 'CL_TYPE_ELF') return parseElf(source);
  return undefined;
}
