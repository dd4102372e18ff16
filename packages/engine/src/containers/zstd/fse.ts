// Finite State Entropy tables (RFC 8878 §4.1.1): reading a table description (the normalised
// counts), spreading the counts into a decoding table, and the three predefined distributions of
// the sequence codes. Decoding with a table is done by its users with a BackwardBits.
import { type BackwardBits, ForwardBits, ZstdError } from './bits.js';

/** An FSE decoding table: per state, the symbol, the bits to read and the base of the next state. */
export interface FseTable {
  readonly accuracyLog: number;
  readonly symbol: Uint8Array;
  readonly bits: Uint8Array;
  readonly base: Uint16Array;
}

/** Normalised counts: -1 is a "less than one" symbol that takes one state at the table's end. */
export function buildTable(counts: ArrayLike<number>, accuracyLog: number): FseTable {
  const size = 1 << accuracyLog;
  const symbol = new Uint8Array(size);
  const next = new Uint16Array(counts.length);
  let high = size - 1;
  for (let s = 0; s < counts.length; s++) {
    if (counts[s] === -1) {
      symbol[high--] = s;
      next[s] = 1;
    } else next[s] = counts[s] as number;
  }
  const step = (size >>> 1) + (size >>> 3) + 3;
  let pos = 0;
  for (let s = 0; s < counts.length; s++) {
    const c = counts[s] as number;
    for (let i = 0; i < c; i++) {
      symbol[pos] = s;
      do pos = (pos + step) & (size - 1);
      while (pos > high);
    }
  }
  if (pos !== 0) throw new ZstdError('an FSE table does not fill its states');
  const bits = new Uint8Array(size);
  const base = new Uint16Array(size);
  for (let u = 0; u < size; u++) {
    const s = symbol[u] as number;
    const n = next[s] as number;
    next[s] = n + 1;
    const b = accuracyLog - (31 - Math.clz32(n));
    bits[u] = b;
    base[u] = (n << b) - size;
  }
  return { accuracyLog, symbol, bits, base };
}

/** A table whose one state always gives `symbol` and reads nothing (the RLE mode). */
export function rleTable(symbol: number): FseTable {
  return {
    accuracyLog: 0,
    symbol: Uint8Array.of(symbol),
    bits: new Uint8Array(1),
    base: new Uint16Array(1),
  };
}

/**
 * Reads a table description at `d[start..end)`: the table, and the bytes it took. `maxLog` and
 * `maxSymbol` are the limits of the kind of table (9 and 35 for literal lengths, and so on).
 */
export function readTable(
  d: Uint8Array,
  range: { readonly start: number; readonly end: number },
  limits: { readonly maxLog: number; readonly maxSymbol: number },
): { table: FseTable; size: number } {
  const r = new ForwardBits(d, range.start, range.end);
  const accuracyLog = r.read(4) + 5;
  if (accuracyLog > limits.maxLog) throw new ZstdError(`an FSE accuracy of ${accuracyLog} passes ${limits.maxLog}`);
  const counts: number[] = [];
  let remaining = 1 << accuracyLog;
  while (remaining > 0) {
    if (counts.length > limits.maxSymbol) throw new ZstdError('an FSE table has too many symbols');
    const bits = 32 - Math.clz32(remaining + 1);
    const lowMask = (1 << (bits - 1)) - 1;
    const threshold = (1 << bits) - 1 - (remaining + 1);
    let v = r.read(bits);
    if ((v & lowMask) < threshold) {
      r.unread(1);
      v &= lowMask;
    } else if (v > lowMask) v -= threshold;
    const count = v - 1;
    remaining -= count < 0 ? -count : count;
    counts.push(count);
    if (count === 0) {
      for (;;) {
        const repeat = r.read(2);
        for (let i = 0; i < repeat; i++) counts.push(0);
        if (counts.length > limits.maxSymbol + 1) throw new ZstdError('an FSE table has too many symbols');
        if (repeat !== 3) break;
      }
    }
    if (r.overrun) throw new ZstdError('an FSE table description ends early');
  }
  if (remaining !== 0 || counts.length > limits.maxSymbol + 1) throw new ZstdError('an FSE table is damaged');
  return { table: buildTable(counts, accuracyLog), size: r.bytes };
}

/** Reads a state's initial value. */
export function initState(t: FseTable, bits: BackwardBits): number {
  return bits.read(t.accuracyLog);
}

/** Moves a state on, reading its bits. */
export function nextState(t: FseTable, state: number, bits: BackwardBits): number {
  return (t.base[state] as number) + bits.read(t.bits[state] as number);
}

/** The predefined literal-length distribution (accuracy 6). */
export const LL_DEFAULT = buildTable(
  [4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1],
  6,
);

/** The predefined match-length distribution (accuracy 6). */
export const ML_DEFAULT = buildTable(
  [
    1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1,
  ],
  6,
);

/** The predefined offset-code distribution (accuracy 5). */
export const OF_DEFAULT = buildTable(
  [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1],
  5,
);
