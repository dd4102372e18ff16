// The two keystreams AutoIt compiled scripts are XORed with: EA05 uses the Mersenne Twister
// (MT19937), each output shifted right once and cut to a byte; EA06 uses a lagged
// rotate-and-add generator over 17 words (AutoIt's own), two steps per byte. Both decrypt in place;
// what the bytes mean is left to the archive reader.

const MT_N = 624;
const MT_M = 397;

/** Refills the MT19937 state (the "twist"). */
function twist(mt: Uint32Array): void {
  for (let i = 0; i < MT_N; i++) {
    const y = ((mt[i] ?? 0) & 0x80000000) | ((mt[(i + 1) % MT_N] ?? 0) & 0x7fffffff);
    const mag = (y & 1) === 0 ? 0 : 0x9908b0df;
    mt[i] = ((mt[(i + MT_M) % MT_N] ?? 0) ^ (y >>> 1) ^ mag) >>> 0;
  }
}

/** XORs `buf` with the EA05 keystream seeded with `seed` (a 32-bit value). */
export function mtDecrypt(buf: Uint8Array, seed: number): void {
  const mt = new Uint32Array(MT_N);
  mt[0] = seed >>> 0;
  for (let i = 1; i < MT_N; i++) {
    const p = mt[i - 1] ?? 0;
    mt[i] = (Math.imul(0x6c078965, p ^ (p >>> 30)) + i) >>> 0;
  }
  let next = MT_N;
  for (let k = 0; k < buf.length; k++) {
    if (next === MT_N) {
      twist(mt);
      next = 0;
    }
    let r = mt[next++] ?? 0;
    r ^= r >>> 11;
    r ^= (r << 7) & 0x9d2c5680;
    r ^= (r << 15) & 0xefc60000;
    r ^= r >>> 18;
    buf[k] = (buf[k] ?? 0) ^ ((r >>> 1) & 0xff);
  }
}

const rotl = (x: number, n: number) => ((x << n) | (x >>> (32 - n))) >>> 0;

/** EA06's generator: 17 words, two moving indices. */
class Lagged {
  private readonly w = new Uint32Array(17);
  private a = 0;
  private b = 10;

  constructor(seed: number) {
    let s = seed >>> 0;
    for (let i = 0; i < 17; i++) {
      s = (1 - Math.imul(s, 0x53a9b4fb)) >>> 0;
      this.w[i] = s;
    }
    for (let i = 0; i < 9; i++) this.step();
  }

  /** One step: the new word, which AutoIt reads as a fraction of 2^32. */
  step(): number {
    const v = (rotl(this.w[this.a] ?? 0, 9) + rotl(this.w[this.b] ?? 0, 13)) >>> 0;
    this.w[this.a] = v;
    this.a = this.a === 0 ? 16 : this.a - 1;
    this.b = this.b === 0 ? 16 : this.b - 1;
    return v;
  }
}

/**
 * XORs `buf` with the EA06 keystream seeded with `seed` (cut to 16 bits, as AutoIt does). Each key
 * byte is the second of two steps scaled to 0..255: the word's top byte.
 */
export function lameDecrypt(buf: Uint8Array, seed: number): void {
  const g = new Lagged(seed & 0xffff);
  for (let k = 0; k < buf.length; k++) {
    g.step();
    buf[k] = (buf[k] ?? 0) ^ (g.step() >>> 24);
  }
}
