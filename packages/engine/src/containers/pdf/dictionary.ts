// What ClamAV reads from a stream object's dictionary to decide whether to extract the stream and
// how to decode it: the names in order through its small state machine (a filter name counts only
// after /Filter, /Length ends the filter list, /EmbeddedFile and /Image count only outside it), and
// the objects other objects point at with /Contents, /JavaScript or /OpenAction.
import { FILTER_NAMES, type FilterKind } from './filters.js';

type State = 'none' | 'filter' | 'pointer' | 's' | 'other';

/** Names that move ClamAV's state: [the state they apply in ('any' for all), the state after]. */
const MOVES: Readonly<Record<string, readonly [State | 'any', State]>> = {
  Filter: ['any', 'filter'],
  Crypt: ['filter', 'none'],
  Standard: ['filter', 'filter'],
  Length: ['filter', 'none'],
  JavaScript: ['any', 'pointer'],
  OpenAction: ['any', 'pointer'],
  Launch: ['any', 'other'],
  Contents: ['none', 'pointer'],
  URI: ['none', 'pointer'],
  S: ['none', 's'],
  Linearized: ['none', 'other'],
  Sig: ['any', 'none'],
  V: ['any', 'none'],
  R: ['any', 'none'],
};
/** The other names of ClamAV's table: they apply outside a filter list and leave the state. */
const QUIET = new Set(
  'AA EmbeddedFile Image Type Page Author Producer CreationDate ModDate Creator Title Keywords Subject Pages Colors RichMedia AcroForm XFA'.split(
    ' ',
  ),
);
/** Names that make ClamAV extract a stream that has filters (besides its Flate, DCT, hex and A85 filters). */
const MARKS = new Set(['Contents', 'EmbeddedFile', 'JavaScript', 'OpenAction', 'Launch']);
const DUMPED_FILTERS: ReadonlySet<FilterKind> = new Set(['flate', 'dct', 'ahx', 'a85']);

const NAME = /\/([^\s/[\]<>(){}%]*)/g;
const REFERENCE = /\s*(\d+)\s+(\d+)\s+R/y;

/** A name with its `#xx` escapes undone. */
function unescapeName(n: string): string {
  return n.replace(/#([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

/** What a stream object's dictionary says. */
export interface StreamDictionary {
  /** Its filters ClamAV knows, in order. */
  readonly filters: readonly FilterKind[];
  /** Whether ClamAV extracts it (given no other object points at it). */
  readonly extracted: boolean;
  /** /DecodeParms' /EarlyChange as ClamAV reads it: LZW's width grows one code early unless it is 0. */
  readonly earlyChange: boolean;
}

/** Reads the dictionary text `head` (from `obj` to `stream`) of the object `key` in `doc`. */
export function readDictionary(head: string, key: string, doc: DocumentObjects): StreamDictionary {
  const filters: FilterKind[] = [];
  const flags = new Set<string>();
  let state: State = 'none';
  for (const m of head.matchAll(NAME)) {
    const name = unescapeName(m[1] as string);
    if (name === 'URI' && state === 's') {
      state = 'none';
      continue;
    }
    const kind = FILTER_NAMES[name];
    const move: readonly [State | 'any', State] | undefined =
      kind !== undefined && name !== 'Crypt'
        ? ['filter', 'filter']
        : (MOVES[name] ?? (QUIET.has(name) ? ['none', 'none'] : undefined));
    if (move === undefined) continue;
    if (kind !== undefined && state === 'filter') filters.push(kind);
    if (move[0] === state || move[0] === 'any') {
      state = move[1];
      flags.add(name);
    } else if (state === 's') state = 'none';
    if (state === 'pointer') {
      // A name followed by a reference marks the object pointed at instead (see `pointedAtObjects`).
      REFERENCE.lastIndex = (m.index ?? 0) + m[0].length;
      const ref = REFERENCE.exec(head);
      if (ref !== null && doc.present.has(`${Number(ref[1])} ${Number(ref[2])}`)) flags.delete(name);
      state = 'none';
    }
  }
  const marked =
    doc.pointedAt.has(key) || [...MARKS].some((n) => flags.has(n)) || filters.some((f) => DUMPED_FILTERS.has(f));
  const image = flags.has('Image') && !filters.includes('dct');
  return { filters, extracted: (!flags.has('Filter') || marked) && !image, earlyChange: earlyChange(head) };
}

/**
 * /EarlyChange from /DecodeParms (or /DP), found where ClamAV finds it: it takes the value to start
 * at the first name after the key, and the dictionary to start at the `<` just before that name
 * (line ends between them allowed), or else at the next `<` further on. `<< /EarlyChange 0 >>`,
 * with a space after `<<`, is therefore not read, and LZW keeps its default (early).
 */
function earlyChange(head: string): boolean {
  let key = head.indexOf('/DecodeParms');
  if (key < 0) key = head.indexOf('/DP');
  if (key < 0) return true;
  let p = key + 1;
  let inName = true;
  while (p < head.length) {
    const c = head[p] as string;
    if (c === '%') {
      const eol = head.slice(p).search(/[\r\n]/);
      p = eol < 0 ? head.length : p + eol;
      inName = false;
    } else if (' \t\v\f\r\n[<'.includes(c)) {
      inName = false;
      p++;
    } else if (c === '/' || c === '(' || !inName) break;
    else p++;
  }
  while (p > key && (head[p - 1] === '<' || head[p - 1] === '\n')) p--;
  const open = head[p] === '<' ? p : head.indexOf('<', p);
  if (open < 0 || head.length - open <= 4) return true;
  const close = head.indexOf('>>', open);
  const m = /\/EarlyChange\s*([-+]?\d+)/.exec(head.slice(open, close < 0 ? head.length : close));
  return m === null || Number(m[1]) !== 0;
}

const POINTERS = ['/Contents', '/JavaScript', '/OpenAction'].map((s) => new TextEncoder().encode(s));
const OBJ = new TextEncoder().encode('obj');

/** The objects of a document, as `number generation`. */
export interface DocumentObjects {
  /** Those a /Contents, /JavaScript or /OpenAction points at: ClamAV extracts them. */
  readonly pointedAt: ReadonlySet<string>;
  /** Those defined (`n g obj`): a pointer to a missing object leaves its mark where it is. */
  readonly present: ReadonlySet<string>;
}

const STREAM = new TextEncoder().encode('stream');

/** Where each stream's data lies, roughly: from `stream` to the next `endstream`. */
function streamRanges(d: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  for (const [at, before] of around(d, STREAM, 3)) {
    if (before === 'end' || (out.length > 0 && at < (out[out.length - 1] as [number, number])[1])) continue;
    const end = indexOf(d, STREAM, at + STREAM.length, 'end');
    out.push([at, end < 0 ? d.length : end]);
  }
  return out;
}

/** The next `key` at or after `from` (preceded by `prefix` when given), or -1. */
function indexOf(d: Uint8Array, key: Uint8Array, from: number, prefix = ''): number {
  for (const [at, before] of around(d, key, prefix.length, from)) if (before.endsWith(prefix)) return at;
  return -1;
}

/** Each place `key` occurs in `d` from `from` on, with the `before` bytes in front of it as text. */
function* around(d: Uint8Array, key: Uint8Array, before: number, from = 0): Generator<[number, string]> {
  for (let i = d.indexOf(key[0] as number, from); i >= 0; i = d.indexOf(key[0] as number, i + 1)) {
    let k = 1;
    while (k < key.length && d[i + k] === key[k]) k++;
    if (k === key.length) yield [i, String.fromCharCode(...d.subarray(Math.max(0, i - before), i))];
  }
}

/** Reads which objects a document defines and which its dictionaries (not its streams) point at. */
export function documentObjects(d: Uint8Array): DocumentObjects {
  const pointedAt = new Set<string>();
  const present = new Set<string>();
  const ranges = streamRanges(d);
  const inStream = (at: number): boolean => {
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const [from, to] = ranges[mid] as [number, number];
      if (at <= from) hi = mid - 1;
      else if (at >= to) lo = mid + 1;
      else return true;
    }
    return false;
  };
  for (const key of POINTERS) {
    for (const [at] of around(d, key, 0)) {
      const after = String.fromCharCode(...d.subarray(at + key.length, at + key.length + 32));
      const m = /^\s*(\d+)\s+(\d+)\s+R/.exec(after);
      if (m !== null && !inStream(at)) pointedAt.add(`${Number(m[1])} ${Number(m[2])}`);
    }
  }
  for (const [at, before] of around(d, OBJ, 32)) {
    const m = /(\d+)\s+(\d+)\s*$/.exec(before);
    if (m !== null && !inStream(at)) present.add(`${Number(m[1])} ${Number(m[2])}`);
  }
  return { pointedAt, present };
}
