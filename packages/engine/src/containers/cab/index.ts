// Microsoft Cabinet files: a header, folders (runs of data blocks under one compression method)
// and files that are slices of their folder's decoded stream. This file reads the header and the
// file table; decoding folders (stored, MSZIP, LZX) is folders.ts's.
import { cString, u16le, u32le } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';
import { type Folder, type FolderReader, openFolder } from './folders.js';

const RESERVE_PRESENT = 4;
const PREV_CABINET = 1;
const NEXT_CABINET = 2;

interface FileEntry {
  readonly name: string;
  readonly size: number;
  readonly offset: number;
  readonly folder: number;
}

/** Skips a NUL-terminated string at `o`; returns the offset after it. */
const skipString = (d: Uint8Array, o: number) => {
  const nul = d.indexOf(0, o);
  return nul < 0 ? d.length : nul + 1;
};

/** The folder table and the data blocks' reserved size. */
function readFolders(d: Uint8Array): { folders: Folder[]; dataReserve: number } {
  const folderCount = u16le(d, 26);
  const flags = u16le(d, 30);
  let o = 36;
  let folderReserve = 0;
  let dataReserve = 0;
  if ((flags & RESERVE_PRESENT) !== 0) {
    folderReserve = d[o + 2] ?? 0;
    dataReserve = d[o + 3] ?? 0;
    o += 4 + u16le(d, o);
  }
  if ((flags & PREV_CABINET) !== 0) o = skipString(d, skipString(d, o));
  if ((flags & NEXT_CABINET) !== 0) o = skipString(d, skipString(d, o));
  const folders: Folder[] = [];
  for (let i = 0; i < folderCount && o + 8 <= d.length; i++, o += 8 + folderReserve) {
    folders.push({ dataOffset: u32le(d, o), blocks: u16le(d, o + 4), method: u16le(d, o + 6) });
  }
  return { folders, dataReserve };
}

function readFiles(d: Uint8Array, ctx: ExtractContext): FileEntry[] {
  const fileCount = u16le(d, 28);
  const entries: FileEntry[] = [];
  let o = u32le(d, 16);
  for (let i = 0; i < fileCount && o + 16 <= d.length; i++) {
    const end = skipString(d, o + 16);
    entries.push({
      size: u32le(d, o),
      offset: u32le(d, o + 4),
      folder: u16le(d, o + 8),
      name: cString(d, o + 16, end),
    });
    o = end;
  }
  if (entries.length < fileCount) ctx.broken(`the file table lists ${entries.length} of ${fileCount} files`);
  return entries;
}

function* files(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  const { folders, dataReserve } = readFolders(d);
  const work = { done: 0 };
  // Open each folder when its first file is reached, and keep only the current one.
  let current: { index: number; reader: FolderReader | undefined } | undefined;
  for (const e of readFiles(d, ctx)) {
    const folder = folders[e.folder];
    if (folder === undefined) {
      ctx.broken(`${e.name} names folder ${e.folder}, which does not exist`);
      continue;
    }
    if (e.size > ctx.maxMemberSize) {
      ctx.tooBig(e.name, e.size);
      continue;
    }
    if (current?.index !== e.folder) {
      current = { index: e.folder, reader: openFolder(d, folder, { dataReserve, work }, ctx) };
    }
    if (current.reader === undefined) continue;
    const r = current.reader.read(e.offset, e.size);
    if (r === 'over-limit') {
      ctx.tooBig(e.name, undefined);
      continue;
    }
    if (r.error !== undefined) ctx.broken(`${e.name}: ${r.error}`);
    yield { name: e.name, data: r.data };
  }
}

export const cabHandler: ContainerHandler = {
  name: 'CAB',
  families: ['archive'],
  types: ['CL_TYPE_MSCAB'],
  extract: files,
};
