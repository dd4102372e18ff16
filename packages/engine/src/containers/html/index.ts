// What HTML carries inside itself: data: URIs (RFC 2397) in attributes and style sheets, decoded
// from base64 or percent-encoding and scanned as members.
import { latin1 } from '../read.js';
import { decodeBase64, decodePercent } from '../textcodecs.js';
import type { ContainerHandler, Member } from '../types.js';

/** `data:` then an optional media type and parameters, `,`, then the payload up to a delimiter. */
const DATA_URI = /data:([\w.+-]+\/[\w.+-]+)?((?:;[\w.+-]+=[^;,"'\s>]*)*)(;base64)?,([^"'\s<>)]*)/iy;

/** Where `data:`, in any case, occurs in `d`, from `from` on. */
function* dataSchemes(d: Uint8Array, from = 0): Generator<number> {
  for (let i = d.indexOf(0x3a, from + 4); i >= 0; i = d.indexOf(0x3a, i + 1)) {
    if (((d[i - 1] as number) | 0x20) === 0x61 && ((d[i - 2] as number) | 0x20) === 0x74) {
      if (((d[i - 3] as number) | 0x20) === 0x61 && ((d[i - 4] as number) | 0x20) === 0x64) yield i - 4;
    }
  }
}

/** Bytes that end a data: URI wherever they occur in it (quotes, white space as `\s` has it, `>`). */
function endsUri(b: number): boolean {
  return b === 0x22 || b === 0x27 || b === 0x3e || b === 0x20 || b === 0xa0 || (b >= 0x09 && b <= 0x0d);
}

export const htmlHandler: ContainerHandler = {
  name: 'HTML',
  // ClamAV decodes data: URIs with its mail decoder: --scan-mail=no turns them off too.
  families: ['html', 'mail'],
  types: ['CL_TYPE_HTML'],
  *extract(data, ctx): Generator<Member> {
    // Only the text from each `data:` to the first byte that ends a URI is made a string, not the
    // page; a match found in one starts the search for the next after it, as one global match would.
    let n = 0;
    let next = 0;
    for (const at of dataSchemes(data)) {
      if (at < next) continue;
      let end = at;
      while (end < data.length && !endsUri(data[end] as number)) end++;
      DATA_URI.lastIndex = 0;
      const m = DATA_URI.exec(latin1(data, at, end));
      if (m === null) continue;
      next = at + m[0].length;
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
