// AutoIt's LZSS-style compression ("EA05"/"EA06" streams): after the 4-byte tag and a big-endian
// 32-bit size, bits are read most significant first from 16-bit big-endian words. A flag bit picks a
// literal byte (8 bits) or a back-reference: a 15-bit distance, then a length coded in growing
// fields (2, 3, 5, 8 bits, then more bytes of 8 while all ones), plus 3. EA05 and EA06 differ only
// in which flag value means a literal (0 in EA05, 1 in EA06). The caller checks the tag and caps
// the size.

/** The outcome of a decode: `data` holds what was produced, all of it when `ok`. */
export interface Unpacked {
  readonly data: Uint8Array;
  readonly ok: boolean;
}

/** MSB-first reader over 16-bit big-endian words; it never reads a partial word. */
class Bits {
  private word = 0;
  private avail = 0;
  failed = false;

  constructor(
    private readonly d: Uint8Array,
    private pos: number,
  ) {}

  /** The next `n` (≤ 16) bits, or 0 with `failed` set when the words they need are not there. */
  read(n: number): number {
    if (n > this.avail && (Math.floor((n - this.avail - 1) / 16) + 1) * 2 > this.d.length - this.pos) {
      this.failed = true;
      return 0;
    }
    let v = 0;
    for (let i = 0; i < n; i++) {
      if (this.avail === 0) {
        this.word = ((this.d[this.pos] ?? 0) << 8) | (this.d[this.pos + 1] ?? 0);
        this.pos += 2;
        this.avail = 16;
      }
      this.avail--;
      v = (v << 1) | ((this.word >>> this.avail) & 1);
    }
    return v;
  }
}

/** A back-reference's length: escalating fields, each all-ones value opening the next. */
function matchLength(b: Bits): number {
  const steps: readonly (readonly [number, number])[] = [
    [2, 0],
    [3, 3],
    [5, 10],
    [8, 41],
  ];
  let extra = 0;
  let v = 0;
  for (const [width, base] of steps) {
    extra = base;
    v = b.read(width);
    if (v !== (1 << width) - 1 || b.failed) return v + 3 + extra;
  }
  extra = 296;
  for (v = b.read(8); v === 255 && !b.failed; v = b.read(8)) extra += 255;
  return v + 3 + extra;
}

/**
 * Decodes the stream in `input` (starting at its 4-byte tag) into `size` bytes, `size` already
 * checked against the caller's cap. `literal` is the flag value that means a literal byte (0 for
 * EA05, 1 for EA06). On damage the output stops where it went wrong, as AutoIt readers keep it: a
 * literal whose bits ran out still counts, as a zero byte.
 */
export function unpack(input: Uint8Array, size: number, literal: 0 | 1): Unpacked {
  // The output grows as it is written: a small stream claiming a large size allocates little.
  let out = new Uint8Array(Math.min(size, 1 << 16));
  const room = (k: number) => {
    if (k <= out.length) return;
    const grown = new Uint8Array(Math.min(size, Math.max(k, out.length * 2)));
    grown.set(out);
    out = grown;
  };
  const b = new Bits(input, 8);
  let n = 0;
  while (n < size) {
    if (b.read(1) === literal) {
      room(n + 1);
      out[n++] = b.read(8);
      if (b.failed) break;
      continue;
    }
    if (b.failed) break;
    const dist = b.read(15);
    const len = matchLength(b);
    if (b.failed || n + len > size || dist > n) return { data: out.subarray(0, n), ok: false };
    room(n + len);
    // Overlapping copies repeat what they have just written, byte by byte.
    for (let k = 0; k < len; k++, n++) out[n] = out[n - dist] ?? 0;
  }
  return { data: out.subarray(0, n), ok: !b.failed };
}
