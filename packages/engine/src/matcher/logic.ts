// What logical signatures evaluate after the matcher pass: the expression over subsignature match
// counts, PCRE subsignatures (run with JavaScript's RegExp over a latin1 view of the bytes), and
// byte-compare subsignatures (numbers read near another subsignature's matches).
import type { SubsigMeta } from '../database/layout.js';
import type { FileFacts } from '../filetypes/types.js';
import type { ByteCompare, LogicalExpr } from '../signatures/types.js';
import { startWindow } from './offsets.js';
import { encodeOffset } from './program.js';

function leaves(e: LogicalExpr, out: number[]): number[] {
  if (e.op === 'sub') out.push(e.index);
  else if (e.op === 'count') leaves(e.arg, out);
  else for (const a of e.args) leaves(a, out);
  return out;
}

/**
 * Evaluates a logical expression given each subsignature's match count. `A op X` compares the sum
 * of the counts of A's subsignatures with X; `,Y` also needs Y distinct subsignatures of A matched
 * (at least Y for `=` and `>`, fewer than Y for `<`).
 */
export function evaluateLogical(e: LogicalExpr, countOf: (i: number) => number): boolean {
  switch (e.op) {
    case 'sub':
      return countOf(e.index) > 0;
    case 'and':
      return e.args.every((a) => evaluateLogical(a, countOf));
    case 'or':
      return e.args.some((a) => evaluateLogical(a, countOf));
    case 'count': {
      const subs = [...new Set(leaves(e.arg, []))];
      let total = 0;
      let distinct = 0;
      for (const i of subs) {
        const c = countOf(i);
        total += c;
        if (c > 0) distinct++;
      }
      const y = e.distinct;
      if (e.cmp === '=') return total === e.count && (y === undefined || distinct >= y);
      if (e.cmp === '>') return total > e.count && (y === undefined || distinct >= y);
      return total < e.count && (y === undefined || distinct < y);
    }
  }
}

/** At most this many matches of one PCRE are counted. */
const PCRE_MAX_COUNT = 10_000;

const regexCache = new Map<string, RegExp | null>();

/** PCRE's extended mode (`x`): drop unescaped whitespace and `#` comments outside classes. */
function stripExtended(src: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as string;
    if (c === '\\') {
      out += c + (src[i + 1] ?? '');
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (!/\s/.test(c)) {
      out += c;
    }
  }
  return out;
}

/** The JavaScript RegExp for a ClamAV PCRE, or null when JavaScript cannot express it. */
export function compilePcre(regex: string, flags: string): RegExp | null {
  const cacheKey = `${flags}/${regex}`;
  const hit = regexCache.get(cacheKey);
  if (hit !== undefined) return hit;
  let js = 'gd';
  if (flags.includes('i')) js += 'i';
  if (flags.includes('s')) js += 's';
  if (flags.includes('m')) js += 'm';
  const src = flags.includes('x') ? stripExtended(regex) : regex;
  let re: RegExp | null;
  try {
    re = new RegExp(src, js);
  } catch {
    re = null;
  }
  regexCache.set(cacheKey, re);
  return re;
}

const latin1Cache = new WeakMap<Uint8Array, string>();

function latin1(data: Uint8Array): string {
  let s = latin1Cache.get(data);
  if (s === undefined) {
    const parts: string[] = [];
    for (let i = 0; i < data.length; i += 8192) {
      parts.push(String.fromCharCode.apply(null, data.subarray(i, i + 8192) as unknown as number[]));
    }
    s = parts.join('');
    latin1Cache.set(data, s);
  }
  return s;
}

/**
 * Runs a PCRE subsignature; returns how many matches count (1 at most without the `g` flag).
 * Offsets restrict where a match may start (`A`: exactly at the window's start; `e`: the whole
 * match inside the window).
 */
export function runPcre(s: Extract<SubsigMeta, { k: 'pcre' }>, data: Uint8Array, facts: FileFacts): number {
  const re = compilePcre(s.regex, s.flags);
  if (re === null) return 0;
  const off = encodeOffset(s.offset);
  const w = startWindow(off.kind, off, facts, data.length);
  if (w === undefined) return 0;
  const text = latin1(data);
  const anchored = s.flags.includes('A');
  const encompass = s.flags.includes('e') && s.offset.kind !== 'any';
  const limit = s.flags.includes('g') ? PCRE_MAX_COUNT : 1;
  re.lastIndex = w.lo;
  let count = 0;
  for (;;) {
    const m = re.exec(text);
    if (m === null || m.index > w.hi) break;
    if (anchored && m.index !== w.lo) break;
    const end = m.index + m[0].length;
    if (!encompass || end <= w.hi) count++;
    if (count >= limit) break;
    re.lastIndex = end > m.index ? end : m.index + 1;
  }
  return count;
}

function digitValue(b: number, base: 16 | 10): number {
  let v = -1;
  if (b >= 0x30 && b <= 0x39) v = b - 0x30;
  else if (base === 16 && b >= 0x61 && b <= 0x66) v = b - 0x61 + 10;
  else if (base === 16 && b >= 0x41 && b <= 0x46) v = b - 0x41 + 10;
  return v;
}

function readNumber(c: ByteCompare, bytes: Uint8Array): number | undefined {
  if (c.base === 'raw') {
    let v = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[c.endian === 'little' ? bytes.length - 1 - i : i] as number;
      v = v * 256 + b;
    }
    return v;
  }
  let digits = bytes;
  let base: 16 | 10 = c.base === 'hex' ? 16 : 10;
  if (c.base === 'auto' && bytes[0] === 0x30 && (bytes[1] === 0x78 || bytes[1] === 0x58)) {
    digits = bytes.subarray(2);
    base = 16;
  }
  if (c.endian === 'little' && base === 16) digits = digits.slice().reverse();
  let v = 0;
  let n = 0;
  for (const b of digits) {
    const d = digitValue(b, base);
    if (d < 0) {
      if (c.exact) return undefined;
      break;
    }
    v = v * base + d;
    n++;
  }
  return n === 0 ? undefined : v;
}

/** True when, for some match start of the referenced subsignature, the number read there compares as asked. */
export function evaluateByteCompare(c: ByteCompare, data: Uint8Array, offsets: readonly number[]): boolean {
  for (const start of offsets) {
    const at = start + c.offset;
    if (at < 0 || at + c.length > data.length) continue;
    const v = readNumber(c, data.subarray(at, at + c.length));
    if (v === undefined) continue;
    const ok = c.comparisons.every((k) => (k.op === '<' ? v < k.value : k.op === '>' ? v > k.value : v === k.value));
    if (ok) return true;
  }
  return false;
}
