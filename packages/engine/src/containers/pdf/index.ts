// PDF documents: each stream object ClamAV extracts is a member, decoded through its filters as
// ClamAV decodes them (filters.ts). Which streams, as in ClamAV: those without filters, those with
// a Flate, hex, A85 or DCT filter, and those marked as embedded files, scripts, actions or page
// contents (dictionary.ts); not images other than JPEG. An object stream (/ObjStm) is one of them:
// the objects in it hold no streams. Encrypted documents are reported, not decrypted.
import { hasText, latin1 } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';
import { documentObjects, readDictionary } from './dictionary.js';
import { decodeChain } from './filters.js';

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

function* streams(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  if (find(d, new TextEncoder().encode('/Encrypt'), 0) >= 0) {
    ctx.encrypted('document');
    return;
  }
  const objects = documentObjects(d);
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
    const key = number === null ? '' : `${Number(number[1])} ${Number(number[2])}`;
    const dictionary = readDictionary(head, key, objects);
    if (!dictionary.extracted) continue;
    const out = decodeChain(d.subarray(start, end), dictionary.filters, {
      env: ctx.env,
      max: ctx.maxMemberSize,
      earlyChange: dictionary.earlyChange,
    });
    if (out === 'over-limit' || out.data.length > ctx.maxMemberSize) {
      ctx.tooBig(name, undefined);
      continue;
    }
    if (out.problem !== undefined) ctx.broken(`${name}: ${out.problem}`);
    const data = out.data;
    if (data.length === 0) continue;
    yield { name, data };
  }
}

export const pdfHandler: ContainerHandler = {
  name: 'PDF',
  families: ['pdf'],
  types: ['CL_TYPE_PDF'],
  extract: streams,
};
