// OLE2 compound files (Word, Excel and PowerPoint 97-2003, MSI, ...): the sector allocation table,
// the directory and the mini stream are followed to each stream, which is a member. Chains that
// loop or leave the file are cut short and reported. An `\x01Ole10Native` stream (an embedded file
// from Windows' packager) yields the file it wraps; a PowerPoint document's embedded objects are
// members too. When the file holds VBA macros, vba/ gives their sources as members too, around the
// raw streams in ClamAV's order.
import { hasText, u16le, u32le } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';
import { vbaMembers } from '../vba/index.js';

const END_OF_CHAIN = 0xfffffffe;
const FREE = 0xffffffff;
const HEADER_DIFAT = 109;
const DIR_ENTRY = 128;
const STREAM = 2;
const ROOT = 5;

/** A reader of one compound file's sectors and chains. */
class Compound {
  readonly sectorSize: number;
  readonly fat: Uint32Array;

  constructor(
    private readonly d: Uint8Array,
    private readonly ctx: ExtractContext,
  ) {
    const shift = u16le(d, 0x1e);
    this.sectorSize = shift === 12 ? 4096 : 512;
    const perSector = this.sectorSize / 4;
    const fatSectors: number[] = [];
    for (let i = 0; i < HEADER_DIFAT; i++) {
      const s = u32le(d, 0x4c + i * 4);
      if (s < END_OF_CHAIN) fatSectors.push(s);
    }
    const seen = new Set<number>();
    for (
      let s = u32le(d, 0x44);
      s < END_OF_CHAIN && !seen.has(s) && this.inFile(s);
      s = u32le(d, this.offset(s) + this.sectorSize - 4)
    ) {
      seen.add(s);
      for (let i = 0; i < perSector - 1; i++) {
        const f = u32le(d, this.offset(s) + i * 4);
        if (f < END_OF_CHAIN) fatSectors.push(f);
      }
    }
    const maxSectors = Math.ceil(d.length / this.sectorSize);
    const fat = new Uint32Array(Math.min(fatSectors.length * perSector, maxSectors + perSector));
    let n = 0;
    for (const s of fatSectors) {
      if (!this.inFile(s)) continue;
      for (let i = 0; i < perSector && n < fat.length; i++) fat[n++] = u32le(d, this.offset(s) + i * 4);
    }
    this.fat = fat.subarray(0, n);
  }

  offset(sector: number): number {
    return (sector + 1) * this.sectorSize;
  }

  inFile(sector: number): boolean {
    return this.offset(sector) < this.d.length;
  }

  /** The bytes of the chain starting at `start` in `table`, at most `limit` of them. */
  chain(
    start: number,
    table: Uint32Array,
    sectorSize: number,
    read: (s: number) => Uint8Array,
    limit: number,
  ): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    const seen = new Set<number>();
    for (let s = start; s !== END_OF_CHAIN && s !== FREE && total < limit; s = table[s] ?? END_OF_CHAIN) {
      if (seen.has(s)) {
        this.ctx.broken(`a sector chain loops at sector ${s}`);
        break;
      }
      seen.add(s);
      const bytes = read(s);
      if (bytes.length < sectorSize) {
        if (bytes.length === 0) this.ctx.broken(`a sector chain leaves the file at sector ${s}`);
        parts.push(bytes);
        total += bytes.length;
        break;
      }
      parts.push(bytes);
      total += bytes.length;
    }
    const out = new Uint8Array(Math.min(total, limit));
    let at = 0;
    for (const p of parts) {
      if (at >= out.length) break;
      out.set(p.subarray(0, out.length - at), at);
      at += p.length;
    }
    return out;
  }

  /** A regular-sector chain. */
  sectors(start: number, limit: number): Uint8Array {
    const size = this.sectorSize;
    return this.chain(start, this.fat, size, (s) => this.d.subarray(this.offset(s), this.offset(s) + size), limit);
  }
}

/** The directory entry's name: UTF-16LE, its length in bytes (with the final NUL) at 64. */
function entryName(dir: Uint8Array, o: number): string {
  const len = Math.min(64, u16le(dir, o + 64));
  let s = '';
  for (let i = 0; i + 1 < len - 1; i += 2) s += String.fromCharCode(u16le(dir, o + i));
  return s;
}

/**
 * The file inside Windows' packager format (an `Ole10Native` stream from `at` = 4, or an OLE1
 * `Package` object's data from `at` = 0): a type word, label, source path, two words, a temporary
 * path with its length, then the data with its size.
 */
export function packagedFile(data: Uint8Array, at: number): Uint8Array | undefined {
  let o = at + 2;
  for (let k = 0; k < 2; k++) {
    const nul = data.indexOf(0, o);
    if (nul < 0) return undefined;
    o = nul + 1;
  }
  o += 8; // two words and the temporary path's length
  const nul = data.indexOf(0, o);
  if (nul < 0) return undefined;
  o = nul + 1;
  const size = u32le(data, o);
  return o + 4 + size <= data.length ? data.subarray(o + 4, o + 4 + size) : undefined;
}

const MAGIC = '\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1';

function* streams(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  // Members typed as OLE2 without being compound files (VBA sources, scanned as OLE2 data) stop here.
  if (!hasText(d, 0, MAGIC)) return;
  const file = new Compound(d, ctx);
  const dir = file.sectors(u32le(d, 0x30), d.length);
  const miniSize = 1 << Math.min(16, u16le(d, 0x20) || 6);
  const cutoff = u32le(d, 0x38) || 4096;
  const miniFatBytes = file.sectors(u32le(d, 0x3c), d.length);
  const miniFat = new Uint32Array(miniFatBytes.length >>> 2);
  for (let i = 0; i < miniFat.length; i++) miniFat[i] = u32le(miniFatBytes, i * 4);
  let miniStream: Uint8Array = new Uint8Array(0);
  const entries = dir.length / DIR_ENTRY;
  for (let i = 0; i < entries; i++) {
    const o = i * DIR_ENTRY;
    if (dir[o + 66] === ROOT) miniStream = file.sectors(u32le(dir, o + 116), d.length);
  }
  const read = new Map<number, Uint8Array>();
  /** Entry `i`'s stream, at most maxMemberSize bytes of it; read once. */
  const stream = (i: number): Uint8Array => {
    let data = read.get(i);
    if (data === undefined) {
      const o = i * DIR_ENTRY;
      const size = Math.min(u32le(dir, o + 120), ctx.maxMemberSize);
      const start = u32le(dir, o + 116);
      data =
        u32le(dir, o + 120) < cutoff
          ? file.chain(start, miniFat, miniSize, (s) => miniStream.subarray(s * miniSize, (s + 1) * miniSize), size)
          : file.sectors(start, size);
      read.set(i, data);
    }
    return data;
  };
  const vba = vbaMembers({ dir, stream }, ctx);
  if (vba !== undefined) yield* vba.before();
  for (let i = 0; i < entries; i++) {
    const o = i * DIR_ENTRY;
    if (dir[o + 66] !== STREAM) continue;
    const name = entryName(dir, o);
    const size = u32le(dir, o + 120);
    if (size > ctx.maxMemberSize) {
      ctx.tooBig(name, size);
      continue;
    }
    const data = stream(i);
    read.delete(i);
    if (data.length < size) ctx.broken(`${name} is cut short (${data.length} of ${size} bytes)`);
    const inner = name === '\u0001Ole10Native' ? packagedFile(data, 4) : undefined;
    yield { name: name.replace(/[\u0000-\u001f]/g, ''), data: inner ?? data };
    if (name === 'PowerPoint Document') yield* powerPointObjects(data, ctx);
  }
  if (vba !== undefined) yield* vba.after();
}

const CONTAINER_VERSION = 0x0f;
const EX_OLE_OBJ_STG = 0x1011;

/**
 * The embedded objects of a PowerPoint document stream: ExOleObjStg records, zlib-compressed
 * (instance 1, after the decompressed size) or not. Each is usually a compound file itself.
 */
function* powerPointObjects(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  let n = 0;
  for (let o = 0; o + 8 <= d.length; ) {
    const verInstance = u16le(d, o);
    const type = u16le(d, o + 2);
    const len = u32le(d, o + 4);
    // Container records hold records: step into them rather than over them.
    if ((verInstance & 0x0f) === CONTAINER_VERSION) {
      o += 8;
      continue;
    }
    if (type === EX_OLE_OBJ_STG) {
      const name = `PowerPoint Document/object${++n}`;
      const body = d.subarray(o + 8, Math.min(d.length, o + 8 + len));
      if (verInstance >>> 4 === 1) {
        const out = ctx.env.inflate('zlib', body.subarray(4), ctx.maxMemberSize);
        if (out.status === 'over-limit') ctx.tooBig(name, u32le(body, 0));
        else if (out.status === 'corrupt') ctx.broken(`${name}: ${out.message ?? 'damaged data'}`);
        if (out.data.length > 0) yield { name, data: out.data };
      } else yield { name, data: body };
    }
    o += 8 + len;
  }
}

export const ole2Handler: ContainerHandler = {
  name: 'OLE2',
  families: ['ole2'],
  types: ['CL_TYPE_MSOLE2'],
  extract: streams,
};
