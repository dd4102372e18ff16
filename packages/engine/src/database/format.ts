// The compiled database's container: a header (magic, format version, body length, SHA-256 of the
// body) and named, 8-byte-aligned sections of typed arrays. Opening returns views into the given
// bytes, so a database read into a SharedArrayBuffer is shared by every worker without a copy.
// What the sections mean is left to compile.ts and open.ts.
import type { EngineEnv } from '../env.js';
import { VigilError } from '../errors.js';

export const MAGIC = 'VIGILDB\0';
/** Bumped whenever the layout of any section changes; older files are refused, not misread. */
export const FORMAT_VERSION = 4;

/**
 * The checksum over everything after the header, in bytes 32-63 (zero-padded). It detects damage,
 * not tampering (signed updates are another layer), so the fastest of the host's digests serves:
 * SHA-1 reads about twice as fast as SHA-256 here, which is most of opening a large database.
 */
const CHECKSUM = 'sha1';

const HEADER_SIZE = 64;
const KINDS = ['u8', 'u16', 'u32', 'i32', 'f64'] as const;
type Kind = (typeof KINDS)[number];

export type SectionArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;
export type Sections = Record<string, SectionArray>;

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

function formatError(message: string, details: Record<string, unknown> = {}): VigilError {
  return new VigilError('E_DATABASE_FORMAT', `Cannot open compiled database: ${message}`, { details });
}

/**
 * Writes sections into one buffer. Layout after the 64-byte header: a directory (u32 count, then per
 * section: u8 kind, u8 name length, name bytes, u32 offset, u32 byte length; padded to 8), then the
 * section data, each at an 8-aligned offset relative to the start of the file.
 */
/** Allocates the bytes a database is written into (the Node host passes shared memory). */
export type Allocate = (size: number) => Uint8Array;

export function writeSections(
  sections: Sections,
  env: EngineEnv,
  allocate: Allocate = (n) => new Uint8Array(n),
): Uint8Array {
  const enc = new TextEncoder();
  const names = Object.keys(sections).sort();
  const nameBytes = names.map((n) => enc.encode(n));
  let dirSize = 4;
  for (const nb of nameBytes) {
    if (nb.length > 255) throw new VigilError('E_INTERNAL', `section name too long: ${nb.length} bytes`);
    dirSize += 2 + nb.length + 8;
  }
  let offset = align8(HEADER_SIZE + dirSize);
  const placed = names.map((name) => {
    const a = sections[name] as SectionArray;
    const at = offset;
    offset = align8(offset + a.byteLength);
    return { a, at };
  });
  const out = allocate(offset);
  const view = new DataView(out.buffer);
  let p = HEADER_SIZE;
  view.setUint32(p, names.length, true);
  p += 4;
  names.forEach((_, i) => {
    const nb = nameBytes[i] as Uint8Array;
    const { a, at } = placed[i] as { a: SectionArray; at: number };
    out[p++] = KINDS.indexOf(kindOf(a));
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
  view.setUint32(12, out.length - HEADER_SIZE, true);
  view.setUint32(16, Math.floor((out.length - HEADER_SIZE) / 2 ** 32), true);
  out.set(env.hash(CHECKSUM, out.subarray(HEADER_SIZE)), 32);
  return out;
}

/** Reads the header only: format version and body length, or a typed failure. */
export function readHeader(bytes: Uint8Array): { version: number; bodyLength: number } {
  if (bytes.length < HEADER_SIZE) throw formatError(`file is ${bytes.length} bytes, shorter than the header`);
  if (String.fromCharCode(...bytes.subarray(0, 8)) !== MAGIC) throw formatError('not a Vigil database (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  const bodyLength = view.getUint32(12, true) + view.getUint32(16, true) * 2 ** 32;
  // Bytes 20-31 are reserved and written as zeros; anything else is damage the checksum cannot see.
  for (let i = 20; i < 32; i++) if (bytes[i] !== 0) throw formatError(`reserved header byte ${i} is not zero`);
  return { version, bodyLength };
}

/**
 * Checks header, version, length and checksum, then returns views of every section. Throws
 * E_DATABASE_FORMAT naming what is wrong; nothing is returned from a file that fails a check.
 */
export function readSections(bytes: Uint8Array, env: EngineEnv): Sections {
  const { version, bodyLength } = readHeader(bytes);
  if (version !== FORMAT_VERSION) {
    throw formatError(`format version ${version}, this Vigil reads version ${FORMAT_VERSION}; recompile it`, {
      version,
    });
  }
  if (bodyLength !== bytes.length - HEADER_SIZE) {
    throw formatError(`truncated or padded: header says ${bodyLength + HEADER_SIZE} bytes, file has ${bytes.length}`);
  }
  if (bytes.byteOffset % 8 !== 0) throw new VigilError('E_INTERNAL', 'database bytes must start 8-aligned');
  const sum = env.hash(CHECKSUM, bytes.subarray(HEADER_SIZE));
  const want = bytes.subarray(32, 64);
  for (let i = 0; i < 32; i++)
    if ((sum[i] ?? 0) !== want[i]) throw formatError('checksum mismatch (the file is corrupt)');
  return parseDirectory(bytes);
}

/** Views of the sections of bytes that `writeSections` just wrote (nothing to check: no disk between). */
export function readOwnSections(bytes: Uint8Array): Sections {
  return parseDirectory(bytes);
}

function parseDirectory(bytes: Uint8Array): Sections {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder();
  const out: Sections = {};
  const count = view.getUint32(HEADER_SIZE, true);
  let p = HEADER_SIZE + 4;
  for (let i = 0; i < count; i++) {
    if (p + 2 > bytes.length) throw formatError('section directory runs past the end');
    const kind = KINDS[bytes[p] as number];
    const len = bytes[p + 1] as number;
    if (kind === undefined || p + 2 + len + 8 > bytes.length) throw formatError(`bad section entry ${i}`);
    const name = dec.decode(bytes.subarray(p + 2, p + 2 + len));
    const at = view.getUint32(p + 2 + len, true);
    const size = view.getUint32(p + 6 + len, true);
    p += 10 + len;
    if (at % 8 !== 0 || at + size > bytes.length) throw formatError(`section ${name} lies outside the file`);
    out[name] = viewOf(kind, bytes, at, size);
  }
  return out;
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
