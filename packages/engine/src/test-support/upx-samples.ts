// Test helpers (no UPX tool is installed here): a greedy NRV2B/2D/2E encoder writing the bit
// stream the decoders read, and a builder of small UPX-like executables around an encoded image
// (UPX0/UPX1 sections, a stub with the decompression loop's bytes and the imports operand where
// ClamAV looks). They aim to exercise the unpacker, not to compress well; the engine never calls them.
import { buildPe } from '../containers/pe-unpack/pe.js';
import type { NrvMethod } from '../containers/pe-unpack/upx/nrv.js';

/** UPX's bit writer: flag bits gather in a word (or byte) reserved in the output before its bytes. */
class BitWriter {
  readonly out: number[] = [];
  private slot = -1;
  private used = 0;
  private word = 0;
  constructor(private readonly width: 8 | 32) {}

  bit(b: number): void {
    if (this.slot < 0) {
      this.slot = this.out.length;
      for (let i = 0; i < this.width / 8; i++) this.out.push(0);
      this.used = 0;
      this.word = 0;
    }
    this.word = this.word * 2 + (b & 1);
    if (++this.used === this.width) this.flush();
  }

  byte(v: number): void {
    this.out.push(v & 0xff);
  }

  /** Elias-gamma as the decoders' `do { n = 2n + bit } while (!bit)`, for n >= 2. */
  gamma(n: number): void {
    const bits = n.toString(2).slice(1);
    for (let i = 0; i < bits.length; i++) {
      this.bit(bits.charCodeAt(i) - 48);
      this.bit(i === bits.length - 1 ? 1 : 0);
    }
  }

  /** The 2D/2E offset prefix (two bits per step), for n >= 2. */
  prefix12(n: number): void {
    const top = (m: number): void => {
      if (m === 1) return;
      const x = (m >> 1) + 1;
      top(x >> 1);
      this.bit(x & 1);
      this.bit(0);
      this.bit(m & 1);
    };
    top(n >> 1);
    this.bit(n & 1);
    this.bit(1);
  }

  flush(): void {
    if (this.slot < 0) return;
    const w = this.word * 2 ** (this.width - this.used);
    for (let i = 0; i < this.width / 8; i++) this.out[this.slot + i] = Math.floor(w / 2 ** (8 * i)) & 0xff;
    this.slot = -1;
  }
}

const NEAR: Record<NrvMethod, number> = { '2b': 0xd00, '2d': 0x500, '2e': 0x500 };

function longest(data: Uint8Array, at: number, window: number): { dist: number; len: number } {
  let best = { dist: 0, len: 0 };
  for (let d = 1; d <= Math.min(at, window); d++) {
    let l = 0;
    while (at + l < data.length && l < 280 && data[at + l] === data[at + l - d]) l++;
    if (l > best.len) best = { dist: d, len: l };
  }
  return best;
}

function writeLength(w: BitWriter, method: NrvMethod, len: number, flagDone: boolean): void {
  if (method === '2e') {
    // len here is UPX's m_len (>= 1); the first flag went with the offset unless `flagDone` is false
    if (len <= 2) {
      if (!flagDone) w.bit(1);
      w.bit(len - 1);
    } else {
      if (!flagDone) w.bit(0);
      if (len <= 4) {
        w.bit(1);
        w.bit(len - 3);
      } else {
        w.bit(0);
        w.gamma(len - 3);
      }
    }
    return;
  }
  const two = len <= 3 ? len : 0;
  if (method === '2b' || !flagDone) w.bit(two >> 1);
  w.bit(two & 1);
  if (two === 0) w.gamma(len - 2);
}

/** The first length bit that 2D/2E carry in the offset's low bit. */
function firstFlag(method: NrvMethod, len: number): number {
  if (method === '2e') return len <= 2 ? 1 : 0;
  return len <= 3 ? len >> 1 : 0;
}

/** Encodes `data` with `method` (greedy, matches within `window` bytes), ending with the end marker. */
export function nrvEncode(data: Uint8Array, method: NrvMethod, width: 8 | 32 = 32, window = 0x2000): Uint8Array {
  const w = new BitWriter(width);
  let last = 0;
  let at = 0;
  while (at < data.length) {
    const m = longest(data, at, window);
    const far = m.dist > NEAR[method] ? 1 : 0;
    if (m.len < 3 + far) {
      w.bit(1);
      w.byte(data[at++] as number);
      continue;
    }
    w.bit(0);
    const len = m.len - far - 1;
    if (m.dist === last) {
      w.gamma(2);
      writeLength(w, method, len, false);
    } else {
      const v = method === '2b' ? m.dist - 1 : (m.dist - 1) * 2 + (firstFlag(method, len) ^ 1);
      if (method === '2b') w.gamma(Math.floor(v / 256) + 3);
      else w.prefix12(Math.floor(v / 256) + 3);
      w.byte(v & 0xff);
      writeLength(w, method, len, true);
    }
    last = m.dist;
    at += m.len;
  }
  w.bit(0);
  if (method === '2b') w.gamma(0x1000002);
  else w.prefix12(0x1000002);
  w.byte(0xff);
  w.flush();
  return Uint8Array.from(w.out);
}

/** The decompression loops' bytes ClamAV looks for at 0x69 past the entry point (13 of them). */
const LOOP_BYTES: Record<NrvMethod, string> = {
  '2b': '01db75078b1e83eefc11db11c9',
  '2d': '83f0ff7478d1f889c5eb0b01db',
  '2e': 'eb5231c983e8037211c1e0088a',
};
const MAGIC: Record<NrvMethod, number> = { '2b': 0x108, '2d': 0x11c, '2e': 0x128 };

export const IMAGE_BASE = 0x400000;
export const UPX0_RVA = 0x1000;

/** What a sample packs: the memory UPX0 gets, and where the import names (then the header) start. */
export interface SampleImage {
  readonly memory: Uint8Array;
  readonly imports: number;
}

/**
 * Memory as UPX lays it out: the sections' bytes from UPX0 on, one import entry, the original
 * NT header (its sections at the given RVAs and sizes) after it.
 */
export function sampleImage(sections: readonly { rva: number; data: Uint8Array }[]): SampleImage {
  const end = Math.max(...sections.map((s) => s.rva + s.data.length)) - UPX0_RVA;
  const names = new TextEncoder().encode('KERNEL32.DLL\0ExitProcess\0\0');
  const imports = end;
  const header = imports + 8 + names.length + 4;
  const memory = new Uint8Array(header + 0xf8 + 0x28 * sections.length);
  const v = new DataView(memory.buffer);
  for (const s of sections) memory.set(s.data, s.rva - UPX0_RVA);
  v.setUint32(imports, 0x1234, true);
  memory.set(names, imports + 8);
  v.setUint32(header, 0x4550, true);
  v.setUint16(header + 4, 0x14c, true);
  v.setUint16(header + 6, sections.length, true);
  v.setUint16(header + 20, 0xe0, true);
  v.setUint16(header + 24, 0x10b, true);
  v.setUint32(header + 24 + 16, sections[0]?.rva ?? UPX0_RVA, true);
  v.setUint32(header + 24 + 28, IMAGE_BASE, true);
  v.setUint32(header + 0x38, 0x1000, true);
  v.setUint32(header + 0x3c, 0x200, true);
  sections.forEach((s, i) => {
    const at = header + 0xf8 + i * 0x28;
    memory.set(new TextEncoder().encode(`.sec${i}`), at);
    v.setUint32(at + 8, s.data.length, true);
    v.setUint32(at + 12, s.rva, true);
  });
  return { memory, imports };
}

/** How to dress the packed data: an NRV stub (and its method) or an LZMA one. */
export type SampleStub =
  | { readonly kind: 'nrv'; readonly method: NrvMethod; readonly imports: number }
  | { readonly kind: 'lzma'; readonly size: number; readonly imports: number };

/** The entry point code: `pusha; mov esi, UPX1`, the loop's bytes, and the imports operand. */
function stubCode(stub: SampleStub, upx1Va: number): Uint8Array {
  const code = new Uint8Array(stub.kind === 'nrv' ? 0x200 : 0x100);
  const v = new DataView(code.buffer);
  code.set([0x60, 0xbe], 0);
  v.setUint32(2, upx1Va, true);
  if (stub.kind === 'nrv') {
    code.set(
      Uint8Array.from(LOOP_BYTES[stub.method].match(/../g) ?? [], (b) => Number.parseInt(b, 16)),
      0x69,
    );
    code.set([0x8d, 0xbe], MAGIC[stub.method] - 2);
    v.setUint32(MAGIC[stub.method], stub.imports, true);
  } else {
    v.setUint32(0x21, stub.size, true);
    const lzma2 = '5683c3045350c703030002009090909090555756';
    code.set(
      Uint8Array.from(lzma2.match(/../g) ?? [], (b) => Number.parseInt(b, 16)),
      0x2f,
    );
    // no operand at ClamAV's LZMA place: it is found by the `lea edi / mov eax, [edi]` search
    code.set([0x8d, 0xbe, 0, 0, 0, 0, 0x8b, 0x07], 0x90);
    v.setUint32(0x92, stub.imports, true);
  }
  return code;
}

/** A UPX-like executable: UPX0 (memory only, `upx0Size`), UPX1 = packed data + stub, entry at the stub. */
export function upxSample(packed: Uint8Array, stub: SampleStub, upx0Size: number): Uint8Array {
  const upx1Rva = UPX0_RVA + upx0Size;
  const code = stubCode(stub, IMAGE_BASE + upx1Rva);
  const at = Math.ceil(packed.length / 16) * 16;
  const upx1 = new Uint8Array(at + code.length);
  upx1.set(packed);
  upx1.set(code, at);
  const pe = buildPe(
    {
      imageBase: IMAGE_BASE,
      entryRva: upx1Rva + at,
      sections: [
        { rva: UPX0_RVA, virtualSize: upx0Size, data: new Uint8Array(0) },
        { rva: upx1Rva, virtualSize: Math.ceil(upx1.length / 0x1000) * 0x1000, data: upx1 },
      ],
    },
    1 << 24,
  );
  if (pe === undefined) throw new Error('sample too big');
  return pe;
}
