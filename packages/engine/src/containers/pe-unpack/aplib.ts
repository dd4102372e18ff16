// The aPLib-like LZ77 that MEW's stub, FSG and PESpin use (packlibs.c's unmew and cli_unfsg are the
// same routine): a tag bit selects a literal byte or one of three match forms, with gamma-coded
// lengths (32-bit, wrapping as in C) and a repeated last offset. Source and destination may be views
// of one buffer, as MEW's stub decodes in place. mew/, fsg/ and pespin/ call it; layout is theirs.
import { within } from './aligned.js';

/** Where a stream ended, as offsets into the source and the destination given. */
export interface LzEnd {
  readonly srcEnd: number;
  readonly dstEnd: number;
}

/** The bit reader: tag bytes hold eight flags each, most significant first, fetched when needed. */
class Bits {
  private tag = 0x80;
  pos = 0;
  constructor(private readonly src: Uint8Array) {}
  /** One flag, or -1 when a tag byte would be read from the source's last byte or past it (as ClamAV). */
  bit(): number {
    const old = this.tag;
    this.tag = (this.tag << 1) & 0xff;
    if (old & 0x7f) return old >> 7;
    if (this.pos >= this.src.length - 1) return -1;
    const b = this.src[this.pos++] as number;
    this.tag = ((b << 1) | 1) & 0xff;
    return b >> 7;
  }
  /** Elias gamma: a leading 1, then (value bit, more bit) pairs; -1 when the source runs out. */
  gamma(): number {
    let v = 1;
    for (;;) {
      const b = this.bit();
      const more = this.bit();
      if (b < 0 || more < 0) return -1;
      v = (v * 2 + b) >>> 0;
      if (!more) return v;
    }
  }
  byte(): number {
    return this.pos < this.src.length ? (this.src[this.pos++] as number) : -1;
  }
}

interface Match {
  readonly len: number;
  readonly back: number;
}

/** The running state: the last offset used, and whether the previous step was a literal. */
interface State {
  last: number;
  afterLiteral: number;
}

/** The gamma form (tags 1 0): a gamma high part (or the last offset again) and a gamma length. */
function gammaMatch(r: Bits, st: State): Match | undefined {
  const g = r.gamma();
  if (g < 0) return undefined;
  const hi = (g - 1 - st.afterLiteral) >>> 0;
  st.afterLiteral = 0;
  if (hi === 0) {
    const len = r.gamma();
    return len < 0 ? undefined : { len, back: st.last };
  }
  const lo = r.byte();
  const len0 = r.gamma();
  if (lo < 0 || len0 < 0) return undefined;
  const back = ((((hi - 1) << 8) >>> 0) + lo) >>> 0;
  let len = len0;
  if (back >= 0x7d00) len++;
  if (back >= 0x500) len++;
  if (back <= 0x7f) len += 2;
  st.last = back;
  return { len, back };
}

/** The short form (tags 1 1 0): one byte, 7 bits of offset and one of length; offset 0 ends. */
function shortMatch(r: Bits, st: State): Match | null | undefined {
  const b = r.byte();
  if (b < 0) return undefined;
  if (b >> 1 === 0) return null;
  st.last = b >> 1;
  st.afterLiteral = 0;
  return { len: 2 + (b & 1), back: b >> 1 };
}

/** The nibble form (tags 1 1 1): four bits of offset for one byte; offset 0 writes a zero. */
function nibble(r: Bits, st: State): number {
  let back = 0x10;
  while (back < 0x100) {
    const b = r.bit();
    if (b < 0) return -1;
    back = back * 2 + b;
  }
  st.afterLiteral = 1;
  return back & 0xff;
}

/** After a 1 tag: a match, 0 for a zero byte to write, null for the end mark, undefined for damage. */
function afterTag(r: Bits, st: State): Match | 0 | null | undefined {
  const t2 = r.bit();
  if (t2 < 0) return undefined;
  if (!t2) return gammaMatch(r, st);
  const t3 = r.bit();
  if (t3 < 0) return undefined;
  if (!t3) return shortMatch(r, st);
  const back = nibble(r, st);
  if (back < 0) return undefined;
  return back ? { len: 1, back } : 0;
}

/**
 * Decodes one stream from `src` into `dst` (which may be views of one buffer); undefined when the
 * stream is damaged: a read past `src`, a write or a back reference outside `dst`. Every step reads
 * source bits or writes output, so it ends within 8 × `src.length` + `dst.length` steps.
 */
export function aplibDecode(src: Uint8Array, dst: Uint8Array): LzEnd | undefined {
  if (src.length === 0 || dst.length === 0) return undefined;
  const r = new Bits(src);
  const dEnd = dst.length;
  let d = 0;
  dst[d++] = src[r.pos++] as number;
  const st: State = { last: 0, afterLiteral: 1 };
  for (;;) {
    const tag = r.bit();
    if (tag < 0) return undefined;
    if (tag === 0) {
      const b = r.byte();
      if (b < 0 || d >= dEnd) return undefined;
      dst[d++] = b;
      st.afterLiteral = 1;
      continue;
    }
    const m = afterTag(r, st);
    if (m === null) return { srcEnd: r.pos, dstEnd: d };
    if (m === undefined) return undefined;
    if (m === 0) {
      if (d >= dEnd) return undefined;
      dst[d++] = 0;
      continue;
    }
    if (!copyBack(dst, d, m)) return undefined;
    d += m.len;
  }
}

/** Copies a match within `dst`, when both its source and its target lie inside (ClamAV's check). */
function copyBack(dst: Uint8Array, d: number, m: Match): boolean {
  const from = d - m.back;
  if (!within(0, dst.length, d, m.len) || !within(0, dst.length, from, m.len)) return false;
  for (let k = 0; k < m.len; k++) dst[d + k] = dst[from + k] as number;
  return true;
}
