// Microsoft Cabinet files: folders of concatenated data blocks, stored or MSZIP (deflate blocks
// that share a 32 KiB history); files are slices of their folder's stream. LZX and Quantum
// folders are reported as unsupported.
import type { EngineEnv } from '../../env.js';
import { cString, u16le, u32le } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';

const RESERVE_PRESENT = 4;
const PREV_CABINET = 1;
const NEXT_CABINET = 2;
const STORED = 0;
const MSZIP = 1;
const METHOD_NAMES = ['stored', 'MSZIP', 'Quantum', 'LZX'];

interface Folder {
  readonly dataOffset: number;
  readonly blocks: number;
  readonly method: number;
}

interface FileEntry {
  readonly name: string;
  readonly size: number;
  readonly offset: number;
  readonly folder: number;
}

/** Skips a NUL-terminated string at `o`; returns the offset after it. */
const skipString = (d: Uint8Array, o: number) => {
  const nul = d.indexOf(0, o);
  return nul < 0 ? d.length : nul + 1;
};

/** One MSZIP block: `CK` then a deflate stream that may refer to the previous block's output. */
function inflateBlock(env: EngineEnv, block: Uint8Array, history: Uint8Array, max: number) {
  if (block[0] !== 0x43 || block[1] !== 0x4b) return undefined;
  return env.inflate('raw', block.subarray(2), max, history);
}

/** A folder's whole decoded stream; `over-limit` when it would pass the member limit; undefined after a report. */
function folderStream(
  d: Uint8Array,
  f: Folder,
  dataReserve: number,
  ctx: ExtractContext,
): Uint8Array | 'over-limit' | undefined {
  const kind = f.method & 0x0f;
  if (kind !== STORED && kind !== MSZIP) {
    ctx.broken(`${METHOD_NAMES[kind] ?? `method ${kind}`} folders are not supported`);
    return undefined;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  let history: Uint8Array = new Uint8Array(0);
  let o = f.dataOffset;
  for (let b = 0; b < f.blocks; b++) {
    const packed = u16le(d, o + 4);
    const start = o + 8 + dataReserve;
    const block = d.subarray(start, Math.min(d.length, start + packed));
    o = start + packed;
    if (block.length < packed) ctx.broken(`data block ${b} is cut short`);
    let out = block;
    if (kind === MSZIP) {
      const r = inflateBlock(ctx.env, block, history, ctx.maxMemberSize);
      if (r === undefined || r.status === 'corrupt') {
        ctx.broken(`MSZIP block ${b} is damaged`);
        break;
      }
      if (r.status === 'over-limit') return 'over-limit';
      out = r.data;
      history = out.length >= 32768 ? out.subarray(out.length - 32768) : out;
    }
    total += out.length;
    if (total > ctx.maxMemberSize) return 'over-limit';
    chunks.push(out);
    if (block.length < packed) break;
  }
  const stream = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    stream.set(c, at);
    at += c.length;
  }
  return stream;
}

function* files(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  const filesOffset = u32le(d, 16);
  const folderCount = u16le(d, 26);
  const fileCount = u16le(d, 28);
  const flags = u16le(d, 30);
  let o = 36;
  let folderReserve = 0;
  let dataReserve = 0;
  if ((flags & RESERVE_PRESENT) !== 0) {
    folderReserve = d[o + 2] ?? 0;
    dataReserve = d[o + 3] ?? 0;
    o += 4 + u16le(d, o);
  }
  if ((flags & PREV_CABINET) !== 0) o = skipString(d, skipString(d, o));
  if ((flags & NEXT_CABINET) !== 0) o = skipString(d, skipString(d, o));
  const folders: Folder[] = [];
  for (let i = 0; i < folderCount && o + 8 <= d.length; i++, o += 8 + folderReserve) {
    folders.push({ dataOffset: u32le(d, o), blocks: u16le(d, o + 4), method: u16le(d, o + 6) });
  }
  const entries: FileEntry[] = [];
  o = filesOffset;
  for (let i = 0; i < fileCount && o + 16 <= d.length; i++) {
    const end = skipString(d, o + 16);
    entries.push({
      size: u32le(d, o),
      offset: u32le(d, o + 4),
      folder: u16le(d, o + 8),
      name: cString(d, o + 16, end),
    });
    o = end;
  }
  if (entries.length < fileCount) ctx.broken(`the file table lists ${entries.length} of ${fileCount} files`);
  // Decode each folder once, when its first file is reached, and keep only the current one.
  let current: { index: number; stream: ReturnType<typeof folderStream> } | undefined;
  for (const e of entries) {
    const folder = folders[e.folder];
    if (folder === undefined) {
      ctx.broken(`${e.name} names folder ${e.folder}, which does not exist`);
      continue;
    }
    if (e.size > ctx.maxMemberSize) {
      ctx.tooBig(e.name, e.size);
      continue;
    }
    if (current?.index !== e.folder) current = { index: e.folder, stream: folderStream(d, folder, dataReserve, ctx) };
    if (current.stream === 'over-limit') ctx.tooBig(e.name, undefined);
    if (typeof current.stream !== 'object') continue;
    const data = current.stream.subarray(e.offset, e.offset + e.size);
    if (data.length < e.size) ctx.broken(`${e.name} is cut short (${data.length} of ${e.size} bytes)`);
    yield { name: e.name, data };
  }
}

export const cabHandler: ContainerHandler = {
  name: 'CAB',
  families: ['archive'],
  types: ['CL_TYPE_MSCAB'],
  extract: files,
};
