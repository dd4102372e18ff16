// ClamAV's hex pattern syntax (.ndb bodies, .ldb subsignatures, .ftm magic) into Pattern nodes, and
// the checks with which ClamAV refuses a pattern it cannot match efficiently (so a database ClamAV
// refuses is refused here too, with the same reason).
import type { ByteRun, Pattern, PatternNode } from '../types.js';
import { FieldError } from './fields.js';

const HEX = '0123456789abcdef';

function nibble(c: string): number {
  return HEX.indexOf(c.toLowerCase());
}

/** Reads one hex pair (`4a`, `??`, `4?`, `?a`) at `i`; undefined when the two characters are not one. */
function pair(text: string, i: number): { byte: number; mask: number } | undefined {
  const a = text[i];
  const b = text[i + 1];
  if (a === undefined || b === undefined) return undefined;
  const hi = a === '?' ? -2 : nibble(a);
  const lo = b === '?' ? -2 : nibble(b);
  if (hi === -1 || lo === -1) return undefined;
  return {
    byte: (hi < 0 ? 0 : hi << 4) | Math.max(lo, 0),
    mask: (hi < 0 ? 0 : 0xf0) | (lo < 0 ? 0 : 0x0f),
  };
}

/** One syntactic piece, with the facts the refusal checks need. */
type Piece =
  | { readonly k: 'bytes'; readonly bytes: number[]; readonly masks: number[] }
  | { readonly k: 'alt'; readonly options: ByteRun[]; readonly negate: boolean }
  | { readonly k: 'star' }
  | { readonly k: 'range'; readonly min: number; readonly max: number } // {n-m} {-n} {n-} {0}
  | { readonly k: 'fixed'; readonly n: number } // {n}, n > 0
  | { readonly k: 'bracket'; readonly min: number; readonly max: number; readonly column: number } // [x-y]
  | { readonly k: 'anchor'; readonly kind: 'B' | 'L' | 'W' };

/** Where the pattern text starts in its line, so errors point at the character. */
function fail(message: string, column: number, code: 'S004' | 'S015' = 'S004'): never {
  throw new FieldError(code, message, column);
}

function run(bytes: number[], masks: number[]): ByteRun {
  const mask = Uint8Array.from(masks);
  const b = Uint8Array.from(bytes, (x, i) => x & (mask[i] as number));
  return { bytes: b, mask };
}

function readNumber(s: string, column: number, what: string): number {
  if (!/^\d+$/.test(s)) fail(`${what}: '${s}' is not a decimal number`, column);
  return Number(s);
}

function tokenize(text: string, col: number): Piece[] {
  const pieces: Piece[] = [];
  let bytes: number[] = [];
  let masks: number[] = [];
  const flush = () => {
    if (bytes.length > 0) pieces.push({ k: 'bytes', bytes, masks });
    bytes = [];
    masks = [];
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    const here = col + i;
    if (c === '*') {
      flush();
      pieces.push({ k: 'star' });
      i++;
    } else if (c === '{') {
      const end = text.indexOf('}', i);
      if (end < 0) fail("'{' without a closing '}'", here);
      const body = text.slice(i + 1, end);
      flush();
      const dash = body.indexOf('-');
      if (dash < 0) {
        const n = readNumber(body, here + 1, 'gap {n}');
        pieces.push(n === 0 ? { k: 'range', min: 0, max: 0 } : { k: 'fixed', n });
      } else {
        const lo = body.slice(0, dash);
        const hi = body.slice(dash + 1);
        if (lo === '' && hi === '') fail("gap '{-}' needs a bound", here);
        const min = lo === '' ? 0 : readNumber(lo, here + 1, 'gap minimum');
        const max = hi === '' ? Number.POSITIVE_INFINITY : readNumber(hi, here + 2 + dash, 'gap maximum');
        if (max < min) fail(`gap {${body}}: the maximum is below the minimum`, here);
        pieces.push({ k: 'range', min, max });
      }
      i = end + 1;
    } else if (c === '[') {
      const end = text.indexOf(']', i);
      if (end < 0) fail("'[' without a closing ']'", here);
      const body = text.slice(i + 1, end);
      const m = /^(\d+)-(\d+)$/.exec(body);
      if (m === null) fail(`range [${body}] must be [x-y]`, here);
      const min = Number(m[1]);
      const max = Number(m[2]);
      if (max < min) fail(`range [${body}]: the maximum is below the minimum`, here);
      flush();
      pieces.push({ k: 'bracket', min, max, column: here });
      i = end + 1;
    } else if (c === '(' || (c === '!' && text[i + 1] === '(')) {
      const negate = c === '!';
      const open = negate ? i + 1 : i;
      const end = text.indexOf(')', open);
      if (end < 0) fail("'(' without a closing ')'", here);
      const body = text.slice(open + 1, end);
      flush();
      if (!negate && (body === 'B' || body === 'L' || body === 'W')) {
        pieces.push({ k: 'anchor', kind: body });
      } else {
        if (body.includes('(')) fail('alternatives cannot nest', here);
        const options: ByteRun[] = [];
        let at = open + 1;
        for (const opt of body.split('|')) {
          if (opt.length % 2 !== 0) fail(`alternative '${opt}' has an odd number of hex digits`, col + at);
          const ob: number[] = [];
          const om: number[] = [];
          for (let j = 0; j < opt.length; j += 2) {
            const p = pair(opt, j);
            if (p === undefined) fail(`'${opt.slice(j, j + 2)}' is not a hex byte`, col + at + j);
            ob.push(p.byte);
            om.push(p.mask);
          }
          options.push(run(ob, om));
          at += opt.length + 1;
        }
        if (options.length < 2 && !negate) fail('an alternative needs at least two options', here);
        if (negate) {
          const len = options[0]?.bytes.length ?? 0;
          const generic = options.some((o) => o.bytes.length !== len || len === 0 || o.mask.some((m) => m !== 0xff));
          if (generic) fail("negation '!(...)' needs options of one length without wildcards", here, 'S015');
        }
        pieces.push({ k: 'alt', options, negate });
      }
      i = end + 1;
    } else {
      const p = pair(text, i);
      if (p === undefined) fail(`'${text.slice(i, i + 2)}' is not a hex byte, wildcard or operator`, here);
      bytes.push(p.byte);
      masks.push(p.mask);
      i += 2;
    }
  }
  flush();
  return pieces;
}

/** Per-position facts of a part, for ClamAV's length checks: true = a literal byte. */
function staticMap(pieces: readonly Piece[], widen: number): boolean[] {
  const out: boolean[] = [];
  for (const p of pieces) {
    if (p.k === 'bytes') {
      for (const m of p.masks) for (let w = 0; w < widen; w++) out.push(m === 0xff);
    } else if (p.k === 'alt') {
      const len = Math.min(...p.options.map((o) => o.bytes.length));
      for (let j = 0; j < len * widen; j++) out.push(false);
    } else if (p.k === 'fixed') {
      for (let j = 0; j < p.n * widen; j++) out.push(false);
    }
  }
  return out;
}

function longestStaticRun(m: readonly boolean[]): number {
  let best = 0;
  let cur = 0;
  for (const s of m) {
    cur = s ? cur + 1 : 0;
    best = Math.max(best, cur);
  }
  return best;
}

/**
 * ClamAV's refusals (checked against clamscan 1.4): a pattern is cut into parts at `*` and at gap
 * ranges; every part must be non-empty, at least 2 bytes long and hold 2 consecutive literal bytes;
 * `[x-y]` needs a single literal byte on one side and y <= 32; a pattern with no wildcard at all
 * (an .ndb body, matched by Boyer-Moore) needs at least 3 bytes.
 */
function checkRefusals(pieces: readonly Piece[], col: number, opts: PatternOptions): void {
  const widen = opts.wide === true ? 2 : 1;
  const plain = pieces.every((p) => p.k === 'bytes' && p.masks.every((m) => m === 0xff));
  if (plain && opts.ndb === true) {
    const len = pieces.reduce((a, p) => a + (p.k === 'bytes' ? p.bytes.length : 0), 0);
    if (len < 3) fail(`the pattern is too short (${len} bytes; ClamAV needs at least 3)`, col, 'S015');
    return;
  }
  const parts: Piece[][] = [[]];
  for (const p of pieces) {
    if (p.k === 'star' || p.k === 'range') parts.push([]);
    else (parts[parts.length - 1] as Piece[]).push(p);
  }
  parts.forEach((part, n) => {
    const bracket = part.findIndex((p) => p.k === 'bracket');
    let checked: readonly Piece[] = part;
    if (bracket >= 0) {
      const b = part[bracket] as Extract<Piece, { k: 'bracket' }>;
      const left = staticMap(part.slice(0, bracket), 1);
      const right = staticMap(part.slice(bracket + 1), 1);
      const single = (m: boolean[]) => m.length === 1 && m[0] === true;
      if (part.filter((p) => p.k === 'bracket').length > 1 || !(single(left) || single(right)) || b.max > 32) {
        fail('[x-y] needs one literal byte on one side and y <= 32', b.column, 'S015');
      }
      checked = single(left) ? part.slice(bracket + 1) : part.slice(0, bracket);
    }
    const m = staticMap(checked, widen);
    if (part.length === 0) fail(`part ${n + 1} of the pattern (between '*' or gap ranges) is empty`, col, 'S015');
    if (m.length < 2) fail(`part ${n + 1} of the pattern is shorter than 2 bytes`, col, 'S015');
    if (longestStaticRun(m) < 2) fail(`part ${n + 1} of the pattern has no 2 consecutive literal bytes`, col, 'S015');
  });
}

export interface PatternOptions {
  /** Apply ClamAV's refusals (body and logical subsignatures; not .ftm magic). */
  readonly strict?: boolean;
  /** An .ndb body: a pattern without wildcards needs 3 bytes. */
  readonly ndb?: boolean;
  /** The subsignature is `::w` (the checks see the widened pattern). */
  readonly wide?: boolean;
}

/** Parses a hex pattern written at `column` of its line. Throws FieldError (S004 syntax, S015 refused). */
export function parseHexPattern(text: string, column: number, opts: PatternOptions = {}): Pattern {
  if (text === '') fail('the pattern is empty', column);
  const pieces = tokenize(text, column);
  if (opts.strict === true) checkRefusals(pieces, column, opts);
  const nodes: PatternNode[] = [];
  for (const p of pieces) {
    switch (p.k) {
      case 'bytes':
        nodes.push({ t: 'run', run: run(p.bytes, p.masks) });
        break;
      case 'alt':
        nodes.push({ t: 'alt', options: p.options, negate: p.negate });
        break;
      case 'star':
        nodes.push({ t: 'gap', min: 0, max: Number.POSITIVE_INFINITY });
        break;
      case 'range':
      case 'bracket':
        nodes.push({ t: 'gap', min: p.min, max: p.max });
        break;
      case 'fixed':
        nodes.push({ t: 'gap', min: p.n, max: p.n });
        break;
      case 'anchor':
        nodes.push({ t: 'anchor', kind: p.kind });
        break;
    }
  }
  if (!nodes.some((n) => n.t === 'run' || n.t === 'alt')) fail('the pattern has no bytes to match', column);
  return nodes;
}
