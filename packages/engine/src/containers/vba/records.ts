// The records of a decompressed VBA `dir` stream (MS-OVBA 2.3.4.2): a cursor that reads them with
// ClamAV's checks (a record's size must fit in what is left), the project-level records (name,
// code page, version, ...) written as ClamAV's `REM` lines, and the bounded text they go into.
// The MODULE records are project.ts's.

import { concatBytes } from '../read.js';
import { toUtf8 } from './codepage.js';

/** A record's identifier and the size of its body. */
export interface DirRecord {
  readonly id: number;
  readonly size: number;
}

/** Reads a dir stream; every failure is an error made by `fail`, for the caller to catch. */
export class Cursor {
  o = 0;
  constructor(
    readonly d: Uint8Array,
    private readonly makeError: (why: string) => Error,
  ) {}

  fail(why: string): Error {
    return this.makeError(`${why} (at byte ${this.o} of the dir stream)`);
  }

  private need(n: number, what: string): void {
    if (this.d.length - this.o < n) throw this.fail(`${what} is cut short`);
  }

  u16(what: string): number {
    this.need(2, what);
    const v = (this.d[this.o] as number) | ((this.d[this.o + 1] as number) << 8);
    this.o += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const d = this.d;
    const o = this.o;
    this.o += 4;
    return (
      ((d[o] as number) | ((d[o + 1] as number) << 8) | ((d[o + 2] as number) << 16) | ((d[o + 3] as number) << 24)) >>>
      0
    );
  }

  /** An identifier and a size that fits in what is left. */
  record(what: string): DirRecord {
    const id = this.u16(what);
    const size = this.u32(what);
    if (size > this.d.length - this.o) throw this.fail(`record 0x${id.toString(16)} runs past the end`);
    return { id, size };
  }

  /** The record that must come next: one of `ids`. */
  expect(...ids: number[]): DirRecord {
    this.need(6, `record 0x${(ids[0] as number).toString(16)}`);
    const rec = this.record('a record');
    if (!ids.includes(rec.id))
      throw this.fail(`record 0x${rec.id.toString(16)} where 0x${(ids[0] as number).toString(16)} belongs`);
    return rec;
  }

  /** The record `id` of exactly `size` (2 or 4) bytes; its value. */
  fixed(id: number, size: 2 | 4): number {
    const rec = this.expect(id);
    if (rec.size !== size) throw this.fail(`record 0x${id.toString(16)} has size ${rec.size}, not ${size}`);
    return size === 2 ? this.u16('a value') : this.u32('a value');
  }

  /** The size field of a record that must have no body. */
  emptyBody(what: string): void {
    if (this.u32(what) !== 0) throw this.fail(`${what} has a body`);
  }

  take(n: number): Uint8Array {
    const b = this.d.subarray(this.o, this.o + n);
    this.o += n;
    return b;
  }
}

const ascii = new TextEncoder();

/** The project's text, refusing to grow past `max` bytes. */
export class TextOut {
  private readonly parts: Uint8Array[] = [];
  private size = 0;
  constructor(
    private readonly max: number,
    private readonly tooBig: () => Error,
  ) {}

  write(b: Uint8Array): void {
    if (this.size + b.length > this.max) throw this.tooBig();
    this.parts.push(b);
    this.size += b.length;
  }

  ascii(s: string): void {
    this.write(ascii.encode(s));
  }

  /** `label`, then `bytes` (if any) in UTF-8 or ClamAV's placeholder; the UTF-8, if it converted. */
  converted(label: string, bytes: Uint8Array, codepage: number): Uint8Array | undefined {
    this.ascii(label);
    if (bytes.length === 0) return undefined;
    const utf8 = toUtf8(bytes, codepage);
    if (utf8 === undefined) this.ascii('<error decoding string>');
    else this.write(utf8);
    return utf8;
  }

  result(): Uint8Array {
    return concatBytes(this.parts);
  }
}

const SYS_KINDS = ['Windows 16 bit', 'Windows 32 bit', 'Macintosh', 'Windows 64 bit'];
const hex = (v: number, width: number) => `0x${v.toString(16).padStart(width, '0')}`;

/** The project-level state the records change: the code page later strings are in. */
export interface ProjectState {
  codepage: number;
}

/** A record outside the MODULE records: checked, written as ClamAV's `REM` line, or skipped. */
export function projectRecord(c: Cursor, rec: DirRecord, out: TextOut, state: ProjectState): void {
  const cp = state.codepage;
  switch (rec.id) {
    case 0x0004:
      if (rec.size < 1 || rec.size > 128) throw c.fail(`PROJECTNAME has size ${rec.size}`);
      out.converted('REM PROJECTNAME: ', c.take(rec.size), cp);
      out.ascii('\n');
      break;
    case 0x0005:
      if (rec.size > 2000) throw c.fail(`PROJECTDOCSTRING has size ${rec.size}`);
      out.converted('REM PROJECTDOCSTRING: ', c.take(rec.size), cp);
      out.ascii('\n');
      break;
    case 0x0040:
      if (rec.size % 2 !== 0) throw c.fail('PROJECTDOCSTRINGUNICODE has an odd size');
      out.converted('REM PROJECTDOCSTRINGUNICODE: ', c.take(rec.size), 1200);
      out.ascii('\n');
      break;
    case 0x0006:
      helpFilePath(c, rec, out, cp);
      break;
    default: {
      const line = numberRecord(c, rec, state);
      if (line === undefined) c.take(rec.size);
      else out.ascii(line);
    }
  }
}

/** The `REM` line of a record holding a number, or undefined for a record ClamAV skips. */
function numberRecord(c: Cursor, rec: DirRecord, state: ProjectState): string | undefined {
  const sized = (n: number, name: string) => {
    if (rec.size !== n) throw c.fail(`${name} has size ${rec.size}, not ${n}`);
    return name;
  };
  switch (rec.id) {
    case 0x0001: {
      const kind = c.u32(sized(4, 'PROJECTSYSKIND'));
      return `REM PROJECTSYSKIND: ${SYS_KINDS[kind] ?? `Unknown (0x${kind.toString(16)})`}\n`;
    }
    case 0x0002:
      return `REM PROJECTLCID: ${hex(c.u32(sized(4, 'PROJECTLCID')), 8)}\n`;
    case 0x0014:
      return `REM PROJECTLCIDINVOKE: ${hex(c.u32(sized(4, 'PROJECTLCIDINVOKE')), 8)}\n`;
    case 0x0003:
      state.codepage = c.u16(sized(2, 'PROJECTCODEPAGE'));
      return `REM PROJECTCODEPAGE: ${hex(state.codepage, 4)}\n`;
    case 0x0007:
      return `REM PROJECTHELPCONTEXT: ${hex(c.u32(sized(4, 'PROJECTHELPCONTEXT')), 4)}\n`;
    case 0x0008:
      return `REM PROJECTLIBFLAGS: ${hex(c.u32(sized(4, 'PROJECTLIBFLAGS')), 4)}\n`;
    case 0x0009: {
      // The size says 4 though the record holds 6 bytes, a major and a minor version.
      const major = c.u32(sized(4, 'PROJECTVERSION'));
      return `REM PROJECTVERSION: ${major}.${c.u16('PROJECTVERSION')}\n`;
    }
    case 0x000f:
      return `REM PROJECTMODULES: ${c.u16(sized(2, 'PROJECTMODULES'))}\n`;
    case 0x0013:
      return `REM PROJECTCOOKIE: ${hex(c.u16(sized(2, 'PROJECTCOOKIE')), 4)}\n`;
    default:
      return undefined;
  }
}

/** PROJECTHELPFILEPATH, and the PROJECTHELPFILEPATH2 that should follow it. */
function helpFilePath(c: Cursor, rec: DirRecord, out: TextOut, cp: number): void {
  if (rec.size > 260) throw c.fail(`PROJECTHELPFILEPATH has size ${rec.size}`);
  const first = c.take(rec.size);
  out.converted('REM PROJECTHELPFILEPATH: ', first, cp);
  out.ascii('\n');
  const at = c.o;
  if (c.u16('a record') !== 0x003d) {
    c.o = at; // not consumed: the loop reads it as the next record
    out.ascii('REM WARNING: PROJECTHELPFILEPATH is not followed by PROJECTHELPFILEPATH2\n');
    return;
  }
  const size = c.u32('PROJECTHELPFILEPATH2');
  if (size > c.d.length - c.o) throw c.fail('PROJECTHELPFILEPATH2 runs past the end');
  if (size > 260) throw c.fail(`PROJECTHELPFILEPATH2 has size ${size}`);
  const second = c.take(size);
  if (size !== rec.size) out.ascii('REM WARNING: PROJECTHELPFILEPATH and PROJECTHELPFILEPATH2 record sizes differ\n');
  else if (!first.every((v, i) => v === second[i])) {
    out.ascii('REM WARNING: PROJECTHELPFILEPATH and PROJECTHELPFILEPATH2 contents differ\n');
  }
  out.converted('REM PROJECTHELPFILEPATH2: ', second, 1200);
  out.ascii('\n');
}
