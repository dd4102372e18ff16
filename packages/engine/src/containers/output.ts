// The growable, bounded output buffer of the hand-written decoders: it doubles as it fills and
// refuses to pass its limit, so a bomb ends as "over the limit" instead of exhausting memory.

export class BoundedOutput {
  out: Uint8Array;
  /** Bytes written so far. */
  n = 0;

  constructor(
    initial: number,
    private readonly max: number,
  ) {
    this.out = new Uint8Array(Math.max(0, Math.min(initial, max)));
  }

  /** Room for `k` more bytes; false when that would pass the limit. */
  room(k: number): boolean {
    const need = this.n + k;
    if (need <= this.out.length) return true;
    if (need > this.max) return false;
    const next = new Uint8Array(Math.min(this.max, Math.max(need, this.out.length * 2)));
    next.set(this.out.subarray(0, this.n));
    this.out = next;
    return true;
  }

  /** What was written. */
  get data(): Uint8Array {
    return this.out.subarray(0, this.n);
  }
}
