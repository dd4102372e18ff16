// Hash signatures as records sorted by digest (digest, required size, name id), packed into pages
// that stay in the database file (a paged section): a lookup finds its page in the first digest of
// every page, kept in memory, and reads one or two pages. A bitmap of the sizes that occur lets the
// scanner skip hashing a file or section of a size no signature asks for, so most files read none.
import { VigilError } from '../errors.js';
import { PAGE_SIZE, PAGED, type PagedSection, type Sections, section } from './format.js';

/** Marks a signature that accepts any size (`*` in the size field). */
export const ANY_SIZE = 0xffffffff;

const DIGEST_LENGTH = { md5: 16, sha1: 20, sha256: 32 } as const;
export type DigestAlgo = keyof typeof DIGEST_LENGTH;

/** Hex digit values by character code; 255 for anything else. */
const HEX_VALUE = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let i = 0; i < 10; i++) t[0x30 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[0x41 + i] = 10 + i;
    t[0x61 + i] = 10 + i;
  }
  return t;
})();

/** `count` bytes from hex digits (character codes) in `src[start ..]`; false on a non-hex digit. */
function hexCodesToBytes(src: Uint8Array, start: number, count: number, out: Uint8Array, at: number): boolean {
  for (let i = 0; i < count; i++) {
    const hi = HEX_VALUE[src[start + 2 * i] as number] as number;
    const lo = HEX_VALUE[src[start + 2 * i + 1] as number] as number;
    if ((hi | lo) === 255) return false;
    out[at + i] = (hi << 4) | lo;
  }
  return true;
}

/** Bits of an index's size filter: about 8 per entry, a power of two from 2^10 to 2^22. */
function sizeFilterBits(entries: number): number {
  let bits = 1024;
  while (bits < entries * 8 && bits < 2 ** 22) bits *= 2;
  return bits;
}

/** Accumulates one index's entries while a database is parsed. */
export class HashIndexBuilder {
  private digests: Uint8Array;
  /** Entries so far; `sizes` and `names` grow with `digests`, by doubling. */
  private n = 0;
  private sizes = new Uint32Array(1024);
  private names = new Uint32Array(1024);
  readonly digestLength: number;

  constructor(readonly algo: DigestAlgo) {
    this.digestLength = DIGEST_LENGTH[algo];
    this.digests = new Uint8Array(this.digestLength * 1024);
  }

  get count(): number {
    return this.n;
  }

  /** Makes room for one more entry; returns where its digest goes. */
  private grow(): number {
    const n = this.n;
    if (n === this.sizes.length) {
      const digests = new Uint8Array(this.digests.length * 2);
      digests.set(this.digests);
      this.digests = digests;
      const sizes = new Uint32Array(n * 2);
      sizes.set(this.sizes);
      this.sizes = sizes;
      const names = new Uint32Array(n * 2);
      names.set(this.names);
      this.names = names;
    }
    return n * this.digestLength;
  }

  private push(size: number | null, nameId: number): void {
    this.sizes[this.n] = size ?? ANY_SIZE;
    this.names[this.n] = nameId;
    this.n++;
  }

  /** Adds a signature; `hex` must be a digest of this index's algorithm (the parser checked it). */
  add(hex: string, size: number | null, nameId: number): void {
    const at = this.grow();
    const codes = Uint8Array.from(hex, (c) => c.charCodeAt(0) & 0xff);
    if (hex.length !== this.digestLength * 2 || !hexCodesToBytes(codes, 0, this.digestLength, this.digests, at)) {
      throw new VigilError('E_INTERNAL', `digest ${hex} is not ${this.algo}`);
    }
    this.push(size, nameId);
  }

  /** As `add`, with the hex digest given as ASCII bytes `src[start ..]` (a signature file's own bytes). */
  addAscii(src: Uint8Array, start: number, size: number | null, nameId: number): void {
    const at = this.grow();
    if (!hexCodesToBytes(src, start, this.digestLength, this.digests, at)) {
      throw new VigilError('E_INTERNAL', `digest at byte ${start} is not ${this.algo}`);
    }
    this.push(size, nameId);
  }

  /**
   * Sorts by digest and returns the index's sections under `prefix`. Of entries with the same
   * digest and size only the last one loaded is kept: ClamAV's hash table holds one name per hash
   * (checked with clamscan: two .hdb lines for one file report the later name).
   */
  toSections(prefix: string): Sections {
    const L = this.digestLength;
    const sorted = sortByDigest(this.digests, L, this.n);
    const used = this.sizes.subarray(0, this.n);
    const src = this.digests;
    const order: number[] = [];
    for (let a = 0; a < sorted.length; ) {
      const first = (sorted[a] as number) * L;
      let b = a + 1;
      while (b < sorted.length && compare(src, first, src, (sorted[b] as number) * L, L) === 0) b++;
      if (b === a + 1) {
        order.push(sorted[a] as number);
      } else {
        // A run of equal digests (short): keep, per size, the entry added last.
        for (let i = a; i < b; i++) {
          const from = sorted[i] as number;
          let later = false;
          for (let j = a; j < b && !later; j++) {
            const other = sorted[j] as number;
            later = other > from && this.sizes[other] === this.sizes[from];
          }
          if (!later) order.push(from);
        }
      }
      a = b;
    }
    // Records of L + 8 bytes, as many as fit whole in a page; the first digest of each page is kept.
    const R = recordsPerPage(L);
    const pages = Math.ceil(order.length / R);
    const records = new Uint8Array(
      pages === 0 ? 0 : (pages - 1) * PAGE_SIZE + (order.length - (pages - 1) * R) * (L + 8),
    );
    const fences = new Uint8Array(pages * L);
    const view = new DataView(records.buffer);
    for (let to = 0; to < order.length; to++) {
      const from = order[to] as number;
      const at = Math.floor(to / R) * PAGE_SIZE + (to % R) * (L + 8);
      records.set(src.subarray(from * L, from * L + L), at);
      view.setUint32(at + L, this.sizes[from] as number, true);
      view.setUint32(at + L + 4, this.names[from] as number, true);
      if (to % R === 0) fences.set(src.subarray(from * L, from * L + L), (to / R) * L);
    }
    const bits = sizeFilterBits(order.length);
    const sizeFilter = new Uint8Array(bits >>> 3);
    if (used.includes(ANY_SIZE)) sizeFilter.fill(0xff);
    for (const size of used) {
      const b = size & (bits - 1);
      sizeFilter[b >>> 3] = (sizeFilter[b >>> 3] as number) | (1 << (b & 7));
    }
    return {
      [`${prefix}.records${PAGED}`]: records,
      [`${prefix}.fences`]: fences,
      [`${prefix}.count`]: Uint32Array.of(order.length),
      [`${prefix}.sizefilter`]: sizeFilter,
    };
  }
}

/** Records of an index with digests of `L` bytes that fit whole in a page. */
function recordsPerPage(L: number): number {
  return Math.floor(PAGE_SIZE / (L + 8));
}

/**
 * Orders entries by digest. Sorting a million entries with a comparator is slow in V8, so each entry
 * becomes one double (digest prefix above, entry number below, 53 bits in all), sorted numerically;
 * entries whose prefixes tie are then ordered by their full digests.
 */
function sortByDigest(digests: Uint8Array, L: number, n: number): Uint32Array {
  const idxBits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  const prefixBits = Math.min(48, 53 - idxBits);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * L;
    const top =
      ((digests[o] as number) * 2 ** 24 +
        (digests[o + 1] as number) * 2 ** 16 +
        (digests[o + 2] as number) * 2 ** 8 +
        (digests[o + 3] as number)) *
        2 ** 16 +
      (digests[o + 4] as number) * 2 ** 8 +
      (digests[o + 5] as number);
    const prefix = Math.floor(top / 2 ** (48 - prefixBits));
    keys[i] = prefix * 2 ** idxBits + i;
  }
  keys.sort();
  const order = new Uint32Array(n);
  const mask = 2 ** idxBits;
  for (let i = 0; i < n; i++) order[i] = (keys[i] as number) % mask;
  // Prefixes tie rarely; sort each run of ties by the whole digest.
  let start = 0;
  for (let i = 1; i <= n; i++) {
    if (i < n && Math.floor((keys[i] as number) / mask) === Math.floor((keys[start] as number) / mask)) continue;
    if (i - start > 1) {
      const run = Array.from(order.subarray(start, i)).sort((a, b) => compare(digests, a * L, digests, b * L, L));
      order.set(run, start);
    }
    start = i;
  }
  return order;
}

function compare(a: Uint8Array, ao: number, b: Uint8Array, bo: number, L: number): number {
  for (let i = 0; i < L; i++) {
    const d = (a[ao + i] as number) - (b[bo + i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** A read-only hash index over the sections a HashIndexBuilder wrote. */
export class HashIndex {
  private readonly records: PagedSection;
  private readonly fences: Uint8Array;
  private readonly sizeFilter: Uint8Array;
  private readonly perPage: number;
  readonly count: number;

  constructor(
    sections: Sections,
    paged: Readonly<Record<string, PagedSection>>,
    prefix: string,
    readonly digestLength: number,
  ) {
    const records = paged[`${prefix}.records${PAGED}`];
    this.fences = section(sections, `${prefix}.fences`, Uint8Array);
    this.sizeFilter = section(sections, `${prefix}.sizefilter`, Uint8Array);
    this.count = section(sections, `${prefix}.count`, Uint32Array)[0] ?? 0;
    this.perPage = recordsPerPage(digestLength);
    const pages = Math.ceil(this.count / this.perPage);
    const L = digestLength + 8;
    const size = pages === 0 ? 0 : (pages - 1) * PAGE_SIZE + (this.count - (pages - 1) * this.perPage) * L;
    if (records === undefined || records.size !== size || this.fences.length !== pages * digestLength) {
      throw new VigilError(
        'E_DATABASE_FORMAT',
        `Cannot open compiled database: index ${prefix} has inconsistent sizes`,
      );
    }
    this.records = records;
  }

  /**
   * False when no signature can match data of this size, so hashing it is not worth it. A bit per
   * size modulo the filter's length: a false "true" costs one hash, never a wrong answer.
   */
  wants(size: number): boolean {
    if (this.count === 0) return false;
    const b = size & (this.sizeFilter.length * 8 - 1);
    return (((this.sizeFilter[b >>> 3] as number) >> (b & 7)) & 1) === 1;
  }

  /** Name ids of every signature with this digest and a matching size. */
  lookup(digest: Uint8Array, size: number): number[] {
    const D = this.digestLength;
    const L = D + 8;
    // The first page whose first digest is not below the wanted one; equal records may start on
    // the page before it.
    let lo = 0;
    let hi = this.records.pageCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(this.fences, mid * D, digest, 0, D) < 0) lo = mid + 1;
      else hi = mid;
    }
    const found: number[] = [];
    for (let p = Math.max(0, lo - 1); p < this.records.pageCount; p++) {
      const page = this.records.page(p);
      const n = Math.floor(page.length / L);
      let i = 0;
      let j = n;
      while (i < j) {
        const mid = (i + j) >>> 1;
        if (compare(page, mid * L, digest, 0, D) < 0) i = mid + 1;
        else j = mid;
      }
      for (; i < n && compare(page, i * L, digest, 0, D) === 0; i++) {
        const at = i * L + D;
        const want = u32(page, at);
        if (want === ANY_SIZE || want === size) found.push(u32(page, at + 4));
      }
      // A record past the wanted digest ends the search; a page that ends below or in it may not.
      if (i < n) break;
    }
    return found;
  }
}

function u32(b: Uint8Array, at: number): number {
  return (
    ((b[at] as number) |
      ((b[at + 1] as number) << 8) |
      ((b[at + 2] as number) << 16) |
      ((b[at + 3] as number) << 24)) >>>
    0
  );
}
