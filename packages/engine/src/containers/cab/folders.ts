// A cabinet folder's data: its CFDATA blocks, decoded by the folder's method. Stored and MSZIP
// folders are decoded whole (MSZIP blocks share a 32 KiB history); an LZX or Quantum folder's
// blocks form one stream, read forwards file by file and restarted when a file lies behind it (as
// libmspack, which ClamAV uses, does). The header and file table are index.ts's.
import type { EngineEnv } from '../../env.js';
import { LzxStream } from '../lzx/decode.js';
import { QuantumStream } from '../quantum/decode.js';
import { u16le } from '../read.js';
import type { ExtractContext } from '../types.js';

const STORED = 0;
const MSZIP = 1;
const QUANTUM = 2;
const LZX = 3;
const METHOD_NAMES = ['stored', 'MSZIP', 'Quantum', 'LZX'];
/** LZX and Quantum output decoded for one cabinet at most, skipped bytes included. */
const MAX_STREAM_WORK = 512 * 1024 * 1024;

/** A folder as its CFFOLDER entry describes it. */
export interface Folder {
  readonly dataOffset: number;
  readonly blocks: number;
  readonly method: number;
}

/** A file's bytes, or `over-limit` when its folder cannot be decoded within the member limit. */
export type FolderRead = { readonly data: Uint8Array; readonly error?: string } | 'over-limit';

/** Reads files out of one folder. */
export interface FolderReader {
  read(offset: number, size: number): FolderRead;
}

/** The folder's CFDATA blocks: their payloads and the sizes they decode to. */
interface Blocks {
  readonly payloads: Uint8Array[];
  readonly sizes: number[];
  /** Set when the blocks end before the folder says they do. */
  readonly damage?: string;
}

function readBlocks(d: Uint8Array, f: Folder, dataReserve: number): Blocks {
  const payloads: Uint8Array[] = [];
  const sizes: number[] = [];
  let o = f.dataOffset;
  for (let b = 0; b < f.blocks; b++) {
    if (o + 8 > d.length) return { payloads, sizes, damage: `data block ${b} is missing` };
    const packed = u16le(d, o + 4);
    const unpacked = u16le(d, o + 6);
    const start = o + 8 + dataReserve;
    const block = d.subarray(Math.min(start, d.length), Math.min(d.length, start + packed));
    o = start + packed;
    payloads.push(block);
    sizes.push(unpacked);
    if (block.length < packed) return { payloads, sizes, damage: `data block ${b} is cut short` };
    if (unpacked === 0) return { payloads, sizes, damage: `data block ${b} continues in another cabinet` };
  }
  return { payloads, sizes };
}

/** One MSZIP block: `CK` then a deflate stream that may refer to the previous block's output. */
function inflateBlock(env: EngineEnv, block: Uint8Array, history: Uint8Array, max: number) {
  if (block[0] !== 0x43 || block[1] !== 0x4b) return undefined;
  return env.inflate('raw', block.subarray(2), max, history);
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A stored or MSZIP folder's whole stream; `over-limit` past the member limit; undefined after a report. */
function wholeStream(blocks: Blocks, kind: number, ctx: ExtractContext): Uint8Array | 'over-limit' | undefined {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let history: Uint8Array = new Uint8Array(0);
  for (let b = 0; b < blocks.payloads.length; b++) {
    let out = blocks.payloads[b] as Uint8Array;
    if (kind === MSZIP) {
      const r = inflateBlock(ctx.env, out, history, ctx.maxMemberSize);
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
  }
  return concat(chunks, total);
}

/** What LZX and Quantum streams offer: reading on from where they are, skipping, their position. */
interface ForwardStream {
  readonly offset: number;
  read(n: number): { readonly data: Uint8Array; readonly error?: string };
  skip(n: number): string | undefined;
}

/** An LZX or Quantum folder: one stream over all its blocks, kept while files lie ahead of it. */
class StreamFolder implements FolderReader {
  private stream: ForwardStream | undefined;

  constructor(
    private readonly method: string,
    private readonly open: () => ForwardStream | string,
    private readonly work: { done: number },
  ) {}

  read(offset: number, size: number): FolderRead {
    let s = this.stream;
    if (s === undefined || offset < s.offset) {
      const opened = this.open();
      if (typeof opened === 'string') return { data: new Uint8Array(0), error: opened };
      s = this.stream = opened;
    }
    const gap = offset - s.offset;
    this.work.done += gap + size;
    if (this.work.done > MAX_STREAM_WORK) {
      return { data: new Uint8Array(0), error: `${this.method} decoding passed the limit of ${MAX_STREAM_WORK} bytes` };
    }
    const skipped = s.skip(gap);
    const r = skipped === undefined ? s.read(size) : { data: new Uint8Array(0), error: skipped };
    if (r.error !== undefined) this.stream = undefined;
    return r;
  }
}

function lzxFolder(blocks: Blocks, windowBits: number, work: { done: number }): StreamFolder {
  const input = concat(
    blocks.payloads,
    blocks.payloads.reduce((n, p) => n + p.length, 0),
  );
  const length = blocks.sizes.reduce((n, s) => n + s, 0);
  return new StreamFolder('LZX', () => LzxStream.open(input, { windowBits, length }), work);
}

/** Quantum's blocks each end with 0xFF, the byte libmspack appends for the decoder to realign on. */
function quantumFolder(blocks: Blocks, windowBits: number, work: { done: number }): StreamFolder {
  const input = concat(
    blocks.payloads.flatMap((p) => [p, Uint8Array.of(0xff)]),
    blocks.payloads.reduce((n, p) => n + p.length + 1, 0),
  );
  return new StreamFolder('Quantum', () => QuantumStream.open(input, windowBits), work);
}

/** A folder decoded whole, sliced per file. */
class WholeFolder implements FolderReader {
  constructor(private readonly stream: Uint8Array | 'over-limit' | undefined) {}

  read(offset: number, size: number): FolderRead {
    if (this.stream === 'over-limit') return 'over-limit';
    const data = this.stream?.subarray(offset, offset + size) ?? new Uint8Array(0);
    return data.length < size ? { data, error: `cut short (${data.length} of ${size} bytes)` } : { data };
  }
}

/** A reader for folder `f`, or undefined (after a report) when its method is not decoded here. */
export function openFolder(
  d: Uint8Array,
  f: Folder,
  options: { readonly dataReserve: number; readonly work: { done: number } },
  ctx: ExtractContext,
): FolderReader | undefined {
  const kind = f.method & 0x0f;
  if (kind !== STORED && kind !== MSZIP && kind !== QUANTUM && kind !== LZX) {
    ctx.broken(`${METHOD_NAMES[kind] ?? `method ${kind}`} folders are not supported`);
    return undefined;
  }
  const blocks = readBlocks(d, f, options.dataReserve);
  if (blocks.damage !== undefined) ctx.broken(blocks.damage);
  if (kind === LZX) return lzxFolder(blocks, (f.method >> 8) & 0x1f, options.work);
  if (kind === QUANTUM) return quantumFolder(blocks, (f.method >> 8) & 0x1f, options.work);
  return new WholeFolder(wholeStream(blocks, kind, ctx));
}
