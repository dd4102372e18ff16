// BZIP2 files: one member, the decompressed stream, named after the file without `.bz2`.
import { decodedName } from '../read.js';
import type { ContainerHandler } from '../types.js';
import { bunzip2 } from './decode.js';

export const bzip2Handler: ContainerHandler = {
  name: 'BZip2',
  families: ['archive'],
  types: ['CL_TYPE_BZ'],
  *extract(data, ctx) {
    const out = bunzip2(data, ctx.maxMemberSize);
    const name = decodedName(ctx.name, /\.t?bz2?$/i);
    if (out.status === 'over-limit') ctx.tooBig(name, undefined);
    if (out.status === 'corrupt') ctx.broken(out.message ?? 'damaged stream');
    if (out.data.length > 0) yield { name, data: out.data };
  },
};
