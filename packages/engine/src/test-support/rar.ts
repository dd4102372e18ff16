// RAR archive writers for tests: RAR 1.5-4.x ("RAR 2.9") and RAR 5 blocks built byte by byte from
// the published layouts, enough to make stored, "compressed", encrypted, split and lying members.
// Nothing here compresses or encrypts: a compressed or encrypted member's data is whatever is given.
import { crc32 } from 'node:zlib';
import { concat } from './archives.js';

const te = new TextEncoder();

function le(v: number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => Math.floor(v / 2 ** (8 * i)) & 0xff);
}

/** The RAR 1.5-4.x signature (itself a block: the "marker block"). */
export const RAR4_SIGNATURE = Uint8Array.of(0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00);
/** The RAR 5 signature. */
export const RAR5_SIGNATURE = Uint8Array.of(0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00);

/** One RAR 4 block: CRC16 (low half of the CRC-32 of what follows it), type, flags, size, fields. */
function block4(type: number, flags: number, fields: Uint8Array): Uint8Array {
  const body = concat(Uint8Array.of(type), le(flags, 2), le(7 + fields.length, 2), fields);
  return concat(le(crc32(body) & 0xffff, 2), body);
}

export interface Rar4Entry {
  readonly name: string;
  /** The bytes stored after the header (the member itself when stored). */
  readonly data: Uint8Array;
  /** 0x30 stored, 0x31-0x35 compressed. */
  readonly method?: number;
  /** File header flags besides LONG_BLOCK (0x04 password, 0x01/0x02 split, 0xe0 directory, ...). */
  readonly flags?: number;
  /** The unpacked size written, if not the data's length (a lying archive). */
  readonly claimedSize?: number;
  /** The CRC written, if not the data's. */
  readonly crc?: number;
  /** RAR's compact Unicode name, written after the Latin-1 name and a NUL (sets LHD_UNICODE). */
  readonly unicodeName?: Uint8Array;
  /** The block type: 0x74 a file, 0x7a a service block (`CMT`, ...). */
  readonly type?: number;
}

/** One RAR 4 file header and its data; sizes past 4 GiB get LHD_LARGE's high halves. */
export function rar4File(e: Rar4Entry): Uint8Array {
  const size = e.claimedSize ?? e.data.length;
  const large = size >= 2 ** 32 || e.data.length >= 2 ** 32;
  const ascii = te.encode(e.name);
  const name = e.unicodeName === undefined ? ascii : concat(ascii, Uint8Array.of(0), e.unicodeName);
  const flags = 0x8000 | (e.flags ?? 0) | (large ? 0x100 : 0) | (e.unicodeName === undefined ? 0 : 0x200);
  const fields = concat(
    le(e.data.length % 2 ** 32, 4),
    le(size % 2 ** 32, 4),
    Uint8Array.of(2), // Windows
    le(e.crc ?? crc32(e.data), 4),
    le(0x5a2e6000, 4), // an MS-DOS time
    Uint8Array.of(29),
    Uint8Array.of(e.method ?? 0x30),
    le(name.length, 2),
    le(0x20, 4),
    large ? concat(le(Math.floor(e.data.length / 2 ** 32), 4), le(Math.floor(size / 2 ** 32), 4)) : new Uint8Array(0),
    name,
  );
  return concat(block4(e.type ?? 0x74, flags, fields), e.data);
}

export interface Rar4Options {
  /** Main header flags (0x01 volume, 0x80 encrypted headers, 0x100 first volume). */
  readonly mainFlags?: number;
  /** End-of-archive flags (0x01: another volume follows). */
  readonly endFlags?: number;
}

/** A RAR 4 archive: marker, main header, the files, the end block. */
export function rar4(entries: readonly Rar4Entry[], opts: Rar4Options = {}): Uint8Array {
  const main = block4(0x73, opts.mainFlags ?? 0, new Uint8Array(6));
  const end = block4(0x7b, 0x4000 | (opts.endFlags ?? 0), new Uint8Array(0));
  return concat(RAR4_SIGNATURE, main, ...entries.map(rar4File), end);
}

/** RAR 5's variable-length integer: 7 bits a byte, low bits first, the top bit for "more". */
export function vint(v: number): Uint8Array {
  const out: number[] = [];
  let n = v;
  do {
    const low = n % 128;
    n = Math.floor(n / 128);
    out.push(low | (n > 0 ? 0x80 : 0));
  } while (n > 0);
  return Uint8Array.from(out);
}

/** One RAR 5 block: CRC-32, size, type, flags, [extra size], [data size], fields, extra area. */
export function block5(
  type: number,
  fields: Uint8Array,
  opts: { flags?: number; extra?: Uint8Array; dataSize?: number } = {},
): Uint8Array {
  const extra = opts.extra ?? new Uint8Array(0);
  let flags = opts.flags ?? 0;
  if (extra.length > 0) flags |= 0x1;
  if (opts.dataSize !== undefined) flags |= 0x2;
  const body = concat(
    vint(type),
    vint(flags),
    extra.length > 0 ? vint(extra.length) : new Uint8Array(0),
    opts.dataSize === undefined ? new Uint8Array(0) : vint(opts.dataSize),
    fields,
    extra,
  );
  const sized = concat(vint(body.length), body);
  return concat(le(crc32(sized), 4), sized);
}

export interface Rar5Entry {
  readonly name: string;
  readonly data: Uint8Array;
  /** 0 stored, 1-5 compressed. */
  readonly method?: number;
  /** File flags besides "CRC present" (0x01 directory). */
  readonly fileFlags?: number;
  /** Block flags (0x08 continued from the previous volume, 0x10 continued in the next). */
  readonly blockFlags?: number;
  readonly claimedSize?: number;
  readonly crc?: number;
  /** Extra area records, already encoded (see `rar5Record`). */
  readonly extra?: Uint8Array;
  /** 2 a file, 3 a service block (`CMT`, ...). */
  readonly type?: number;
}

/** An extra area record: size, type, data. */
export function rar5Record(type: number, data: Uint8Array): Uint8Array {
  const body = concat(vint(type), data);
  return concat(vint(body.length), body);
}

/** A file encryption record (AES-256, a salt and IV of zeros: only its presence matters). */
export const RAR5_ENCRYPTION_RECORD = rar5Record(0x01, concat(vint(0), vint(0), Uint8Array.of(15), new Uint8Array(32)));

/** One RAR 5 file header and its data. */
export function rar5File(e: Rar5Entry): Uint8Array {
  const name = te.encode(e.name);
  const fields = concat(
    vint((e.fileFlags ?? 0) | 0x4),
    vint(e.claimedSize ?? e.data.length),
    vint(0x20),
    le(e.crc ?? crc32(e.data), 4),
    vint((e.method ?? 0) << 7),
    vint(0), // Windows
    vint(name.length),
    name,
  );
  const opts = { flags: e.blockFlags ?? 0, dataSize: e.data.length, ...(e.extra ? { extra: e.extra } : {}) };
  return concat(block5(e.type ?? 2, fields, opts), e.data);
}

export interface Rar5Options {
  /** Archive flags (0x01 volume, 0x02 volume number present). */
  readonly archiveFlags?: number;
  readonly endFlags?: number;
  /** Puts an archive encryption header after the main one (what follows is then noise). */
  readonly encryptedHeaders?: boolean;
}

/** A RAR 5 archive: signature, main header, the files, the end block. */
export function rar5(entries: readonly Rar5Entry[], opts: Rar5Options = {}): Uint8Array {
  const main = block5(1, vint(opts.archiveFlags ?? 0));
  const crypt = opts.encryptedHeaders
    ? concat(block5(4, concat(vint(0), vint(0), Uint8Array.of(15), new Uint8Array(16))), new Uint8Array(64).fill(0x5a))
    : new Uint8Array(0);
  const end = block5(5, vint(opts.endFlags ?? 0));
  return concat(RAR5_SIGNATURE, main, crypt, ...entries.map(rar5File), end);
}
