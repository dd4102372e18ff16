// ZIP archives: members found through the central directory, or by walking the local headers when
// the directory is missing or damaged. Stored, deflate, deflate64, implode and bzip2 members are decoded; ZIP64 sizes
// are read; encrypted members and entries whose data overlap another's are reported, not read.
import { bunzip2 } from '../bzip2/decode.js';
import { latin1, u16le, u32le } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';
import { explode } from './explode.js';
import { inflate64 } from './inflate64.js';

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const ZIP64_END = 0x06064b50;
const LOCAL_HEADER = 30;
const CENTRAL_HEADER = 46;
const ENCRYPTED = 1;
const MAX_COMMENT = 0xffff;

/** One member as the archive describes it. */
interface Entry {
  readonly name: string;
  readonly method: number;
  readonly flags: number;
  readonly compressedSize: number | undefined;
  readonly size: number | undefined;
  readonly localOffset: number;
}

/** The ZIP64 extra field's values, in the order the spec gives, for the fields that overflowed. */
function zip64(
  d: Uint8Array,
  extra: number,
  extraLen: number,
  want: { size: boolean; csize: boolean; offset: boolean },
) {
  let o = extra;
  const end = extra + extraLen;
  while (o + 4 <= end) {
    const id = u16le(d, o);
    const len = u16le(d, o + 2);
    if (id === 1) {
      let p = o + 4;
      const next = () => {
        const v = u32le(d, p) + u32le(d, p + 4) * 0x1_0000_0000;
        p += 8;
        return v;
      };
      const size = want.size ? next() : undefined;
      const csize = want.csize ? next() : undefined;
      const offset = want.offset ? next() : undefined;
      return { size, csize, offset };
    }
    o += 4 + len;
  }
  return {};
}

/** The end-of-central-directory record, searched from the end past a comment of any length. */
function findEnd(d: Uint8Array): number {
  const stop = Math.max(0, d.length - 22 - MAX_COMMENT);
  for (let o = d.length - 22; o >= stop; o--) if (u32le(d, o) === END) return o;
  return -1;
}

/** Central directory entries, or undefined when there is no usable directory. */
function centralEntries(d: Uint8Array, ctx: ExtractContext): Entry[] | undefined {
  const end = findEnd(d);
  if (end < 0) return undefined;
  let count = u16le(d, end + 10);
  let dirOffset = u32le(d, end + 16);
  const locator = end - 20;
  if ((count === 0xffff || dirOffset === 0xffffffff) && u32le(d, locator) === 0x07064b50) {
    const rec = u32le(d, locator + 8) + u32le(d, locator + 12) * 0x1_0000_0000;
    if (u32le(d, rec) === ZIP64_END) {
      count = u32le(d, rec + 32) + u32le(d, rec + 36) * 0x1_0000_0000;
      dirOffset = u32le(d, rec + 48) + u32le(d, rec + 52) * 0x1_0000_0000;
    }
  }
  // Bytes prepended after zipping (an unadjusted self-extractor): the offsets are off by their length.
  const dirSize = u32le(d, end + 12);
  const shift = u32le(d, dirOffset) === CENTRAL ? 0 : end - dirSize - dirOffset;
  let o = dirOffset + shift;
  if (u32le(d, o) !== CENTRAL) return undefined;
  const out: Entry[] = [];
  while (u32le(d, o) === CENTRAL && o + CENTRAL_HEADER <= d.length) {
    const nameLen = u16le(d, o + 28);
    const extraLen = u16le(d, o + 30);
    const commentLen = u16le(d, o + 32);
    let csize: number | undefined = u32le(d, o + 20);
    let size: number | undefined = u32le(d, o + 24);
    let local = u32le(d, o + 42);
    const big = { size: size === 0xffffffff, csize: csize === 0xffffffff, offset: local === 0xffffffff };
    if (big.size || big.csize || big.offset) {
      const z = zip64(d, o + CENTRAL_HEADER + nameLen, extraLen, big);
      size = big.size ? z.size : size;
      csize = big.csize ? z.csize : csize;
      local = big.offset ? (z.offset ?? local) : local;
    }
    out.push({
      name: latin1(d, o + CENTRAL_HEADER, o + CENTRAL_HEADER + nameLen),
      method: u16le(d, o + 10),
      flags: u16le(d, o + 8),
      compressedSize: csize,
      size,
      localOffset: local + shift,
    });
    o += CENTRAL_HEADER + nameLen + extraLen + commentLen;
  }
  if (out.length < count) ctx.broken(`the central directory lists ${out.length} of ${count} entries`);
  return out;
}

/** Entries found by walking local headers (no central directory, or a damaged one). */
function localEntries(d: Uint8Array): Entry[] {
  const out: Entry[] = [];
  for (let o = d.indexOf(0x50); o >= 0 && o + LOCAL_HEADER <= d.length; o = d.indexOf(0x50, o + 1)) {
    if (u32le(d, o) !== LOCAL) continue;
    const flags = u16le(d, o + 6);
    const csize = u32le(d, o + 18);
    const nameLen = u16le(d, o + 26);
    // With a data descriptor the sizes come after the data: unknown here.
    const known = (flags & 8) === 0 && csize !== 0xffffffff;
    out.push({
      name: latin1(d, o + LOCAL_HEADER, o + LOCAL_HEADER + nameLen),
      method: u16le(d, o + 8),
      flags,
      compressedSize: known ? csize : undefined,
      size: known ? u32le(d, o + 22) : undefined,
      localOffset: o,
    });
  }
  return out;
}

/** Decodes one member's data; undefined (after a report) when it cannot or must not be. */
function decode(entry: Entry, raw: Uint8Array, ctx: ExtractContext): Uint8Array | undefined {
  const max = ctx.maxMemberSize;
  if (entry.size !== undefined && entry.size > max) {
    ctx.tooBig(entry.name, entry.size);
    return undefined;
  }
  const out =
    entry.method === 0
      ? { status: 'ok' as const, data: raw.subarray(0, entry.size ?? raw.length) }
      : entry.method === 8
        ? ctx.env.inflate('raw', raw, max)
        : entry.method === 6 && entry.size !== undefined
          ? explode(raw, entry.flags, entry.size)
          : entry.method === 9
            ? inflate64(raw, max)
            : entry.method === 12
              ? bunzip2(raw, max)
              : undefined;
  if (out === undefined) {
    ctx.broken(`${entry.name}: compression method ${entry.method} is not supported`);
    return undefined;
  }
  if (out.status === 'over-limit') {
    ctx.tooBig(entry.name, entry.size);
    return undefined;
  }
  if (out.status === 'corrupt') ctx.broken(`${entry.name}: ${out.message ?? 'damaged data'}`);
  return out.data;
}

function* members(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  const entries = centralEntries(d, ctx) ?? localEntries(d);
  if (entries.length === 0) ctx.broken('no entries found');
  // Data ranges already read: a member whose data overlaps another's is a zip bomb's trick.
  const seen: [number, number][] = [];
  for (const e of entries) {
    const o = e.localOffset;
    if (u32le(d, o) !== LOCAL) {
      ctx.broken(`${e.name}: no local header at offset ${o}`);
      continue;
    }
    if (e.name.endsWith('/') && (e.size ?? 0) === 0) continue; // a directory
    if ((e.flags & ENCRYPTED) !== 0) {
      ctx.encrypted(e.name);
      continue;
    }
    const start = o + LOCAL_HEADER + u16le(d, o + 26) + u16le(d, o + 28);
    const end = e.compressedSize === undefined ? d.length : Math.min(d.length, start + e.compressedSize);
    if (e.compressedSize !== undefined && seen.some(([s, t]) => start < t && s < end)) {
      ctx.broken(`${e.name}: its data overlaps another member's`);
      continue;
    }
    seen.push([start, end]);
    const data = decode(e, d.subarray(start, end), ctx);
    if (data !== undefined) yield { name: e.name, data };
  }
}

export const zipHandler: ContainerHandler = {
  name: 'Zip',
  families: ['archive'],
  types: ['CL_TYPE_ZIP'],
  extract: members,
};
