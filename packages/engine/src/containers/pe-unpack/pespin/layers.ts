// PESpin 1.3's encryption layers as ClamAV undoes them: a byte key counting down over the stub, two
// shift-register (LFSR) streams over the stub and the sections, a checksum of the file that keys the
// sections' stream, and "POLY1", a 0x24-byte x86 snippet run once per byte. index.ts orders them
// and decompresses afterwards; these are the primitives, each bounded by the bytes it is given.
import { type AlOp, applyAlOps } from '../al-ops.js';

/** Rotates a 32-bit value right by `n` (mod 32). */
function ror32(v: number, n: number): number {
  const k = n & 31;
  return ((v >>> k) | (v << ((32 - k) & 31))) >>> 0;
}

/** PESpin's checksum of the file's first `len` bytes; the stored key minus it decrypts the sections. */
export function spinChecksum(data: Uint8Array, len: number): number {
  let a = 0xffffffff;
  let b = 0xffffffff;
  for (let i = 0; i < len; i++) {
    a = ((a ^ (((data[i] as number) << 8) & 0xff00)) >>> 3) & 0x1fffffff;
    for (let r = 0; r < 4; r++) {
      a = (a ^ ((b >>> 8) & 0xff)) >>> 0;
      a = (a + 0x7801a108) >>> 0;
      a = (a ^ b) >>> 0;
      a = ror32(a, b & 0xff);
      const t = a;
      a = b;
      b = t;
    }
  }
  return b;
}

/**
 * XORs `len` bytes at `at` with a shift register's low byte. The register steps before each byte:
 * shifted right, and XORed with `poly` when the bit shifted out equals `tapOn`.
 */
export function lfsrXor(
  buf: Uint8Array,
  at: number,
  len: number,
  reg: { key: number; poly: number; tapOn: 0 | 1 },
): void {
  let k = reg.key >>> 0;
  for (let i = 0; i < len; i++) {
    const out = k & 1;
    k >>>= 1;
    if (out === reg.tapOn) k = (k ^ reg.poly) >>> 0;
    buf[at + i] = (buf[at + i] as number) ^ (k & 0xff);
  }
}

/** The length of a POLY1 snippet; the byte after it must be STOSB (0xAA). */
const SNIPPET = 0x24;
const STOSB = 0xaa;

/** Reads a snippet into its operations, or undefined when it holds code ClamAV does not run. */
function compile(buf: Uint8Array, at: number): AlOp[] | undefined {
  const ops: AlOp[] = [];
  const b = (i: number) => buf[at + i] ?? 0;
  let i = 0;
  while (i < SNIPPET) {
    const op = b(i++);
    if (op === 0xeb)
      i += 2; // a short jump over one junk byte
    else if (op === 0x0a)
      i++; // OR with a register: no effect on AL here
    else if (op === 0x02 || op === 0x2a || op === 0x32) {
      ops.push({ f: op === 0x02 ? 'add' : op === 0x2a ? 'sub' : 'xor', v: 'cl' });
      i++;
    } else if (op === 0x04 || op === 0x2c || op === 0x34) {
      ops.push({ f: op === 0x04 ? 'add' : op === 0x2c ? 'sub' : 'xor', v: b(i++) });
    } else if (op === 0xfe) ops.push({ f: b(i++) === 0xc0 ? 'add' : 'sub', v: 1 });
    else if (op === 0xc0) {
      const modrm = b(i++);
      ops.push({ f: modrm === 0xc0 ? 'rol' : 'ror', v: b(i++) });
    } else if (op !== 0x90 && op !== 0xf8 && op !== 0xf9) return undefined;
  }
  return i === SNIPPET && b(i) === STOSB ? ops : undefined;
}

/**
 * Runs the POLY1 snippet at `code` over `len` bytes at `at`, CL being the count of bytes left.
 * False when the snippet cannot be run. The snippet is read again if decrypting rewrites it.
 */
export function runPoly1(buf: Uint8Array, code: number, at: number, len: number): boolean {
  let ops: AlOp[] | undefined;
  for (let left = len, p = at; left > 0; left--, p++) {
    if (ops === undefined) {
      ops = compile(buf, code);
      if (ops === undefined) return false;
    }
    buf[p] = applyAlOps(ops, buf[p] as number, left & 0xff);
    if (p >= code && p <= code + SNIPPET + 2) ops = undefined;
  }
  return true;
}
