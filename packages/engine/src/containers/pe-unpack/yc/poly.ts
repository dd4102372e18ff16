// yC's polymorphic byte decryptors, emulated as ClamAV emulates them: a 0x30-byte window of x86
// code that transforms AL (add, sub, xor with a constant or CL, rotations, decrement, short jumps,
// no-ops) and runs once per byte with CL counting down. The window's path does not depend on AL,
// so it is traced once into a list of operations and re-traced only when decrypting rewrites it.
// index.ts says where the decryptors and the encrypted bytes are.
import { type AlOp, applyAlOps } from '../al-ops.js';

/** A traced decryptor, and the span of bytes its trace read (rewriting them re-traces it). */
interface Trace {
  readonly ops: readonly AlOp[];
  readonly lo: number;
  readonly hi: number;
}

/** Why emulation stopped: 'bounds' for reads outside the file or an endless jump loop, 'opcode' for code it cannot run. */
export type PolyFailure = 'bounds' | 'opcode';

/** Where the decryptor and the encrypted bytes are, and how many bytes to decrypt. */
export interface PolyJob {
  readonly decryptor: number;
  readonly code: number;
  /** Initial ECX: the count of bytes, whose low byte is CL. */
  readonly count: number;
  /** A further cap on the bytes decrypted. */
  readonly max: number;
  /** Bytes of `buf` the emulation may touch. */
  readonly limit: number;
}

/** Jumps followed in one pass over the window before it counts as an endless loop. */
const MAX_JUMPS = 0x40;
const WINDOW = 0x30;

const signed8 = (b: number) => (b << 24) >> 24;

/** Follows the window's code once, recording what it does to AL. */
function trace(buf: Uint8Array, at: number, limit: number): Trace | PolyFailure {
  const ops: AlOp[] = [];
  let hi = at;
  let jumps = 0;
  const read = (j: number): number | undefined => {
    const p = at + j;
    if (p < 0 || p >= limit) return undefined;
    if (p > hi) hi = p;
    return buf[p] as number;
  };
  let j = 0;
  // Positions are unsigned in the original: a jump back before the window leaves it, except to -1.
  while (j >= 0 && j < WINDOW) {
    const op = read(j);
    if (op === undefined) return 'bounds';
    if (op === 0xeb) {
      const d = read(++j);
      if (d === undefined || ++jumps > MAX_JUMPS) return 'bounds';
      j += signed8(d);
    } else if (op === 0xfe || op === 0x2a || op === 0x02 || op === 0x32) {
      // Two-byte forms on AL; FE C8 is DEC AL whatever its second byte says.
      ops.push(op === 0xfe ? { f: 'sub', v: 1 } : { f: op === 0x02 ? 'add' : op === 0x2a ? 'sub' : 'xor', v: 'cl' });
      j++;
    } else if (op === 0x04 || op === 0x34 || op === 0x2c) {
      const v = read(++j);
      if (v === undefined) return 'bounds';
      ops.push({ f: op === 0x04 ? 'add' : op === 0x34 ? 'xor' : 'sub', v });
    } else if (op === 0xc0) {
      const modrm = read(++j);
      const v = read(++j);
      if (modrm === undefined || v === undefined) return 'bounds';
      ops.push({ f: modrm === 0xc0 ? 'rol' : 'ror', v });
    } else if (op === 0xd2) {
      const modrm = read(++j);
      if (modrm === undefined) return 'bounds';
      ops.push({ f: modrm === 0xc8 ? 'ror' : 'rol', v: 'cl' });
      j++; // as ClamAV steps it: one byte more than the instruction takes
    } else if (op !== 0x90 && op !== 0xf8 && op !== 0xf9) return 'opcode';
    j++;
  }
  return { ops, lo: at, hi };
}

/** Decrypts `job.count` bytes (at most `job.max`) of `buf` in place; undefined when all went well. */
export function runPoly(buf: Uint8Array, job: PolyJob): PolyFailure | undefined {
  let cl = job.count & 0xff;
  let t: Trace | undefined;
  const n = Math.min(job.count, job.max);
  for (let i = 0; i < n; i++) {
    const p = job.code + i;
    if (p < 0 || p >= job.limit) return 'bounds';
    if (t === undefined) {
      const r = trace(buf, job.decryptor, job.limit);
      if (typeof r === 'string') return r;
      t = r;
    }
    buf[p] = applyAlOps(t.ops, buf[p] as number, cl);
    cl = (cl - 1) & 0xff;
    if (p >= t.lo && p <= t.hi) t = undefined;
  }
  return undefined;
}
