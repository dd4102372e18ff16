// A VBA project's text as ClamAV builds it from the decompressed `dir` stream (MS-OVBA 2.3.4.2):
// a `REM` line per project record, then per MODULE record its names, offset and type as `REM`
// lines and the module's source, decompressed, turned into UTF-8 and normalised. ClamAV scans
// this one text; when a record is cut short, has the wrong size, or a module record's parts are
// out of order, it drops the whole text, and so does this. Reading the records is here; finding
// the module streams is the caller's (a lookup by stream name), and the records' text is
// records.ts's.

import { toUtf8 } from './codepage.js';
import { type Decompressed, decompressVba } from './decompress.js';
import { streamKey } from './names.js';
import { normaliseVba } from './normalise.js';
import { Cursor, type DirRecord, projectRecord, TextOut } from './records.js';

/** What building a project's text gave: the text, or why ClamAV would drop it. */
export type ProjectText =
  | { readonly status: 'ok'; readonly text: Uint8Array; readonly modules: number }
  | { readonly status: 'broken'; readonly why: string }
  | { readonly status: 'too-big' };

/** The module streams that may hold the source for a stream name (ClamAV's key), in order. */
export type ModuleLookup = (key: string) => readonly Uint8Array[];

/** Decodes the compressed container at `offset` in a stream (within whatever budget applies). */
export type Decoder = (stream: Uint8Array, offset: number) => Decompressed;

/** Where module sources come from, and the text's limit. */
export interface ProjectSources {
  readonly lookup: ModuleLookup;
  /** The text's size at most. */
  readonly max: number;
  /** The decoder for module sources; by default MS-OVBA decoding capped at `max`. */
  readonly decode?: Decoder;
}

const END = 0x0010;
const UTF16LE = 1200;
const MODULE = 0x0019;
/** ClamAV's default code page until a PROJECTCODEPAGE record sets one. */
const DEFAULT_CODEPAGE = 28591;

/** Thrown inside this file only, to drop the text; never escapes `projectText`. */
class Dropped extends Error {}
class TooBig extends Error {}

/**
 * The text ClamAV scans for the project whose decompressed `dir` stream is `dir`; module sources
 * come from `sources.lookup`. The text never passes `sources.max` bytes.
 */
export function projectText(dir: Uint8Array, sources: ProjectSources): ProjectText {
  const { lookup, max } = sources;
  const decode = sources.decode ?? ((stream: Uint8Array, offset: number) => decompressVba(stream, offset, max));
  const c = new Cursor(dir, (why) => new Dropped(why));
  const out = new TextOut(max, () => new TooBig());
  const state = { codepage: DEFAULT_CODEPAGE, modules: 0 };
  try {
    out.ascii('REM VBA project extracted from Microsoft Office document\n\n');
    while (c.o < dir.length) {
      const rec = c.record('a record');
      if (rec.id === END) break;
      if (rec.id === MODULE) {
        moduleRecord(c, rec, { out, state, lookup, decode });
        state.modules++;
      } else projectRecord(c, rec, out, state);
    }
  } catch (e) {
    if (e instanceof TooBig) return { status: 'too-big' };
    if (e instanceof Dropped) return { status: 'broken', why: e.message };
    throw e;
  }
  return { status: 'ok', text: out.result(), modules: state.modules };
}

interface ModuleContext {
  readonly out: TextOut;
  readonly state: { codepage: number };
  readonly lookup: ModuleLookup;
  readonly decode: Decoder;
}

/** A string pair (code page, then UTF-16) written with their labels and a warning if they differ. */
function namePair(c: Cursor, first: DirRecord, labels: [string, string, number], m: ModuleContext): DirRecord {
  const [mbcsLabel, unicodeLabel, unicodeId] = labels;
  const { out } = m;
  const mbcs = out.converted(mbcsLabel, c.take(first.size), m.state.codepage);
  const second = c.expect(unicodeId);
  const unicode = out.converted(unicodeLabel, c.take(second.size), UTF16LE);
  if (mbcs !== undefined && unicode !== undefined && !sameBytes(mbcs, unicode)) {
    const what = mbcsLabel.replace(/^\n+REM /, '').replace(/: $/, '');
    out.ascii(`\nREM WARNING: ${what} and ${what}UNICODE differ`);
  }
  return second;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

const hex = (v: number, width: number) => `0x${v.toString(16).padStart(width, '0')}`;

/** One MODULE record and the records that must follow it, then the module's source. */
function moduleRecord(c: Cursor, name: DirRecord, m: ModuleContext): void {
  const { out } = m;
  namePair(c, name, ['\n\nREM MODULENAME: ', '\nREM MODULENAMEUNICODE: ', 0x0047], m);
  const streamName = c.expect(0x001a);
  const streamUnicode = namePair(
    c,
    streamName,
    ['\nREM MODULESTREAMNAME: ', '\nREM MODULESTREAMNAMEUNICODE: ', 0x0032],
    m,
  );
  const keyBytes = dirBytes(c, c.o - streamUnicode.size, streamUnicode.size + 2);
  namePair(c, c.expect(0x001c), ['\nREM MODULEDOCSTRING: ', '\nREM MODULEDOCSTRINGUNICODE: ', 0x0048], m);
  const offset = c.fixed(0x0031, 4);
  out.ascii(`\nREM MODULEOFFSET: ${hex(offset, 8)}`);
  out.ascii(`\nREM MODULEHELPCONTEXT: ${hex(c.fixed(0x001e, 4), 8)}`);
  out.ascii(`\nREM MODULECOOKIE: ${hex(c.fixed(0x002c, 2), 4)}`);
  const type = c.expect(0x0021, 0x0022);
  if (type.size !== 0) throw c.fail('MODULETYPE has a size');
  out.ascii(type.id === 0x0021 ? '\nREM MODULETYPE: Procedural' : '\nREM MODULETYPE: Class');
  let id = c.u16('a module record');
  if (id === 0x0025) {
    c.emptyBody('MODULEREADONLY');
    out.ascii('\nREM MODULEREADONLY');
    id = c.u16('a module record');
  }
  if (id === 0x0028) {
    c.emptyBody('MODULEPRIVATE');
    out.ascii('\nREM MODULEPRIVATE');
    id = c.u16('a module record');
  }
  if (id !== 0x002b) throw c.fail(`a module ends with record 0x${id.toString(16)}, not its terminator`);
  c.emptyBody('the module terminator');
  out.ascii(`\nREM ${'#'.repeat(50)}\n`);
  const key = streamKey(keyBytes, streamUnicode.size + 2);
  if (key === undefined) throw c.fail('a module stream name is empty or too long');
  moduleSource(key, offset, m);
}

/** `length` bytes of the dir stream from `at`, zeros past its end (ClamAV reads on regardless). */
function dirBytes(c: Cursor, at: number, length: number): Uint8Array {
  const b = new Uint8Array(Math.max(0, Math.min(length, 130)));
  b.set(c.d.subarray(at, at + b.length));
  return b;
}

/** The first module stream that decompresses, converted and normalised into the text. */
function moduleSource(key: string, offset: number, m: ModuleContext): void {
  for (const stream of m.lookup(key)) {
    const src = m.decode(stream, offset);
    if (src.status === 'over-limit') throw new TooBig();
    if (src.status === 'failed') continue;
    const utf8 = toUtf8(src.data, m.state.codepage);
    if (utf8 === undefined) m.out.ascii('\n<Error decoding module data>\n');
    else m.out.write(normaliseVba(utf8));
    return;
  }
}
