// ISO 9660 images (CD and DVD images), read as ClamAV reads them: the primary directory tree, then
// the Joliet tree when the image has one (so most files are found twice, as ClamAV scans them
// twice); each file is a member named by its path. Rock Ridge, El Torito and UDF are not read (nor
// by ClamAV). A file's extents are each a member of their own, as ClamAV does not join the parts
// of a multi-extent file; interleaved files are skipped. A file whose extent passes the end of the
// image ends the tree it is in, as it ends ClamAV's. Recognising the image (its descriptor lies
// 32 KiB in) is scan/embedded.ts's work; geometry and extents are volume.ts's; caps are limits.ts's.
import { latin1, u32le } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';
import { JOLIET_NAME_BYTES, MAX_DEPTH, MAX_DIR_BLOCKS, MAX_DIR_STEPS, MAX_RECORDS } from './limits.js';
import { blockOffset, type IsoTree, type IsoVolume, isoImage, isoTrees, readExtent } from './volume.js';

/** A directory record's fixed part; its name follows. */
const RECORD_HEAD = 33;
const MIN_RECORD = RECORD_HEAD + 1;
const DIRECTORY = 0x02;

/** How a walk ends: go on with the next record, leave this tree, or leave the image. */
type Outcome = 'go-on' | 'end-tree' | 'end-image';

/** One tree's walk. */
interface Walk {
  readonly d: Uint8Array;
  readonly v: IsoVolume;
  readonly ctx: ExtractContext;
  readonly tree: IsoTree;
  /** Directory blocks read so far; one met again is not read again (loops end there). */
  readonly seen: Set<number>;
  records: number;
  steps: number;
  loopReported: boolean;
}

const utf16 = new TextDecoder('utf-16be');

/** A record's name: bytes, or UTF-16 in a Joliet tree, cut at the version suffix (`;1`). */
function recordName(w: Walk, at: number, len: number): string {
  const name = w.tree.joliet
    ? utf16.decode(w.d.subarray(at, at + Math.min(len, JOLIET_NAME_BYTES)))
    : latin1(w.d, at, at + len);
  const end = name.search(/[;\0]/);
  return end < 0 ? name : name.slice(0, end);
}

/** A file's extent as a member, unless it is too big or passes the end of the image. */
function* fileExtent(w: Walk, path: string, block: number, size: number): Generator<Member, Outcome> {
  if (size > w.ctx.maxMemberSize) {
    w.ctx.tooBig(path, size);
    return 'go-on';
  }
  const data = readExtent(w.d, w.v, block, size);
  if (data === undefined) {
    w.ctx.broken(
      `${path}: its ${size} bytes at block ${block} pass the end of the image; the rest of the tree is not read`,
    );
    return 'end-tree';
  }
  yield { name: path, data };
  return 'go-on';
}

/** The records of one directory block (`size` bytes of it in use), files and subdirectories. */
function* blockRecords(
  w: Walk,
  at: number,
  size: number,
  dir: string,
  depth: number,
): Generator<Member, Outcome | 'end-dir'> {
  const { d } = w;
  for (let pos = at, left = size; left > 0; ) {
    const len = d[pos] as number;
    if (len === 0) break; // the rest of the block is padding
    if (len > left) return 'end-dir'; // a record that crosses into the next block ends the directory
    pos += len;
    left -= len;
    const rec = pos - len;
    if (len < MIN_RECORD) continue;
    if (++w.records > MAX_RECORDS) {
      w.ctx.broken(`more than ${MAX_RECORDS} directory records; the rest of the image is not read`);
      return 'end-image';
    }
    let nameLen = d[rec + 32] as number;
    if (nameLen === 1 && (d[rec + RECORD_HEAD] as number) <= 1) continue; // `.` and `..`
    // A name longer than what is left of the block is cut there (it may run over the next records).
    nameLen = Math.min(nameLen, left + len - RECORD_HEAD);
    const path = dir + recordName(w, rec + RECORD_HEAD, nameLen);
    const block = ((d[rec + 1] as number) + u32le(d, rec + 2)) >>> 0;
    const bytes = u32le(d, rec + 10);
    if (d[rec + 26] !== 0 || d[rec + 27] !== 0) {
      w.ctx.broken(`${path}: interleaved, not read`);
      continue;
    }
    const outcome =
      ((d[rec + 25] as number) & DIRECTORY) !== 0
        ? yield* directory(w, block, bytes, `${path}/`, depth + 1)
        : yield* fileExtent(w, path, block, bytes);
    if (outcome !== 'go-on') return outcome;
  }
  return 'go-on';
}

/** Why the walk must leave the image now, if one of the caps is reached. */
function overCap(w: Walk, depth: number): string | undefined {
  if (w.seen.size > MAX_DIR_BLOCKS) return `more than ${MAX_DIR_BLOCKS} directory blocks`;
  if (++w.steps > MAX_DIR_STEPS) return `more than ${MAX_DIR_STEPS} directory block steps`;
  if (depth > MAX_DEPTH) return `directories nested deeper than ${MAX_DEPTH}`;
  return undefined;
}

/** Walks the directory of `size` bytes from `block`: its blocks in turn, each read once per tree. */
function* directory(w: Walk, first: number, size: number, dir: string, depth: number): Generator<Member, Outcome> {
  if (size < MIN_RECORD) return 'go-on';
  const bs = w.v.blockSize;
  for (let block = first, left = size; left > 0; block = (block + 1) >>> 0, left -= Math.min(left, bs)) {
    const cap = overCap(w, depth);
    if (cap !== undefined) {
      w.ctx.broken(`${cap}; the rest of the image is not read`);
      return 'end-image';
    }
    if (w.seen.has(block)) {
      if (!w.loopReported)
        w.ctx.broken(`${dir || '/'}: directory block ${block} is met again (a loop); not read twice`);
      w.loopReported = true;
      continue;
    }
    w.seen.add(block);
    const at = blockOffset(w.d, w.v, block);
    if (at === undefined) {
      w.ctx.broken(`${dir || '/'}: directory block ${block} lies past the end of the image`);
      return 'go-on';
    }
    const outcome = yield* blockRecords(w, at, Math.min(bs, left), dir, depth);
    if (outcome === 'end-dir') return 'go-on';
    if (outcome !== 'go-on') return outcome;
  }
  return 'go-on';
}

/** Yields the files of an image that starts at offset 0 of `d`, tree by tree. */
function* extractIso(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  const image = isoImage(d);
  if (image === undefined) {
    ctx.broken('no ISO 9660 primary volume descriptor 16 sectors in');
    return;
  }
  for (const tree of isoTrees(d, image.volume, image.pvd)) {
    if (tree.interleaved) {
      ctx.broken('the root directory is interleaved, not read');
      return;
    }
    const w: Walk = { d, v: image.volume, ctx, tree, seen: new Set(), records: 0, steps: 0, loopReported: false };
    if ((yield* directory(w, tree.rootBlock, tree.rootSize, '', 0)) === 'end-image') return;
  }
}

/** ISO 9660 images: their files (primary tree, then Joliet tree) as members named by their paths. */
export const iso9660Handler: ContainerHandler = {
  name: 'ISO9660',
  families: ['archive'],
  types: ['CL_TYPE_ISO9660'],
  extract: extractIso,
};
