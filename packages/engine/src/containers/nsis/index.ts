// NSIS installers: the Nullsoft data after the executable stub (the scanner finds it there and
// hands it on from its first header, as an embedded file). Its
// blocks (the installer script's header, then the files) are members, each LZMA- or
// deflate-compressed on its own, or all in one solid LZMA stream. bzip2 (NSIS's own variant) is
// reported as unsupported.
import { u32le } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';
import { Damaged, LzmaDecoder, lzmaProps } from '../xz/lzma.js';

/** NSIS's first-header signature, 4 bytes into the header (also what the embedded-file search looks for). */
export const NSIS_MAGIC = Uint8Array.from([0xef, 0xbe, 0xad, 0xde, ...new TextEncoder().encode('NullsoftInst')]);
const FIRST_HEADER = 28;
const COMPRESSED = 0x80000000;
const LZMA_PROPS = 0x5d;

/** True when `d` starts with NSIS's first header (its magic 4 bytes in). */
function isFirstHeader(d: Uint8Array): boolean {
  if (d.length < FIRST_HEADER) return false;
  return NSIS_MAGIC.every((b, k) => d[4 + k] === b);
}

/** Decodes an NSIS LZMA stream (5 property bytes, no size) until its end or its input's. */
function lzma(d: Uint8Array, max: number): { data: Uint8Array; over: boolean } {
  const props = lzmaProps(d[0] ?? 0xff);
  const z = new LzmaDecoder(max);
  if (props === undefined) throw new Damaged('bad LZMA properties');
  z.reset(props);
  let over = false;
  try {
    over = !z.decode(d, 5, d.length, undefined);
  } catch (e) {
    // Streams without an end marker stop when their input does: what was decoded stands.
    if (!(e instanceof Damaged) || z.n === 0) throw e;
  }
  return { data: z.out.subarray(0, z.n), over };
}

function* blocks(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  if (!isFirstHeader(d)) return;
  const end = Math.min(d.length, FIRST_HEADER + u32le(d, 24));
  const data = d.subarray(FIRST_HEADER, end);
  const name = (i: number) => (i === 0 ? 'nsis-header' : `nsis-file${i}`);
  try {
    if (data[0] === LZMA_PROPS) {
      // Solid: one stream holding every block, each after its 32-bit length.
      const all = lzma(data, ctx.maxMemberSize);
      if (all.over) ctx.tooBig('nsis-data', undefined);
      for (let o = 0, i = 0; o + 4 <= all.data.length; i++) {
        const len = u32le(all.data, o) & ~COMPRESSED;
        yield { name: name(i), data: all.data.subarray(o + 4, o + 4 + len) };
        o += 4 + len;
      }
      return;
    }
    for (let o = 0, i = 0; o + 4 <= data.length; i++) {
      const word = u32le(data, o);
      const len = word & ~COMPRESSED;
      const block = data.subarray(o + 4, Math.min(data.length, o + 4 + len));
      o += 4 + len;
      if ((word & COMPRESSED) === 0) {
        yield { name: name(i), data: block };
        continue;
      }
      if (block[0] === LZMA_PROPS) {
        const out = lzma(block, ctx.maxMemberSize);
        if (out.over) ctx.tooBig(name(i), undefined);
        else yield { name: name(i), data: out.data };
        continue;
      }
      const out = ctx.env.inflate('raw', block, ctx.maxMemberSize);
      if (out.status === 'over-limit') ctx.tooBig(name(i), undefined);
      else if (out.status === 'corrupt') ctx.broken(`${name(i)}: not LZMA or deflate data (NSIS's bzip2 is not read)`);
      else yield { name: name(i), data: out.data };
    }
  } catch (e) {
    if (!(e instanceof Damaged)) throw e;
    ctx.broken(e.message);
  }
}

export const nsisHandler: ContainerHandler = {
  name: 'NSIS',
  families: ['archive'],
  types: ['CL_TYPE_NULSFT'],
  extract: blocks,
};
