// Files embedded in a file's bytes: the archives, installers and executables that ClamAV's raw pass
// finds through its `1:*:` file-type signatures (an SFX archive after an executable stub, a PE
// inside a document, NSIS or AutoIt data appended to an installer, an ISO 9660 image whose first
// volume descriptor lies 32 KiB in). This finds where each starts, checks its header as ClamAV
// does and says how far it reaches; the scanner scans each such slice as a layer of the type
// found. Formats are read by their container handlers, not here.

import { bytesSource } from '../bytesource.js';
import { isoImageAt } from '../containers/iso9660/volume.js';
import { NSIS_MAGIC } from '../containers/nsis/index.js';
import { crc32, hasText, u16le, u32le } from '../containers/read.js';
import { parsePe } from '../exe/index.js';
import type { FileType } from '../filetypes/types.js';

/** One embedded file: where it starts, how many bytes it spans, and the type it is scanned as. */
export interface EmbeddedFile {
  readonly offset: number;
  readonly length: number;
  readonly type: FileType;
}

/** ClamAV lists at most this many file-type matches per file (its MAX_EMBEDDED_OBJ). */
const MAX_EMBEDDED = 10;

/** Host types whose raw pass looks for no embedded file: they are unpacked instead, or their
 * members would each be found again (a ZIP's local headers, a tar's or a TNEF's raw members). */
const NOT_SEARCHED: ReadonlySet<FileType> = new Set([
  'CL_TYPE_GZ',
  'CL_TYPE_CPIO_OLD',
  'CL_TYPE_ZIP',
  'CL_TYPE_OOXML_WORD',
  'CL_TYPE_OOXML_PPT',
  'CL_TYPE_OOXML_XL',
  'CL_TYPE_OOXML_HWP',
  'CL_TYPE_OLD_TAR',
  'CL_TYPE_POSIX_TAR',
  'CL_TYPE_TNEF',
]);

const AUTOIT = Uint8Array.from([
  0xa3, 0x48, 0x4b, 0xbe, 0x98, 0x6c, 0x4a, 0xa9, 0x99, 0x4c, 0x53, 0x0a, 0x86, 0xd6, 0x48, 0x7d,
]);
const SEVEN_ZIP = Uint8Array.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]);
/** RAR-SFX: the RAR 1.5-4.x marker only (ClamAV's built-in list has none for RAR 5). */
const RAR = Uint8Array.from([0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00]);

function bytesAt(d: Uint8Array, o: number, want: Uint8Array): boolean {
  if (o + want.length > d.length) return false;
  for (let i = 0; i < want.length; i++) if (d[o + i] !== want[i]) return false;
  return true;
}

/** Where a file-type signature matched: the type it names, where it starts and where it ends. */
interface Candidate {
  readonly type: FileType;
  readonly offset: number;
  /** Where the match completes: ClamAV lists matches in this order. */
  readonly end: number;
}

/** The file-type signature matching at `o`, if any (`1:*:` signatures, by their bytes only). */
function signatureAt(d: Uint8Array, o: number): Candidate | undefined {
  const at = (type: FileType, len: number, offset = o): Candidate => ({ type, offset, end: o + len });
  switch (d[o]) {
    case 0x4d: // MZ{60-300}PE\0\0, or MSCF\0\0\0\0
      if (d[o + 1] === 0x5a) {
        for (let k = o + 62; k <= Math.min(o + 302, d.length - 4); k++) {
          if (u32le(d, k) === 0x00004550) return at('CL_TYPE_MSEXE', k + 4 - o);
        }
        return undefined;
      }
      return u32le(d, o) === 0x4643534d && u32le(d, o + 4) === 0 ? at('CL_TYPE_MSCAB', 8) : undefined;
    case 0x50:
      return u32le(d, o) === 0x04034b50 ? at('CL_TYPE_ZIP', 4) : undefined;
    case 0x60:
      return d[o + 1] === 0xea && (d[o + 9] ?? 3) <= 2 && d[o + 10] === 2 ? at('CL_TYPE_ARJ', 11) : undefined;
    case 0x37:
      return bytesAt(d, o, SEVEN_ZIP) ? at('CL_TYPE_7Z', SEVEN_ZIP.length) : undefined;
    case 0x52:
      return bytesAt(d, o, RAR) ? at('CL_TYPE_RAR', RAR.length) : undefined;
    case 0xef:
      return bytesAt(d, o, NSIS_MAGIC) ? at('CL_TYPE_NULSFT', NSIS_MAGIC.length) : undefined;
    case 0xa3:
      return bytesAt(d, o, AUTOIT) && hasText(d, o + 16, 'AU3!EA0') && (d[o + 23] === 0x35 || d[o + 23] === 0x36)
        ? at('CL_TYPE_AUTOIT', 24)
        : undefined;
    case 0x01: {
      // \x01CD001{2043-2443}CD001: an ISO 9660 primary volume descriptor, and the next descriptor
      if (!hasText(d, o + 1, 'CD001')) return undefined;
      for (let k = o + 2049; k <= Math.min(o + 2449, d.length - 5); k++) {
        if (d[k] === 0x43 && hasText(d, k, 'CD001')) return at('CL_TYPE_ISO9660', k + 5 - o);
      }
      return undefined;
    }
    case 0x49: {
      // InstallShield\0, 292 bytes, 06 00 00 00 00 00 00 00, 8 any, 00 00 00 00 01
      const t = o + 14 + 292;
      if (!hasText(d, o, 'InstallShield\0') || t + 21 > d.length) return undefined;
      if (u32le(d, t) !== 6 || u32le(d, t + 4) !== 0 || u32le(d, t + 16) !== 0 || d[t + 20] !== 1) return undefined;
      return at('CL_TYPE_ISHIELD_MSI', t + 21 - o);
    }
    default:
      return undefined;
  }
}
const FIRST = new Uint8Array(256);
for (const b of [0x4d, 0x50, 0x60, 0x37, 0x52, 0xef, 0xa3, 0x49, 0x01]) FIRST[b] = 1;

/** The ZIP entry at `o` spans this many bytes when its local header reads whole (ClamAV's check). */
function zipEntrySize(d: Uint8Array, o: number): number | undefined {
  const flags = u16le(d, o + 6);
  // Masked headers, and sizes left to a data descriptor, cannot be checked from the header alone.
  if ((flags & 0x2000) !== 0 || (flags & 0x8) !== 0) return undefined;
  const csize = u32le(d, o + 18);
  const usize = u32le(d, o + 22);
  const nameLen = u16le(d, o + 26);
  const extraLen = u16le(d, o + 28);
  let left = d.length - (o + 30);
  if (left <= nameLen) return undefined;
  left -= nameLen;
  if (left <= extraLen) return undefined;
  left -= extraLen;
  if (left < csize || csize === 0 || usize === 0) return undefined;
  return 30 + nameLen + extraLen + csize;
}

/** A cabinet header with folders and files spans its stated size. */
function cabinetSize(d: Uint8Array, o: number): number | undefined {
  const size = u32le(d, o + 8);
  if (d[o + 25] !== 1 || d[o + 24] !== 3 || size < 36 || u16le(d, o + 26) === 0 || u16le(d, o + 28) === 0) {
    return undefined;
  }
  return Math.min(size, d.length - o);
}

/** ARJ's header limit: first header, name and comment (ClamAV's HEADERSIZE_MAX). */
const ARJ_HEADER_MAX = 30 + 10 + 512 + 2048;

/** An ARJ main header whose CRC holds. */
function isArj(d: Uint8Array, o: number): boolean {
  const size = u16le(d, o + 2);
  if (size === 0 || size > ARJ_HEADER_MAX || o + 4 + size + 4 > d.length) return false;
  return crc32(d.subarray(o + 4, o + 4 + size)) === u32le(d, o + 4 + size);
}

/** The embedded file a match stands for in a `host` file, once its header is checked. */
function check(d: Uint8Array, c: Candidate, host: FileType, maxEmbeddedPe: number): EmbeddedFile | undefined {
  const o = c.offset;
  const toEnd = (type: FileType, from = o): EmbeddedFile => ({ offset: from, length: d.length - from, type });
  switch (c.type) {
    case 'CL_TYPE_MSEXE': {
      if (d.length - o > maxEmbeddedPe) return undefined;
      const facts = parsePe(bytesSource(d.subarray(o)));
      return facts !== undefined && facts.sections.length > 0 ? toEnd(c.type) : undefined;
    }
    case 'CL_TYPE_ZIP': {
      if (host.startsWith('CL_TYPE_OOXML')) return undefined;
      const size = zipEntrySize(d, o);
      return size === undefined ? undefined : { offset: o, length: size, type: c.type };
    }
    case 'CL_TYPE_MSCAB': {
      const size = host === c.type ? undefined : cabinetSize(d, o);
      return size === undefined ? undefined : { offset: o, length: size, type: c.type };
    }
    case 'CL_TYPE_ARJ':
      return host !== c.type && isArj(d, o) ? toEnd(c.type) : undefined;
    case 'CL_TYPE_7Z':
    case 'CL_TYPE_RAR': // ClamAV checks no RAR header here either
      return host !== c.type ? toEnd(c.type) : undefined;
    case 'CL_TYPE_ISO9660': {
      // The image starts 16 sectors before its primary descriptor (ClamAV's type correction).
      const image = isoImageAt(d, o);
      return image === undefined ? undefined : toEnd(c.type, image.base);
    }
    case 'CL_TYPE_NULSFT':
      // The signature matches 4 bytes into NSIS's first header.
      return host === 'CL_TYPE_MSEXE' && o > 4 ? toEnd(c.type, o - 4) : undefined;
    default: // AutoIt and InstallShield data are read only after an executable
      return host === 'CL_TYPE_MSEXE' ? toEnd(c.type) : undefined;
  }
}

/**
 * The files embedded in `d`, a file of type `host`, as ClamAV's raw pass finds them: signature
 * matches are listed as they complete, at most MAX_EMBEDDED of them (ZIP entries, and executables
 * inside executables, up to `maxFiles`); executables count only in executables, OLE2 and ZIP
 * hosts. Then each match past the previous one is checked, and a ZIP entry or cabinet found hides
 * the matches inside it. Executables larger than `maxEmbeddedPe` are left out.
 */
export function findEmbedded(
  d: Uint8Array,
  host: FileType,
  limits: { readonly maxFiles: number; readonly maxEmbeddedPe: number },
): EmbeddedFile[] {
  if (NOT_SEARCHED.has(host)) return [];
  const peHost = host === 'CL_TYPE_MSEXE' || host === 'CL_TYPE_MSOLE2';
  const listed: Candidate[] = [];
  for (let o = 0; o < d.length; o++) {
    if (FIRST[d[o] as number] === 0) continue;
    const c = signatureAt(d, o);
    if (c === undefined || (c.type === 'CL_TYPE_MSEXE' && !peHost)) continue;
    const many = c.type === 'CL_TYPE_ZIP' || (c.type === 'CL_TYPE_MSEXE' && host === 'CL_TYPE_MSEXE');
    if (listed.length > 0 && listed.length >= (many ? limits.maxFiles : MAX_EMBEDDED)) continue;
    listed.push(c);
  }
  listed.sort((a, b) => a.end - b.end);
  const found: EmbeddedFile[] = [];
  let last = 0;
  for (const c of listed) {
    if (c.offset <= last) continue;
    last = c.offset;
    const f = check(d, c, host, limits.maxEmbeddedPe);
    if (f === undefined) continue;
    found.push(f);
    if (f.type === 'CL_TYPE_ZIP' || f.type === 'CL_TYPE_MSCAB') last += f.length - 1;
  }
  return found;
}
