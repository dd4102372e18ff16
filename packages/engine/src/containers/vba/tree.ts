// The streams of a compound file's directory as ClamAV's walk of its red-black tree reaches them:
// from the root entry down each storage's child, then across left and right siblings (a stack),
// knowing which storage holds each stream. ClamAV stops the whole walk at the first entry it
// reaches twice; so does this, and says so. The raw directory bytes come from the OLE2 handler.

import { MAX_TREE_DEPTH, MAX_TREE_NESTING } from './limits.js';
import { streamKey } from './names.js';

/** One stream the walk reaches. */
export interface StreamNode {
  /** Its directory entry's index. */
  readonly index: number;
  /** The index of the storage holding it (0, the root entry, at the top). */
  readonly parent: number;
  /** Its name as ClamAV keys it; undefined when ClamAV has none for it. */
  readonly key: string | undefined;
  /** False for names longer than 32 characters, which ClamAV does not extract to disk. */
  readonly extracted: boolean;
}

/** The walk's result: the streams in the order reached, and the entry that looped, if one did. */
export interface Tree {
  readonly streams: readonly StreamNode[];
  readonly loopAt?: number;
}

const ENTRY = 128;
const NONE = 0xffffffff;
const STORAGE = 1;
const STREAM = 2;
const ROOT = 5;

const u32 = (d: Uint8Array, o: number) =>
  ((d[o] ?? 0) | ((d[o + 1] ?? 0) << 8) | ((d[o + 2] ?? 0) << 16) | ((d[o + 3] ?? 0) << 24)) >>> 0;

/** Walks the directory `dir` (its 128-byte entries) as ClamAV does. */
export function walkTree(dir: Uint8Array): Tree {
  const entries = Math.floor(dir.length / ENTRY);
  const seen = new Set<number>();
  const streams: StreamNode[] = [];
  let loopAt: number | undefined;

  let nesting = 0;
  const level = (start: number, parent: number, depth: number): void => {
    if (depth > MAX_TREE_DEPTH || nesting >= MAX_TREE_NESTING) return;
    nesting++;
    try {
      walkLevel(start, parent, depth);
    } finally {
      nesting--;
    }
  };
  const walkLevel = (start: number, parent: number, depth: number): void => {
    const stack = [start];
    while (stack.length > 0 && loopAt === undefined) {
      const index = stack.pop() as number;
      if (index >= entries) continue;
      const o = index * ENTRY;
      const type = dir[o + 66] as number;
      if (type === 0) continue;
      if (seen.has(index)) {
        loopAt = index;
        return;
      }
      seen.add(index);
      const child = u32(dir, o + 76);
      if (type === ROOT) {
        // Only entry 0, first of all, may be the root; a root found elsewhere is passed over.
        if (index !== 0 || depth !== 0 || streams.length > 0) continue;
        if (child !== NONE) level(child, 0, depth + 1);
      } else if (type === STREAM) {
        const nameSize = dir[o + 64] ?? 0;
        const size = nameSize | ((dir[o + 65] ?? 0) << 8);
        streams.push({ index, parent, key: streamKey(dir.subarray(o, o + ENTRY), size), extracted: size <= 64 });
        if (child !== NONE) level(child, parent, depth);
      } else if (type === STORAGE) {
        if (child !== NONE) level(child, index, depth + 1);
      } else continue;
      if (loopAt !== undefined) return;
      for (const sibling of [u32(dir, o + 68), u32(dir, o + 72)]) if (sibling !== NONE) stack.push(sibling);
    }
  };
  level(0, 0, 0);
  return loopAt === undefined ? { streams } : { streams, loopAt };
}
