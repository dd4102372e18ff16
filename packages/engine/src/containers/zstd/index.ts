// Zstandard files (.zst): one member, the decompressed content of all their frames, named after
// the file without `.zst` as gzip's member is. Decoding is frame.ts's; ClamAV 1.4 does not read
// this format, so what is found inside is found by vigil alone.
import { decodedName } from '../read.js';
import type { ContainerHandler } from '../types.js';
import { decodeZstd } from './frame.js';

export { decodeZstd, type ZstdResult } from './frame.js';

export const zstdHandler: ContainerHandler = {
  name: 'Zstandard',
  families: ['archive'],
  types: ['CL_TYPE_ZSTD'],
  *extract(data, ctx) {
    const name = decodedName(ctx.name, /\.(t?zst|zstd)$/i);
    const r = decodeZstd(data, ctx.maxMemberSize);
    if (r.status === 'over-limit') ctx.tooBig(name, undefined);
    if (r.status === 'corrupt') ctx.broken(r.message ?? 'damaged stream');
    if (r.data.length > 0) yield { name, data: r.data };
  },
};
