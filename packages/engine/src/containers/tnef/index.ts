// TNEF (winmail.dat): Outlook's attribute stream. Each attachment's data (attAttachData) is a
// member, named by the attachment title (attAttachTitle) that precedes it.
import { cString, u16le, u32le } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';

const ATTACH_TITLE = 0x8010;
const ATTACH_DATA = 0x800f;
/** Signature (4), legacy key (2). */
const HEADER = 6;
/** Level (1), id and type (4), length (4); a checksum (2) follows the data. */
const ATTRIBUTE = 9;

function* attachments(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  let o = HEADER;
  let title: string | undefined;
  let n = 0;
  while (o + ATTRIBUTE <= d.length) {
    const id = u16le(d, o + 1);
    const len = u32le(d, o + 5);
    const start = o + ATTRIBUTE;
    const data = d.subarray(start, Math.min(d.length, start + len));
    o = start + len + 2;
    if (id === ATTACH_TITLE) title = cString(data, 0, data.length);
    if (id !== ATTACH_DATA) continue;
    const name = title ?? `attachment${++n}`;
    title = undefined;
    if (data.length < len) ctx.broken(`${name} is cut short (${data.length} of ${len} bytes)`);
    if (len > ctx.maxMemberSize) {
      ctx.tooBig(name, len);
      continue;
    }
    yield { name, data };
  }
}

export const tnefHandler: ContainerHandler = {
  name: 'TNEF',
  families: ['mail'],
  types: ['CL_TYPE_TNEF'],
  extract: attachments,
};
