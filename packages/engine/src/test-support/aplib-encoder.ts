// An encoder for the aPLib-like format of containers/pe-unpack/aplib.ts (MEW, FSG, PESpin): the
// tag-bit writer hand-made streams use, and a greedy packer with literals and short matches only.
// It aims to exercise the decoder, not to compress well; the engine never calls it.

/** Writes tag bits MSB-first into a byte reserved before the bytes that follow them, as the decoder reads. */
export class AplibWriter {
  readonly out: number[];
  private tagAt = -1;
  private used = 8;

  /** The stream starts with one byte copied as it is. */
  constructor(first: number) {
    this.out = [first];
  }

  bit(b: number): void {
    if (this.used === 8) {
      this.tagAt = this.out.length;
      this.out.push(0);
      this.used = 0;
    }
    if (b) this.out[this.tagAt] = (this.out[this.tagAt] as number) | (0x80 >> this.used);
    this.used++;
  }

  byte(v: number): void {
    this.out.push(v);
  }

  /** Elias gamma for n >= 2: each bit after the leading 1, then whether more follow. */
  gamma(n: number): void {
    const bits = n.toString(2).slice(1);
    for (let i = 0; i < bits.length; i++) {
      this.bit(Number(bits[i]));
      this.bit(i < bits.length - 1 ? 1 : 0);
    }
  }

  /** The end mark (tags 1 1 0 and a zero byte). */
  end(): Uint8Array {
    this.bit(1);
    this.bit(1);
    this.bit(0);
    this.byte(0);
    return Uint8Array.from(this.out);
  }
}

/** Encodes `data` with literals and short matches only (offsets up to 127, lengths 2 and 3), then the end mark. */
export function aplibPack(data: Uint8Array): Uint8Array {
  if (data.length === 0) throw new Error('aplibPack needs at least one byte');
  const w = new AplibWriter(data[0] as number);
  let i = 1;
  while (i < data.length) {
    let best = 0;
    let bestOff = 0;
    for (let off = 1; off <= Math.min(127, i); off++) {
      let n = 0;
      while (n < 3 && i + n < data.length && data[i + n] === data[i + n - off]) n++;
      if (n > best) {
        best = n;
        bestOff = off;
      }
    }
    if (best >= 2) {
      w.bit(1);
      w.bit(1);
      w.bit(0);
      w.byte((bestOff << 1) | (best - 2));
      i += best;
    } else {
      w.bit(0);
      w.byte(data[i++] as number);
    }
  }
  return w.end();
}
