// InstallShield's MSI-based setup payload: after `InstallShield\0`, a file count and a list of
// file blocks (a 260-byte name, then the compressed size), each followed by its data: nibble-swapped,
// XORed with a key made from the file's own name, then zlib-compressed. Finding the marker inside
// an executable is the scanner's job (ClamAV's ISHIELD-MSI file-type signature); this reads from
// it. What the members are (an .msi, an OLE2 file, holding a CAB) is left to their own handlers.
import { cString, u32le } from '../read.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';
import { MSI_BLOCK, MSI_BLOCK_CSIZE, MSI_HEADER, MSI_KEY_BASE, MSI_MAGIC } from './limits.js';

/** A 64-bit little-endian size as a number (sizes past 2^53 are beyond any file anyway). */
function u64le(d: Uint8Array, o: number): number {
  return u32le(d, o + 4) * 0x100000000 + u32le(d, o);
}

/**
 * Undoes the obfuscation of one file's compressed bytes: each byte's nibbles are swapped, then it is
 * XORed with the key (the name XOR a fixed 4-byte pattern), restarting the key every 1024 bytes.
 */
export function deobfuscate(data: Uint8Array, name: Uint8Array): Uint8Array {
  const key = name.map((c, i) => c ^ (MSI_KEY_BASE[i & 3] as number));
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const c = data[i] as number;
    out[i] = (((c >> 4) | (c << 4)) & 0xff) ^ (key[(i & 0x3ff) % key.length] as number);
  }
  return out;
}

/** True when `d` starts with the marker and a header ClamAV accepts (bytes 8..31 after it zero). */
function headerOk(d: Uint8Array): boolean {
  for (let i = 0; i < MSI_MAGIC.length; i++) if (d[i] !== MSI_MAGIC.charCodeAt(i)) return false;
  for (let i = 8; i < MSI_HEADER; i++) if (d[MSI_MAGIC.length + i] !== 0) return false;
  return true;
}

function* files(d: Uint8Array, ctx: ExtractContext): Generator<Member> {
  if (d.length < MSI_MAGIC.length + MSI_HEADER) {
    ctx.broken('InstallShield payload: truncated header');
    return;
  }
  if (!headerOk(d)) return; // a chance match of the marker, not a payload
  let count = u32le(d, MSI_MAGIC.length);
  let off = MSI_MAGIC.length + MSI_HEADER;
  // Each turn consumes a file block, so the count is bounded by the input whatever it claims.
  for (; count > 0; count--) {
    if (off + MSI_BLOCK > d.length) {
      ctx.broken('InstallShield payload: truncated file block');
      return;
    }
    const nameEnd = d.subarray(off, off + 0x103).indexOf(0);
    const rawName = d.subarray(off, off + (nameEnd < 0 ? 0x103 : nameEnd));
    const csize = u64le(d, off + MSI_BLOCK_CSIZE);
    off += MSI_BLOCK;
    if (csize > d.length - off) {
      ctx.broken('InstallShield payload: a file runs past the end of the data');
      return;
    }
    const name = cString(rawName, 0, rawName.length);
    const packed = d.subarray(off, off + csize);
    off += csize;
    if (csize > ctx.maxMemberSize) {
      ctx.tooBig(name, undefined);
      continue;
    }
    if (rawName.length === 0) {
      ctx.broken('InstallShield payload: a file block without a name');
      return;
    }
    const out = ctx.env.inflate('zlib', deobfuscate(packed, rawName), ctx.maxMemberSize);
    if (out.status === 'over-limit') {
      ctx.tooBig(name, undefined);
      continue;
    }
    if (out.status === 'corrupt') {
      // ClamAV loses its place in the payload after a bad stream; so does this reader.
      ctx.broken(`InstallShield payload: ${name}: bad zlib stream`);
      return;
    }
    yield { name, data: out.data };
  }
}

/** InstallShield MSI payloads, handed over from their `InstallShield\0` marker. */
export const installShieldMsiHandler: ContainerHandler = {
  name: 'InstallShield-MSI',
  families: ['archive'],
  types: ['CL_TYPE_ISHIELD_MSI'],
  extract: files,
};
