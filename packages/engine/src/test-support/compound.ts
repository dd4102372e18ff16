// A compound file (OLE2, version 3) writer for tests, with storages: streams under 4096 bytes go
// in the mini stream as Office writes them, larger ones in regular sectors. A storage's children
// hang off its child pointer as a chain of right siblings (readers do not check the red-black
// colouring). No DIFAT: enough for files under about 7 MB.
import { concat } from './archives.js';

/** A stream: a name and its bytes. */
export interface CfbStream {
  readonly name: string;
  readonly data: Uint8Array;
}

/** A storage: a name and what it holds. */
export interface CfbStorage {
  readonly name: string;
  readonly children: readonly CfbNode[];
}

export type CfbNode = CfbStream | CfbStorage;

const S = 512;
const MINI = 64;
const CUTOFF = 4096;
const END = 0xfffffffe;
const FREE = 0xffffffff;
const FAT_SECTOR = 0xfffffffd;

interface Entry {
  name: string;
  type: 1 | 2 | 5;
  child: number;
  right: number;
  start: number;
  size: number;
  data?: Uint8Array;
}

/** Entries in directory order: the root, then each storage's children depth first. */
function flatten(children: readonly CfbNode[]): Entry[] {
  const entries: Entry[] = [{ name: 'Root Entry', type: 5, child: FREE, right: FREE, start: END, size: 0 }];
  const add = (parent: Entry, nodes: readonly CfbNode[]) => {
    let previous: Entry | undefined;
    for (const n of nodes) {
      const e: Entry = { name: n.name, type: 'data' in n ? 2 : 1, child: FREE, right: FREE, start: END, size: 0 };
      if ('data' in n) e.data = n.data;
      const index = entries.length;
      entries.push(e);
      if (previous === undefined) parent.child = index;
      else previous.right = index;
      previous = e;
      if (!('data' in n)) add(e, n.children);
    }
  };
  add(entries[0] as Entry, children);
  return entries;
}

/** A version-3 compound file holding `children` under its root. */
export function compoundFile(children: readonly CfbNode[]): Uint8Array {
  const entries = flatten(children);
  // The mini stream: small streams in 64-byte mini sectors, chained in the mini FAT.
  const miniFat: number[] = [];
  const miniParts: Uint8Array[] = [];
  const big: Entry[] = [];
  for (const e of entries) {
    if (e.data === undefined) continue;
    e.size = e.data.length;
    if (e.size >= CUTOFF) {
      big.push(e);
      continue;
    }
    if (e.size === 0) continue;
    const n = Math.ceil(e.size / MINI);
    e.start = miniFat.length;
    for (let k = 0; k < n; k++) miniFat.push(k + 1 < n ? e.start + k + 1 : END);
    const padded = new Uint8Array(n * MINI);
    padded.set(e.data);
    miniParts.push(padded);
  }
  const miniStream = concat(...miniParts);
  const dirSectors = Math.ceil((entries.length * 128) / S);
  const miniFatSectors = Math.ceil((miniFat.length * 4) / S);
  const miniStreamSectors = Math.ceil(miniStream.length / S);
  const bigSectors = big.map((e) => Math.ceil(e.size / S));
  const dataSectors = dirSectors + miniFatSectors + miniStreamSectors + bigSectors.reduce((a, b) => a + b, 0);
  let fatSectors = 1;
  while (fatSectors * (S / 4) < fatSectors + dataSectors) fatSectors++;
  if (fatSectors > 109) throw new Error('compoundFile: too big for a header-only DIFAT');
  const fat: number[] = Array(fatSectors).fill(FAT_SECTOR);
  const run = (count: number): number => {
    if (count === 0) return END;
    const first = fat.length;
    for (let k = 0; k < count; k++) fat.push(k + 1 < count ? first + k + 1 : END);
    return first;
  };
  const dirStart = run(dirSectors);
  const miniFatStart = run(miniFatSectors);
  const root = entries[0] as Entry;
  root.start = run(miniStreamSectors);
  root.size = miniStream.length;
  big.forEach((e, i) => {
    e.start = run(bigSectors[i] as number);
  });
  const out = new Uint8Array(S * (1 + fat.length));
  const dv = new DataView(out.buffer);
  writeHeader(dv, { fatSectors, dirStart, miniFatStart, miniFatSectors });
  const fatBytes = new Uint8Array(fatSectors * S).fill(0xff);
  const fatView = new DataView(fatBytes.buffer);
  for (const [i, v] of fat.entries()) fatView.setUint32(i * 4, v, true);
  out.set(fatBytes, S);
  const at = (sector: number) => S * (1 + sector);
  for (const [i, e] of entries.entries()) writeEntry(dv, at(dirStart) + i * 128, e);
  const miniFatBytes = new Uint8Array(miniFatSectors * S).fill(0xff);
  const miniFatView = new DataView(miniFatBytes.buffer);
  for (const [i, v] of miniFat.entries()) miniFatView.setUint32(i * 4, v, true);
  if (miniFatSectors > 0) out.set(miniFatBytes, at(miniFatStart));
  if (miniStreamSectors > 0) out.set(miniStream, at(root.start));
  for (const e of big) out.set(e.data as Uint8Array, at(e.start));
  return out;
}

function writeHeader(
  dv: DataView,
  h: { fatSectors: number; dirStart: number; miniFatStart: number; miniFatSectors: number },
): void {
  for (const [i, b] of [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1].entries()) dv.setUint8(i, b);
  dv.setUint16(0x18, 0x3e, true);
  dv.setUint16(0x1a, 3, true);
  dv.setUint16(0x1c, 0xfffe, true);
  dv.setUint16(0x1e, 9, true);
  dv.setUint16(0x20, 6, true);
  dv.setUint32(0x2c, h.fatSectors, true);
  dv.setUint32(0x30, h.dirStart, true);
  dv.setUint32(0x38, CUTOFF, true);
  dv.setUint32(0x3c, h.miniFatSectors > 0 ? h.miniFatStart : END, true);
  dv.setUint32(0x40, h.miniFatSectors, true);
  dv.setUint32(0x44, END, true);
  for (let i = 0; i < 109; i++) dv.setUint32(0x4c + i * 4, i < h.fatSectors ? i : FREE, true);
}

function writeEntry(dv: DataView, o: number, e: Entry): void {
  const name = e.name.slice(0, 31);
  for (let i = 0; i < name.length; i++) dv.setUint16(o + i * 2, name.charCodeAt(i), true);
  dv.setUint16(o + 64, (name.length + 1) * 2, true);
  dv.setUint8(o + 66, e.type);
  dv.setUint8(o + 67, 1); // black
  dv.setUint32(o + 68, FREE, true);
  dv.setUint32(o + 72, e.right, true);
  dv.setUint32(o + 76, e.child, true);
  dv.setUint32(o + 116, e.start, true);
  dv.setUint32(o + 120, e.size, true);
}
