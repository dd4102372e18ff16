// 7z archives: the (possibly LZMA-encoded) header is read for its folders, sizes and names; folders
// of one coder (LZMA, LZMA2 or copy), or of the x86 branch filter over one, are decoded and split
// into their files. Other chains, PPMd and AES are reported as unsupported or encrypted.

import { unBcjX86 } from '../bcj.js';
import { u32le } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';
import { lzma2 } from '../xz/index.js';
import { Damaged, LzmaDecoder, lzmaProps } from '../xz/lzma.js';

const SIGNATURE_HEADER = 32;
const ID = {
  end: 0x00,
  header: 0x01,
  archiveProperties: 0x02,
  additionalStreams: 0x03,
  mainStreams: 0x04,
  files: 0x05,
  packInfo: 0x06,
  unpackInfo: 0x07,
  subStreams: 0x08,
  size: 0x09,
  crc: 0x0a,
  folder: 0x0b,
  unpackSize: 0x0c,
  numUnpackStream: 0x0d,
  emptyStream: 0x0e,
  names: 0x11,
  encodedHeader: 0x17,
} as const;

interface Coder {
  readonly id: string;
  readonly props: Uint8Array;
}
interface Folder {
  readonly coders: Coder[];
  /** The coder output that is the folder's result (the one no bind pair consumes). */
  readonly mainOut: number;
  unpackSizes: number[];
  substreams: number;
  sizes: number[];
}
interface Streams {
  packPos: number;
  packSizes: number[];
  folders: Folder[];
}

/** A cursor over header bytes with 7z's number encoding. */
class Reader {
  constructor(
    readonly d: Uint8Array,
    public o = 0,
  ) {}
  byte(): number {
    const b = this.d[this.o++];
    if (b === undefined) throw new Damaged('the header ends early');
    return b;
  }
  number(): number {
    const first = this.byte();
    let mask = 0x80;
    let value = 0;
    for (let i = 0; i < 8; i++) {
      if ((first & mask) === 0) return value + (first & (mask - 1)) * 2 ** (8 * i);
      value += this.byte() * 2 ** (8 * i);
      mask >>>= 1;
    }
    return value;
  }
  skip(n: number): void {
    if (this.o + n > this.d.length) throw new Damaged('the header ends early');
    this.o += n;
  }
  bits(n: number): boolean[] {
    const out: boolean[] = [];
    let b = 0;
    for (let i = 0; i < n; i++) {
      if (i % 8 === 0) b = this.byte();
      out.push((b & (0x80 >>> (i % 8))) !== 0);
    }
    return out;
  }
  /** `allAreDefined` then a bit vector, as CRC and attribute lists are written. */
  defined(n: number): boolean[] {
    return this.byte() !== 0 ? new Array<boolean>(n).fill(true) : this.bits(n);
  }
}

function folder(r: Reader): Folder {
  const coders: Coder[] = [];
  let outs = 0;
  let ins = 0;
  const n = r.number();
  for (let i = 0; i < n; i++) {
    const flag = r.byte();
    const idBytes = r.d.subarray(r.o, r.o + (flag & 0x0f));
    r.skip(flag & 0x0f);
    const id = Array.from(idBytes, (b) => b.toString(16).padStart(2, '0')).join('');
    if ((flag & 0x10) !== 0) {
      ins += r.number();
      outs += r.number();
    } else {
      ins++;
      outs++;
    }
    let props: Uint8Array = new Uint8Array(0);
    if ((flag & 0x20) !== 0) {
      const size = r.number();
      props = r.d.subarray(r.o, r.o + size);
      r.skip(size);
    }
    coders.push({ id, props });
  }
  const bound = new Set<number>();
  for (let i = 0; i < outs - 1; i++) {
    r.number();
    bound.add(r.number());
  }
  const packed = ins - (outs - 1);
  if (packed > 1) for (let i = 0; i < packed; i++) r.number();
  let mainOut = 0;
  while (bound.has(mainOut)) mainOut++;
  return { coders, mainOut, unpackSizes: [], substreams: 1, sizes: [] };
}

function streamsInfo(r: Reader): Streams {
  const s: Streams = { packPos: 0, packSizes: [], folders: [] };
  for (let id = r.byte(); id !== ID.end; id = r.byte()) {
    if (id === ID.packInfo) {
      s.packPos = r.number();
      const count = r.number();
      for (let t = r.byte(); t !== ID.end; t = r.byte()) {
        if (t === ID.size) for (let i = 0; i < count; i++) s.packSizes.push(r.number());
        else if (t === ID.crc) r.skip(4 * r.defined(count).filter(Boolean).length);
        else throw new Damaged(`unexpected property ${t} in pack info`);
      }
    } else if (id === ID.unpackInfo) {
      if (r.byte() !== ID.folder) throw new Damaged('unpack info without folders');
      const count = r.number();
      if (r.byte() !== 0) throw new Damaged('external folder lists are not supported');
      for (let i = 0; i < count; i++) s.folders.push(folder(r));
      if (r.byte() !== ID.unpackSize) throw new Damaged('folders without unpack sizes');
      for (const f of s.folders) {
        const outs = f.coders.length; // simple coders: one output each
        for (let i = 0; i < outs; i++) f.unpackSizes.push(r.number());
      }
      for (let t = r.byte(); t !== ID.end; t = r.byte()) {
        if (t === ID.crc) r.skip(4 * r.defined(count).filter(Boolean).length);
        else throw new Damaged(`unexpected property ${t} in unpack info`);
      }
    } else if (id === ID.subStreams) {
      let t = r.byte();
      if (t === ID.numUnpackStream) {
        for (const f of s.folders) f.substreams = r.number();
        t = r.byte();
      }
      for (const f of s.folders) {
        const total = f.unpackSizes[f.mainOut] ?? 0;
        let sum = 0;
        if (t === ID.size) for (let i = 0; i < f.substreams - 1; i++) f.sizes.push(r.number());
        for (const x of f.sizes) sum += x;
        if (f.substreams > 0) f.sizes.push(total - sum);
      }
      if (t === ID.size) t = r.byte();
      while (t !== ID.end) {
        if (t === ID.crc) {
          const n = s.folders.reduce((a, f) => a + f.substreams, 0);
          r.skip(4 * r.defined(n).filter(Boolean).length);
        } else throw new Damaged(`unexpected property ${t} in substreams`);
        t = r.byte();
      }
    } else throw new Damaged(`unexpected property ${id} in streams info`);
  }
  for (const f of s.folders) if (f.sizes.length === 0) f.sizes = [f.unpackSizes[f.mainOut] ?? 0];
  return s;
}

/** Decodes one coder's packed input; undefined after a report. */
function runCoder(
  d: Uint8Array,
  c: Coder,
  start: number,
  end: number,
  size: number,
  ctx: ExtractContext,
  what: string,
) {
  if (c.id === '00') return d.slice(start, Math.min(end, start + size));
  const z = new LzmaDecoder(ctx.maxMemberSize);
  if (c.id === '030101') {
    const props = lzmaProps(c.props[0] ?? 0xff);
    if (props === undefined) throw new Damaged('bad LZMA properties');
    z.reset(props);
    if (!z.decode(d, start, end, size)) return undefined;
  } else if (c.id === '21') {
    if (lzma2(d.subarray(0, end), start, z) < 0) return undefined;
  } else {
    ctx.broken(`${what}: coder ${c.id} is not supported`);
    return undefined;
  }
  return z.out.subarray(0, z.n);
}

const AES = '06f10701';
const BCJ_X86 = '03030103';

/** Decodes folder `i`: one coder, or the x86 branch filter over one; undefined after a report. */
function unpackFolder(d: Uint8Array, s: Streams, i: number, ctx: ExtractContext, what: string): Uint8Array | undefined {
  const f = s.folders[i] as Folder;
  let start = SIGNATURE_HEADER + s.packPos;
  for (let k = 0; k < i; k++) start += s.packSizes[k] ?? 0;
  const end = Math.min(d.length, start + (s.packSizes[i] ?? 0));
  const size = f.unpackSizes[f.mainOut] ?? 0;
  if (f.unpackSizes.some((n) => n > ctx.maxMemberSize)) {
    ctx.tooBig(what, size);
    return undefined;
  }
  if (f.coders.some((c) => c.id === AES)) {
    ctx.encrypted(what);
    return undefined;
  }
  const ids = f.coders.map((c) => c.id);
  if (f.coders.length === 1) return runCoder(d, f.coders[0] as Coder, start, end, size, ctx, what);
  const bcj = ids.indexOf(BCJ_X86);
  if (f.coders.length === 2 && bcj >= 0 && f.mainOut === bcj) {
    const inner = 1 - bcj;
    const out = runCoder(d, f.coders[inner] as Coder, start, end, f.unpackSizes[inner] ?? 0, ctx, what);
    if (out !== undefined) unBcjX86(out);
    return out;
  }
  ctx.broken(`${what}: coder chain ${ids.join(' + ')} is not supported`);
  return undefined;
}

/** File names and which entries have no data (directories and empty files). */
function filesInfo(r: Reader): { names: string[]; empty: boolean[] } {
  const count = r.number();
  let names: string[] = [];
  let empty = new Array<boolean>(count).fill(false);
  for (let t = r.byte(); t !== ID.end; t = r.byte()) {
    const size = r.number();
    const next = r.o + size;
    if (t === ID.names && r.byte() === 0) {
      names = [];
      let s = '';
      for (let o = r.o; o + 1 < next; o += 2) {
        const c = (r.d[o] as number) | ((r.d[o + 1] as number) << 8);
        if (c === 0) {
          names.push(s);
          s = '';
        } else s += String.fromCharCode(c);
      }
    } else if (t === ID.emptyStream) empty = r.bits(count);
    r.o = next;
  }
  return { names, empty };
}

function* entries(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  try {
    const nextOffset = u32le(d, 12) + u32le(d, 16) * 2 ** 32;
    const nextSize = u32le(d, 20);
    const at = SIGNATURE_HEADER + nextOffset;
    if (at + nextSize > d.length) throw new Damaged('the header lies past the end of the file');
    let r = new Reader(d.subarray(at, at + nextSize));
    let id = r.byte();
    if (id === ID.encodedHeader) {
      const packed = streamsInfo(r);
      const header = unpackFolder(d, packed, 0, ctx, 'header');
      if (header === undefined) return;
      r = new Reader(header);
      id = r.byte();
    }
    if (id !== ID.header) throw new Damaged('no header');
    let streams: Streams = { packPos: 0, packSizes: [], folders: [] };
    let files = { names: [] as string[], empty: [] as boolean[] };
    for (let t = r.byte(); t !== ID.end; t = r.byte()) {
      if (t === ID.mainStreams) streams = streamsInfo(r);
      else if (t === ID.files) files = filesInfo(r);
      else throw new Damaged(`unsupported header property ${t}`);
    }
    let file = 0;
    for (let i = 0; i < streams.folders.length; i++) {
      const f = streams.folders[i] as Folder;
      while (files.empty[file] === true) file++;
      const first = files.names[file] ?? `folder${i}`;
      const data = unpackFolder(d, streams, i, ctx, first);
      let o = 0;
      for (const size of f.sizes) {
        while (files.empty[file] === true) file++;
        const name = files.names[file++] ?? `file${file}`;
        if (data !== undefined) yield { name, data: data.subarray(o, o + size) };
        o += size;
      }
    }
  } catch (e) {
    if (!(e instanceof Damaged)) throw e;
    ctx.broken(e.message);
  }
}

export const sevenZipHandler: ContainerHandler = {
  name: '7Zip',
  families: ['archive'],
  types: ['CL_TYPE_7Z'],
  extract: entries,
};
