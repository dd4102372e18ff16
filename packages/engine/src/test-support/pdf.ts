// PDF writers for tests: a one-stream document and the encoders of the filters the PDF handler
// decodes (LZW with or without early change, RunLength), to build inputs byte by byte.
import { concat } from './archives.js';

const te = new TextEncoder();

/** LZW as PDF writes it: a clear code first, codes MSB first widening from 9 to 12 bits, end code.
 * `clearAt` emits a clear when the table reaches it; without it a full table simply stops growing. */
export function lzwEncode(data: Uint8Array, opts: { earlyChange?: boolean; clearAt?: number } = {}): Uint8Array {
  const early = opts.earlyChange === false ? 0 : 1;
  const out: number[] = [];
  let acc = 0;
  let nbits = 0;
  let width = 9;
  const put = (code: number) => {
    acc = (acc * 2 ** width + code) % 2 ** 24;
    nbits += width;
    while (nbits >= 8) {
      nbits -= 8;
      out.push(Math.floor(acc / 2 ** nbits) & 0xff);
    }
  };
  let table = new Map<string, number>();
  let next = 258;
  const reset = () => {
    table = new Map();
    next = 258;
    width = 9;
  };
  const code = (w: string) => (w.length === 1 ? w.charCodeAt(0) : (table.get(w) as number));
  put(256);
  let w = '';
  for (const b of data) {
    const c = String.fromCharCode(b);
    if (w === '' || table.has(w + c)) {
      w += c;
      continue;
    }
    put(code(w));
    if (next < 4096) {
      table.set(w + c, next++);
      // The decoder is one entry behind the encoder: it widens when its own count says so.
      if (next - 1 + early >= 2 ** width && width < 12) width++;
    }
    if (opts.clearAt !== undefined && next >= opts.clearAt) {
      put(256);
      reset();
    }
    w = c;
  }
  if (w !== '') put(code(w));
  put(257);
  if (nbits > 0) out.push((acc * 2 ** (8 - nbits)) & 0xff);
  return Uint8Array.from(out);
}

/** RunLengthDecode's encoding: literal runs of up to 128 bytes, then the end marker. */
export function runLengthEncode(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += 128) {
    const chunk = data.subarray(i, i + 128);
    parts.push(Uint8Array.of(chunk.length - 1), chunk);
  }
  return concat(...parts, Uint8Array.of(128));
}

/** A document whose object 3 is a stream with `dict` (without /Length) and `data`; `objects` go before it. */
export function pdfWithStream(dict: string, data: Uint8Array, objects = ''): Uint8Array {
  return concat(
    te.encode(`%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n${objects}`),
    te.encode(`3 0 obj\n<< /Length ${data.length}\n${dict} >>\nstream\n`),
    data,
    te.encode('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n'),
  );
}
