// The directory of a Compiled HTML Help file: the ITSF header, its two header sections (the file
// length, and ITSP with the directory chunks' geometry) and the PMGL listing chunks, whose entries
// are ENCINT-coded (name, section, offset, length). Checks what libmspack's chmd checks, which
// ClamAV uses; reading the files' contents is left to index.ts.
import { latin1, u32le } from '../read.js';

/** One entry of the listing. */
export interface ChmEntry {
  readonly name: string;
  /** 0: stored in the uncompressed section; 1: in the MSCompressed (LZX) section. */
  readonly section: 0 | 1;
  readonly offset: number;
  readonly length: number;
}

/** What the headers and the listing say. */
export interface ChmDirectory {
  /** Where section 0 (the uncompressed section) starts in the file. */
  readonly section0: number;
  /** Files a reader would extract (names not starting with `::`), in listing order. */
  readonly files: readonly ChmEntry[];
  /** The `::` system files, by name. */
  readonly system: ReadonlyMap<string, ChmEntry>;
  /** Listing chunks whose entries could not all be read. */
  readonly damagedChunks: number;
}

/** Header GUIDs {7C01FD10-...} and {7C01FD11-...}, as stored. */
const GUIDS = [
  0x10, 0xfd, 0x01, 0x7c, 0xaa, 0x7b, 0xd0, 0x11, 0x9e, 0x0c, 0x00, 0xa0, 0xc9, 0x22, 0xe6, 0xec, 0x11, 0xfd, 0x01,
  0x7c, 0xaa, 0x7b, 0xd0, 0x11, 0x9e, 0x0c, 0x00, 0xa0, 0xc9, 0x22, 0xe6, 0xec,
];
const ITSF_SIZE = 0x38;
const TABLE_SIZE = 0x28;
const HS0_SIZE = 0x18;
const ITSP_SIZE = 0x54;
const PMGL_ENTRIES = 0x14;
/** libmspack's caps on the directory. */
const MAX_CHUNKS = 100000;
const MAX_CHUNK_SIZE = 8192;
/** ENCINTs of more bytes than this are refused (63 bits). */
const ENCINT_MAX_BYTES = 9;

/** Unsigned 64-bit little-endian at `o` as a number (exact up to 2^53). */
export function u64le(d: Uint8Array, o: number): number {
  return u32le(d, o) + u32le(d, o + 4) * 2 ** 32;
}

/** The directory, or a message saying why the file cannot be read as CHM. */
export function readDirectory(d: Uint8Array): ChmDirectory | string {
  if (d.length < ITSF_SIZE + TABLE_SIZE || u32le(d, 0) !== 0x46535449) return 'the ITSF header is cut short';
  for (let i = 0; i < GUIDS.length; i++) if (d[0x18 + i] !== GUIDS[i]) return 'the ITSF header GUIDs are wrong';
  const version = u32le(d, 4);
  const hs0 = u64le(d, ITSF_SIZE);
  let dirOffset = u64le(d, ITSF_SIZE + 0x10);
  let section0 = u64le(d, ITSF_SIZE + 0x20);
  if (hs0 + HS0_SIZE > d.length) return 'header section 0 lies past the end';
  const declaredLength = u64le(d, hs0 + 8);
  if (dirOffset + ITSP_SIZE > d.length) return 'the directory header lies past the end';
  const chunkSize = u32le(d, dirOffset + 0x10);
  const indexRoot = u32le(d, dirOffset + 0x1c);
  const firstPmgl = u32le(d, dirOffset + 0x20);
  const lastPmgl = u32le(d, dirOffset + 0x24);
  const numChunks = u32le(d, dirOffset + 0x2c);
  dirOffset += ITSP_SIZE;
  if (version < 3) section0 = dirOffset + chunkSize * numChunks;
  if (section0 > declaredLength) return 'the content section begins after the declared end of file';
  if (chunkSize < PMGL_ENTRIES + 2 || chunkSize > MAX_CHUNK_SIZE) return `directory chunk size ${chunkSize} is invalid`;
  if (numChunks === 0 || numChunks > MAX_CHUNKS) return `directory chunk count ${numChunks} is invalid`;
  if (chunkSize * numChunks > declaredLength) return 'the directory chunks are larger than the file';
  if (firstPmgl > lastPmgl) return 'the first listing chunk comes after the last';
  if (indexRoot !== 0xffffffff && indexRoot >= numChunks) return 'the directory index root is out of range';
  const files: ChmEntry[] = [];
  const system = new Map<string, ChmEntry>();
  let damagedChunks = 0;
  for (let c = firstPmgl; c <= lastPmgl; c++) {
    const at = dirOffset + c * chunkSize;
    if (at + chunkSize > d.length) return `directory chunk ${c} lies past the end`;
    const chunk = d.subarray(at, at + chunkSize);
    if (u32le(chunk, 0) !== 0x4c474d50) continue; // only PMGL chunks list files
    if (!readChunk(chunk, files, system)) damagedChunks++;
  }
  return { section0, files, system, damagedChunks };
}

/** Adds a PMGL chunk's entries; false when an entry could not be read. */
function readChunk(chunk: Uint8Array, files: ChmEntry[], system: Map<string, ChmEntry>): boolean {
  const end = chunk.length - 2;
  let left = (chunk[end] as number) | ((chunk[end + 1] as number) << 8);
  const cur = { p: PMGL_ENTRIES };
  for (; left > 0; left--) {
    const nameLen = encint(chunk, cur, end);
    if (nameLen === undefined || nameLen > end - cur.p) return false;
    const nameAt = cur.p;
    cur.p += nameLen;
    const section = encint(chunk, cur, end);
    const offset = encint(chunk, cur, end);
    const length = encint(chunk, cur, end);
    if (section === undefined || offset === undefined || length === undefined) return false;
    // Blank and one-byte names (such as "/") and directories ("dir/" at offset 0, length 0) are skipped.
    if (nameLen < 2 || chunk[nameAt] === 0 || chunk[nameAt + 1] === 0) continue;
    if (offset === 0 && length === 0 && chunk[nameAt + nameLen - 1] === 0x2f) continue;
    if (section > 1) continue;
    const entry: ChmEntry = {
      name: utf8Name(chunk.subarray(nameAt, nameAt + nameLen)),
      section: section === 0 ? 0 : 1,
      offset,
      length,
    };
    if (chunk[nameAt] === 0x3a && chunk[nameAt + 1] === 0x3a) system.set(entry.name, entry);
    else files.push(entry);
  }
  return true;
}

/** An ENCINT at `cur.p`: 7 bits a byte, most significant first, high bit set on all but the last. */
function encint(d: Uint8Array, cur: { p: number }, end: number): number | undefined {
  let v = 0;
  for (let i = 0; i < ENCINT_MAX_BYTES; i++) {
    if (cur.p >= end) return undefined;
    const c = d[cur.p++] as number;
    v = v * 128 + (c & 0x7f);
    if ((c & 0x80) === 0) return v;
  }
  return undefined;
}

/** Names are UTF-8; bytes that are not valid UTF-8 are kept as Latin-1. */
function utf8Name(b: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return latin1(b);
  }
}
