// PDF's LZWDecode as ClamAV runs it (the TIFF-style decoder of its lzw/ folder): codes read most
// significant bit first, 9 to 12 bits wide, 256 clears the table, 257 ends the data; the width grows
// one code early unless /EarlyChange is 0. A full table stops growing until the next clear. Input
// that runs out ends the data quietly; a code past the table is an error that keeps what came before.

const CLEAR = 256;
const END = 257;
const FIRST_FREE = 258;
const TABLE = 4096;
const MAX_WIDTH = 12;

/** What a decode gave: its bytes, and whether it stopped on a bad code or on reaching `max`. */
export interface LzwResult {
  readonly data: Uint8Array;
  readonly status: 'ok' | 'error' | 'over-limit';
  /** True when an end-of-data code or a bad code was read (rather than input running out). */
  readonly stopped: boolean;
}

/** Bytes out, in growing chunks (the caller checks the cap before each string). */
class Out {
  private chunks: Uint8Array[] = [];
  private cur = new Uint8Array(1 << 16);
  private n = 0;
  total = 0;
  push(b: number): void {
    if (this.n === this.cur.length) {
      this.chunks.push(this.cur);
      this.cur = new Uint8Array(Math.min(1 << 22, this.cur.length * 2));
      this.n = 0;
    }
    this.cur[this.n++] = b;
    this.total++;
  }
  bytes(): Uint8Array {
    const all = new Uint8Array(this.total);
    let o = 0;
    for (const c of [...this.chunks, this.cur.subarray(0, this.n)]) {
      all.set(c, o);
      o += c.length;
    }
    return all;
  }
}

/** Decodes `d` to at most `max` bytes. */
export function lzwDecode(d: Uint8Array, earlyChange: boolean, max: number): LzwResult {
  const prefix = new Uint16Array(TABLE);
  const suffix = new Uint8Array(TABLE);
  const head = new Uint8Array(TABLE);
  const length = new Uint16Array(TABLE);
  for (let c = 0; c < 256; c++) {
    suffix[c] = c;
    head[c] = c;
    length[c] = 1;
  }
  const out = new Out();
  const scratch = new Uint8Array(TABLE);
  let pos = 0;
  let bits = 0;
  let nbits = 0;
  let width = 9;
  let free = FIRST_FREE;
  let last = (1 << width) - 2; // the last entry before the width grows
  let old = -1;
  const read = (): number => {
    while (nbits < width) {
      if (pos >= d.length) return -1;
      bits = ((bits << 8) | (d[pos++] as number)) & 0xffffff;
      nbits += 8;
    }
    nbits -= width;
    return (bits >>> nbits) & ((1 << width) - 1);
  };
  const grow = () => {
    width = Math.min(width + 1, MAX_WIDTH);
    last = (1 << width) - 2;
  };
  const done = (status: LzwResult['status'], stopped: boolean): LzwResult => ({ data: out.bytes(), status, stopped });

  let code = CLEAR;
  for (;;) {
    if (code === CLEAR) {
      width = 9;
      last = (1 << width) - 2;
      free = FIRST_FREE;
      do code = read();
      while (code === CLEAR);
      if (code < 0) return done('ok', false);
      if (code === END) return done('ok', true);
      if (code >= FIRST_FREE) return done('error', true);
      if (out.total >= max) return done('over-limit', true);
      out.push(code);
      old = code;
      code = read();
      continue;
    }
    if (code < 0) return done('ok', false);
    if (code === END) return done('ok', true);
    if (free < TABLE) {
      if (!earlyChange && free > last) grow();
      prefix[free] = old;
      head[free] = head[old] as number;
      length[free] = (length[old] as number) + 1;
      suffix[free] = code < free ? (head[code] as number) : (head[old] as number);
      free++;
      if (earlyChange && free > last) grow();
      old = code;
    }
    if (code >= free) return done('error', true);
    const n = length[code] as number;
    if (out.total + n > max) return done('over-limit', true);
    let c = code;
    for (let k = n - 1; k >= 0; k--) {
      scratch[k] = suffix[c] as number;
      c = prefix[c] as number;
    }
    for (let k = 0; k < n; k++) out.push(scratch[k] as number);
    code = read();
  }
}
