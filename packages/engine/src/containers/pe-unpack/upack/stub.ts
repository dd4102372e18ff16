// Reading Upack's stub (upack.c's unupack, three-section form): following its jumps from the entry
// point to the decoder's set-up, which names the literal shift, the size of the model, the table
// it copies into place, the packed stream, the output range and the CALL fix-ups that follow. It
// prepares the table in the image as the stub does; decode.ts decodes and unpack.ts rebuilds.
import { u32le } from '../../read.js';
import { Damaged } from '../image-lzma.js';
import type { UpackStream } from './decode.js';

/** What the stub says: how to decode, then which CALL/JMP operands to turn back, and the entry point. */
export interface UpackPlan {
  readonly stream: UpackStream;
  /** Fix-ups: where to start looking, how many to make, where the byte marking one is (read after decoding). */
  readonly fixAt: number;
  readonly fixCount: number;
  readonly fixMarkAt: number;
  /** The original entry point, as ClamAV computes it (relative to the first section's address). */
  readonly entry: number;
}

/** Bounds-checked reads of the image; a read outside it means the stub is not Upack's or is damaged. */
class Image {
  constructor(readonly d: Uint8Array) {}
  need(at: number, n: number): void {
    if (!Number.isSafeInteger(at) || at < 0 || n <= 0 || at + n > this.d.length)
      throw new Damaged('the Upack stub points outside the image');
  }
  u8(at: number): number {
    this.need(at, 1);
    return this.d[at] as number;
  }
  s8(at: number): number {
    return (this.u8(at) << 24) >> 24;
  }
  u32(at: number): number {
    this.need(at, 4);
    return u32le(this.d, at);
  }
  i32(at: number): number {
    return this.u32(at) | 0;
  }
  put32(at: number, v: number): void {
    this.need(at, 4);
    for (let k = 0; k < 4; k++) this.d[at + k] = (v >>> (8 * k)) & 0xff;
  }
  expect(at: number, b: number, what: string): void {
    if (this.u8(at) !== b) throw new Damaged(`the Upack stub lacks its ${what}`);
  }
}

/** From the entry point to the set-up: the jump to it, and where the fix-ups' mark byte sits. */
function followJumps(m: Image, ep: number, alt: boolean) {
  let head: number;
  let mark: number;
  let far: number;
  if (!alt) {
    m.expect(ep + 0xa, 0xeb, 'first jump');
    head = ep + 0xc + m.s8(ep + 0xb);
    mark = head + 0x1a;
    m.expect(mark, 0xeb, 'second jump');
    mark += 1 + m.u8(mark + 1) + 1 + 0xa;
    far = 8;
  } else {
    m.expect(ep + 7, 0xe9, 'first jump');
    head = m.i32(ep + 8) + ep + 0xc;
    mark = head + 0x25;
    far = 10;
  }
  m.expect(mark, 0xb5, 'model size');
  const count = m.u8(mark + 1) * 0x100;
  m.need(mark + 1, far + 5);
  m.expect(mark + 1 + far, 0xe9, 'jump to the decoder');
  let decoder = m.i32(mark + 2 + far) + head;
  decoder += alt ? 0x35 : m.s8(head + 0x1b) + 0x34;
  return { head, count, decoder };
}

/** The decoder's shift of the previous byte, and where its CALL fix-up loop keeps its mark byte. */
function decoderFacts(m: Image, decoder: number, alt: boolean) {
  let a = decoder + 43;
  let aljump = 8;
  let shr = 24;
  if (a - 1 + 2 > m.d.length || m.d[a - 1] !== 0xe3) {
    a = decoder + 46;
    m.expect(a - 1, 0xe3, 'jecxz');
    m.need(a - 1, 2);
    aljump = 7;
    shr = 26;
  }
  a += m.u8(a) + 1;
  m.need(a, aljump + 5);
  m.expect(a + aljump, 0xe9, 'long jump');
  a += m.i32(a + aljump + 1) + aljump + 5 + 27 + (alt ? 2 : 0);
  m.need(decoder + shr, 3);
  m.expect(decoder + shr, 0xc1, 'shift');
  m.expect(decoder + shr + 1, 0xed, 'shift');
  const shift = m.u8(decoder + shr + 2);
  if (shift < 2 || shift > 8) throw new Damaged('the Upack literal context is out of range');
  return { markAt: a, shift };
}

/**
 * Follows the stub of a three-section Upack file in `img` (laid out as pe.c lays it out) and sets
 * up its table there. `ep` is the entry point's offset, `entryOperand` the MOV ESI operand at it.
 * Throws Damaged when a step leads outside the image or misses the byte it expects.
 */
export function readStub(
  img: Uint8Array,
  o: { ep: number; entryOperand: number; alt: boolean; vma: number; base: number },
): UpackPlan {
  const m = new Image(img);
  const { ep, alt, vma, base } = o;
  let esi = (o.entryOperand - vma) >>> 0;
  m.need(esi, 12);
  const entry = (m.u32(esi) - vma) >>> 0;
  esi += 8;
  let edi = alt ? 0 : (m.u32(esi) - vma) >>> 0;
  const { head, count, decoder } = followJumps(m, ep, alt);
  const { markAt, shift } = decoderFacts(m, decoder, alt);
  if (alt) {
    m.need(head + 6, 10);
    m.expect(head + 6, 0xbe, 'MOV ESI');
    m.expect(head + 11, 0xbf, 'MOV EDI');
    const from = m.u32(head + 7);
    if (from < base || from > vma) throw new Damaged('the Upack table source is out of range');
    edi = (m.u32(head + 12) - vma) >>> 0;
    esi = (from - base) >>> 0;
  } else {
    m.need(head + 7, 5);
    m.expect(head + 7, 0xbe, 'MOV ESI');
    esi = (m.u32(head + 8) - vma) >>> 0;
  }
  const words = alt ? 0x16 : 0x27;
  const last = alt ? 0x64 : 0x34;
  m.need(edi, words * 4 + 24 + 4 * count);
  m.need(esi, words * 4 + last + 4);
  for (let k = 0; k < words; k++) m.put32(edi + 4 * k, m.u32(esi + 4 * k));
  esi += 4 * words;
  edi += 4 * words;
  const input = (m.u32(edi - 4) - vma) >>> 0;
  for (const [k, v] of [0xffffffff, 0, 1, 1, 1, 1].entries()) m.put32(edi + 4 * k, v);
  for (let k = 0; k < count; k++) m.put32(edi + 24 + 4 * k, 0x400);
  const out = alt ? (vma - base) >>> 0 : (m.u32(esi + 0xc) - vma) >>> 0;
  const end = (m.u32(esi + last) - vma) >>> 0;
  if (out > end) throw new Damaged('the Upack output range is reversed');
  const fixCount = m.u32(esi + (alt ? 0x40 : 4));
  return { stream: { table: edi, input, out, end, shift }, fixAt: out, fixCount, fixMarkAt: markAt, entry };
}

/**
 * Turns the marked E8/E9 operands after `plan.fixAt` back from big-endian absolute to relative.
 * Ends: every step moves forward, and a step outside the image throws Damaged.
 */
export function fixCalls(img: Uint8Array, plan: UpackPlan): void {
  const m = new Image(img);
  const mark = m.u8(plan.fixMarkAt);
  let left = plan.fixCount;
  let k = 0;
  while (left) {
    const op = m.u8(plan.fixAt + k);
    k++;
    if (op !== 0xe8 && op !== 0xe9) continue;
    const v = m.u32(plan.fixAt + k);
    if ((v & 0xff) !== mark) continue;
    const be = (((v >>> 8) & 0xff) << 16) | (((v >>> 16) & 0xff) << 8) | (v >>> 24);
    m.put32(plan.fixAt + k, (be - k - 4) >>> 0);
    k += 4;
    left--;
  }
}
