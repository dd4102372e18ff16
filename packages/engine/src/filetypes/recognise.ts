// File-type recognition as ClamAV does it without a daily.ftm: fixed magic at fixed offsets first
// (its built-in table, of which the entries below are the ones that decide how a file is matched),
// then the text test on the first 1024 bytes, then, for text, the HTML markers anywhere in the file.
// Magic from a database's .ftm comes before the built-in entries, as ClamAV loads it over them.
import type { ByteSource } from '../bytesource.js';
import { isTarHeader } from '../containers/tar/index.js';
import { naiveStarts } from '../matcher/naive.js';
import type { FileTypeMagic } from '../signatures/types.js';
import { NO_MODIFIERS } from '../signatures/types.js';
import type { FileType } from './types.js';

/** Built-in magic at an offset: [offset, hex bytes, type]. */
const MAGIC: readonly (readonly [number, string, FileType])[] = [
  [0, '0000000c6a5020200d0a870a', 'CL_TYPE_GRAPHICS'],
  [0, '000001b3', 'CL_TYPE_IGNORED'],
  [0, '000001ba', 'CL_TYPE_IGNORED'],
  [0, '1f8b', 'CL_TYPE_GZ'],
  [0, '23407e5e', 'CL_TYPE_SCRENC'],
  [0, '252150532d41646f62652d', 'CL_TYPE_PS'],
  [0, '2e524d46', 'CL_TYPE_IGNORED'],
  [0, '424d', 'CL_TYPE_GRAPHICS'],
  [0, '425a68', 'CL_TYPE_BZ'],
  [0, '474946', 'CL_TYPE_GRAPHICS'],
  [0, '494433', 'CL_TYPE_IGNORED'],
  [0, '49545346', 'CL_TYPE_MSCHM'],
  [0, '4d5a', 'CL_TYPE_MSEXE'],
  [0, '4f676753', 'CL_TYPE_IGNORED'],
  [0, '504b0304', 'CL_TYPE_ZIP'],
  [0, '504b3030504b0304', 'CL_TYPE_ZIP'],
  [0, '52494646', 'CL_TYPE_RIFF'],
  [0, '52494658', 'CL_TYPE_RIFF'],
  [0, '52617221', 'CL_TYPE_RAR'],
  [0, '535a4444', 'CL_TYPE_MSSZDD'],
  [0, '60ea', 'CL_TYPE_ARJ'],
  [0, '626567696e20', 'CL_TYPE_UUENCODED'],
  [0, '789f3e22', 'CL_TYPE_TNEF'],
  [0, '7f454c46', 'CL_TYPE_ELF'],
  [0, '89504e47', 'CL_TYPE_GRAPHICS'],
  [0, 'b6b9acaefeffffff', 'CL_TYPE_CRYPTFF'],
  [0, 'd0cf11e0a1b11ae1', 'CL_TYPE_MSOLE2'],
  [0, 'ffd8ff', 'CL_TYPE_GRAPHICS'],
  [0, 'fffb90', 'CL_TYPE_IGNORED'],
  [0, '7b5c7274', 'CL_TYPE_RTF'],
  [257, '7573746172', 'CL_TYPE_POSIX_TAR'],
  [0, '5b616c69617365735d', 'CL_TYPE_SCRIPT'],
  [0, 'cefaedfe', 'CL_TYPE_MACHO'],
  [0, 'cffaedfe', 'CL_TYPE_MACHO'],
  [0, 'feedface', 'CL_TYPE_MACHO'],
  [0, 'feedfacf', 'CL_TYPE_MACHO'],
  [0, '377abcaf271c', 'CL_TYPE_7Z'],
  [0, '303730373031', 'CL_TYPE_CPIO_NEWC'],
  [0, '303730373032', 'CL_TYPE_CPIO_CRC'],
  [0, '303730373037', 'CL_TYPE_CPIO_ODC'],
  [0, '71c7', 'CL_TYPE_CPIO_OLD'],
  [0, 'c771', 'CL_TYPE_CPIO_OLD'],
  [0, '255044462d', 'CL_TYPE_PDF'],
  [0, '53594d430100', 'CL_TYPE_IGNORED'],
  [0, '377f0682002de218', 'CL_TYPE_IGNORED'],
  [0, '377f0683002de218', 'CL_TYPE_IGNORED'],
  [0, '53514c69746520666f726d6174203300', 'CL_TYPE_IGNORED'],
  [0, 'd9d505f920a163d7', 'CL_TYPE_IGNORED'],
  [0, '5a5753', 'CL_TYPE_SWF'],
  [0, '435753', 'CL_TYPE_SWF'],
  [0, '465753', 'CL_TYPE_SWF'],
  [0, '4d53434600000000', 'CL_TYPE_MSCAB'],
  [0, '78617221', 'CL_TYPE_XAR'],
  [0, 'fd377a585a00', 'CL_TYPE_XZ'],
  [0, '28b52ffd', 'CL_TYPE_ZSTD'],
  [512, '4546492050415254', 'CL_TYPE_GPT'],
  [0, '4c0000000114020000000000c000000000000046', 'CL_TYPE_LNK'],
  [0, '45474741', 'CL_TYPE_EGG'],
  [8, '19040010', 'CL_TYPE_SIS'],
  [0, hexOf('(This file must be converted with BinHex'), 'CL_TYPE_BINHEX'],
  // Mail headers at the start of a file.
  ...[
    '>From ',
    'Date: ',
    'Delivered-To: ',
    'Delivery-date: ',
    'Envelope-to: ',
    'For: ',
    'From ',
    'From: ',
    'Message-ID: ',
    'Message-Id: ',
    'Received: ',
    'Return-Path: ',
    'Return-path: ',
    'Subject: ',
    'To: ',
    'X-Apparently-To: ',
    'X-EVS',
    'X-Envelope-From: ',
    'X-Original-To: ',
    'X-Real-To: ',
    'X-Sieve: ',
    'X-Symantec-',
    'X-UIDL: ',
    'Received-SPF: ',
  ].map((s) => [0, hexOf(s), 'CL_TYPE_MAIL'] as const),
];

function hexOf(s: string): string {
  let h = '';
  for (let i = 0; i < s.length; i++) h += s.charCodeAt(i).toString(16).padStart(2, '0');
  return h;
}

const MAGIC_BYTES = MAGIC.map(([at, hex, type]) => ({
  at,
  bytes: Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16)),
  type,
}));

/** Markers that make a text file HTML, searched anywhere in it (ClamAV's type-1 HTML magic). */
const HTML_MARKERS = [
  '<HEAD>',
  '<HTML>',
  '<Head>',
  '<Html>',
  '<IFRAME',
  '<IMG',
  '<Img',
  '<OBJECT',
  '<Object',
  '<SCRIPT',
  '<Script',
  '<TABLE',
  '<head>',
  '<html>',
  '<iframe',
  '<img',
  '<object',
  '<script',
  '<table',
];

/** The bytes ClamAV's text test reads. */
const TEXT_PROBE = 1024;

/** file(1)'s text characters, as ClamAV's text test uses them: BEL..CR but VT, ESC, printable ASCII. */
function isTextByte(b: number): boolean {
  return (b >= 0x20 && b <= 0x7e) || (b >= 7 && b <= 13 && b !== 11) || b === 27;
}

function textType(head: Uint8Array): FileType {
  if (head.length === 0) return 'CL_TYPE_BINARY_DATA';
  if (head.every(isTextByte)) return 'CL_TYPE_TEXT_ASCII';
  if (head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) {
    return head[0] === 0xff ? 'CL_TYPE_TEXT_UTF16LE' : 'CL_TYPE_TEXT_UTF16BE';
  }
  // UTF-8: text bytes and well-formed multi-byte sequences; a sequence cut by the probe's end counts.
  let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (i < head.length) {
    const b = head[i] as number;
    if (b < 0x80) {
      if (!isTextByte(b)) return 'CL_TYPE_BINARY_DATA';
      i++;
      continue;
    }
    const n = b >= 0xf0 && b <= 0xf4 ? 3 : b >= 0xe0 ? 2 : b >= 0xc2 && b <= 0xdf ? 1 : -1;
    if (n < 0) return 'CL_TYPE_BINARY_DATA';
    for (let k = 1; k <= n; k++) {
      const c = head[i + k];
      if (c === undefined) return 'CL_TYPE_TEXT_UTF8';
      if ((c & 0xc0) !== 0x80) return 'CL_TYPE_BINARY_DATA';
    }
    i += n + 1;
  }
  return 'CL_TYPE_TEXT_UTF8';
}

/** Bytes of `s` (ASCII). */
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const MARKER_BYTES = HTML_MARKERS.map((m) => ascii(m.slice(1)));
const ASP = ascii('<%@ LANGUAGE =');

function at(d: Uint8Array, i: number, m: Uint8Array): boolean {
  if (i + m.length > d.length) return false;
  for (let k = 0; k < m.length; k++) if (d[i + k] !== m[k]) return false;
  return true;
}

/** `[hH][rR]EF` or `[hH][rR]ef` somewhere from `from` on. */
function hasHref(d: Uint8Array, from: number): boolean {
  for (let i = from; i + 3 < d.length; i++) {
    const h = d[i];
    if (h !== 0x68 && h !== 0x48) continue;
    const r = d[i + 1];
    if (r !== 0x72 && r !== 0x52) continue;
    if ((d[i + 2] === 0x45 && d[i + 3] === 0x46) || (d[i + 2] === 0x65 && d[i + 3] === 0x66)) return true;
  }
  return false;
}

/** ClamAV's HTML markers, searched in the bytes: at every `<`, one of the tags, or `<a ` then href. */
export function hasHtmlMarkers(d: Uint8Array): boolean {
  if (at(d, 0, ASP)) return true;
  let anchor = -1;
  for (let i = d.indexOf(LT); i >= 0; i = d.indexOf(LT, i + 1)) {
    for (const m of MARKER_BYTES) if (at(d, i + 1, m)) return true;
    if (anchor < 0 && (d[i + 1] === 0x61 || d[i + 1] === 0x41) && d[i + 2] === 0x20) anchor = i + 3;
  }
  return anchor >= 0 && hasHref(d, anchor);
}

function fixedMagicAt(data: Uint8Array, at: number, bytes: Uint8Array): boolean {
  if (at + bytes.length > data.length) return false;
  for (let i = 0; i < bytes.length; i++) if (data[at + i] !== bytes[i]) return false;
  return true;
}

const CAFEBABE = Uint8Array.of(0xca, 0xfe, 0xba, 0xbe);
const LT = 0x3c;

const NO_FACTS = { type: 'CL_TYPE_ANY', size: 0 };

function extraMagic(data: Uint8Array, extra: readonly FileTypeMagic[]): FileType | undefined {
  for (const m of extra) {
    if (m.magicType === 4 || m.requiredType !== 'CL_TYPE_ANY') continue;
    const offset = m.offset === '*' ? { kind: 'any' as const } : { kind: 'abs' as const, n: m.offset, shift: 0 };
    const probe = m.offset === '*' ? data : data.subarray(0, Math.min(data.length, (m.offset as number) + 4096));
    const starts = naiveStarts({ id: 0, pattern: m.pattern, offset, modifiers: NO_MODIFIERS }, probe, NO_FACTS);
    if (starts.length > 0) return m.detectedType;
  }
  return undefined;
}

/** The ClamAV type of a file. `extra` is the database's .ftm magic. */
export function recogniseType(source: ByteSource, extra: readonly FileTypeMagic[]): FileType {
  const head = source.read(0, Math.max(TEXT_PROBE, 520));
  const fromDb = extra.length > 0 ? extraMagic(source.read(0, source.size), extra) : undefined;
  if (fromDb !== undefined) return fromDb;
  for (const m of MAGIC_BYTES) if (fixedMagicAt(head, m.at, m.bytes)) return m.type;
  if (fixedMagicAt(head, 0, CAFEBABE)) {
    // A Java class's version (bytes 4-7) is 0x2x or 0x3x; a universal binary's count is small.
    const v = head[7] ?? 0;
    return head[4] === 0 && head[5] === 0 && head[6] === 0 && v >= 0x20 && v < 0x40
      ? 'CL_TYPE_JAVA'
      : 'CL_TYPE_MACHO_UNIBIN';
  }
  const type = textType(head.subarray(0, TEXT_PROBE));
  // A tar header without the ustar magic (V7 tar) is known by its checksum.
  if (type === 'CL_TYPE_BINARY_DATA' && isTarHeader(head, 0)) return 'CL_TYPE_OLD_TAR';
  // ClamAV looks for HTML in the first 1024 bytes only, of text and of binary data alike; markers
  // further on are found by the raw pass, which then adds the HTML views (see scan/facts.ts).
  if (
    (type.startsWith('CL_TYPE_TEXT') || type === 'CL_TYPE_BINARY_DATA') &&
    hasHtmlMarkers(head.subarray(0, TEXT_PROBE))
  ) {
    return 'CL_TYPE_HTML';
  }
  return type;
}

/** The signature target type (0-14) that a file type answers to; 0 when none but "any". */
export function targetOfType(type: FileType): number {
  switch (type) {
    case 'CL_TYPE_MSEXE':
      return 1;
    case 'CL_TYPE_MSOLE2':
      return 2;
    case 'CL_TYPE_HTML':
      return 3;
    case 'CL_TYPE_MAIL':
      return 4;
    case 'CL_TYPE_GRAPHICS':
      return 5;
    case 'CL_TYPE_ELF':
      return 6;
    case 'CL_TYPE_TEXT_ASCII':
    case 'CL_TYPE_TEXT_UTF8':
    case 'CL_TYPE_TEXT_UTF16LE':
    case 'CL_TYPE_TEXT_UTF16BE':
      return 7;
    case 'CL_TYPE_MACHO':
    case 'CL_TYPE_MACHO_UNIBIN':
      return 9;
    case 'CL_TYPE_PDF':
      return 10;
    case 'CL_TYPE_SWF':
      return 11;
    case 'CL_TYPE_JAVA':
      return 12;
    default:
      return 0;
  }
}
