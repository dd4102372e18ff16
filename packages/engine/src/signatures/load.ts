// Reads one database file into a SignatureSink, by its extension, as ClamAV's readdb does. Bad
// lines become Diagnostics (file, line, column, code, message); the file's other lines still load,
// and the caller decides whether any error stops the load (clamscan's answer: it does).
import type { DatabaseInput } from '../database/api.js';
import type { EngineEnv } from '../env.js';
import { parseDbLine, parseNdbLine } from './clamav/body.js';
import { openCvd } from './clamav/cvd.js';
import { FieldError, SkipLine } from './clamav/fields.js';
import { type HashLineBytes, parseHashLine, readHashLineBytes } from './clamav/hash.js';
import { parseLdbLine } from './clamav/logical.js';
import { parseAuxiliaryLine, parseFtmLine, parseIgnoreLine } from './clamav/misc.js';
import type { Diagnostic } from './diagnostics.js';
import type { AuxiliaryKind, SignatureSink, SourceRef } from './types.js';

export interface ParseContext {
  readonly env: EngineEnv;
  readonly detectPua: boolean;
  readonly diagnostics: Diagnostic[];
}

type LineKind =
  | {
      readonly k: 'hash';
      readonly scope: 'file' | 'section' | 'import';
      readonly sizeFirst: boolean;
      readonly pua: boolean;
    }
  | { readonly k: 'allow' }
  | { readonly k: 'ndb'; readonly pua: boolean }
  | { readonly k: 'db' }
  | { readonly k: 'ldb'; readonly pua: boolean }
  | { readonly k: 'ftm' }
  | { readonly k: 'ign' }
  | { readonly k: 'aux'; readonly kind: AuxiliaryKind };

const LINE_FORMATS: Readonly<Record<string, LineKind>> = {
  hdb: { k: 'hash', scope: 'file', sizeFirst: false, pua: false },
  hsb: { k: 'hash', scope: 'file', sizeFirst: false, pua: false },
  hdu: { k: 'hash', scope: 'file', sizeFirst: false, pua: true },
  hsu: { k: 'hash', scope: 'file', sizeFirst: false, pua: true },
  mdb: { k: 'hash', scope: 'section', sizeFirst: true, pua: false },
  msb: { k: 'hash', scope: 'section', sizeFirst: true, pua: false },
  mdu: { k: 'hash', scope: 'section', sizeFirst: true, pua: true },
  msu: { k: 'hash', scope: 'section', sizeFirst: true, pua: true },
  imp: { k: 'hash', scope: 'import', sizeFirst: true, pua: false },
  fp: { k: 'allow' },
  sfp: { k: 'allow' },
  ndb: { k: 'ndb', pua: false },
  ndu: { k: 'ndb', pua: true },
  db: { k: 'db' },
  ldb: { k: 'ldb', pua: false },
  ldu: { k: 'ldb', pua: true },
  ftm: { k: 'ftm' },
  ign: { k: 'ign' },
  ign2: { k: 'ign' },
  cdb: { k: 'aux', kind: 'cdb' },
  crb: { k: 'aux', kind: 'crb' },
  idb: { k: 'aux', kind: 'idb' },
  pdb: { k: 'aux', kind: 'pdb' },
  wdb: { k: 'aux', kind: 'wdb' },
  gdb: { k: 'aux', kind: 'gdb' },
  cfg: { k: 'aux', kind: 'cfg' },
  pwdb: { k: 'aux', kind: 'pwdb' },
};

const CONTAINERS = ['cvd', 'cld', 'cud'] as const;
const WHOLE_FILE = ['cbc', 'yar', 'yara', 'info'] as const;

/** The lower-case extension of a database file name. */
export function databaseExtension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/** True for the names ClamAV loads from a database directory. */
export function isDatabaseFileName(name: string): boolean {
  const ext = databaseExtension(name);
  return (
    ext in LINE_FORMATS ||
    (CONTAINERS as readonly string[]).includes(ext) ||
    (WHOLE_FILE as readonly string[]).includes(ext)
  );
}

function addLine(kind: LineKind, line: string, sink: SignatureSink, source: SourceRef): void {
  switch (kind.k) {
    case 'hash':
      sink.hash(parseHashLine(line, kind.scope, kind.sizeFirst, source), kind.pua);
      return;
    case 'allow':
      sink.allow(parseHashLine(line, 'file', false, source));
      return;
    case 'ndb':
      sink.body(parseNdbLine(line, source), kind.pua);
      return;
    case 'db':
      sink.body(parseDbLine(line, source), false);
      return;
    case 'ldb':
      sink.logical(parseLdbLine(line, source), kind.pua);
      return;
    case 'ftm':
      sink.fileType(parseFtmLine(line));
      return;
    case 'ign':
      sink.ignore(parseIgnoreLine(line, source));
      return;
    case 'aux':
      sink.auxiliary(kind.kind, parseAuxiliaryLine(kind.kind, line), source);
      return;
  }
}

function diagnostic(ctx: ParseContext, file: string, line: number, column: number, e: unknown): void {
  if (e instanceof FieldError) {
    ctx.diagnostics.push({ severity: 'error', code: e.code, file, line, column, message: e.message });
  } else {
    const message = e instanceof Error ? e.message : String(e);
    ctx.diagnostics.push({
      severity: 'error',
      code: 'S011',
      file,
      line,
      column: 0,
      message: `cannot read the line: ${message}`,
    });
  }
}

/** A line of a signature file as a string (latin1: one character per byte, as ClamAV reads it). */
function lineText(b: Uint8Array, start: number, end: number): string {
  if (end - start < 8192) return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
  return new TextDecoder('latin1').decode(b.subarray(start, end));
}

/**
 * The formats ClamAV refuses when empty (no bytes at all) or when a line is empty (checked with
 * clamscan 1.4: "Empty database file", "Problem parsing database at line N"); comment lines are
 * fine. Other formats (.ign2 .pdb .wdb .cfg ...) accept both.
 */
const STRICT_LINES: ReadonlySet<LineKind['k']> = new Set(['hash', 'allow', 'ndb', 'db', 'ldb', 'ftm']);

function parseLines(
  kind: LineKind,
  file: string,
  bytes: Uint8Array,
  sink: SignatureSink,
  ctx: ParseContext,
  official: boolean,
): void {
  const strict = STRICT_LINES.has(kind.k) || (kind.k === 'aux' && (kind.kind === 'cdb' || kind.kind === 'idb'));
  if (strict && bytes.length === 0) {
    ctx.diagnostics.push({
      severity: 'error',
      code: 'S016',
      file,
      line: 0,
      column: 0,
      message: 'the database file is empty',
    });
    return;
  }
  const fileRef: SourceRef = official ? { file, line: 0, official } : { file, line: 0 };
  const fast = kind.k === 'hash' && sink.hashAscii !== undefined ? kind : undefined;
  const found: HashLineBytes = { algo: 'md5', digestAt: 0, size: null, nameStart: 0 };
  let lineNo = 0;
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const next = end + 1;
    lineNo++;
    if (end > start && bytes[end - 1] === 0x0d) end--;
    if (end === start && strict) {
      ctx.diagnostics.push({ severity: 'error', code: 'S016', file, line: lineNo, column: 0, message: 'empty line' });
      start = next;
      continue;
    }
    if (end === start || bytes[start] === 0x23) {
      start = next;
      continue;
    }
    if (fast !== undefined && readHashLineBytes(bytes, start, end, fast.sizeFirst, found)) {
      sink.hashAscii?.(
        fast.scope,
        found.algo,
        bytes,
        found.digestAt,
        found.size,
        found.nameStart,
        end,
        fast.pua,
        fileRef,
      );
      start = next;
      continue;
    }
    try {
      addLine(
        kind,
        lineText(bytes, start, end),
        sink,
        official ? { file, line: lineNo, official } : { file, line: lineNo },
      );
    } catch (e) {
      if (e instanceof SkipLine) sink.skippedByFlevel?.(fileRef);
      else diagnostic(ctx, file, lineNo, e instanceof FieldError ? e.column : 0, e);
    }
    start = next;
  }
}

function warn(ctx: ParseContext, file: string, message: string): void {
  ctx.diagnostics.push({ severity: 'warning', code: 'W001', file, line: 0, column: 0, message });
}

function parseNamed(name: string, bytes: Uint8Array, sink: SignatureSink, ctx: ParseContext, official: boolean): void {
  const ext = databaseExtension(name);
  const kind = LINE_FORMATS[ext];
  if (kind !== undefined) {
    const pua = (kind.k === 'hash' || kind.k === 'ndb' || kind.k === 'ldb') && kind.pua;
    if (pua && !ctx.detectPua) return;
    parseLines(kind, name, bytes, sink, ctx, official);
    return;
  }
  const source: SourceRef = official ? { file: name, line: 0, official } : { file: name, line: 0 };
  switch (ext) {
    case 'cvd':
    case 'cld':
    case 'cud': {
      let cvd: ReturnType<typeof openCvd>;
      try {
        cvd = openCvd(bytes, ext, ctx.env);
      } catch (e) {
        diagnostic(ctx, name, 0, 0, e);
        return;
      }
      sink.container?.(name, cvd.header.version, cvd.header.buildTime, cvd.official);
      for (const m of cvd.members) {
        if (isDatabaseFileName(m.name)) parseNamed(`${name}/${m.name}`, m.bytes, sink, ctx, cvd.official);
      }
      return;
    }
    case 'info':
      sink.auxiliary('info', [], source);
      return;
    case 'cbc':
      sink.auxiliary('cbc', [], source);
      warn(ctx, name, 'bytecode signature loaded and counted, but not run (Vigil has no bytecode interpreter)');
      return;
    case 'yar':
    case 'yara': {
      const rules = new TextDecoder('latin1').decode(bytes).match(/^\s*(?:private\s+|global\s+)*rule\s+\w+/gm) ?? [];
      for (const _ of rules) sink.auxiliary('yara', [], source);
      warn(ctx, name, `${rules.length} YARA rule(s) counted, not run (YARA support is a later stage)`);
      return;
    }
    default:
      ctx.diagnostics.push({
        severity: 'error',
        code: 'S014',
        file: name,
        line: 0,
        column: 0,
        message: `'.${ext}' is not a ClamAV database file kind`,
      });
  }
}

/** Parses one database file (a text format, or a .cvd/.cld/.cud container) into `sink`. */
export function parseDatabaseFile(input: DatabaseInput, sink: SignatureSink, ctx: ParseContext): void {
  parseNamed(input.name, input.bytes, sink, ctx, false);
}
