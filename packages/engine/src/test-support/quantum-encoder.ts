// A small Quantum encoder for the tests (no tool here writes Quantum): greedy matches found through
// a hash of three bytes, coded with the same adaptive models the decoder uses. The raw extra bits of
// a match are read by the decoder 16 bits plus the coder's shifts into the frame, ahead of where
// the coder has written, so they are recorded with that position and merged in when the frame ends.

import { QUANTUM_FRAME } from '../containers/quantum/decode.js';
import {
  LENGTH_BASE,
  LENGTH_EXTRA,
  narrow,
  newModels,
  POSITION_BASE,
  POSITION_EXTRA,
  type QuantumModel,
  type QuantumModels,
} from '../containers/quantum/model.js';

/** The arithmetic coder of one frame: its code bits, and raw bits to merge in at code positions. */
class FrameCoder {
  private low = 0;
  private high = 0xffff;
  private pending = 0;
  private shifts = 0;
  private readonly code: number[] = [];
  private readonly raw: { at: number; bits: number[] }[] = [];

  private emit(bit: number): void {
    this.code.push(bit);
    for (; this.pending > 0; this.pending--) this.code.push(bit ^ 1);
  }

  symbol(m: QuantumModel, s: number): void {
    const k = m.indexOf(s);
    if (k < 0) throw new Error(`symbol ${s} is not in the model`);
    [this.low, this.high] = narrow(m, k, this.low, this.high);
    m.update(k);
    for (;;) {
      if (((this.low ^ this.high) & 0x8000) === 0) this.emit(this.high >>> 15);
      else if ((this.low & 0x4000) !== 0 && (this.high & 0x4000) === 0) {
        this.pending++;
        this.low &= 0x3fff;
        this.high |= 0x4000;
      } else break;
      this.low = (this.low << 1) & 0xffff;
      this.high = ((this.high << 1) | 1) & 0xffff;
      this.shifts++;
    }
  }

  bits(value: number, n: number): void {
    const bits: number[] = [];
    for (let i = n - 1; i >= 0; i--) bits.push(Math.floor(value / 2 ** i) & 1);
    this.raw.push({ at: 16 + this.shifts, bits });
  }

  /** The frame's bytes: two closing code bits, the code padded to what the decoder reads, raw bits merged. */
  finish(): Uint8Array {
    this.pending++;
    this.emit((this.low & 0x4000) !== 0 ? 1 : 0);
    while (this.code.length < 16 + this.shifts) this.code.push(0);
    const out: number[] = [];
    let at = 0;
    for (const r of this.raw) {
      while (at < r.at) out.push(this.code[at++] as number);
      out.push(...r.bits);
    }
    while (at < this.code.length) out.push(this.code[at++] as number);
    while (out.length % 8 !== 0) out.push(0);
    const bytes = new Uint8Array(out.length / 8);
    for (let i = 0; i < out.length; i++) bytes[i >>> 3] = ((bytes[i >>> 3] as number) << 1) | (out[i] as number);
    return bytes;
  }
}

function slotOf(value: number, base: ArrayLike<number>, extra: ArrayLike<number>, slots: number): number {
  for (let s = 0; s < slots; s++) {
    if (value >= (base[s] as number) && value < (base[s] as number) + 2 ** (extra[s] as number)) return s;
  }
  return -1;
}

/** Codes a match if its offset fits the models of its length; false when it does not. */
function match(c: FrameCoder, md: QuantumModels, length: number, offset: number): boolean {
  const model = length === 3 ? md.offset3 : length === 4 ? md.offset4 : md.offsetN;
  const slot = slotOf(offset - 1, POSITION_BASE, POSITION_EXTRA, model.entries);
  if (slot < 0) return false;
  c.symbol(md.selector, length === 3 ? 4 : length === 4 ? 5 : 6);
  if (length > 4) {
    const ls = slotOf(length - 5, LENGTH_BASE, LENGTH_EXTRA, 27);
    c.symbol(md.lengthN, ls);
    c.bits(length - 5 - (LENGTH_BASE[ls] as number), LENGTH_EXTRA[ls] as number);
  }
  c.symbol(model, slot);
  c.bits(offset - 1 - (POSITION_BASE[slot] as number), POSITION_EXTRA[slot] as number);
  return true;
}

/** The longest earlier match for `d[i..]` that stays in the frame and window, as [length, offset]. */
function longest(d: Uint8Array, i: number, frameEnd: number, chain: Map<number, number[]>, window: number) {
  let best: [number, number] = [0, 0];
  if (i + 3 > frameEnd) return best;
  const key = ((d[i] as number) << 16) | ((d[i + 1] as number) << 8) | (d[i + 2] as number);
  const seen = chain.get(key) ?? [];
  for (let c = seen.length - 1; c >= Math.max(0, seen.length - 16); c--) {
    const from = seen[c] as number;
    if (i - from > window) break;
    let n = 0;
    while (n < 259 && i + n < frameEnd && d[from + n] === d[i + n]) n++;
    if (n > best[0]) best = [n, i - from];
  }
  return best;
}

/**
 * Quantum-codes `d` with a window of 2^`windowBits` bytes: one payload per 32 KiB frame (a CAB data
 * block each). With `literalsOnly`, no matches.
 */
export function quantumEncode(d: Uint8Array, windowBits: number, literalsOnly = false): Uint8Array[] {
  const md = newModels(windowBits);
  const chain = new Map<number, number[]>();
  const frames: Uint8Array[] = [];
  const remember = (p: number) => {
    if (p + 3 > d.length) return;
    const key = ((d[p] as number) << 16) | ((d[p + 1] as number) << 8) | (d[p + 2] as number);
    const list = chain.get(key);
    if (list === undefined) chain.set(key, [p]);
    else list.push(p);
  };
  for (let start = 0; start < d.length || start === 0; start += QUANTUM_FRAME) {
    const end = Math.min(d.length, start + QUANTUM_FRAME);
    const c = new FrameCoder();
    let i = start;
    while (i < end) {
      const [length, offset] = literalsOnly ? [0, 0] : longest(d, i, end, chain, 2 ** windowBits);
      if (length >= 3 && match(c, md, length, offset)) {
        for (let k = 0; k < length; k++) remember(i + k);
        i += length;
        continue;
      }
      const byte = d[i] as number;
      c.symbol(md.selector, byte >>> 6);
      c.symbol(md.literals[byte >>> 6] as QuantumModel, byte);
      remember(i++);
    }
    frames.push(c.finish());
    if (d.length === 0) break;
  }
  return frames;
}

/** The decoder's input for a folder of these payloads: each followed by 0xFF, as libmspack feeds it. */
export function quantumInput(frames: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length + 1, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
    out[at++] = 0xff;
  }
  return out;
}
