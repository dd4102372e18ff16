// XZ files: a stream of blocks, each LZMA2 or the x86 branch filter over LZMA2 (other filter
// chains are reported as unsupported); the decompressed stream is the one member.
import { unBcjX86 } from '../bcj.js';
import { decodedName, hasText, u16be } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';
import { Damaged, LzmaDecoder, lzmaProps } from './lzma.js';

const LZMA2 = 0x21;
const X86 = 0x04;
/** Bytes of the check field for each check type (XZ's table). */
const CHECK_SIZE = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

/** A variable-length integer (7 bits per byte, low first) at `o`: its value and the next offset. */
function varint(d: Uint8Array, o: number): [number, number] {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    const b = d[o + i];
    if (b === undefined) throw new Damaged('a block header ends early');
    v += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return [v, o + i + 1];
  }
  throw new Damaged('a number in a block header is too long');
}

/** Decodes LZMA2 chunks from `o`; returns the offset after the end chunk, or -1 when the limit stopped it. */
export function lzma2(d: Uint8Array, o: number, z: LzmaDecoder): number {
  let first = true;
  for (;;) {
    const c = d[o++];
    if (c === undefined) throw new Damaged('the stream ends early');
    if (c === 0) return o;
    if (c === 1 || c === 2) {
      const size = u16be(d, o) + 1;
      if (c === 1) z.resetDictionary();
      if (o + 2 + size > d.length) throw new Damaged('the stream ends early');
      if (!z.copy(d.subarray(o + 2, o + 2 + size))) return -1;
      o += 2 + size;
      continue;
    }
    if (c < 0x80) throw new Damaged(`bad LZMA2 chunk type ${c}`);
    const unpacked = ((c & 0x1f) << 16) + u16be(d, o) + 1;
    const packed = u16be(d, o + 2) + 1;
    o += 4;
    const mode = (c >>> 5) & 3;
    if (first && mode !== 3) throw new Damaged('the first LZMA2 chunk does not reset the dictionary');
    first = false;
    if (mode === 3) z.resetDictionary();
    if (mode >= 2) {
      const props = lzmaProps(d[o++] ?? 0xff);
      if (props === undefined || props.lc + props.lp > 4) throw new Damaged('bad LZMA2 properties');
      z.reset(props);
    } else if (mode === 1) z.reset();
    if (!z.decode(d, o, Math.min(d.length, o + packed), unpacked)) return -1;
    o += packed;
  }
}

function* stream(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  const name = decodedName(ctx.name, /\.t?xz$/i);
  const check = CHECK_SIZE[(d[7] ?? 0) & 0x0f] ?? 0;
  const z = new LzmaDecoder(ctx.maxMemberSize);
  let o = 12;
  let stopped = false;
  try {
    while (o < d.length && d[o] !== 0) {
      const blockStart = o;
      const headerSize = ((d[o] as number) + 1) * 4;
      const flags = d[o + 1] ?? 0;
      let p = o + 2;
      if ((flags & 0x40) !== 0) p = varint(d, p)[1];
      if ((flags & 0x80) !== 0) p = varint(d, p)[1];
      const filters: number[] = [];
      for (let f = 0; f <= (flags & 3); f++) {
        const [id, afterId] = varint(d, p);
        const [propsSize, afterSize] = varint(d, afterId);
        // A branch filter with a start offset (4 bytes of properties) is not supported.
        filters.push(id === X86 && propsSize !== 0 ? -1 : id);
        p = afterSize + propsSize;
      }
      const chain = filters.join(',');
      if (chain !== `${LZMA2}` && chain !== `${X86},${LZMA2}`) {
        ctx.broken(`filter chain ${filters.map((f) => f.toString(16)).join(' + ')} is not supported`);
        stopped = true;
        break;
      }
      const blockOut = z.n;
      const end = lzma2(d, blockStart + headerSize, z);
      if (end < 0) {
        ctx.tooBig(name, undefined);
        return;
      }
      // Each block starts its filters afresh, and its LZMA2 dictionary too: the branch filter can
      // be undone in place.
      if (filters[0] === X86) unBcjX86(z.out.subarray(blockOut, z.n));
      o = end + ((4 - ((end - blockStart) % 4)) % 4) + check;
    }
    if (!stopped && (o >= d.length || !hasText(d, o, '\0'))) ctx.broken('the stream has no index');
  } catch (e) {
    if (!(e instanceof Damaged)) throw e;
    ctx.broken(e.message);
  }
  if (z.n > 0) yield { name, data: z.out.subarray(0, z.n) };
}

export const xzHandler: ContainerHandler = {
  name: 'XZ',
  families: ['archive'],
  types: ['CL_TYPE_XZ'],
  extract: stream,
};
