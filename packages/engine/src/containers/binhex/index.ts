// BinHex 4.0 (Macintosh): six-bit text, then run-length coding, then a header naming the file
// and its data and resource forks; both forks are members.
import { cString, u32be } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';

const ALPHABET = '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr';
const SIX = new Int8Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) SIX[ALPHABET.charCodeAt(i)] = i;
const RUN = 0x90;

/** The bytes between the colons after the BinHex banner, six-bit decoded and run-length expanded. */
function unpackBinhex(d: Uint8Array, max: number): Uint8Array | undefined {
  const banner = d.indexOf(0x3a, d.indexOf(0x0a)); // the first ':' after the banner line
  if (banner < 0) return undefined;
  const out = new Uint8Array(Math.min(max, d.length));
  let n = 0;
  let acc = 0;
  let bits = 0;
  let last = 0;
  let marker = false;
  const emit = (b: number): boolean => {
    if (marker) {
      marker = false;
      if (b === 0) return put(RUN);
      for (let k = 1; k < b; k++) if (!put(last)) return false;
      return true;
    }
    if (b === RUN) {
      marker = true;
      return true;
    }
    return put(b);
  };
  let buf = out;
  const put = (b: number): boolean => {
    if (n >= buf.length) {
      if (buf.length >= max) return false;
      const next = new Uint8Array(Math.min(max, buf.length * 2 + 16));
      next.set(buf);
      buf = next;
    }
    buf[n++] = b;
    last = b;
    return true;
  };
  for (let i = banner + 1; i < d.length; i++) {
    const c = d[i] as number;
    if (c === 0x3a) break;
    const v = SIX[c] as number;
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (!emit((acc >>> bits) & 0xff)) return undefined;
    }
  }
  return buf.subarray(0, n);
}

function* forks(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  const raw = unpackBinhex(d, ctx.maxMemberSize);
  if (raw === undefined) {
    ctx.tooBig('binhex data', undefined);
    return;
  }
  const nameLen = raw[0] ?? 0;
  const name = cString(raw, 1, 1 + nameLen) || 'binhex';
  const h = 1 + nameLen + 1 + 4 + 4 + 2;
  const dataLen = u32be(raw, h);
  const rsrcLen = u32be(raw, h + 4);
  const dataStart = h + 10;
  if (dataStart > raw.length) {
    ctx.broken('the header is cut short');
    return;
  }
  const data = raw.subarray(dataStart, dataStart + dataLen);
  if (data.length < dataLen) ctx.broken(`the data fork is cut short (${data.length} of ${dataLen} bytes)`);
  yield { name, data };
  const rsrcStart = dataStart + dataLen + 2;
  if (rsrcLen > 0) yield { name: `${name}.rsrc`, data: raw.subarray(rsrcStart, rsrcStart + rsrcLen) };
}

export const binhexHandler: ContainerHandler = {
  name: 'BinHex',
  families: ['archive'],
  types: ['CL_TYPE_BINHEX'],
  extract: forks,
};
