// Builds small ISO 9660 images for the tests: a primary tree and, on request, a Joliet tree over
// the same files; raw 2352-byte sectors and 512/1024-byte blocks; and forged records (an extent
// past the end, a huge size, a directory that points at itself or at the root, interleaving).
// Path tables, dates and Rock Ridge are left out: ClamAV and the handler read none of them.

const SECTOR = 2048;
const RAW_SECTOR = 2352;
const RAW_HEADER = 16;

/** One entry of a directory to build. */
export type IsoEntry =
  | {
      readonly kind: 'file';
      readonly name: string;
      readonly data: Uint8Array;
      /** A forged extent (in blocks) and size, instead of where the data is put. */
      readonly block?: number;
      readonly size?: number;
      readonly interleaved?: boolean;
    }
  | { readonly kind: 'dir'; readonly name: string; readonly entries: readonly IsoEntry[] }
  /** A directory record pointing at its own directory or at the root. */
  | { readonly kind: 'link'; readonly name: string; readonly to: 'self' | 'root' };

type Forged = { readonly block?: number; readonly size?: number; readonly interleaved?: boolean };

/** A file entry; `forged` overrides its record's extent, size or interleaving. */
export const isoFile = (name: string, data: Uint8Array, forged: Forged = {}): IsoEntry => ({
  kind: 'file',
  name,
  data,
  ...forged,
});

/** A directory entry. */
export const isoDir = (name: string, entries: readonly IsoEntry[]): IsoEntry => ({ kind: 'dir', name, entries });

export interface IsoBuildOptions {
  readonly joliet?: boolean;
  /** 2048 (cooked) or 2352 (raw sectors: a 16-byte header before each 2048 bytes of data). */
  readonly sectorSize?: 2048 | 2352;
  readonly blockSize?: 512 | 1024 | 2048;
  /** Marks the primary root as interleaved. */
  readonly interleavedRoot?: boolean;
}

interface Dir {
  readonly entries: readonly IsoEntry[];
  readonly parent: Dir | undefined;
  readonly children: Dir[];
  /** Its size in bytes and first block, once laid out. */
  size: number;
  block: number;
}

/** A name in the tree's encoding: UTF-16 for Joliet, else ASCII with `_` for what is not. */
function nameBytes(s: string, joliet: boolean): Uint8Array {
  if (!joliet) return Uint8Array.from(s, (c) => (c.charCodeAt(0) < 0x80 ? c.charCodeAt(0) : 0x5f));
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    out[2 * i] = s.charCodeAt(i) >> 8;
    out[2 * i + 1] = s.charCodeAt(i) & 0xff;
  }
  return out;
}

/** A 32-bit value written both-endian, as ISO 9660 stores them. */
function both32(b: Uint8Array, o: number, v: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  dv.setUint32(o, v, true);
  dv.setUint32(o + 4, v, false);
}

/** One directory record. */
function record(name: Uint8Array, block: number, size: number, flags: number, interleaved = false): Uint8Array {
  const len = 33 + name.length + ((33 + name.length) % 2);
  const r = new Uint8Array(len);
  r[0] = len;
  both32(r, 2, block);
  both32(r, 10, size);
  r[25] = flags;
  if (interleaved) r[26] = 1;
  r[28] = 1;
  r[31] = 1;
  r[32] = name.length;
  r.set(name, 33);
  return r;
}

/** Packs records into blocks of `bs` bytes, none crossing a block, as mastering tools do. */
function pack(records: readonly Uint8Array[], bs: number): Uint8Array {
  const blocks: number[][] = [[]];
  for (const r of records) {
    if ((blocks[blocks.length - 1] as number[]).length + r.length > bs) blocks.push([]);
    (blocks[blocks.length - 1] as number[]).push(...r);
  }
  const out = new Uint8Array(blocks.length * bs);
  for (const [i, b] of blocks.entries()) out.set(b, i * bs);
  return out;
}

function tree(entries: readonly IsoEntry[], parent: Dir | undefined, all: Dir[]): Dir {
  const dir: Dir = { entries, parent, children: [], size: 0, block: 0 };
  all.push(dir);
  for (const e of entries) if (e.kind === 'dir') dir.children.push(tree(e.entries, dir, all));
  return dir;
}

/** The records of directory `d`; `fileBlock` gives where each file's data lies. */
function recordsOf(d: Dir, root: Dir, joliet: boolean, fileBlock: (f: IsoEntry) => number): Uint8Array[] {
  const parent = d.parent ?? d;
  const out = [record(Uint8Array.of(0), d.block, d.size, 2), record(Uint8Array.of(1), parent.block, parent.size, 2)];
  let child = 0;
  for (const e of d.entries) {
    if (e.kind === 'file') {
      const name = nameBytes(joliet ? e.name : `${e.name};1`, joliet);
      out.push(record(name, e.block ?? fileBlock(e), e.size ?? e.data.length, 0, e.interleaved === true));
      continue;
    }
    const to = e.kind === 'link' ? (e.to === 'self' ? d : root) : (d.children[child++] as Dir);
    out.push(record(nameBytes(e.name, joliet), to.block, to.size, 2));
  }
  return out;
}

/** A primary (or Joliet supplementary) volume descriptor. */
function descriptor(joliet: boolean, root: Dir, sectors: number, o: IsoBuildOptions): Uint8Array {
  const v = new Uint8Array(SECTOR);
  v.set([joliet ? 2 : 1, ...nameBytes('CD001', false), 1]);
  v.fill(0x20, 8, 72);
  if (joliet) v.set([0x25, 0x2f, 0x45], 88);
  both32(v, 80, sectors);
  v.set([1, 0, 0, 1, 1, 0, 0, 1], 120);
  const bs = o.blockSize ?? SECTOR;
  v.set([bs & 0xff, bs >> 8, bs >> 8, bs & 0xff], 128);
  v.set(record(Uint8Array.of(0), root.block, root.size, 2, !joliet && o.interleavedRoot === true), 156);
  v[881] = 1;
  return v;
}

/** Spreads 2048-byte sectors into raw 2352-byte ones (sync and header first, no error codes). */
function rawSectors(cooked: Uint8Array): Uint8Array {
  const n = cooked.length / SECTOR;
  const out = new Uint8Array(n * RAW_SECTOR);
  for (let i = 0; i < n; i++) {
    out.fill(0xff, i * RAW_SECTOR + 1, i * RAW_SECTOR + 11);
    out[i * RAW_SECTOR + 15] = 1;
    out.set(cooked.subarray(i * SECTOR, (i + 1) * SECTOR), i * RAW_SECTOR + RAW_HEADER);
  }
  return out;
}

/** Builds an image holding `root`'s entries. */
export function buildIso(root: readonly IsoEntry[], o: IsoBuildOptions = {}): Uint8Array {
  const bs = o.blockSize ?? SECTOR;
  const per = SECTOR / bs;
  const trees = (o.joliet === true ? [false, true] : [false]).map((joliet) => {
    const dirs: Dir[] = [];
    return { joliet, root: tree(root, undefined, dirs), dirs };
  });
  const firstFree = 16 + trees.length + 1;
  // A directory's size depends on its names only: directories first, then the files' data.
  let sector = firstFree;
  for (const t of trees) {
    for (const d of t.dirs) {
      d.size = pack(
        recordsOf(d, t.root, t.joliet, () => 0),
        bs,
      ).length;
      d.block = sector * per;
      sector += Math.ceil(d.size / SECTOR);
    }
  }
  const files = new Map<IsoEntry, number>();
  for (const e of (trees[0]?.dirs ?? []).flatMap((d) => d.entries)) {
    if (e.kind !== 'file') continue;
    files.set(e, sector * per);
    sector += Math.ceil(e.data.length / SECTOR);
  }
  const image = new Uint8Array(sector * SECTOR);
  trees.forEach((t, i) => {
    image.set(descriptor(t.joliet, t.root, sector, o), (16 + i) * SECTOR);
    for (const d of t.dirs) {
      image.set(
        pack(
          recordsOf(d, t.root, t.joliet, (f) => files.get(f) ?? 0),
          bs,
        ),
        (d.block / per) * SECTOR,
      );
    }
  });
  image.set([0xff, ...nameBytes('CD001', false), 1], (firstFree - 1) * SECTOR);
  for (const [f, block] of files) if (f.kind === 'file') image.set(f.data, (block / per) * SECTOR);
  return o.sectorSize === RAW_SECTOR ? rawSectors(image) : image;
}
