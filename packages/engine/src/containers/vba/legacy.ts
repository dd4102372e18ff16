// ClamAV's older way to a VBA project's modules (its cli_vba_readdir): a heuristic walk through
// the `_VBA_PROJECT` stream of VBA 5/6 (after the 0x61CC magic: the reference strings "*\G...",
// in either byte order, some padding, then a record per module with its name and the offset of its
// source in its stream). ClamAV scans each module's source found this way raw, as OLE2 data.
// Any step that fails drops the whole list, as in ClamAV. The walk is ClamAV's, not the format's:
// MS-OVBA leaves this stream's contents undocumented past its first 7 bytes.

import { MAX_LEGACY_MODULES } from './limits.js';
import { legacyModuleKey } from './names.js';

/** A module listed in `_VBA_PROJECT`: its stream's name (ClamAV's key) and its source's offset. */
export interface LegacyModule {
  readonly key: string;
  readonly offset: number;
}

/** The modules listed in a `_VBA_PROJECT` stream, or why ClamAV finds none. */
export type LegacyProject =
  | { readonly status: 'ok'; readonly modules: readonly LegacyModule[] }
  | { readonly status: 'none'; readonly why: string };

const HEADER = 34;
const MIDDLES = [
  [
    0x00, 0x01, 0x0d, 0x45, 0x2e, 0xe1, 0xe0, 0x8f, 0x10, 0x1a, 0x85, 0x2e, 0x02, 0x60, 0x8c, 0x4d, 0x0b, 0xb4, 0x00,
    0x00,
  ],
  [
    0x00, 0x00, 0xe1, 0x2e, 0x45, 0x0d, 0x8f, 0xe0, 0x1a, 0x10, 0x85, 0x2e, 0x02, 0x60, 0x8c, 0x4d, 0x0b, 0xb4, 0x00,
    0x00,
  ],
];

/** A read position that may pass the end, as a file offset may; reads past the end fail. */
class Pos {
  p: number;
  constructor(
    readonly d: Uint8Array,
    p: number,
    public bigEndian = false,
  ) {
    this.p = p;
  }
  u16(): number | undefined {
    if (this.p + 2 > this.d.length) return undefined;
    const [a, b] = [this.d[this.p] as number, this.d[this.p + 1] as number];
    this.p += 2;
    return this.bigEndian ? (a << 8) | b : a | (b << 8);
  }
  u32(): number | undefined {
    const first = this.u16();
    const second = first === undefined ? undefined : this.u16();
    if (first === undefined || second === undefined) return undefined;
    return (this.bigEndian ? first * 0x10000 + second : second * 0x10000 + first) >>> 0;
  }
}

const isReference = (name: string | undefined) =>
  name?.startsWith('*\\') === true && (name.length === 2 || 'ghcd'.includes(name[2] as string));

/** ClamAV's count of the reference strings from `start` in one byte order, and where it stopped. */
function referenceStrings(d: Uint8Array, start: number, bigEndian: boolean): { count: number; end: number } {
  const r = new Pos(d, start, bigEndian);
  let count = 0;
  let length: number | undefined = 0;
  let fresh = true;
  for (;;) {
    if (fresh) {
      length = r.u16();
      if (length === undefined) return { count: 0, end: r.p };
    }
    fresh = false;
    if ((length as number) < 6) {
      r.p -= 2;
      break;
    }
    const n = length as number;
    if (r.p + n > d.length) break;
    const name = legacyModuleKey(d.subarray(r.p, r.p + n), bigEndian);
    r.p += n;
    if (!isReference(name)) {
      r.p -= n + 2;
      break;
    }
    length = r.u16();
    if (length === undefined) break;
    count++;
    if (length !== 0 && length !== 0xffff) continue;
    r.p += 10;
    skipMiddle(r);
    fresh = true;
  }
  return { count, end: r.p };
}

/** Steps over the 20 bytes that sit between reference strings, if they are there. */
function skipMiddle(r: Pos): void {
  if (r.p + 20 > r.d.length) {
    r.p = Math.max(r.p, r.d.length); // a short read leaves the position at the end
    return;
  }
  const at = r.p;
  if (MIDDLES.some((m) => m.every((v, i) => r.d[at + i] === v))) r.p += 20;
}

/** From the reference strings to the module count: ClamAV's skips over what it does not read. */
function skipToModules(r: Pos): number | undefined {
  let word: number | undefined;
  do {
    if (r.p + 2 > r.d.length) return undefined;
    word = (r.d[r.p] as number) | ((r.d[r.p + 1] as number) << 8);
    r.p += 2;
  } while (word !== 0xffff);
  const q = r.p - 3; // re-read the two bytes before the last one, for an odd alignment
  r.p = q + 2;
  if (!(r.d[q] === 0xff && r.d[q + 1] === 0xff)) r.p += 1;
  const skip = r.u16();
  if (skip === undefined) return undefined;
  if (skip !== 0xffff) r.p += skip;
  const more = r.u16();
  if (more === undefined) return undefined;
  r.p += (more === 0xffff ? 0 : more) + 100;
  return r.u16();
}

/** One module's entry: its name's key and its source offset, or undefined where ClamAV stops. */
function moduleEntry(r: Pos, exists: (key: string) => boolean): LegacyModule | undefined {
  const length = r.u16();
  if (length === undefined || length === 0 || r.p + length > r.d.length) return undefined;
  const key = legacyModuleKey(r.d.subarray(r.p, r.p + length), r.bigEndian);
  r.p += length;
  if (key === undefined || !exists(key)) return undefined;
  const skip = r.u16();
  if (skip === undefined) return undefined;
  r.p += skip;
  let ffff = r.u16();
  if (ffff === undefined) return undefined;
  if (ffff === 0xffff) {
    r.p += 2;
    ffff = r.u16();
    if (ffff === undefined) return undefined;
    r.p += ffff + 8;
  } else r.p += ffff + 10;
  const byteCount = r.u16();
  if (byteCount === undefined) return undefined;
  r.p += 8 * byteCount + 5;
  const offset = r.u32();
  if (offset === undefined) return undefined;
  r.p += 2;
  return { key, offset };
}

/**
 * The modules ClamAV finds through the `_VBA_PROJECT` stream `d`; `exists` says whether a stream
 * of that key is anywhere in the file (ClamAV stops at a module it cannot find).
 */
export function legacyModules(d: Uint8Array, exists: (key: string) => boolean): LegacyProject {
  if (d.length < HEADER) return { status: 'none', why: 'the stream is shorter than its header' };
  if (d[0] !== 0xcc || d[1] !== 0x61) return { status: 'none', why: 'no VBA 5/6 magic' };
  const be = referenceStrings(d, HEADER, true);
  const le = referenceStrings(d, HEADER, false);
  if (be.count === 0 && le.count === 0) return { status: 'none', why: 'no reference strings' };
  const bigEndian = be.count > le.count;
  const r = new Pos(d, bigEndian ? be.end : le.end, bigEndian);
  const count = skipToModules(r);
  if (count === undefined) return { status: 'none', why: 'the stream ends before its module list' };
  if (count === 0 || count > MAX_LEGACY_MODULES) return { status: 'none', why: `it lists ${count} modules` };
  const modules: LegacyModule[] = [];
  for (let i = 0; i < count; i++) {
    const m = moduleEntry(r, exists);
    if (m === undefined) return { status: 'none', why: `module ${i + 1} of ${count} cannot be read or found` };
    modules.push(m);
  }
  return { status: 'ok', modules };
}
