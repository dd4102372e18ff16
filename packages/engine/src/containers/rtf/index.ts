// RTF documents: each embedded object (`\objdata`, hexadecimal) is decoded and its OLE1 wrapping
// removed; a packaged file is unwrapped further, anything else (usually an OLE2 compound file) is
// the member, scanned like any file.

import { packagedFile } from '../ole2/index.js';
import { latin1, u32le } from '../read.js';
import { hexValue } from '../textcodecs.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';

const EMBEDDED = 2;

/** The hex digits of the `\objdata` group starting at `from`, decoded, up to the group's end. */
function objdata(text: string, from: number, max: number): Uint8Array {
  const close = text.indexOf('}', from);
  const end = close < 0 ? text.length : close;
  const out = new Uint8Array(Math.min(max, (end - from) >> 1));
  let n = 0;
  let high = -1;
  for (let i = from; i < end && n < out.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c || c === 0x7b) {
      // a control word or a nested group's start inside the data: skip its letters
      while (i + 1 < text.length && /[a-z{]/i.test(text[i + 1] as string)) i++;
      continue;
    }
    const v = hexValue(c);
    if (v < 0) continue;
    if (high < 0) high = v;
    else {
      out[n++] = (high << 4) | v;
      high = -1;
    }
  }
  return out.subarray(0, n);
}

/** The native data of an OLE1 embedded object (version, format, three names, size, data). */
function ole1(d: Uint8Array): { className: string; data: Uint8Array } | undefined {
  if (u32le(d, 4) !== EMBEDDED) return undefined;
  let o = 8;
  const names: string[] = [];
  for (let k = 0; k < 3; k++) {
    const len = u32le(d, o);
    if (o + 4 + len > d.length) return undefined;
    names.push(latin1(d, o + 4, o + 4 + len).replace(/\0+$/, ''));
    o += 4 + len;
  }
  const size = u32le(d, o);
  return { className: names[0] ?? '', data: d.subarray(o + 4, Math.min(d.length, o + 4 + size)) };
}

function* objects(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  const text = latin1(d);
  let n = 0;
  for (let at = text.indexOf('\\objdata'); at >= 0; at = text.indexOf('\\objdata', at + 8)) {
    const name = `object${++n}`;
    const raw = objdata(text, at + 8, ctx.maxMemberSize);
    const obj = ole1(raw);
    if (obj === undefined) {
      yield { name, data: raw };
      continue;
    }
    const inner = obj.className === 'Package' ? packagedFile(obj.data, 0) : undefined;
    yield { name: `${name}.${obj.className || 'data'}`, data: inner ?? obj.data };
  }
}

export const rtfHandler: ContainerHandler = {
  name: 'RTF',
  // ClamAV unpacks RTF objects under its archive switch.
  families: ['archive'],
  types: ['CL_TYPE_RTF'],
  extract: objects,
};
