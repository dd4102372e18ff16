// What the RAR 4 and RAR 5 readers agree on: a listed file, and the member it gives. Only stored
// data is handed on; the rest (compressed, encrypted, continued from another volume) is reported.
import { crc32 } from '../read.js';
import type { ExtractContext, Member } from '../types.js';

/** Thrown inside the readers on damaged headers; caught there and reported, never let out. */
export class Damaged extends Error {}

/** One file (or service block) as its header describes it. */
export interface RarEntry {
  readonly name: string;
  /** The compression method as the format numbers it, or undefined when the data is stored. */
  readonly method: string | undefined;
  readonly encrypted: boolean;
  readonly directory: boolean;
  /** The data began in the previous volume. */
  readonly continued: boolean;
  /** The data goes on in the next volume. */
  readonly continues: boolean;
  /** The unpacked size the header claims, when it gives one. */
  readonly size: number | undefined;
  /** Where the data starts in the archive, and how many bytes the header gives it. */
  readonly dataStart: number;
  readonly packed: number;
  /** The CRC-32 of the unpacked data, when the header gives one. */
  readonly crc: number | undefined;
}

/**
 * The member `e` gives, or undefined after reporting why it gives none. A stored member is its
 * data as it is in the archive (its first part when it goes on in another volume, what is left
 * when the archive is cut short); a CRC that does not hold is reported, the data still scanned.
 */
export function memberOf(d: Uint8Array, e: RarEntry, ctx: ExtractContext): Member | undefined {
  if (e.directory) return undefined;
  if (e.encrypted) {
    ctx.encrypted(e.name);
    return undefined;
  }
  if (e.continued) {
    ctx.broken(`${e.name}: continued from the previous volume: not read`);
    return undefined;
  }
  if (e.method !== undefined) {
    ctx.broken(`${e.name}: compressed with RAR's method ${e.method}: not decoded`);
    return undefined;
  }
  if (e.packed > ctx.maxMemberSize || (e.size ?? 0) > ctx.maxMemberSize) {
    ctx.tooBig(e.name, e.size ?? e.packed);
    return undefined;
  }
  const data = d.subarray(Math.min(e.dataStart, d.length), Math.min(e.dataStart + e.packed, d.length));
  if (data.length < e.packed) ctx.broken(`${e.name}: the data ends after ${data.length} of ${e.packed} bytes`);
  else if (e.continues) ctx.broken(`${e.name}: continues in the next volume: only its first part is read`);
  else if (e.crc !== undefined && crc32(data) !== e.crc) ctx.broken(`${e.name}: the data's CRC does not match`);
  return data.length === 0 ? undefined : { name: e.name, data };
}
