// EA06 compiled scripts are token streams; ClamAV scans them as the text they decompile to, so this
// writes the same text: keywords and function names from their IDs, numbers as C prints them,
// names and strings (XORed with their length, UTF-16) narrowed to bytes, one line per end-of-line
// token. What the text means is left to the signatures.

import { formatG, hex } from '../../normalise/cformat.js';
import { u32le } from '../read.js';
import { FUNCTIONS, KEYWORDS } from './names.js';

/** The decompiled text; `error` says where decoding stopped early, `over` that it passed the cap. */
export interface Decompiled {
  readonly text: Uint8Array;
  readonly error?: string;
  readonly over: boolean;
}

/** Operators by token 0x40.. */
const OPERATORS = [',', '=', '>', '<', '<>', '>=', '<=', '(', ')', '+', '-', '/', '*', '&', '[', ']', '==', '^'].concat(
  ['+=', '-=', '/=', '*=', '&=', '?', ':'],
);

/** What goes before a name or string token 0x30.. (macro `@`, variable `$`, object member `.`). */
const PREFIX = ['', '', '@', '$', '', '.', '"', ''];

const STRING = 0x36;
const USER_FUNC = 0x34;

/**
 * Narrows UTF-16LE text to bytes in place, as ClamAV does: after a byte-order mark, or when at least
 * a quarter of the first ten units look like ASCII; otherwise the bytes are left alone. Returns the
 * length of the result.
 */
export function narrow(b: Uint8Array): number {
  let len = b.length;
  if (len < 2) return len;
  let from = 0;
  if (len > 4 && b[0] === 0xff && b[1] === 0xfe && b[2] !== 0) {
    len -= 2;
    from = 2;
  } else {
    const look = len > 20 ? 20 : len & ~1;
    let ascii = 0;
    for (let i = 0; i < look; i += 2) if (b[i] !== 0 && b[i + 1] === 0) ascii++;
    if (ascii * 4 < look) return len;
  }
  for (let i = 0, k = 0; i < len; i += 2) b[k++] = b[from + i] ?? 0;
  return len >> 1;
}

/** Output that grows up to a cap. */
class Out {
  buf: Uint8Array;
  n = 0;
  over = false;

  constructor(
    initial: number,
    private readonly max: number,
  ) {
    this.buf = new Uint8Array(Math.max(64, Math.min(initial, max)));
  }

  /** Room for `k` more bytes; false (and `over`) past the cap. */
  room(k: number): boolean {
    if (this.n + k > this.max) {
      this.over = true;
      return false;
    }
    if (this.n + k > this.buf.length) {
      const grown = new Uint8Array(Math.min(this.max, Math.max(this.n + k, this.buf.length * 2)));
      grown.set(this.buf.subarray(0, this.n));
      this.buf = grown;
    }
    return true;
  }

  text(s: string): boolean {
    if (!this.room(s.length)) return false;
    for (let i = 0; i < s.length; i++) this.buf[this.n++] = s.charCodeAt(i) & 0xff;
    return true;
  }

  bytes(b: Uint8Array): boolean {
    if (!this.room(b.length)) return false;
    this.buf.set(b, this.n);
    this.n += b.length;
    return true;
  }
}

/** Decodes one token at `src[at]`; returns the next offset, or a message when the token is bad. */
function token(src: Uint8Array, at: number, out: Out): number | string {
  const size = src.length;
  const op = src[at] ?? 0;
  let i = at + 1;
  if (op === 0 || op === 1) {
    const names = op === 0 ? KEYWORDS : FUNCTIONS;
    if (i >= size - 4) return 'no room for a keyword or function ID';
    const id = u32le(src, i);
    const name = names[id];
    if (name === undefined) return `unknown ${op === 0 ? 'keyword' : 'function'} ID ${id}`;
    out.text(`${name} `);
    return i + 4;
  }
  if (op === 0x05) {
    if (i >= size - 4) return 'no room for an integer';
    out.text(`${hex(u32le(src, i), 8)} `);
    return i + 4;
  }
  if (op === 0x10 || op === 0x20) {
    if (size < 8 || i >= size - 8) return 'no room for a 64-bit number';
    const view = new DataView(src.buffer, src.byteOffset + i, 8);
    out.text(op === 0x10 ? `${hex(view.getBigUint64(0, true), 16)} ` : `${formatG(view.getFloat64(0, true))} `);
    return i + 8;
  }
  if (op >= 0x30 && op <= 0x37) {
    if (i >= size - 4) return 'no room for a text length';
    const chars = u32le(src, i);
    i += 4;
    const wide = chars * 2;
    // A length of 2^31 or more cannot be allocated by ClamAV either.
    if (wide >= 2 ** 32 || size < wide || i >= size - wide) return `text of ${chars} characters passes the script`;
    out.text(PREFIX[op - 0x30] ?? '');
    if (chars > 0) {
      const t = src.slice(i, i + wide);
      for (let k = 0; k < wide; k += 2) {
        t[k] = (t[k] ?? 0) ^ (chars & 0xff);
        t[k + 1] = (t[k + 1] ?? 0) ^ ((chars >>> 8) & 0xff);
      }
      narrow(t);
      out.bytes(t.subarray(0, chars));
      i += wide;
    }
    if (op === STRING) out.text('"');
    if (op !== USER_FUNC) out.text(' ');
    return i;
  }
  const operator = OPERATORS[op - 0x40];
  if (operator !== undefined) {
    out.text(`${operator} `);
    return i;
  }
  return `unknown token 0x${op.toString(16)}`;
}

/**
 * Decompiles an EA06 token stream (a 32-bit line count, then tokens) into text of at most `max`
 * bytes. Stops at the last line, at the end of the tokens, or at a bad token (keeping what came
 * before it).
 */
export function decompile(src: Uint8Array, max: number): Decompiled {
  const out = new Out(src.length, max);
  let lines = u32le(src, 0);
  let i = 4;
  while (lines !== 0 && i < src.length && !out.over) {
    if (src[i] === 0x7f) {
      lines--;
      out.text('\n');
      i++;
      continue;
    }
    const next = token(src, i, out);
    if (typeof next === 'string') return { text: out.buf.subarray(0, out.n), error: next, over: false };
    i = next;
  }
  return { text: out.buf.subarray(0, out.n), over: out.over };
}
