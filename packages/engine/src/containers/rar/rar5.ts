// The listing of a RAR 5 archive (RARLAB's technote): after the 8-byte signature, blocks of CRC-32,
// header size, type, flags, optional extra-area and data sizes, all as variable-length integers.
// File blocks give the members, their extra area tells an encrypted one; a `CMT` service block
// (the archive comment) is listed like a file. An archive encryption header hides every block
// after it: it is reported and ends the list.
import { crc32, u32le } from '../read.js';
import type { ExtractContext } from '../types.js';
import { Damaged, type RarEntry } from './entry.js';

const FILE = 2;
const MAIN = 1;
const SERVICE = 3;
const CRYPT = 4;
const END = 5;

const HAS_EXTRA = 0x01;
const HAS_DATA = 0x02;
const FROM_PREVIOUS = 0x08;
const TO_NEXT = 0x10;

const IS_DIRECTORY = 0x01;
const HAS_TIME = 0x02;
const HAS_CRC = 0x04;
const UNKNOWN_SIZE = 0x08;

const ENCRYPTION_RECORD = 0x01;

/** RARLAB's own bound on a block header (2 MiB): a larger claim is damage. */
const MAX_HEADER = 2 << 20;
/** Names are cut at this many bytes. */
const MAX_NAME = 8192;
const SIGNATURE = 8;

/** Reads fields inside one header, never past its end. */
class Fields {
  constructor(
    private readonly d: Uint8Array,
    public o: number,
    readonly end: number,
  ) {}

  /** A variable-length integer: 7 bits a byte, low first; at most 10 bytes. */
  vint(): number {
    let v = 0;
    for (let i = 0; i < 10; i++) {
      if (this.o >= this.end) throw new Damaged(`a header at ${this.o} ends inside a number`);
      const b = this.d[this.o++] as number;
      v += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return v;
    }
    throw new Damaged(`a number at ${this.o} is longer than 10 bytes`);
  }

  u32(): number {
    if (this.o + 4 > this.end) throw new Damaged(`a header at ${this.o} is cut short`);
    this.o += 4;
    return u32le(this.d, this.o - 4);
  }

  bytes(n: number): Uint8Array {
    if (n > this.end - this.o) throw new Damaged(`a header at ${this.o} is shorter than its fields`);
    this.o += n;
    return this.d.subarray(this.o - n, this.o);
  }
}

/** True when the extra area `[from, end)` holds a file encryption record. */
function hasEncryptionRecord(d: Uint8Array, from: number, end: number): boolean {
  const f = new Fields(d, from, end);
  while (f.o < end) {
    const size = f.vint();
    const at = f.o;
    if (size === 0 || size > end - at) throw new Damaged(`an extra record at ${at} runs past its header`);
    if (f.vint() === ENCRYPTION_RECORD) return true;
    f.o = at + size;
  }
  return false;
}

/** A file or service header's fields, from after the block's common part. */
function fileEntry(
  d: Uint8Array,
  f: Fields,
  block: { flags: number; extraAt: number; dataStart: number; packed: number },
) {
  const fileFlags = f.vint();
  const size = f.vint();
  f.vint(); // attributes
  if ((fileFlags & HAS_TIME) !== 0) f.u32();
  const crc = (fileFlags & HAS_CRC) !== 0 ? f.u32() : undefined;
  const compression = f.vint();
  f.vint(); // host system
  const nameLength = f.vint();
  const raw = f.bytes(nameLength);
  if (f.o > block.extraAt) throw new Damaged(`the file header's name runs into its extra area`);
  const name = new TextDecoder().decode(raw.subarray(0, MAX_NAME));
  const method = (compression >>> 7) & 7;
  const split = (block.flags & (FROM_PREVIOUS | TO_NEXT)) !== 0;
  const entry: RarEntry = {
    name: name === '' ? `file@${block.dataStart}` : name,
    method: method === 0 ? undefined : String(method),
    encrypted: hasEncryptionRecord(d, block.extraAt, f.end),
    directory: (fileFlags & IS_DIRECTORY) !== 0,
    continued: (block.flags & FROM_PREVIOUS) !== 0,
    continues: (block.flags & TO_NEXT) !== 0,
    size: (fileFlags & UNKNOWN_SIZE) !== 0 ? undefined : size,
    dataStart: block.dataStart,
    packed: block.packed,
    crc: split ? undefined : crc,
  };
  return entry;
}

/** The files of a RAR 5 archive starting at `d[0]`, in order; damage is reported and ends the list. */
export function* rar5Entries(d: Uint8Array, ctx: ExtractContext): Generator<RarEntry> {
  let o = SIGNATURE;
  try {
    while (o < d.length) {
      if (o + 5 > d.length) throw new Damaged(`the block header at ${o} is cut short`);
      const sized = new Fields(d, o + 4, Math.min(d.length, o + 4 + 3));
      const headerSize = sized.vint();
      if (headerSize === 0 || headerSize > MAX_HEADER)
        throw new Damaged(`the block at ${o} claims ${headerSize} bytes of header`);
      const end = sized.o + headerSize;
      if (end > d.length) throw new Damaged(`the block header at ${o} is cut short`);
      if (crc32(d.subarray(o + 4, end)) !== u32le(d, o)) throw new Damaged(`the header at ${o} does not match its CRC`);
      const f = new Fields(d, sized.o, end);
      const type = f.vint();
      const flags = f.vint();
      const extraSize = (flags & HAS_EXTRA) !== 0 ? f.vint() : 0;
      const packed = (flags & HAS_DATA) !== 0 ? f.vint() : 0;
      if (extraSize > end - f.o) throw new Damaged(`the extra area of the block at ${o} runs past its header`);
      if (o === SIGNATURE && type !== MAIN) throw new Damaged('the main header is missing');
      if (type === CRYPT) {
        ctx.encrypted('headers');
        return;
      }
      if (type === END) return;
      if (type === FILE || type === SERVICE) {
        const e = fileEntry(d, f, { flags, extraAt: end - extraSize, dataStart: end, packed });
        if (type === FILE) yield e;
        else if (e.name === 'CMT') yield { ...e, name: 'comment' };
      }
      // The main header says nothing needed here; unknown blocks are passed over by their sizes.
      o = end + packed;
    }
    if (o === SIGNATURE) throw new Damaged('the main header is missing');
  } catch (e) {
    if (!(e instanceof Damaged)) throw e;
    ctx.broken(e.message);
  }
}
