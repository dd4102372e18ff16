// MS-OVBA decompression (the "CompressedContainer" that holds a VBA project's `dir` stream and
// each module's source), decoded the way ClamAV 1.4 decodes it rather than strictly by the
// specification, because what ClamAV scans is what decides a verdict:
// - the signature byte and each chunk header are skipped, never checked: a raw (uncompressed)
//   chunk is read as if it held tokens;
// - decoding runs to the end of the input, through a 4096-byte window that is written out whole
//   only when a literal flag bit arrives exactly on a window boundary (the next chunk's header is
//   read and dropped there, with the rest of that flag byte); at the end the partial window is
//   written out;
// - a copy token that cannot be read whole, a chunk header cut short, or an empty result fails
//   the whole stream.
// Finding the streams and using the text is the callers' business.
import { concatBytes } from '../read.js';

/** ClamAV's decompression window, the size of one decompressed chunk. */
const WINDOW = 4096;

/** What decoding a compressed container gave. */
export type Decompressed =
  | { readonly status: 'ok'; readonly data: Uint8Array }
  | { readonly status: 'failed'; readonly why: string /** Bytes decoded before failing. */; readonly spent: number }
  | { readonly status: 'over-limit' };

/** The number of low bits of a copy token that hold its length, at `winpos` in the chunk. */
function lengthBits(winpos: number): number {
  let bits = 12;
  for (let limit = 0x10; limit <= 0x800; limit <<= 1) if (winpos > limit) bits--;
  return bits;
}

/** Output collected window by window, refusing to pass `max` bytes. */
class Sink {
  private readonly parts: Uint8Array[] = [];
  size = 0;
  constructor(private readonly max: number) {}
  /** False when `bytes` would pass the limit. */
  add(bytes: Uint8Array): boolean {
    if (this.size + bytes.length > this.max) return false;
    this.parts.push(bytes.slice());
    this.size += bytes.length;
    return true;
  }
  bytes(): Uint8Array {
    return concatBytes(this.parts);
  }
}

/**
 * Decodes the compressed container that starts at `offset` in `data` and runs to its end, as
 * ClamAV does (see the file header). The output never passes `max` bytes; nor does the work,
 * which is bounded by `max` plus one window.
 */
export function decompressVba(data: Uint8Array, offset: number, max: number): Decompressed {
  const window = new Uint8Array(WINDOW);
  const sink = new Sink(max);
  let pos = 0;
  let clean = true;
  let i = offset + 3; // the signature byte and the first chunk header
  const work = max + WINDOW;
  while (i < data.length) {
    const flag = data[i++] as number;
    for (let bit = 0; bit < 8; bit++) {
      const winpos = pos % WINDOW;
      if ((flag >> bit) & 1) {
        if (i + 2 > data.length) return { status: 'failed', why: 'a copy token is cut short', spent: pos };
        const token = (data[i] as number) | ((data[i + 1] as number) << 8);
        i += 2;
        const shift = lengthBits(winpos);
        const length = (token & ((1 << shift) - 1)) + 3;
        const back = (token >>> shift) + 1;
        if (pos + length > work) return { status: 'over-limit' };
        for (let k = 0; k < length; k++, pos++) window[pos % WINDOW] = window[(pos - back + WINDOW) % WINDOW] as number;
      } else {
        if (pos !== 0 && winpos === 0 && clean) {
          if (i + 2 > data.length) return { status: 'failed', why: 'a chunk header is cut short', spent: pos };
          i += 2;
          if (!sink.add(window)) return { status: 'over-limit' };
          clean = false;
          break;
        }
        if (i < data.length) {
          window[winpos] = data[i++] as number;
          pos++;
          if (pos > work) return { status: 'over-limit' };
        }
      }
      clean = true;
    }
  }
  if (!sink.add(window.subarray(0, pos % WINDOW))) return { status: 'over-limit' };
  // ClamAV treats an empty result as a failure to decode.
  if (sink.size === 0) return { status: 'failed', why: 'nothing decodes', spent: pos };
  return { status: 'ok', data: sink.bytes() };
}
