// SZDD, the format of Microsoft's COMPRESS.EXE (files named `SETUP.EX_`): LZSS over a 4 KiB window
// that starts filled with spaces.
import { u32le } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';

const HEADER = 14;
const WINDOW = 4096;

function* expand(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  const size = u32le(d, 10);
  const original = ctx.name.replace(/_$/, (d[9] ?? 0x5f) >= 0x20 ? String.fromCharCode(d[9] as number) : '_');
  const name = original === ctx.name ? `${ctx.name}.out` : original;
  if (size > ctx.maxMemberSize) {
    ctx.tooBig(name, size);
    return;
  }
  const out = new Uint8Array(size);
  const win = new Uint8Array(WINDOW).fill(0x20);
  let pos = WINDOW - 16;
  let n = 0;
  let i = HEADER;
  while (n < size && i < d.length) {
    const control = d[i++] as number;
    for (let bit = 0; bit < 8 && n < size && i < d.length; bit++) {
      if ((control & (1 << bit)) !== 0) {
        const b = d[i++] as number;
        out[n++] = b;
        win[pos] = b;
        pos = (pos + 1) & (WINDOW - 1);
        continue;
      }
      const lo = d[i++] as number;
      const hi = d[i++] ?? 0;
      let from = lo | ((hi & 0xf0) << 4);
      for (let k = (hi & 0x0f) + 3; k > 0 && n < size; k--) {
        const b = win[from] as number;
        from = (from + 1) & (WINDOW - 1);
        out[n++] = b;
        win[pos] = b;
        pos = (pos + 1) & (WINDOW - 1);
      }
    }
  }
  if (n < size) ctx.broken(`the data ends after ${n} of ${size} bytes`);
  yield { name, data: out.subarray(0, n) };
}

export const szddHandler: ContainerHandler = {
  name: 'SZDD',
  families: ['archive'],
  types: ['CL_TYPE_MSSZDD'],
  extract: expand,
};
