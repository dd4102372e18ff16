// Test helpers (no ASPack is installed here): an encoder writing the block format ASPack's decoder
// (containers/pe-unpack/aspack/decode.ts) reads, with fixed code lengths (runs, deltas and a
// mid-block table change included), greedy matches and repeated distances; and a builder of small
// ASPack-like executables (compressed sections, the stub's recognisable bytes, block list, tables
// and marker where each version keeps them). They aim to exercise the unpacker, not to compress
// well; the engine never calls them.
import type { StubTables } from '../containers/pe-unpack/aspack/decode.js';
import { ASPACK_VERSIONS } from '../containers/pe-unpack/aspack/index.js';
import { buildPe } from '../containers/pe-unpack/pe.js';

class BitWriter {
  readonly out: number[] = [];
  private acc = 0;
  private n = 0;
  bits(v: number, count: number): void {
    for (let i = count - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | (Math.floor(v / 2 ** i) & 1);
      if (++this.n === 8) {
        this.out.push(this.acc);
        this.acc = 0;
        this.n = 0;
      }
    }
  }
  done(): Uint8Array {
    if (this.n > 0) this.bits(0, 8 - this.n);
    return Uint8Array.from(this.out);
  }
}

/** Canonical codes (MSB first) for `lengths`, as the decoder assigns them: by length, then symbol. */
function codes(lengths: readonly number[]): { code: number; len: number }[] {
  const count = new Array<number>(16).fill(0);
  for (const l of lengths) if (l > 0) count[l] = (count[l] as number) + 1;
  const next = new Array<number>(16).fill(0);
  let c = 0;
  for (let l = 1; l < 16; l++) {
    c = (c + (count[l - 1] as number)) * 2;
    if (l === 1) c = 0;
    next[l] = c;
  }
  return lengths.map((l) => {
    if (l === 0) return { code: -1, len: 0 };
    const code = next[l] as number;
    next[l] = code + 1;
    return { code, len: l };
  });
}

/** Lengths making a complete code: the `unused` symbols none, the first used ones one bit shorter. */
function complete(size: number, long: number, unused: (i: number) => boolean): number[] {
  const used = Array.from({ length: size }, (_, i) => !unused(i));
  const k = used.filter(Boolean).length;
  const nShort = 2 ** long - k; // a/2^(L-1) + b/2^L = 1 with a + b = k
  let seen = 0;
  return used.map((u) => (u ? (seen++ < nShort ? long - 1 : long) : 0));
}

/** The code lengths the encoder sends (first set, and the one after a mid-block change). */
function tableSet(aligned: boolean, variant: number): { main: number[]; long: number[]; al: number[] } {
  // match symbols of distance slots 43..55 are left unused (zeros exercise the zero runs)
  const main = complete(721, 10, (i) => i >= 600 && i < 700 + variant);
  return { main, long: complete(28, 5, () => false), al: aligned ? [1, 2, 3, 4, 5, 6, 7, 7] : new Array(8).fill(3) };
}

const PRE_LENGTHS = complete(19, 5, () => false);
const PRE = codes(PRE_LENGTHS);

function sendTables(w: BitWriter, all: number[], previous: number[] | undefined): void {
  w.bits(previous === undefined ? 0 : 1, 1);
  const base = previous ?? new Array(all.length).fill(0);
  for (const l of PRE_LENGTHS) w.bits(l, 4);
  const put = (s: number) => w.bits((PRE[s] as { code: number }).code, (PRE[s] as { len: number }).len);
  let i = 0;
  while (i < all.length) {
    let run = 1;
    while (i + run < all.length && all[i + run] === all[i]) run++;
    if (all[i] === 0 && run >= 11) {
      const n = Math.min(run, 138);
      put(18);
      w.bits(n - 11, 7);
      i += n;
    } else if (all[i] === 0 && run >= 3) {
      const n = Math.min(run, 10);
      put(17);
      w.bits(n - 3, 3);
      i += n;
    } else if (i > 0 && all[i] === all[i - 1] && run >= 3) {
      const n = Math.min(run, 6);
      put(16);
      w.bits(n - 3, 2);
      i += n;
    } else {
      put(((all[i] as number) - (base[i] as number)) & 0xf);
      i++;
    }
  }
}

/** The stub's tables as ASPack's follow them: long lengths and distance slots in pairs of growing size. */
export function testStubTables(): StubTables & { slotBits: number[] } {
  const stuff = new Uint8Array(0x72);
  let base = 0;
  for (let g = 0; g < 28; g++) {
    const bits = g < 8 ? 0 : Math.floor((g - 8) / 4) + 1;
    stuff[g] = base;
    stuff[g + 0x1c] = bits;
    base += 2 ** bits;
  }
  const slotBits = Array.from({ length: 58 }, (_, s) => (s < 4 ? 0 : Math.min(17, (s >> 1) - 1)));
  const slotBase = new Uint32Array(58);
  let sum = 0;
  slotBits.forEach((b, s) => {
    stuff[s + 0x38] = b;
    slotBase[s] = sum;
    sum += 2 ** b;
  });
  return { stuff, slotBase, slotBits };
}

function longest(data: Uint8Array, at: number): { dist: number; len: number } {
  let best = { dist: 0, len: 0 };
  for (let d = 1; d <= Math.min(at, 0x1000); d++) {
    let l = 0;
    while (at + l < data.length && l < 200 && data[at + l] === data[at + l - d]) l++;
    if (l > best.len) best = { dist: d, len: l };
  }
  return best;
}

/** Encodes one block. `changeAt`: switch tables (symbol 720) before that output position. */
export function aspackEncode(data: Uint8Array, options: { aligned: boolean; changeAt?: number }): Uint8Array {
  const stub = testStubTables();
  const w = new BitWriter();
  let set = tableSet(options.aligned, 0);
  let all = [...set.main, ...set.long, ...set.al];
  sendTables(w, all, undefined);
  let c = { main: codes(set.main), long: codes(set.long), al: codes(set.al) };
  const sym = (t: { code: number; len: number }[], s: number) =>
    w.bits((t[s] as { code: number }).code, (t[s] as { len: number }).len);
  let last = -1;
  let changed = options.changeAt === undefined;
  for (let at = 0; at < data.length; ) {
    if (!changed && at >= (options.changeAt as number)) {
      sym(c.main, 720);
      set = tableSet(options.aligned, 1);
      const next = [...set.main, ...set.long, ...set.al];
      sendTables(w, next, all);
      all = next;
      c = { main: codes(set.main), long: codes(set.long), al: codes(set.al) };
      changed = true;
    }
    const m = longest(data, at);
    if (m.len < 3) {
      sym(c.main, data[at++] as number);
      continue;
    }
    const d = m.dist === last ? 0 : m.dist + 2;
    let slot = 0;
    while (slot < 57 && (stub.slotBase[slot + 1] as number) <= d) slot++;
    const lenCode = Math.min(m.len - 2, 7);
    sym(c.main, 256 + slot * 8 + lenCode);
    if (lenCode === 7) {
      let g = 0;
      while (g < 27 && (stub.stuff[g + 1] as number) <= m.len - 9) g++;
      sym(c.long, g);
      w.bits(m.len - 9 - (stub.stuff[g] as number), stub.stuff[g + 0x1c] as number);
    }
    const extra = d - (stub.slotBase[slot] as number);
    const bits = stub.slotBits[slot] as number;
    if (options.aligned && bits >= 3) {
      w.bits(Math.floor(extra / 8), bits - 3);
      sym(c.al, extra & 7);
    } else w.bits(extra, bits);
    last = m.dist;
    at += m.len;
  }
  return w.done();
}

/** What ASPack does to the first block's calls and jumps: marked, their targets made absolute. */
export function fixCalls(code: Uint8Array, marker: number): Uint8Array {
  const out = code.slice();
  for (let i = 0; i < out.length - 6; i++) {
    if (out[i] !== 0xe8 && out[i] !== 0xe9) continue;
    const rel = new DataView(out.buffer).getInt32(i + 1, true);
    const target = rel + i;
    if (target < 0 || target >= 1 << 24) continue;
    out.set([marker, target & 0xff, (target >>> 8) & 0xff, target >>> 16], i + 1);
    i += 4;
  }
  return out;
}

export const MARKER = 0x33;

/** An ASPack-like executable of `version` packing `sections` (one block each) with entry point `oep`. */
export function aspackSample(
  sections: readonly { rva: number; data: Uint8Array }[],
  options: { version: number; oep: number; aligned: boolean; changeAt?: number },
): Uint8Array {
  const v = ASPACK_VERSIONS[options.version];
  if (v === undefined) throw new Error('no such version');
  const stubRva = Math.max(...sections.map((s) => s.rva + s.data.length));
  const stub = new Uint8Array(0x1000);
  const dv = new DataView(stub.buffer);
  stub.set([0x60, 0xe8, 0x03, 0x00, 0x00, 0x00, 0xe9, 0xeb], 1);
  stub.set([0x68, 0, 0, 0, 0, 0xc3], 1 + v.ret);
  dv.setUint32(v.entry, options.oep, true);
  stub[v.marker] = MARKER;
  const t = testStubTables();
  stub.set(t.stuff, v.tables);
  stub.set(t.slotBits, v.slotBits);
  const packed = sections.map((s, i) => {
    dv.setUint32(v.blocks + i * v.step, s.rva, true);
    dv.setUint32(v.blocks + i * v.step + 4, s.data.length, true);
    const plain = i === 0 ? fixCalls(s.data, MARKER) : s.data;
    const change = i === 0 && options.changeAt !== undefined ? { changeAt: options.changeAt } : {};
    const enc = aspackEncode(plain, { aligned: options.aligned, ...change });
    if (enc.length > s.data.length) throw new Error('the sample does not compress');
    return { rva: s.rva, virtualSize: s.data.length, data: enc };
  });
  const pe = buildPe(
    {
      imageBase: 0x400000,
      entryRva: stubRva + 1,
      sections: [
        ...packed,
        { rva: stubRva, virtualSize: 0x1000, data: stub },
        { rva: stubRva + 0x1000, virtualSize: 0x1000, data: new Uint8Array(0) },
      ],
    },
    1 << 24,
  );
  if (pe === undefined) throw new Error('sample too big');
  return pe;
}
