// RAR archives (CL_TYPE_RAR; an SFX's archive reaches here as a slice that starts at its marker):
// RAR 1.5-4.x and RAR 5 are listed and their stored members yielded under their names. Compressed
// members are reported, not decoded: RAR's LZ, PPMd and filter machine are not written here, and
// ClamAV itself reads RAR only through the separate libclamunrar (which Debian's clamav lacks).
// Encrypted members and headers are reported; in a multi-volume set, a member's part in this
// volume is read and its continuation reported.
import { hasText } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';
import { memberOf, type RarEntry } from './entry.js';
import { rar4Entries } from './rar4.js';
import { rar5Entries } from './rar5.js';

/** The entries of the archive at `d[0]`, by the version its signature names. */
function entries(d: Uint8Array, ctx: ExtractContext): Iterable<RarEntry> {
  if (hasText(d, 0, 'Rar!\x1a\x07\x00')) return rar4Entries(d, ctx);
  if (hasText(d, 0, 'Rar!\x1a\x07\x01\x00')) return rar5Entries(d, ctx);
  ctx.broken('not a RAR 1.5-4.x or RAR 5 signature');
  return [];
}

function* members(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  for (const e of entries(d, ctx)) {
    const m = memberOf(d, e, ctx);
    if (m !== undefined) yield m;
  }
}

export const rarHandler: ContainerHandler = {
  name: 'RAR',
  families: ['archive'],
  types: ['CL_TYPE_RAR'],
  extract: members,
};
