// PDF stream filters as ClamAV applies them (libclamav/pdfdecode.c): FlateDecode (zlib, retried
// from the next line when the first bytes are not), ASCIIHexDecode, ASCII85Decode, RunLengthDecode
// and LZWDecode (with /EarlyChange). Predictors in /DecodeParms are not applied, as ClamAV applies
// none. Image and crypt filters stop the chain. A filter that fails leaves the output of the one
// before it; when none decodes, the stream is scanned as it is.
import type { EngineEnv } from '../../env.js';
import { hexValue } from '../textcodecs.js';
import { lzwDecode } from './lzw.js';

/** The filters ClamAV knows; any other name in /Filter is passed over. */
export type FilterKind = 'flate' | 'ahx' | 'a85' | 'rl' | 'lzw' | 'dct' | 'fax' | 'jpx' | 'crypt';

export const FILTER_NAMES: Readonly<Record<string, FilterKind>> = {
  FlateDecode: 'flate',
  Fl: 'flate',
  ASCIIHexDecode: 'ahx',
  AHx: 'ahx',
  ASCII85Decode: 'a85',
  A85: 'a85',
  RunLengthDecode: 'rl',
  RL: 'rl',
  LZWDecode: 'lzw',
  LZW: 'lzw',
  DCTDecode: 'dct',
  DCT: 'dct',
  JBIG2Decode: 'dct', // ClamAV files JBIG2 under DCT
  CCITTFaxDecode: 'fax',
  CCF: 'fax',
  JPXDecode: 'jpx',
  Crypt: 'crypt',
};

/** ClamAV records at most this many filters per stream. */
export const MAX_FILTERS = 64;

type Step =
  | { readonly kind: 'ok'; readonly data: Uint8Array }
  | { readonly kind: 'failed' | 'stop'; readonly why: string }
  | { readonly kind: 'over-limit' };

const failed = (why: string): Step => ({ kind: 'failed', why });
const OVER: Step = { kind: 'over-limit' };

/** Where the line after the first end of line starts (ClamAV's retry point for Flate and LZW). */
function nextLineStart(d: Uint8Array): number {
  let seen = false;
  for (let i = 0; i < d.length; i++) {
    const eol = d[i] === 0x0a || d[i] === 0x0d;
    if (eol) seen = true;
    else if (seen) return i;
  }
  return d.length;
}

function flate(data: Uint8Array, env: EngineEnv, max: number): Step {
  const d = data[0] === 0x0d ? data.subarray(1) : data; // `stream` followed by a lone CR
  if (d.length === 0) return { kind: 'ok', data };
  let r = env.inflate('zlib', d, max);
  if (r.status === 'corrupt') r = env.inflate('zlib', d.subarray(nextLineStart(d)), max);
  if (r.status === 'over-limit') return OVER;
  return r.status === 'ok' ? { kind: 'ok', data: r.data } : failed(r.message ?? 'damaged FlateDecode data');
}

function lzw(data: Uint8Array, earlyChange: boolean, max: number): Step {
  const d = data[0] === 0x0d ? data.subarray(1) : data;
  if (d.length === 0) return { kind: 'ok', data };
  let r = lzwDecode(d, earlyChange, max);
  if (r.data.length === 0 && r.stopped) r = lzwDecode(d.subarray(nextLineStart(d)), earlyChange, max);
  if (r.status === 'over-limit') return OVER;
  if (r.status === 'error' && r.data.length === 0) return failed('damaged LZWDecode data');
  return { kind: 'ok', data: r.data };
}

/** Hex pairs, spaces skipped, `>` ends; anything else fails the filter unless near the end. */
function asciiHex(d: Uint8Array): Step {
  const out = new Uint8Array((d.length >>> 1) + 1);
  let n = 0;
  for (let i = 0; i + 1 < d.length; i++) {
    const c = d[i] as number;
    if (c === 0x20) continue;
    if (c === 0x3e) break;
    const hi = hexValue(c);
    const lo = hexValue(d[i + 1] as number);
    if (hi < 0 || lo < 0) {
      if (d.length - i < 4) continue;
      return failed(`ASCIIHexDecode: a byte that is not hex at ${i}`);
    }
    out[n++] = (hi << 4) | lo;
    i++;
  }
  return { kind: 'ok', data: out.subarray(0, n) };
}

/** Base-85 groups, `z` for four zeros, white space skipped; the last group is read only at `~>`. */
function ascii85(d: Uint8Array, max: number): Step {
  const out = new Uint8Array(Math.min(4 * d.length, max) + 4);
  let n = 0;
  let sum = 0;
  let count = 0;
  const room = (k: number) => n + k <= max;
  for (let i = 0; i < d.length; i++) {
    const c = d[i] as number;
    if (c === 0x7e && d[i + 1] === 0x3e) {
      if (count === 1) return failed('ASCII85Decode: a last group of one character');
      if (count > 1) {
        for (let k = count; k < 5; k++) sum *= 85;
        sum += 0xffffff >>> (8 * (count - 2)); // rounds the padded group up
        if (!room(count - 1)) return OVER;
        for (let k = 0; k < count - 1; k++) out[n++] = Math.floor(sum / 2 ** (24 - 8 * k)) & 0xff;
      }
      break;
    }
    if (c >= 0x21 && c <= 0x75) {
      sum = sum * 85 + (c - 0x21);
      if (++count === 5) {
        if (!room(4)) return OVER;
        for (let k = 0; k < 4; k++) out[n++] = Math.floor(sum / 2 ** (24 - 8 * k)) & 0xff;
        sum = 0;
        count = 0;
      }
    } else if (c === 0x7a) {
      if (count !== 0) return failed("ASCII85Decode: a 'z' inside a group");
      if (!room(4)) return OVER;
      n += 4; // `out` starts zeroed
    } else if (!(c === 0x20 || (c >= 0x09 && c <= 0x0d))) {
      return failed(`ASCII85Decode: a byte outside the alphabet at ${i}`);
    }
  }
  return { kind: 'ok', data: out.subarray(0, n) };
}

/** Runs: a length byte below 128 copies that many plus one, above 128 repeats one byte, 128 ends. */
function runLength(d: Uint8Array, max: number): Step {
  let out = new Uint8Array(Math.min(Math.max(1024, 2 * d.length), max));
  let n = 0;
  const reserve = (k: number): boolean => {
    if (n + k > max) return false;
    if (n + k > out.length) {
      const bigger = new Uint8Array(Math.min(max, Math.max(n + k, 2 * out.length)));
      bigger.set(out.subarray(0, n));
      out = bigger;
    }
    return true;
  };
  for (let i = 0; i < d.length; ) {
    const len = d[i++] as number;
    if (len === 128) break;
    if (len < 128) {
      if (i + len + 1 > d.length) return failed('RunLengthDecode: a literal run passes the end');
      if (!reserve(len + 1)) return OVER;
      out.set(d.subarray(i, i + len + 1), n);
      n += len + 1;
      i += len + 1;
    } else {
      if (i >= d.length) return failed('RunLengthDecode: a repeat has no byte');
      if (!reserve(257 - len)) return OVER;
      out.fill(d[i++] as number, n, n + 257 - len);
      n += 257 - len;
    }
  }
  return { kind: 'ok', data: out.subarray(0, n) };
}

/** What a chain gave: the bytes to scan (the raw stream when nothing decoded) and what went wrong. */
export interface Decoded {
  readonly data: Uint8Array;
  readonly problem: string | undefined;
}

/**
 * Runs `filters` over `raw` in order, as ClamAV does: a filter that fails or is not decoded stops
 * the chain with the output so far; an empty output ends it too. 'over-limit' when any output
 * would pass `max`.
 */
export function decodeChain(
  raw: Uint8Array,
  filters: readonly FilterKind[],
  opts: { readonly env: EngineEnv; readonly max: number; readonly earlyChange: boolean },
): Decoded | 'over-limit' {
  let data = raw;
  let decoded = 0;
  for (const f of filters.slice(0, MAX_FILTERS)) {
    let s: Step;
    if (f === 'flate') s = flate(data, opts.env, opts.max);
    else if (f === 'lzw') s = lzw(data, opts.earlyChange, opts.max);
    else if (f === 'ahx') s = asciiHex(data);
    else if (f === 'a85') s = ascii85(data, opts.max);
    else if (f === 'rl') s = runLength(data, opts.max);
    else s = { kind: 'stop', why: `${f} is not decoded` };
    if (s.kind === 'over-limit') return 'over-limit';
    if (s.kind !== 'ok') return { data: decoded === 0 ? raw : data, problem: s.kind === 'failed' ? s.why : undefined };
    if (s.data.length === 0) return { data: decoded === 0 ? raw : s.data, problem: undefined };
    data = s.data;
    decoded++;
  }
  return { data, problem: undefined };
}
