// ISO 9660 volume descriptors and blocks, as ClamAV reads them: the image is recognised by its
// primary volume descriptor (found by the scanner's search for embedded files, see
// scan/embedded.ts), whose distance to the next descriptor gives the sector size (2048 bytes, or
// more for raw CD images) and whose field gives the logical block size. A Joliet supplementary
// descriptor, if one follows, gives a second tree. Directories are walked in index.ts.
import { hasText, u16le, u32le } from '../read.js';

/** The system area before the first volume descriptor: 16 sectors of at least 2048 bytes. */
const SYSTEM_SECTORS = 16;
const MIN_SECTOR = 2048;
/** The next descriptor's `CD001` is looked for this far (ClamAV's signature: 2043-2443 bytes on). */
const MAX_SECTOR = 2448;
/** Bytes of the primary descriptor read at once (to the end of the window for the next one). */
const DESCRIPTOR_READ = MAX_SECTOR + 6;
/** Descriptors after the primary one looked at for Joliet's (sectors 16 to 31). */
const LAST_DESCRIPTOR = 32;
/** Where the root directory's record lies in a volume descriptor. */
const ROOT_RECORD = 156;
const JOLIET_LEVELS: ReadonlySet<number> = new Set([0x40, 0x43, 0x45]);

/** An image's geometry. */
export interface IsoVolume {
  /** Where the image starts: 16 sectors before its primary volume descriptor. */
  readonly base: number;
  /** Bytes from one sector to the next: 2048, or more for raw images (2352, ...). */
  readonly sectorSize: number;
  /** The logical block size that extents count in: 512, 1024 or 2048. */
  readonly blockSize: number;
}

/** The directory tree one volume descriptor describes. */
export interface IsoTree {
  /** Whether names are UTF-16 (Joliet) rather than bytes. */
  readonly joliet: boolean;
  /** The root directory's extent: its first block and its size in bytes. */
  readonly rootBlock: number;
  readonly rootSize: number;
  /** The root is interleaved, which is not read. */
  readonly interleaved: boolean;
}

/** The first `CD001` in d[from, to] (start positions), or -1. */
function findStandardId(d: Uint8Array, from: number, to: number): number {
  for (let i = from; i <= to; i++) if (d[i] === 0x43 && hasText(d, i, 'CD001')) return i;
  return -1;
}

/**
 * The image whose primary volume descriptor is at `pvd` in `d`, when ClamAV would read it: the
 * descriptor reads whole, another descriptor follows 2048 to 2448 bytes on, 16 sectors of that
 * size fit before it, and its block size is one ClamAV knows.
 */
export function isoImageAt(d: Uint8Array, pvd: number): IsoVolume | undefined {
  if (pvd < SYSTEM_SECTORS * MIN_SECTOR || pvd + DESCRIPTOR_READ > d.length) return undefined;
  if (d[pvd] !== 1 || !hasText(d, pvd + 1, 'CD001')) return undefined;
  const next = findStandardId(d, pvd + MIN_SECTOR + 1, pvd + MAX_SECTOR + 1);
  if (next < 0) return undefined;
  const sectorSize = next - pvd - 1;
  if (sectorSize * SYSTEM_SECTORS > pvd) return undefined;
  const blockSize = u16le(d, pvd + 128);
  if (blockSize !== 512 && blockSize !== 1024 && blockSize !== 2048) return undefined;
  return { base: pvd - sectorSize * SYSTEM_SECTORS, sectorSize, blockSize };
}

/**
 * The image that starts at offset 0 of `d` (the scanner hands the image from its start), and
 * where its primary descriptor is; the smallest sector size that fits is taken.
 */
export function isoImage(d: Uint8Array): { readonly volume: IsoVolume; readonly pvd: number } | undefined {
  for (let size = MIN_SECTOR; size <= MAX_SECTOR; size++) {
    const pvd = size * SYSTEM_SECTORS;
    if (d[pvd] !== 1) continue;
    const volume = isoImageAt(d, pvd);
    if (volume?.base === 0) return { volume, pvd };
  }
  return undefined;
}

function treeAt(d: Uint8Array, desc: number, joliet: boolean): IsoTree {
  const r = desc + ROOT_RECORD;
  return {
    joliet,
    rootBlock: (u32le(d, r + 2) + (d[r + 1] as number)) >>> 0,
    rootSize: u32le(d, r + 10),
    interleaved: d[r + 26] !== 0 || d[r + 27] !== 0,
  };
}

/** Where the Joliet descriptor is, if the descriptors after the primary one hold one. */
function jolietDescriptor(d: Uint8Array, v: IsoVolume): number | undefined {
  for (let i = SYSTEM_SECTORS; i < LAST_DESCRIPTOR; i++) {
    const at = v.base + i * v.sectorSize;
    if (at + MIN_SECTOR > d.length) return undefined;
    if (d[at] === 0xff || !hasText(d, at + 1, 'CD001')) return undefined;
    if (d[at] !== 2 || d[at + 88] !== 0x25 || d[at + 89] !== 0x2f) continue;
    // An interleaved Joliet root is passed over: the primary tree is read alone.
    if (d[at + ROOT_RECORD + 26] !== 0 || d[at + ROOT_RECORD + 27] !== 0) continue;
    if (JOLIET_LEVELS.has(d[at + 90] as number)) return at;
  }
  return undefined;
}

/** The trees to walk, in ClamAV's order: the primary one, then the Joliet one if there is one. */
export function isoTrees(d: Uint8Array, v: IsoVolume, pvd: number): IsoTree[] {
  const trees = [treeAt(d, pvd, false)];
  const joliet = jolietDescriptor(d, v);
  if (joliet !== undefined) trees.push(treeAt(d, joliet, true));
  return trees;
}

/** Where logical block `block` starts in `d`, or undefined when it does not lie whole in `d`. */
export function blockOffset(d: Uint8Array, v: IsoVolume, block: number): number | undefined {
  const perSector = MIN_SECTOR / v.blockSize;
  if (block > Math.floor((d.length - v.base) / v.sectorSize) * perSector) return undefined;
  const at = v.base + Math.floor(block / perSector) * v.sectorSize + (block % perSector) * v.blockSize;
  return at + v.blockSize <= d.length ? at : undefined;
}

/**
 * The `size` bytes of the extent that starts at `block`, or undefined when one of its blocks does
 * not lie whole in `d` (a truncated image, or a forged extent). Blocks are contiguous, and
 * returned without a copy, unless sectors are larger than 2048 bytes; the caller caps `size`.
 */
export function readExtent(d: Uint8Array, v: IsoVolume, block: number, size: number): Uint8Array | undefined {
  if (size === 0) return new Uint8Array(0);
  const blocks = Math.ceil(size / v.blockSize);
  // Offsets grow with the block number: when the last block reads whole, every block does.
  const first = blockOffset(d, v, block);
  if (first === undefined || blockOffset(d, v, block + blocks - 1) === undefined) return undefined;
  if (v.sectorSize === MIN_SECTOR) return d.subarray(first, first + size);
  const out = new Uint8Array(size);
  for (let i = 0; i < blocks; i++) {
    const at = blockOffset(d, v, block + i) as number;
    const n = Math.min(v.blockSize, size - i * v.blockSize);
    out.set(d.subarray(at, at + n), i * v.blockSize);
  }
  return out;
}
