// The NRV2B, NRV2D and NRV2E decompressors of UPX (UCL's bit-stream LZ77): flag bits come from a
// bit buffer refilled 32 bits at a time little-endian (UPX's PE stubs) or 8 bits at a time, byte
// values and literals straight from the stream. Decodes into a fixed window (the memory the stub
// fills) and fails, never throws, on anything that would step outside it. Recognising the stub and
// rebuilding the executable are index.ts's and rebuild.ts's.
import { u32le } from '../../read.js';

/** The three NRV variants UPX uses on Windows executables. */
export type NrvMethod = '2b' | '2d' | '2e';

/** Where a successful decode ended. */
export interface NrvResult {
  /** Bytes written to the output window. */
  readonly written: number;
  /** Bytes of input consumed. */
  readonly read: number;
}

/** Offsets at or below this many bytes back get one byte less of match length (UPX's M2_MAX_OFFSET). */
const NEAR: Record<NrvMethod, number> = { '2b': 0xd00, '2d': 0x500, '2e': 0x500 };

/** The highest value the gamma-coded offset may reach before its byte is appended (24 bits). */
const MAX_HIGH = 0x1000000;

class Stop extends Error {}

/** UPX's flag-bit reader: the buffer holds a marker bit so that it knows when to refill. */
class Bits {
  private buf = 0;
  constructor(
    private readonly src: Uint8Array,
    public pos: number,
    private readonly end: number,
    private readonly width: 8 | 32,
  ) {}

  bit(): number {
    const old = this.buf;
    if (this.width === 32) {
      if ((old & 0x7fffffff) !== 0) {
        this.buf = (old << 1) >>> 0;
        return old >>> 31;
      }
      if (this.pos + 4 > this.end) throw new Stop();
      const w = u32le(this.src, this.pos);
      this.pos += 4;
      this.buf = ((w << 1) | 1) >>> 0;
      return w >>> 31;
    }
    if ((old & 0x7f) !== 0) {
      this.buf = (old << 1) & 0xff;
      return (old >>> 7) & 1;
    }
    if (this.pos >= this.end) throw new Stop();
    const b = this.src[this.pos++] as number;
    this.buf = ((b << 1) | 1) & 0xff;
    return b >>> 7;
  }

  byte(): number {
    if (this.pos >= this.end) throw new Stop();
    return this.src[this.pos++] as number;
  }

  /** An Elias-gamma-like number: starting from `v`, double and add a bit until a 1 flag (bounded). */
  gamma(v: number, limit: number): number {
    let n = v;
    do {
      n = n * 2 + this.bit();
      if (n > limit) throw new Stop();
    } while (this.bit() === 0);
    return n;
  }
}

/** Reads the high part of a match offset: 2 for "the last offset again", else 3 + the value. */
function offsetHigh(b: Bits, method: NrvMethod): number {
  if (method === '2b') return b.gamma(1, MAX_HIGH + 3);
  let n = 1;
  for (;;) {
    n = n * 2 + b.bit();
    if (n > MAX_HIGH + 3) throw new Stop();
    if (b.bit() === 1) return n;
    n = (n - 1) * 2 + b.bit();
  }
}

/** The match length code after the offset; `flag` is the bit the offset carried (2D, 2E). */
function lengthCode(b: Bits, method: NrvMethod, flag: number, cap: number): number {
  if (method === '2e') {
    if (flag === 1) return 1 + b.bit();
    if (b.bit() === 1) return 3 + b.bit();
    return b.gamma(1, cap) + 3;
  }
  const first = method === '2b' ? b.bit() : flag;
  const len = first * 2 + b.bit();
  return len !== 0 ? len : b.gamma(1, cap) + 2;
}

/**
 * Decodes `src[start, end)` with `method` into `out` from its start, until the stream's end
 * marker. Undefined when the stream is damaged: it runs out, or a literal or match would fall
 * outside `out`. Work is bounded by the input and `out.length`.
 */
export function nrvDecode(
  src: Uint8Array,
  range: { readonly start: number; readonly end: number },
  out: Uint8Array,
  options: { readonly method: NrvMethod; readonly width?: 8 | 32 },
): NrvResult | undefined {
  const { method } = options;
  const b = new Bits(src, range.start, Math.min(range.end, src.length), options.width ?? 32);
  const size = out.length;
  let n = 0;
  let last = 1;
  try {
    for (;;) {
      while (b.bit() === 1) {
        if (n >= size) return undefined;
        out[n++] = b.byte();
      }
      const high = offsetHigh(b, method);
      let flag = 0;
      if (high === 2) {
        if (method !== '2b') flag = b.bit();
      } else {
        const v = (high - 3) * 256 + b.byte();
        if (v === 0xffffffff) return { written: n, read: b.pos - range.start };
        if (method === '2b') last = v + 1;
        else {
          flag = (v & 1) ^ 1;
          last = Math.floor(v / 2) + 1;
        }
      }
      const len = lengthCode(b, method, flag, size) + (last > NEAR[method] ? 1 : 0) + 1;
      if (last > n || n + len > size) return undefined;
      for (let k = 0; k < len; k++, n++) out[n] = out[n - last] as number;
    }
  } catch (e) {
    if (e instanceof Stop) return undefined;
    throw e;
  }
}
