// PDF documents: every stream object is a member, decoded through its filters (FlateDecode,
// ASCIIHexDecode, ASCII85Decode); a stream with a filter that is not decoded here (images, ...) is
// left to the scan of the document itself. Encrypted documents are reported, not decrypted.
import { hasText, latin1 } from '../read.js';
import { hexValue } from '../textcodecs.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';

const STREAM = new TextEncoder().encode('stream');
const END = new TextEncoder().encode('endstream');

/** The first index of `needle` in `d` at or after `from`, or -1. */
function find(d: Uint8Array, needle: Uint8Array, from: number): number {
  for (let i = d.indexOf(needle[0] as number, from); i >= 0; i = d.indexOf(needle[0] as number, i + 1)) {
    let k = 1;
    while (k < needle.length && d[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
  }
  return -1;
}

function asciiHex(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / 2));
  let n = 0;
  let high = -1;
  for (const c of data) {
    if (c === 0x3e) break; // '>' ends the data
    const v = hexValue(c);
    if (v < 0) continue;
    if (high < 0) high = v;
    else {
      out[n++] = (high << 4) | v;
      high = -1;
    }
  }
  if (high >= 0) out[n++] = high << 4;
  return out.subarray(0, n);
}

function ascii85(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length * 4 + 4); // a `z` stands for four bytes
  let n = 0;
  let group = 0;
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data[i] as number;
    if (c === 0x7e) break; // '~>' ends the data
    if (c === 0x7a && count === 0) {
      n += 4; // 'z': four zero bytes
      continue;
    }
    if (c < 0x21 || c > 0x75) continue;
    group = group * 85 + (c - 0x21);
    if (++count === 5) {
      for (let k = 3; k >= 0; k--) out[n++] = (group >>> (8 * k)) & 0xff;
      group = 0;
      count = 0;
    }
  }
  if (count > 1) {
    for (let k = count; k < 5; k++) group = group * 85 + 84;
    for (let k = 3; k > 4 - count; k--) out[n++] = (group >>> (8 * k)) & 0xff;
  }
  return out.subarray(0, n);
}

/** The names in a dictionary's /Filter entry (`/FlateDecode` or `[/A85 /Fl]`). */
function filters(dict: string): string[] {
  const m = /\/Filter\s*(\[[^\]]*\]|\/[A-Za-z0-9]+)/.exec(dict);
  return m === null ? [] : [...(m[1] as string).matchAll(/\/([A-Za-z0-9]+)/g)].map((f) => f[1] as string);
}

/** Applies the filters in order; undefined when one is not decoded here or the output would pass the limit. */
function decode(raw: Uint8Array, names: readonly string[], ctx: ExtractContext, name: string): Uint8Array | undefined {
  let data = raw;
  for (const f of names) {
    if (f === 'FlateDecode' || f === 'Fl') {
      const zlibHeader = ((data[0] ?? 0) & 0x0f) === 8 && (((data[0] ?? 0) << 8) | (data[1] ?? 0)) % 31 === 0;
      const out = ctx.env.inflate(zlibHeader ? 'zlib' : 'raw', data, ctx.maxMemberSize);
      if (out.status === 'over-limit') {
        ctx.tooBig(name, undefined);
        return undefined;
      }
      if (out.status === 'corrupt') ctx.broken(`${name}: ${out.message ?? 'damaged FlateDecode data'}`);
      data = out.data;
    } else if (f === 'ASCIIHexDecode' || f === 'AHx') data = asciiHex(data);
    else if (f === 'ASCII85Decode' || f === 'A85') data = ascii85(data);
    else return undefined;
  }
  return data;
}

function* streams(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  if (find(d, new TextEncoder().encode('/Encrypt'), 0) >= 0) {
    ctx.encrypted('document');
    return;
  }
  let from = 0;
  let previousEnd = 0;
  for (let at = find(d, STREAM, from); at >= 0; at = find(d, STREAM, from)) {
    from = at + STREAM.length;
    // `endstream` contains `stream`; a keyword preceded by `end` is not a start.
    if (at >= 3 && hasText(d, at - 3, 'end')) continue;
    let start = from;
    if (d[start] === 0x0d) start++;
    if (d[start] === 0x0a) start++;
    if (start === from) continue; // `stream` must end its line
    const dictFrom = Math.max(previousEnd, at - 4096);
    const dict = latin1(d, dictFrom, at);
    const objAt = dict.lastIndexOf(' obj');
    const head = objAt < 0 ? dict : dict.slice(objAt);
    const number = /(\d+)\s+(\d+)\s*$/.exec(dict.slice(0, Math.max(objAt, 0)));
    const name = number === null ? `stream@${start}` : `obj ${number[1]} ${number[2]}`;
    const length = /\/Length\s+(\d+)(?!\s+\d+\s+R)/.exec(head);
    let end = length === null ? -1 : start + Number(length[1]);
    if (end < 0 || end > d.length || find(d.subarray(end, end + 32), END, 0) < 0) {
      const e = find(d, END, start);
      end = e < 0 ? d.length : e;
      if (d[end - 1] === 0x0a) end--;
      if (d[end - 1] === 0x0d) end--;
    }
    previousEnd = end;
    from = Math.max(from, end);
    const raw = d.subarray(start, end);
    const data = decode(raw, filters(head), ctx, name);
    if (data === undefined || data.length === 0) continue;
    yield { name, data };
  }
}

export const pdfHandler: ContainerHandler = {
  name: 'PDF',
  families: ['pdf'],
  types: ['CL_TYPE_PDF'],
  extract: streams,
};
