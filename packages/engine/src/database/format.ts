// The compiled database's container: a header (magic, format version, lengths, SHA-1 of the resident
// body) and named, 8-byte-aligned sections of typed arrays. Opening returns views into the given
// bytes, so a database read into a SharedArrayBuffer is shared by every worker without a copy.
// Sections named `...@paged` (the hash tables, most of a database's bytes and rarely read) go after
// the resident body: a host may leave them in the file and read a 4 KiB page when a lookup needs it,
// each page checked against a CRC-32 kept in the resident body. What the sections mean is left to
// compile.ts and open.ts.
import { crc32 } from '../containers/read.js';
import type { EngineEnv } from '../env.js';
import { VigilError } from '../errors.js';

export const MAGIC = 'VIGILDB\0';
/** Bumped whenever the layout of any section changes; older files are refused, not misread. */
export const FORMAT_VERSION = 5;

/**
 * The checksum over the resident body, in bytes 32-63 (zero-padded). It detects damage, not
 * tampering (signed updates are another layer), so the fastest of the host's digests serves:
 * SHA-1 reads about twice as fast as SHA-256 here, which is most of opening a large database.
 */
const CHECKSUM = 'sha1';

export const HEADER_SIZE = 64;
/** The unit paged sections are read and checked in. */
export const PAGE_SIZE = 4096;
/** The name suffix of a section kept out of the resident body (a u8 section). */
export const PAGED = '@paged';
const PAGED_FLAG = 0x80;
const KINDS = ['u8', 'u16', 'u32', 'i32', 'f64'] as const;
type Kind = (typeof KINDS)[number];

export type SectionArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;
export type Sections = Record<string, SectionArray>;

/**
 * Where the paged sections of a database opened from its resident bytes are read: the whole file's
 * length, and a read of `length` bytes at a file offset (fewer only at the end of the file).
 */
export interface PageSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

/** A section left in the file: read a page at a time, each page checked. */
export class PagedSection {
  constructor(
    readonly name: string,
    private readonly source: PageSource,
    /** Its offset in the file. */
    readonly at: number,
    readonly size: number,
    private readonly crcs: Uint32Array,
  ) {}

  get pageCount(): number {
    return this.crcs.length;
  }

  /** Page `i`: PAGE_SIZE bytes, fewer for the last one. Throws E_DATABASE_FORMAT if damaged. */
  page(i: number): Uint8Array {
    const start = i * PAGE_SIZE;
    const length = Math.min(PAGE_SIZE, this.size - start);
    const b = this.source.read(this.at + start, length);
    if (b.length !== length || crc32(b) !== this.crcs[i]) {
      // Found when a lookup or a check reads the page, after opening: not "Cannot open".
      throw new VigilError(
        'E_DATABASE_FORMAT',
        `Compiled database: page ${i} of section ${this.name} is damaged or missing (was the file changed while it was open?)`,
      );
    }
    return b;
  }
}

/** A database's sections: views of the resident ones, and the paged ones by name. */
export interface OpenedSections {
  readonly sections: Sections;
  readonly paged: Readonly<Record<string, PagedSection>>;
  /** The length of the whole file: header, resident body and paged sections. */
  readonly totalLength: number;
}

function kindOf(a: SectionArray): Kind {
  if (a instanceof Uint8Array) return 'u8';
  if (a instanceof Uint16Array) return 'u16';
  if (a instanceof Uint32Array) return 'u32';
  if (a instanceof Int32Array) return 'i32';
  return 'f64';
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** The CRC-32 of each PAGE_SIZE page of `bytes`. */
function pageCrcs(bytes: Uint8Array): Uint32Array {
  const out = new Uint32Array(Math.ceil(bytes.length / PAGE_SIZE));
  for (let i = 0; i < out.length; i++) out[i] = crc32(bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
  return out;
}

function formatError(message: string, details: Record<string, unknown> = {}): VigilError {
  return new VigilError('E_DATABASE_FORMAT', `Cannot open compiled database: ${message}`, { details });
}

/** Allocates the bytes a database is written into (the Node host passes shared memory). */
export type Allocate = (size: number) => Uint8Array;

/**
 * Writes sections into one buffer. Layout after the 64-byte header: a directory (u32 count, then per
 * section: u8 kind (bit 7 set for a paged section), u8 name length, name bytes, u32 offset, u32 byte
 * length), then the resident sections, each at an 8-aligned offset from the start of the file, then
 * the paged ones, back to back. Each paged section `x@paged` gets a resident `x@paged.crc` of its
 * pages' CRC-32s.
 * The header holds the resident body's length (bytes 12-19), the paged sections' (20-27) and the
 * resident body's checksum (32-63).
 */
export function writeSections(
  sections: Sections,
  env: EngineEnv,
  allocate: Allocate = (n) => new Uint8Array(n),
): Uint8Array {
  const all: Sections = { ...sections };
  for (const [name, a] of Object.entries(sections)) {
    if (!name.endsWith(PAGED)) continue;
    if (!(a instanceof Uint8Array)) throw new VigilError('E_INTERNAL', `paged section ${name} is not bytes`);
    all[`${name}.crc`] = pageCrcs(a);
  }
  const enc = new TextEncoder();
  const sorted = Object.keys(all).sort();
  const names = [...sorted.filter((n) => !n.endsWith(PAGED)), ...sorted.filter((n) => n.endsWith(PAGED))];
  const nameBytes = names.map((n) => enc.encode(n));
  let dirSize = 4;
  for (const nb of nameBytes) {
    if (nb.length > 255) throw new VigilError('E_INTERNAL', `section name too long: ${nb.length} bytes`);
    dirSize += 2 + nb.length + 8;
  }
  let offset = align8(HEADER_SIZE + dirSize);
  let residentEnd = offset;
  // Paged sections follow each other unaligned (bytes, read by copy): no byte after the resident
  // body is outside a checked page.
  const placed = names.map((name) => {
    const a = all[name] as SectionArray;
    const at = offset;
    offset = name.endsWith(PAGED) ? offset + a.byteLength : align8(offset + a.byteLength);
    if (!name.endsWith(PAGED)) residentEnd = offset;
    return { a, at };
  });
  const out = allocate(offset);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let p = HEADER_SIZE;
  view.setUint32(p, names.length, true);
  p += 4;
  names.forEach((name, i) => {
    const nb = nameBytes[i] as Uint8Array;
    const { a, at } = placed[i] as { a: SectionArray; at: number };
    out[p++] = KINDS.indexOf(kindOf(a)) | (name.endsWith(PAGED) ? PAGED_FLAG : 0);
    out[p++] = nb.length;
    out.set(nb, p);
    p += nb.length;
    view.setUint32(p, at, true);
    view.setUint32(p + 4, a.byteLength, true);
    p += 8;
  });
  placed.forEach(({ a, at }) => {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
  });
  out.set(enc.encode(MAGIC), 0);
  view.setUint32(8, FORMAT_VERSION, true);
  setLength(view, 12, residentEnd - HEADER_SIZE);
  setLength(view, 20, out.length - residentEnd);
  out.set(env.hash(CHECKSUM, out.subarray(HEADER_SIZE, residentEnd)), 32);
  return out;
}

function setLength(view: DataView, at: number, n: number): void {
  view.setUint32(at, n % 2 ** 32, true);
  view.setUint32(at + 4, Math.floor(n / 2 ** 32), true);
}

function getLength(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
}

/** What the header says: format version, and the lengths of the resident part and of the whole file. */
export interface Header {
  readonly version: number;
  /** Header and resident body: what must be in memory. */
  readonly residentLength: number;
  /** Resident part and paged sections. */
  readonly totalLength: number;
}

/** Reads the header only, or throws a typed failure. */
export function readHeader(bytes: Uint8Array): Header {
  if (bytes.length < HEADER_SIZE) throw formatError(`file is ${bytes.length} bytes, shorter than the header`);
  if (String.fromCharCode(...bytes.subarray(0, 8)) !== MAGIC) throw formatError('not a Vigil database (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  const residentLength = HEADER_SIZE + getLength(view, 12);
  // Bytes 28-31 are reserved and written as zeros; anything else is damage the checksum cannot see.
  for (let i = 28; i < 32; i++) if (bytes[i] !== 0) throw formatError(`reserved header byte ${i} is not zero`);
  return { version, residentLength, totalLength: residentLength + getLength(view, 20) };
}

/**
 * Checks header, version, lengths and checksum, then returns views of every resident section and
 * the paged ones. `bytes` is the whole file, or its resident part with `pages` to read the rest
 * from. Throws E_DATABASE_FORMAT naming what is wrong; nothing is returned from a file that fails
 * a check (a damaged page is found when it is read).
 */
export function readSections(bytes: Uint8Array, env: EngineEnv, pages?: PageSource): OpenedSections {
  const header = readHeader(bytes);
  if (header.version !== FORMAT_VERSION) {
    throw formatError(`format version ${header.version}, this Vigil reads version ${FORMAT_VERSION}; recompile it`, {
      version: header.version,
    });
  }
  const { residentLength, totalLength } = header;
  const fileLength = bytes.length === residentLength && pages !== undefined ? pages.size : bytes.length;
  if (fileLength !== totalLength) {
    throw formatError(`truncated or padded: header says ${totalLength} bytes, file has ${fileLength}`);
  }
  if (bytes.byteOffset % 8 !== 0) throw new VigilError('E_INTERNAL', 'database bytes must start 8-aligned');
  const sum = env.hash(CHECKSUM, bytes.subarray(HEADER_SIZE, residentLength));
  const want = bytes.subarray(32, 64);
  for (let i = 0; i < 32; i++)
    if ((sum[i] ?? 0) !== want[i]) throw formatError('checksum mismatch (the file is corrupt)');
  return parseDirectory(bytes, header, bytes.length === totalLength ? inMemory(bytes) : (pages as PageSource));
}

/** The sections of bytes that `writeSections` just wrote (nothing to check: no disk between). */
export function readOwnSections(bytes: Uint8Array): OpenedSections {
  return parseDirectory(bytes, readHeader(bytes), inMemory(bytes));
}

function inMemory(bytes: Uint8Array): PageSource {
  return { size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

function parseDirectory(bytes: Uint8Array, header: Header, source: PageSource): OpenedSections {
  const { residentLength, totalLength } = header;
  const view = new DataView(bytes.buffer, bytes.byteOffset, residentLength);
  const dec = new TextDecoder();
  const sections: Sections = {};
  const pagedAt: [string, number, number][] = [];
  const count = view.getUint32(HEADER_SIZE, true);
  let p = HEADER_SIZE + 4;
  for (let i = 0; i < count; i++) {
    if (p + 2 > residentLength) throw formatError('section directory runs past the end');
    const flags = bytes[p] as number;
    const kind = KINDS[flags & ~PAGED_FLAG];
    const len = bytes[p + 1] as number;
    if (kind === undefined || p + 2 + len + 8 > residentLength) throw formatError(`bad section entry ${i}`);
    const name = dec.decode(bytes.subarray(p + 2, p + 2 + len));
    const at = view.getUint32(p + 2 + len, true);
    const size = view.getUint32(p + 6 + len, true);
    p += 10 + len;
    const paged = (flags & PAGED_FLAG) !== 0;
    if (paged !== name.endsWith(PAGED) || (paged && kind !== 'u8')) throw formatError(`bad section entry ${name}`);
    const [from, to] = paged ? [residentLength, totalLength] : [HEADER_SIZE, residentLength];
    if ((!paged && at % 8 !== 0) || at < from || at + size > to)
      throw formatError(`section ${name} lies outside its part of the file`);
    if (paged) pagedAt.push([name, at, size]);
    else sections[name] = viewOf(kind, bytes, at, size);
  }
  const paged: Record<string, PagedSection> = {};
  for (const [name, at, size] of pagedAt) {
    const crcs = sections[`${name}.crc`];
    if (!(crcs instanceof Uint32Array) || crcs.length !== Math.ceil(size / PAGE_SIZE))
      throw formatError(`section ${name} has no page checksums`);
    paged[name] = new PagedSection(name, source, at, size, crcs);
  }
  return { sections, paged, totalLength };
}

function viewOf(kind: Kind, bytes: Uint8Array, at: number, size: number): SectionArray {
  const off = bytes.byteOffset + at;
  const buf = bytes.buffer;
  switch (kind) {
    case 'u8':
      return new Uint8Array(buf, off, size);
    case 'u16':
      return new Uint16Array(buf, off, size / 2);
    case 'u32':
      return new Uint32Array(buf, off, size / 4);
    case 'i32':
      return new Int32Array(buf, off, size / 4);
    case 'f64':
      return new Float64Array(buf, off, size / 8);
  }
}

/** Encodes a JSON-serialisable value as a u8 section. */
export function jsonSection(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Decodes a u8 section written by jsonSection. */
export function readJsonSection(sections: Sections, name: string): unknown {
  const s = sections[name];
  if (!(s instanceof Uint8Array)) throw formatError(`section ${name} is missing`);
  try {
    return JSON.parse(new TextDecoder().decode(s));
  } catch (cause) {
    throw formatError(`section ${name} is not valid JSON: ${String(cause)}`);
  }
}

/** Returns the section `name` checked to be of the expected array type. */
export function section<T extends SectionArray>(sections: Sections, name: string, type: new (n: number) => T): T {
  const s = sections[name];
  if (!(s instanceof type)) throw formatError(`section ${name} is missing or of the wrong type`);
  return s;
}
