// The listing of a RAR 1.5-4.x archive: after the 7-byte marker, blocks of CRC16, type, flags,
// header size and (with the LONG_BLOCK flag) the size of the data that follows. File blocks give
// the members; a `CMT` service block (RAR 2.9+'s archive comment) is listed like a file. Blocks are
// walked, never decoded: compression and encryption are left to the caller's report.
import { crc32, latin1, u16le, u32le } from '../read.js';
import type { ExtractContext } from '../types.js';
import { Damaged, type RarEntry } from './entry.js';

const MAIN = 0x73;
const FILE = 0x74;
const SERVICE = 0x7a;
const END = 0x7b;

const LONG_BLOCK = 0x8000;
const MAIN_COMMENT = 0x0002;
const MAIN_ENCRYPTED_HEADERS = 0x0080;
const SPLIT_BEFORE = 0x0001;
const SPLIT_AFTER = 0x0002;
const PASSWORD = 0x0004;
const FILE_COMMENT = 0x0008;
const DIRECTORY = 0x00e0;
const LARGE = 0x0100;
const UNICODE = 0x0200;
const STORED = 0x30;

/** The fixed part of a file header, up to its name. */
const FILE_FIXED = 32;
/** Names are cut at this many characters (unrar's own limit). */
const MAX_NAME = 2048;

/** Decodes RAR's compact Unicode name: runs of bytes that reuse a high byte or the Latin-1 name. */
export function unicodeName(ascii: Uint8Array, enc: Uint8Array): string {
  const high = (enc[0] ?? 0) << 8;
  const out: number[] = [];
  let pos = 1;
  let flags = 0;
  let flagBits = 0;
  while (pos < enc.length && out.length < MAX_NAME) {
    if (flagBits === 0) {
      flags = enc[pos++] as number;
      flagBits = 8;
      if (pos >= enc.length) break;
    }
    flagBits -= 2;
    const op = (flags >>> flagBits) & 3;
    if (op === 0) out.push(enc[pos++] as number);
    else if (op === 1) out.push((enc[pos++] as number) | high);
    else if (op === 2) {
      if (pos + 1 >= enc.length) break;
      out.push((enc[pos] as number) | ((enc[pos + 1] as number) << 8));
      pos += 2;
    } else {
      const len = enc[pos++] as number;
      const fix = (len & 0x80) !== 0 ? enc[pos++] : undefined;
      if (fix === undefined && (len & 0x80) !== 0) break;
      for (let n = (len & 0x7f) + 2; n > 0 && out.length < ascii.length && out.length < MAX_NAME; n--) {
        const a = ascii[out.length] as number;
        out.push(fix === undefined ? a : ((a + fix) & 0xff) | high);
      }
    }
  }
  return String.fromCharCode(...out);
}

function fileEntry(d: Uint8Array, o: number, size: number): RarEntry {
  const flags = u16le(d, o + 3);
  if (size < FILE_FIXED) throw new Damaged(`the file header at ${o} is too small`);
  const large = (flags & LARGE) !== 0;
  const nameAt = o + FILE_FIXED + (large ? 8 : 0);
  const nameEnd = nameAt + u16le(d, o + 26);
  if (nameEnd > o + size) throw new Damaged(`the file header at ${o} is shorter than its name`);
  const raw = d.subarray(nameAt, Math.min(nameEnd, nameAt + 2 * MAX_NAME));
  const nul = raw.indexOf(0);
  const ascii = nul < 0 ? raw : raw.subarray(0, nul);
  let name = latin1(ascii, 0, MAX_NAME);
  if ((flags & UNICODE) !== 0) {
    // A NUL parts the Latin-1 name from the compact Unicode one; without it the name is UTF-8.
    name = nul >= 0 ? unicodeName(ascii, raw.subarray(nul + 1)) : new TextDecoder().decode(raw);
  }
  const method = d[o + 25] as number;
  return {
    name: name === '' ? `file@${o}` : name,
    method: method === STORED ? undefined : `0x${method.toString(16)}`,
    encrypted: (flags & PASSWORD) !== 0,
    directory: (flags & DIRECTORY) === DIRECTORY,
    continued: (flags & SPLIT_BEFORE) !== 0,
    continues: (flags & SPLIT_AFTER) !== 0,
    size: u32le(d, o + 11) + (large ? u32le(d, o + 36) * 2 ** 32 : 0),
    dataStart: o + size,
    packed: u32le(d, o + 7) + (large ? u32le(d, o + 32) * 2 ** 32 : 0),
    crc: (flags & (SPLIT_BEFORE | SPLIT_AFTER)) === 0 ? u32le(d, o + 16) : undefined,
  };
}

/** RAR 1.5-2.x put comments inside main and file headers, and their CRC covers only part of it. */
function oldComment(type: number, flags: number): boolean {
  return (type === MAIN && (flags & MAIN_COMMENT) !== 0) || (type === FILE && (flags & FILE_COMMENT) !== 0);
}

/** The files of a RAR 4 archive starting at `d[0]`, in order; damage is reported and ends the list. */
export function* rar4Entries(d: Uint8Array, ctx: ExtractContext): Generator<RarEntry> {
  let o = 7;
  try {
    while (o < d.length) {
      if (o + 7 > d.length) throw new Damaged(`the block header at ${o} is cut short`);
      const type = d[o + 2] as number;
      const flags = u16le(d, o + 3);
      const size = u16le(d, o + 5);
      const long = (flags & LONG_BLOCK) !== 0;
      if (size < (long ? 11 : 7)) throw new Damaged(`the block at ${o} is too small`);
      if (o + size > d.length) throw new Damaged(`the block header at ${o} is cut short`);
      if (!oldComment(type, flags) && (crc32(d.subarray(o + 2, o + size)) & 0xffff) !== u16le(d, o)) {
        throw new Damaged(`the header at ${o} does not match its CRC`);
      }
      if (o === 7 && type !== MAIN) throw new Damaged('the main header is missing');
      if (type === END) return;
      if (type === MAIN && (flags & MAIN_ENCRYPTED_HEADERS) !== 0) {
        ctx.encrypted('headers');
        return;
      }
      let next = o + size + (long ? u32le(d, o + 7) : 0);
      if (type === FILE || type === SERVICE) {
        const e = fileEntry(d, o, size);
        next = e.dataStart + e.packed;
        if (type === FILE) yield e;
        else if (e.name === 'CMT') yield { ...e, name: 'comment' };
      }
      o = next;
    }
    if (o === 7) throw new Damaged('the main header is missing');
  } catch (e) {
    if (!(e instanceof Damaged)) throw e;
    ctx.broken(e.message);
  }
}
