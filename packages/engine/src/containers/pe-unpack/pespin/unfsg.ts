// The LZ decoder PESpin shares with FSG (an aPLib variant), as ClamAV's packer library decodes it:
// tag bits read from the top of a byte, literals, 4-bit short distances, one-byte distances with
// a length bit, and gamma-coded lengths with distances that lengthen past 0x7f, 0x500 and 0x7d00.
// index.ts says which sections of a PESpin file are compressed.

/** Gamma codes longer than this are damage, not data (the copy could never fit). */
const GAMMA_MAX = 0x40000000;

/** Reads tag bits one byte at a time; like the original, never takes the last byte as a tag. */
class Tags {
  private tag = 0x80;
  pos = 1;

  constructor(private readonly src: Uint8Array) {}

  /** The next bit, or -1 when the source has run out. */
  bit(): number {
    const old = this.tag;
    this.tag = (old << 1) & 0xff;
    if (old & 0x7f) return old >> 7;
    if (this.pos >= this.src.length - 1) return -1;
    const next = this.src[this.pos++] as number;
    this.tag = ((next << 1) | 1) & 0xff;
    return next >> 7;
  }

  /** An Elias-gamma number (2 and up), or -1. */
  gamma(): number {
    let v = 1;
    for (;;) {
      const b = this.bit();
      if (b < 0 || v >= GAMMA_MAX) return -1;
      v = v * 2 + b;
      const more = this.bit();
      if (more < 0) return -1;
      if (!more) return v;
    }
  }

  /** The next whole byte of the stream, or -1. */
  byte(): number {
    return this.pos < this.src.length ? (this.src[this.pos++] as number) : -1;
  }
}

/** A back-reference's distance and length; `dist` 0 copies nothing new (as the original allows). */
interface Copy {
  dist: number;
  len: number;
}

/** The state kept between codes: the last distance and whether a literal came last. */
interface State {
  oldDist: number;
  afterLiteral: boolean;
}

/** Decodes the match that follows a 1-bit; 'end' at the end marker, undefined on damage. */
function readMatch(t: Tags, st: State): Copy | 'end' | 'zero' | undefined {
  const b2 = t.bit();
  if (b2 < 0) return undefined;
  if (!b2) {
    const g = t.gamma();
    if (g < 0) return undefined;
    const hi = g - 1 - (st.afterLiteral ? 1 : 0);
    st.afterLiteral = false;
    if (hi === 0) {
      const len = t.gamma();
      return len < 0 ? undefined : { dist: st.oldDist, len };
    }
    const low = t.byte();
    let len = t.gamma();
    if (low < 0 || len < 0) return undefined;
    const dist = low + (hi - 1) * 256;
    if (dist >= 0x7d00) len++;
    if (dist >= 0x500) len++;
    if (dist <= 0x7f) len += 2;
    st.oldDist = dist;
    return { dist, len };
  }
  const b3 = t.bit();
  if (b3 < 0) return undefined;
  if (b3) {
    let v = 1;
    for (let k = 0; k < 4; k++) {
      const b = t.bit();
      if (b < 0) return undefined;
      v = v * 2 + b;
    }
    st.afterLiteral = true;
    return (v & 0x0f) === 0 ? 'zero' : { dist: v & 0x0f, len: 1 };
  }
  const x = t.byte();
  if (x < 0) return undefined;
  if (x >> 1 === 0) return 'end';
  st.oldDist = x >> 1;
  st.afterLiteral = false;
  return { dist: x >> 1, len: (x & 1) + 2 };
}

/**
 * Decodes `src` into `out` (its size is the most that may come out). True when the end marker
 * was reached with every copy inside `out`; each step writes a byte or more, so it ends.
 */
export function unfsg(src: Uint8Array, out: Uint8Array): boolean {
  if (src.length === 0 || out.length === 0) return false;
  out[0] = src[0] as number;
  let dst = 1;
  const t = new Tags(src);
  const st: State = { oldDist: 0, afterLiteral: true };
  for (;;) {
    const b = t.bit();
    if (b < 0) return false;
    if (!b) {
      if (dst >= out.length || t.pos >= src.length) return false;
      out[dst++] = src[t.pos++] as number;
      st.afterLiteral = true;
      continue;
    }
    const m = readMatch(t, st);
    if (m === undefined) return false;
    if (m === 'end') return true;
    if (m === 'zero') {
      if (dst >= out.length) return false;
      out[dst++] = 0;
      continue;
    }
    if (m.len <= 0 || dst + m.len > out.length || dst - m.dist < 0) return false;
    for (let k = 0; k < m.len; k++, dst++) out[dst] = out[dst - m.dist] as number;
  }
}
