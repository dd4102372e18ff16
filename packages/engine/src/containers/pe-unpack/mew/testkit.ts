// Test helpers for the MEW, Upack and FSG unpackers (used only by their *.test.ts files): an
// extraction context that records what it is told, an aPLib-like encoder to build packed streams,
// and little-endian writers. Pure, so it may sit beside the code it helps test.
import type { EngineEnv } from '../../../env.js';
import type { ExtractContext } from '../../types.js';

/** An ExtractContext that records `broken` and `tooBig` calls. */
export interface RecordingContext extends ExtractContext {
  readonly brokenCalls: string[];
  readonly tooBigCalls: (number | undefined)[];
}

/** A context allowing `max` bytes per member. */
export function recordingContext(max = 64 << 20): RecordingContext {
  const brokenCalls: string[] = [];
  const tooBigCalls: (number | undefined)[] = [];
  return {
    env: {} as EngineEnv,
    name: 'sample.exe',
    maxMemberSize: max,
    brokenCalls,
    tooBigCalls,
    tooBig: (_n, size) => void tooBigCalls.push(size),
    encrypted: () => undefined,
    broken: (what) => void brokenCalls.push(what),
  };
}

/** Writes `v` as 32-bit little-endian at `o`. */
export function put32(d: Uint8Array, o: number, v: number): void {
  for (let k = 0; k < 4; k++) d[o + k] = (v >>> (8 * k)) & 0xff;
}

/**
 * Encodes `data` in the aPLib-like format of mew/aplib.ts, with literals and short matches only
 * (offsets up to 127, lengths 2 and 3), ending with the end mark.
 */
export function aplibPack(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let tagAt = -1;
  let used = 8;
  const bit = (b: number) => {
    if (used === 8) {
      tagAt = out.length;
      out.push(0);
      used = 0;
    }
    if (b) out[tagAt] = (out[tagAt] as number) | (0x80 >> used);
    used++;
  };
  if (data.length === 0) throw new Error('aplibPack needs at least one byte');
  out.push(data[0] as number);
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
      bit(1);
      bit(1);
      bit(0);
      out.push((bestOff << 1) | (best - 2));
      i += best;
    } else {
      bit(0);
      out.push(data[i++] as number);
    }
  }
  bit(1);
  bit(1);
  bit(0);
  out.push(0);
  return Uint8Array.from(out);
}
