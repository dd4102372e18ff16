// Microsoft Compiled HTML Help (ITSF): every listed file that is not a `::` system file, in listing
// order, as libmspack's chmd hands them to ClamAV. Section 0 files are read in place; section 1
// files come from the MSCompressed LZX stream (ControlData for the window and reset interval, the
// ResetTable to start at the reset point before a file, SpanInfo when the table is unusable).
// The directory is read by directory.ts, LZX by ../lzx.
import { LZX_FRAME, LzxStream } from '../lzx/decode.js';
import { u32le } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';
import { type ChmDirectory, type ChmEntry, readDirectory, u64le } from './directory.js';

const CONTENT = '::DataSpace/Storage/MSCompressed/Content';
const CONTROL = '::DataSpace/Storage/MSCompressed/ControlData';
const SPANINFO = '::DataSpace/Storage/MSCompressed/SpanInfo';
const RESET_TABLE =
  '::DataSpace/Storage/MSCompressed/Transform/{7FC28940-9D31-11D0-9B27-00A0C91E9C7C}/InstanceData/ResetTable';
const CONTROL_SIZE = 0x1c;
const RESET_HEADER = 0x28;
/** libmspack's cap on the reset table. */
const MAX_RESET_TABLE = 1000000;
/** LZX output decoded for one CHM at most, skipped bytes included: files sorted by name may send the decoder back and forth. */
const MAX_DECODE_WORK = 512 * 1024 * 1024;

/** The LZX stream positioned somewhere in the compressed section. */
interface Decoder {
  readonly stream: LzxStream;
  /** Section offset at which the stream starts (a reset point). */
  readonly start: number;
  /** The section's length as the reset table (rounded up) or SpanInfo gives it. */
  readonly length: number;
}

/** Bytes of a section 0 file `e` (an ordinary file or a system one), cut at the end of the CHM. */
function stored(d: Uint8Array, dir: ChmDirectory, e: ChmEntry): Uint8Array {
  const at = dir.section0 + e.offset;
  return d.subarray(Math.min(at, d.length), Math.min(at + e.length, d.length));
}

/** A whole section 0 system file, or undefined when it is missing, compressed or cut short. */
function systemFile(d: Uint8Array, dir: ChmDirectory, name: string): Uint8Array | undefined {
  const e = dir.system.get(name);
  if (e === undefined || e.section !== 0) return undefined;
  const b = stored(d, dir, e);
  return b.length === e.length ? b : undefined;
}

/** Window bits and reset interval (bytes) from ControlData, or a message. */
function controlData(d: Uint8Array, dir: ChmDirectory): { windowBits: number; reset: number } | string {
  const e = dir.system.get(CONTROL);
  if (e === undefined || e.length !== CONTROL_SIZE) return 'its LZX ControlData is missing or of the wrong size';
  const c = systemFile(d, dir, CONTROL);
  if (c === undefined || u32le(c, 4) !== 0x43585a4c) return 'its LZX ControlData is unreadable';
  const version = u32le(c, 8);
  if (version !== 1 && version !== 2) return `LZX ControlData version ${version} is unknown`;
  const unit = version === 2 ? LZX_FRAME : 1;
  const reset = u32le(c, 12) * unit;
  const window = u32le(c, 16) * unit;
  const windowBits = Math.log2(window);
  if (!Number.isInteger(windowBits) || windowBits < 15 || windowBits > 21)
    return `LZX window size ${window} is invalid`;
  if (reset === 0 || reset % LZX_FRAME !== 0) return `LZX reset interval ${reset} is invalid`;
  return { windowBits, reset };
}

/** The reset table's entry for `frame` and the section's (rounded up) length, when usable. */
function resetEntry(d: Uint8Array, dir: ChmDirectory, frame: number, reset: number) {
  const e = dir.system.get(RESET_TABLE);
  if (e === undefined || e.length < RESET_HEADER || e.length > MAX_RESET_TABLE) return undefined;
  const t = systemFile(d, dir, RESET_TABLE);
  if (t === undefined || u32le(t, 0x20) !== LZX_FRAME) return undefined;
  const entrySize = u32le(t, 8);
  const pos = u32le(t, 12) + frame * entrySize;
  if (frame >= u32le(t, 4) || pos + entrySize > t.length) return undefined;
  if (entrySize !== 4 && entrySize !== 8) return undefined;
  const offset = entrySize === 4 ? u32le(t, pos) : u64le(t, pos);
  const length = Math.ceil(u64le(t, 0x10) / reset) * reset;
  return { offset, length };
}

/** An LZX decoder starting at the reset point before section offset `at`, or a message. */
function openDecoder(d: Uint8Array, dir: ChmDirectory, at: number): Decoder | string {
  const content = dir.system.get(CONTENT);
  if (content === undefined) return 'its compressed Content is missing';
  const control = controlData(d, dir);
  if (typeof control === 'string') return control;
  const frame = Math.floor(at / control.reset) * (control.reset / LZX_FRAME);
  let entry = resetEntry(d, dir, frame, control.reset);
  let start = frame * LZX_FRAME;
  if (entry === undefined) {
    const span = systemFile(d, dir, SPANINFO);
    const length = span !== undefined && span.length === 8 ? u64le(span, 0) : 0;
    if (length <= 0) return 'neither its ResetTable nor its SpanInfo is usable';
    entry = { offset: 0, length };
    start = 0;
  }
  const from = dir.section0 + content.offset + entry.offset;
  const input = d.subarray(Math.min(from, d.length));
  const stream = LzxStream.open(input, {
    windowBits: control.windowBits,
    length: Math.max(0, entry.length - start),
    resetInterval: control.reset / LZX_FRAME,
  });
  if (typeof stream === 'string') return stream;
  return { stream, start, length: entry.length };
}

/** Extracts the compressed files, reusing the decoder while files lie ahead of it, as chmd does. */
class Section1 {
  private decoder: Decoder | undefined;
  private work = 0;

  constructor(
    private readonly d: Uint8Array,
    private readonly dir: ChmDirectory,
  ) {}

  /** The file's bytes (what decoded, with `error`, when the stream fails). */
  read(e: ChmEntry): { data: Uint8Array; error?: string } {
    const empty = new Uint8Array(0);
    let dec = this.decoder;
    if (dec === undefined || e.offset < dec.start + dec.stream.offset) {
      const opened = openDecoder(this.d, this.dir, e.offset);
      if (typeof opened === 'string') return { data: empty, error: opened };
      dec = this.decoder = opened;
    }
    if (e.offset > dec.length) return this.fail(empty, 'it starts past the end of the compressed section');
    const gap = e.offset - (dec.start + dec.stream.offset);
    this.work += gap + e.length;
    if (this.work > MAX_DECODE_WORK) return this.fail(empty, `decoding passed the limit of ${MAX_DECODE_WORK} bytes`);
    const skipped = dec.stream.skip(gap);
    if (skipped !== undefined) return this.fail(empty, skipped);
    const r = dec.stream.read(e.length);
    return r.error === undefined ? r : this.fail(r.data, r.error);
  }

  /** A failed stream is dropped; the next file starts a fresh one. */
  private fail(data: Uint8Array, error: string) {
    this.decoder = undefined;
    return { data, error };
  }
}

function* files(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  const dir = readDirectory(d);
  if (typeof dir === 'string') {
    ctx.broken(`CHM: ${dir}`);
    return;
  }
  if (dir.damagedChunks > 0) ctx.broken(`CHM: ${dir.damagedChunks} directory chunk(s) are damaged`);
  const section1 = new Section1(d, dir);
  for (const e of dir.files) {
    if (e.length > ctx.maxMemberSize) {
      ctx.tooBig(e.name, e.length);
      continue;
    }
    if (e.length === 0) {
      yield { name: e.name, data: new Uint8Array(0) };
      continue;
    }
    if (e.section === 0) {
      const data = stored(d, dir, e);
      if (data.length < e.length) ctx.broken(`CHM: ${e.name} is cut short (${data.length} of ${e.length} bytes)`);
      yield { name: e.name, data };
      continue;
    }
    const r = section1.read(e);
    if (r.error !== undefined) ctx.broken(`CHM: ${e.name} cannot be fully decompressed: ${r.error}`);
    yield { name: e.name, data: r.data };
  }
}

/** Compiled HTML Help files (CL_TYPE_MSCHM). */
export const chmHandler: ContainerHandler = {
  name: 'CHM',
  families: ['archive'],
  types: ['CL_TYPE_MSCHM'],
  extract: files,
};
