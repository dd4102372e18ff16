// The byte operations that the small x86 decryptors of PESpin (POLY1) and yC reduce to: each
// decryptor is read once into a list of operations on AL, which is then applied to every byte
// with CL counting down. Reading the x86 into that list is each packer's (pespin/, yc/).

/** One operation on AL; `cl` stands for the counter register's low byte. */
export type AlOp = { readonly f: 'add' | 'sub' | 'xor' | 'rol' | 'ror'; readonly v: number | 'cl' };

const rol8 = (a: number, n: number) => ((a << (n & 7)) | (a >> ((8 - (n & 7)) & 7))) & 0xff;
const ror8 = (a: number, n: number) => ((a >> (n & 7)) | (a << ((8 - (n & 7)) & 7))) & 0xff;

/** AL after `ops`, starting from `al`, with CL = `cl`. */
export function applyAlOps(ops: readonly AlOp[], al: number, cl: number): number {
  let a = al;
  for (const { f, v } of ops) {
    const n = v === 'cl' ? cl : v;
    if (f === 'add') a = (a + n) & 0xff;
    else if (f === 'sub') a = (a - n) & 0xff;
    else if (f === 'xor') a = a ^ n;
    else if (f === 'rol') a = rol8(a, n);
    else a = ror8(a, n);
  }
  return a;
}
