// GZIP files: one member, the decompressed stream (concatenated members joined, as gunzip does),
// named by the header's FNAME field, else after the file without `.gz`.
import { cString, decodedName } from '../read.js';
import type { ContainerHandler } from '../types.js';

const FEXTRA = 4;
const FNAME = 8;

/** The original name stored in a gzip header, if any. */
function storedName(d: Uint8Array): string | undefined {
  if (((d[3] ?? 0) & FNAME) === 0) return undefined;
  let o = 10;
  if (((d[3] ?? 0) & FEXTRA) !== 0) o += 2 + ((d[10] ?? 0) | ((d[11] ?? 0) << 8));
  const name = cString(d, o, o + 1024);
  return name === '' ? undefined : name;
}

export const gzipHandler: ContainerHandler = {
  name: 'GZip',
  families: ['archive'],
  types: ['CL_TYPE_GZ'],
  *extract(data, ctx) {
    const out = ctx.env.inflate('gzip', data, ctx.maxMemberSize);
    const name = storedName(data) ?? decodedName(ctx.name, /\.(t?gz|z)$/i);
    if (out.status === 'over-limit') ctx.tooBig(name, undefined);
    if (out.status === 'corrupt') ctx.broken(out.message ?? 'damaged stream');
    if (out.data.length > 0) yield { name, data: out.data };
  },
};
