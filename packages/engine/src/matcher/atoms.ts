// Chooses one atom per pattern variant, the rarest run of up to four fixed bytes it contains (as
// YARA chooses atoms), and indexes the atoms in hash tables laid out as typed arrays: the scan looks
// up every position's next four bytes and verifies only the variants whose atom is there.
import { FOLD, type VariantNodes } from './program.js';

/** An atom: a variant's node `node` (a run), `pos` bytes in, `k` bytes long, packed little-endian. */
export interface Atom {
  readonly node: number;
  readonly pos: number;
  readonly k: number;
  readonly key: number;
}

/** How rare a byte is in files (higher is rarer): zeros, 0xff, spaces and common x86 opcodes are cheap. */
const RARITY = (() => {
  const t = new Uint8Array(256).fill(8);
  const common: [number[], number][] = [
    [[0x00, 0xff], 1],
    [[0x20, 0x0a, 0x0d, 0x09, 0x01, 0x02, 0x04, 0x08, 0x10, 0x80, 0xcc, 0x90], 3],
    [[0x48, 0x89, 0x8b, 0xe8, 0x0f, 0x24, 0x45, 0x85, 0xc0, 0x4c, 0x8d, 0x83, 0x74, 0x75, 0xeb, 0xc3, 0x44], 4],
  ];
  for (const [bytes, w] of common) for (const b of bytes) t[b] = w;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 5;
  for (let c = 0x30; c <= 0x39; c++) t[c] = 5;
  return t;
})();

/** Picks the best atom of a variant, or undefined when it has no fixed byte outside alternatives. */
export function chooseAtom(nodes: VariantNodes, nocase: boolean): Atom | undefined {
  let best: Atom | undefined;
  let bestScore = -1;
  nodes.forEach((n, j) => {
    if (n.t !== 'run') return;
    const { bytes, mask } = n.run;
    for (let p = 0; p < Math.min(bytes.length, 0xffff); p++) {
      let score = 0;
      let key = 0;
      let k = 0;
      while (k < 4 && p + k < bytes.length && mask[p + k] === 0xff) {
        const b = bytes[p + k] as number;
        const kb = nocase ? (FOLD[b] as number) : b;
        key |= kb << (8 * k);
        // Letters are common in both cases when folded: a little less rare.
        score += (RARITY[kb] as number) * (nocase && kb >= 0x61 && kb <= 0x7a ? 0.8 : 1);
        k++;
      }
      if (k > 0 && score > bestScore) {
        bestScore = score;
        best = { node: j, pos: p, k, key: key >>> 0 };
      }
    }
  });
  return best;
}

/** Multiplicative hashes for buckets and for the bloom filter (different, so misses stay independent). */
export const BUCKET_MUL = 0x9e3779b1;
export const BLOOM_MUL = 0x85ebca6b;

/** One hash table of atoms of one length and case mode, as typed arrays. */
export interface AtomTable {
  readonly k: number;
  readonly fold: boolean;
  readonly bucketBits: number;
  readonly bloomBits: number;
  /** Bucket b's entries are [start[b], start[b+1]). */
  readonly start: Uint32Array;
  readonly key: Uint32Array;
  /** Per entry: the variant, its atom's node and offset in that node's run. */
  readonly variant: Uint32Array;
  readonly node: Uint32Array;
  readonly pos: Uint16Array;
  readonly bloom: Uint32Array;
}

/** Builds a table from its entries (variant index and atom). */
export function buildTable(k: number, fold: boolean, entries: readonly { v: number; atom: Atom }[]): AtomTable {
  const bucketBits = Math.max(4, Math.ceil(Math.log2(entries.length * 2 + 1)));
  const bloomBits = Math.min(26, bucketBits + 3);
  const nb = 1 << bucketBits;
  const bucketOf = (key: number) => Math.imul(key, BUCKET_MUL) >>> (32 - bucketBits);
  const counts = new Uint32Array(nb + 1);
  for (const e of entries) {
    const b = bucketOf(e.atom.key) + 1;
    counts[b] = (counts[b] as number) + 1;
  }
  for (let b = 0; b < nb; b++) counts[b + 1] = (counts[b + 1] as number) + (counts[b] as number);
  const start = counts.slice();
  const fill = counts.slice(0, nb);
  const n = entries.length;
  const key = new Uint32Array(n);
  const variant = new Uint32Array(n);
  const node = new Uint32Array(n);
  const pos = new Uint16Array(n);
  const bloom = new Uint32Array(Math.max(1, (1 << bloomBits) >>> 5));
  for (const e of entries) {
    const b = bucketOf(e.atom.key);
    const at = fill[b] as number;
    fill[b] = at + 1;
    key[at] = e.atom.key;
    variant[at] = e.v;
    node[at] = e.atom.node;
    pos[at] = e.atom.pos;
    const h = Math.imul(e.atom.key, BLOOM_MUL) >>> (32 - bloomBits);
    bloom[h >>> 5] = (bloom[h >>> 5] as number) | (1 << (h & 31));
  }
  return { k, fold, bucketBits, bloomBits, start, key, variant, node, pos, bloom };
}
