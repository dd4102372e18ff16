// CPIO archives in their four kinds: old binary (either byte order), portable ASCII (odc), and
// the new ASCII formats (newc, and crc with the same layout).
import { hasText, latin1, u16be, u16le } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';

const TRAILER = 'TRAILER!!!';
const REGULAR = 0o100000;
const TYPE_MASK = 0o170000;

interface Entry {
  readonly name: string;
  readonly mode: number;
  readonly dataStart: number;
  readonly size: number;
  /** Where the next header starts. */
  readonly next: number;
}

const align = (v: number, a: number) => Math.ceil(v / a) * a;

function field(d: Uint8Array, o: number, len: number, radix: number): number | undefined {
  const text = latin1(d, o, o + len);
  const ok = radix === 16 ? /^[0-9a-fA-F]+$/ : /^[0-7]+$/;
  return text.length === len && ok.test(text) ? Number.parseInt(text, radix) : undefined;
}

function newc(d: Uint8Array, o: number): Entry | undefined {
  const mode = field(d, o + 14, 8, 16);
  const size = field(d, o + 54, 8, 16);
  const nameSize = field(d, o + 94, 8, 16);
  if (mode === undefined || size === undefined || nameSize === undefined) return undefined;
  const dataStart = align(o + 110 + nameSize, 4);
  const name = latin1(d, o + 110, o + 110 + nameSize).replace(/\0+$/, '');
  return { name, mode, dataStart, size, next: align(dataStart + size, 4) };
}

function odc(d: Uint8Array, o: number): Entry | undefined {
  const mode = field(d, o + 18, 6, 8);
  const nameSize = field(d, o + 59, 6, 8);
  const size = field(d, o + 65, 11, 8);
  if (mode === undefined || size === undefined || nameSize === undefined) return undefined;
  const dataStart = o + 76 + nameSize;
  const name = latin1(d, o + 76, dataStart).replace(/\0+$/, '');
  return { name, mode, dataStart, size, next: dataStart + size };
}

function binary(d: Uint8Array, o: number): Entry | undefined {
  const u16 = d[o] === 0xc7 ? u16le : d[o] === 0x71 ? u16be : undefined;
  if (u16 === undefined || u16(d, o) !== 0o070707 || o + 26 > d.length) return undefined;
  const mode = u16(d, o + 6);
  const nameSize = u16(d, o + 20);
  const size = u16(d, o + 22) * 0x10000 + u16(d, o + 24);
  const dataStart = align(o + 26 + nameSize, 2);
  const name = latin1(d, o + 26, o + 26 + nameSize).replace(/\0+$/, '');
  return { name, mode, dataStart, size, next: align(dataStart + size, 2) };
}

function headerAt(d: Uint8Array, o: number): Entry | undefined {
  if (hasText(d, o, '070701') || hasText(d, o, '070702')) return newc(d, o);
  if (hasText(d, o, '070707')) return odc(d, o);
  return binary(d, o);
}

function* entries(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  let o = 0;
  while (o < d.length) {
    const e = headerAt(d, o);
    if (e === undefined) {
      ctx.broken(`no cpio header at offset ${o}`);
      return;
    }
    if (e.name === TRAILER) return;
    if (e.next <= o) return;
    o = e.next;
    if ((e.mode & TYPE_MASK) !== REGULAR) continue;
    if (e.size > ctx.maxMemberSize) {
      ctx.tooBig(e.name, e.size);
      continue;
    }
    const data = d.subarray(e.dataStart, Math.min(d.length, e.dataStart + e.size));
    if (data.length < e.size) ctx.broken(`${e.name} is cut short (${data.length} of ${e.size} bytes)`);
    yield { name: e.name, data };
  }
}

export const cpioHandler: ContainerHandler = {
  name: 'CPIO',
  families: ['archive'],
  types: ['CL_TYPE_CPIO_OLD', 'CL_TYPE_CPIO_ODC', 'CL_TYPE_CPIO_NEWC', 'CL_TYPE_CPIO_CRC'],
  extract: entries,
};
