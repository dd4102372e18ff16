// Reused output buffers for the normalisers: a view is matched and dropped before the next file is
// normalised, so each thread keeps one buffer per view and grows it, instead of allocating a new
// one per file. Only small buffers are kept: a large file's are dropped with it, so that a thread
// does not hold its largest file's views for ever (the Node adapter has them collected at once).

/** Buffers above this size are not kept between files. */
const KEEP_MAX = 1 << 20;
const slots = new Map<string, Uint8Array>();

/** A buffer of at least `size` bytes for view `slot`; its previous contents are garbage. */
export function scratch(slot: string, size: number): Uint8Array {
  const have = slots.get(slot);
  if (have !== undefined && have.length >= size) return have;
  const buf = new Uint8Array(Math.max(16, size));
  if (buf.length <= KEEP_MAX) slots.set(slot, buf);
  return buf;
}

/** Hands a grown buffer back for the next file. */
export function keep(slot: string, buf: Uint8Array): void {
  if (buf.length <= KEEP_MAX) slots.set(slot, buf);
}
