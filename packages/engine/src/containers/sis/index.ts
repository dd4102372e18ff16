// Symbian installation files (SIS, EPOC releases 3 to 6): the file records' data, each stored or
// zlib-compressed, are the members, named by their destination path. Records other than files
// (options, conditions) end the walk, reported.
import { u16le, u32le } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';

const UID_RELEASE_6 = 0x10003a12;
const NO_COMPRESS = 0x0008;
const SIMPLE_FILE = 0;
const MULTI_LANGUAGE_FILE = 1;

/** A UTF-16LE string of `len` bytes at `ptr`. */
function utf16(d: Uint8Array, ptr: number, len: number): string {
  let s = '';
  for (let i = 0; i + 1 < len && ptr + i + 1 < d.length; i += 2) s += String.fromCharCode(u16le(d, ptr + i));
  return s;
}

function* files(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  const release6 = u32le(d, 4) === UID_RELEASE_6;
  const languages = Math.max(1, u16le(d, 0x12));
  const count = u16le(d, 0x14);
  const compressed = (u16le(d, 0x24) & NO_COMPRESS) === 0;
  let o = u32le(d, 0x34);
  for (let i = 0; i < count; i++) {
    const type = u32le(d, o);
    if (type !== SIMPLE_FILE && type !== MULTI_LANGUAGE_FILE) {
      ctx.broken(`record type ${type} is not read; the files after it are not extracted`);
      return;
    }
    const copies = type === SIMPLE_FILE ? 1 : languages;
    const destination = utf16(d, u32le(d, o + 24), u32le(d, o + 20)) || `file${i}`;
    const name = destination.replace(/^[!A-Za-z]:\\/, '').replace(/\\/g, '/');
    const lengths = o + 28;
    const pointers = lengths + 4 * copies;
    const originals = pointers + 4 * copies;
    for (let k = 0; k < copies; k++) {
      const length = u32le(d, lengths + 4 * k);
      const ptr = u32le(d, pointers + 4 * k);
      const original = release6 ? u32le(d, originals + 4 * k) : undefined;
      const member = copies > 1 ? `${name}.${k}` : name;
      if ((original ?? length) > ctx.maxMemberSize) {
        ctx.tooBig(member, original ?? length);
        continue;
      }
      const raw = d.subarray(ptr, Math.min(d.length, ptr + length));
      if (raw.length < length) ctx.broken(`${member} is cut short (${raw.length} of ${length} bytes)`);
      if (!compressed) {
        yield { name: member, data: raw };
        continue;
      }
      const out = ctx.env.inflate('zlib', raw, ctx.maxMemberSize);
      if (out.status === 'over-limit') ctx.tooBig(member, original);
      else if (out.status === 'corrupt') ctx.broken(`${member}: ${out.message ?? 'damaged data'}`);
      if (out.data.length > 0) yield { name: member, data: out.data };
    }
    // The record: type, file type, details, two names (length, pointer), the per-language lengths
    // and pointers, then in release 6 the original lengths and a MIME type (length, pointer).
    o = originals + (release6 ? 4 * copies + 8 : 0);
  }
}

export const sisHandler: ContainerHandler = {
  name: 'SIS',
  families: ['archive'],
  types: ['CL_TYPE_SIS'],
  extract: files,
};
