// What HTML carries inside itself: data: URIs (RFC 2397) in attributes and style sheets, decoded
// from base64 or percent-encoding and scanned as members.
import { latin1 } from '../read.js';
import { decodeBase64, decodePercent } from '../textcodecs.js';
import type { ContainerHandler, Member } from '../types.js';

/** `data:` then an optional media type and parameters, `,`, then the payload up to a delimiter. */
const DATA_URI = /data:([\w.+-]+\/[\w.+-]+)?((?:;[\w.+-]+=[^;,"'\s>]*)*)(;base64)?,([^"'\s<>)]*)/gi;

/** True when `data:`, in any case, occurs in `d`. */
function hasDataScheme(d: Uint8Array): boolean {
  for (let i = d.indexOf(0x3a); i >= 0; i = d.indexOf(0x3a, i + 1)) {
    if (i >= 4 && ((d[i - 1] as number) | 0x20) === 0x61 && ((d[i - 2] as number) | 0x20) === 0x74) {
      if (((d[i - 3] as number) | 0x20) === 0x61 && ((d[i - 4] as number) | 0x20) === 0x64) return true;
    }
  }
  return false;
}

export const htmlHandler: ContainerHandler = {
  name: 'HTML',
  // ClamAV decodes data: URIs with its mail decoder: --scan-mail=no turns them off too.
  families: ['html', 'mail'],
  types: ['CL_TYPE_HTML'],
  *extract(data, ctx): Generator<Member> {
    // Most pages have no data: URI; they are not turned into a string at all.
    if (!hasDataScheme(data)) return;
    let n = 0;
    for (const m of latin1(data).matchAll(DATA_URI)) {
      const payload = m[4] ?? '';
      if (payload === '') continue;
      const name = `data-uri-${++n}`;
      const base64 = m[3] !== undefined;
      // Decoding only shrinks the payload, so its length bounds the member before any decoding.
      const bound = base64 ? Math.floor((payload.length * 3) / 4) : payload.length;
      if (bound > ctx.maxMemberSize) {
        ctx.tooBig(name, undefined);
        continue;
      }
      yield { name, data: base64 ? decodeBase64(payload) : decodePercent(payload) };
    }
  },
};
