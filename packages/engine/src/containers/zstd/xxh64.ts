// XXH64 (seed 0), the hash whose low 32 bits are a Zstandard frame's content checksum. 64-bit
// arithmetic is done on pairs of 32-bit halves (BigInt would be some twenty times slower), with
// the result of each step in the module's two registers `H` and `L`.

let H = 0;
let L = 0;

const P1 = [0x9e3779b1, 0x85ebca87] as const;
const P2 = [0xc2b2ae3d, 0x27d4eb4f] as const;
const P3 = [0x165667b1, 0x9e3779f9] as const;
const P4 = [0x85ebca77, 0xc2b2ae63] as const;
const P5 = [0x27d4eb2f, 0x165667c5] as const;

/** (ah:al) × (bh:bl) mod 2^64 into H:L. */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  L = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  const high = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  H = (high + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** (ah:al) + (bh:bl) mod 2^64 into H:L. */
function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  L = lo >>> 0;
  H = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

/** (h:l) rotated left by `r` (1..31) into H:L. */
function rotl(h: number, l: number, r: number): void {
  H = ((h << r) | (l >>> (32 - r))) >>> 0;
  L = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** One accumulator round: acc + lane × P2, rotated by 31, × P1. */
function round(ah: number, al: number, lh: number, ll: number): void {
  mul(lh, ll, P2[0], P2[1]);
  add(ah, al, H, L);
  rotl(H, L, 31);
  mul(H, L, P1[0], P1[1]);
}

const u32 = (d: Uint8Array, o: number) =>
  ((d[o] as number) | ((d[o + 1] as number) << 8) | ((d[o + 2] as number) << 16) | ((d[o + 3] as number) << 24)) >>> 0;

/** The four accumulators over the 32-byte stripes of `d`, merged (only for 32 bytes or more). */
function stripes(d: Uint8Array, stop: number): void {
  const v = new Uint32Array(8);
  add(P1[0], P1[1], P2[0], P2[1]);
  v[0] = H;
  v[1] = L;
  v[2] = P2[0];
  v[3] = P2[1];
  add(0, 0, ~P1[0] >>> 0, ~P1[1] >>> 0);
  add(H, L, 0, 1);
  v[6] = H;
  v[7] = L;
  for (let o = 0; o < stop; o += 32) {
    for (let i = 0; i < 4; i++) {
      round(v[2 * i] as number, v[2 * i + 1] as number, u32(d, o + 8 * i + 4), u32(d, o + 8 * i));
      v[2 * i] = H;
      v[2 * i + 1] = L;
    }
  }
  let hh = 0;
  let hl = 0;
  for (const [i, r] of [
    [0, 1],
    [1, 7],
    [2, 12],
    [3, 18],
  ] as const) {
    rotl(v[2 * i] as number, v[2 * i + 1] as number, r);
    add(hh, hl, H, L);
    hh = H;
    hl = L;
  }
  for (let i = 0; i < 4; i++) {
    round(0, 0, v[2 * i] as number, v[2 * i + 1] as number);
    mul((hh ^ H) >>> 0, (hl ^ L) >>> 0, P1[0], P1[1]);
    add(H, L, P4[0], P4[1]);
    hh = H;
    hl = L;
  }
  H = hh;
  L = hl;
}

/** XXH64 of `d` with seed 0, as [high 32 bits, low 32 bits]. */
export function xxh64(d: Uint8Array): [number, number] {
  const n = d.length;
  const stop = n - (n % 32);
  if (n >= 32) stripes(d, stop);
  else {
    H = P5[0];
    L = P5[1];
  }
  add(H, L, Math.floor(n / 2 ** 32) >>> 0, n >>> 0);
  let o = stop;
  for (; o + 8 <= n; o += 8) {
    const hh = H;
    const hl = L;
    round(0, 0, u32(d, o + 4), u32(d, o));
    rotl((hh ^ H) >>> 0, (hl ^ L) >>> 0, 27);
    mul(H, L, P1[0], P1[1]);
    add(H, L, P4[0], P4[1]);
  }
  if (o + 4 <= n) {
    const hh = H;
    const hl = L;
    mul(0, u32(d, o), P1[0], P1[1]);
    rotl((hh ^ H) >>> 0, (hl ^ L) >>> 0, 23);
    mul(H, L, P2[0], P2[1]);
    add(H, L, P3[0], P3[1]);
    o += 4;
  }
  for (; o < n; o++) {
    const hh = H;
    const hl = L;
    mul(0, d[o] as number, P5[0], P5[1]);
    rotl((hh ^ H) >>> 0, (hl ^ L) >>> 0, 11);
    mul(H, L, P1[0], P1[1]);
  }
  // Avalanche.
  L = (L ^ (H >>> 1)) >>> 0;
  mul(H, L, P2[0], P2[1]);
  L = (L ^ ((H << 3) | (L >>> 29))) >>> 0;
  H = (H ^ (H >>> 29)) >>> 0;
  mul(H, L, P3[0], P3[1]);
  L = (L ^ H) >>> 0;
  return [H, L];
}
