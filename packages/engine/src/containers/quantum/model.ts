// Quantum's adaptive frequency models and its arithmetic coder's interval arithmetic, shared by the
// decoder (decode.ts) and the test encoder (testing.ts) so that both adapt alike. A model keeps its
// symbols in decreasing order of cumulative frequency; each coded symbol adds 8 to the counts at
// and before it, and past a total of 3800 the counts are halved (every 50th time, rebuilt from the
// frequencies and re-sorted), as libmspack's qtmd, which ClamAV uses, does.

/** A model over `entries` symbols; index `entries` holds the closing zero of the cumulative counts. */
export class QuantumModel {
  readonly sym: Uint16Array;
  readonly cumfreq: Uint16Array;
  private shiftsLeft = 4;

  /** Symbols `start` to `start + entries - 1`, with counts `entries` down to 1. */
  constructor(
    start: number,
    readonly entries: number,
  ) {
    this.sym = new Uint16Array(entries + 1);
    this.cumfreq = new Uint16Array(entries + 1);
    for (let i = 0; i <= entries; i++) {
      this.sym[i] = start + i;
      this.cumfreq[i] = entries - i;
    }
  }

  /** The index whose interval holds the scaled count `target` (the decoder's search). */
  find(target: number): number {
    let i = 1;
    while (i < this.entries && (this.cumfreq[i] as number) > target) i++;
    return i - 1;
  }

  /** The index of symbol `s` (the encoder's search), or -1. */
  indexOf(s: number): number {
    for (let i = 0; i < this.entries; i++) if (this.sym[i] === s) return i;
    return -1;
  }

  /** Counts the symbol at index `k`: its count and those before it grow by 8. */
  update(k: number): void {
    const c = this.cumfreq;
    for (let i = k; i >= 0; i--) c[i] = (c[i] as number) + 8;
    if ((c[0] as number) > 3800) this.rescale();
  }

  private rescale(): void {
    const c = this.cumfreq;
    const n = this.entries;
    this.shiftsLeft--;
    if (this.shiftsLeft > 0) {
      for (let i = n - 1; i >= 0; i--) {
        c[i] = (c[i] as number) >>> 1;
        if ((c[i] as number) <= (c[i + 1] as number)) c[i] = (c[i + 1] as number) + 1;
      }
      return;
    }
    this.shiftsLeft = 50;
    // To halved frequencies, a selection sort with the same swaps as libmspack's, back to cumulative.
    for (let i = 0; i < n; i++) c[i] = ((c[i] as number) - (c[i + 1] as number) + 1) >>> 1;
    for (let i = 0; i < n - 1; i++) {
      for (let j = i + 1; j < n; j++) {
        if ((c[i] as number) < (c[j] as number)) {
          const f = c[i] as number;
          c[i] = c[j] as number;
          c[j] = f;
          const s = this.sym[i] as number;
          this.sym[i] = this.sym[j] as number;
          this.sym[j] = s;
        }
      }
    }
    for (let i = n - 1; i >= 0; i--) c[i] = (c[i] as number) + (c[i + 1] as number);
  }
}

/** The coder's interval after coding index `k` of `m` in [low, high]: [newLow, newHigh], 16 bits each. */
export function narrow(m: QuantumModel, k: number, low: number, high: number): [number, number] {
  // libmspack computes these in 32-bit unsigned arithmetic; damaged streams may wrap, as there.
  const range = (high - low + 1) >>> 0;
  const total = m.cumfreq[0] as number;
  const hi = (low + Math.floor((Math.imul(m.cumfreq[k] as number, range) >>> 0) / total) - 1) & 0xffff;
  const lo = (low + Math.floor((Math.imul(m.cumfreq[k + 1] as number, range) >>> 0) / total)) & 0xffff;
  return [lo, hi];
}

/** Offset slots: the base of each and its extra bits (42 slots for a 2 MiB window). */
export const POSITION_BASE = new Uint32Array(42);
export const POSITION_EXTRA = new Uint8Array(42);
/** Length slots of selector 6: the base of each and its extra bits. */
export const LENGTH_BASE = new Uint8Array(27);
export const LENGTH_EXTRA = new Uint8Array(27);
for (let i = 0, at = 0; i < 42; i++) {
  POSITION_BASE[i] = at;
  POSITION_EXTRA[i] = (i < 2 ? 0 : i - 2) >>> 1;
  at += 1 << (POSITION_EXTRA[i] as number);
}
for (let i = 0, at = 0; i < 26; i++) {
  LENGTH_BASE[i] = at;
  LENGTH_EXTRA[i] = (i < 2 ? 0 : i - 2) >>> 2;
  at += 1 << (LENGTH_EXTRA[i] as number);
}
LENGTH_BASE[26] = 254;

/** The models of one stream: four literal ranges, three match kinds, the selector. */
export interface QuantumModels {
  readonly literals: readonly [QuantumModel, QuantumModel, QuantumModel, QuantumModel];
  /** Offset slots of 3-byte matches, of 4-byte matches, of longer ones; and the longer ones' lengths. */
  readonly offset3: QuantumModel;
  readonly offset4: QuantumModel;
  readonly offsetN: QuantumModel;
  readonly lengthN: QuantumModel;
  readonly selector: QuantumModel;
}

/** Fresh models for a window of 2^`windowBits` bytes (the offset models grow with the window). */
export function newModels(windowBits: number): QuantumModels {
  const slots = windowBits * 2;
  return {
    literals: [new QuantumModel(0, 64), new QuantumModel(64, 64), new QuantumModel(128, 64), new QuantumModel(192, 64)],
    offset3: new QuantumModel(0, Math.min(24, slots)),
    offset4: new QuantumModel(0, Math.min(36, slots)),
    offsetN: new QuantumModel(0, slots),
    lengthN: new QuantumModel(0, 27),
    selector: new QuantumModel(0, 7),
  };
}
