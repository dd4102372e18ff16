// The entries of an AutoIt archive (EA05 and EA06): each is an encrypted "FILE" tag, two encrypted
// strings (a kind marker, the original path), a compressed flag, XORed sizes and Adler-32, two
// FILETIMEs, then the encrypted data. The two versions differ in keys, cipher and string width,
// held here as a dialect; the entries' contents are decoded by lzss.ts and script.ts. ClamAV does
// not check the Adler-32: a mismatch is only reported here.
import { u32be, u32le } from '../read.js';
import type { ExtractContext, Member } from '../types.js';
import { lameDecrypt, mtDecrypt } from './ciphers.js';
import { unpack } from './lzss.js';
import { decompile, narrow } from './script.js';

/** What tells EA05 and EA06 entries apart. */
export interface Dialect {
  readonly version: 5 | 6;
  /** The encrypted "FILE" tag, as a little-endian word. */
  readonly tag: number;
  /** XOR keys of the kind marker's and the path's lengths, of the sizes, of the checksum. */
  readonly keys: { readonly kind: number; readonly path: number; readonly size: number; readonly sum: number };
  /** Keystream seeds for the kind marker and path (added to their lengths). */
  readonly seeds: { readonly kind: number; readonly path: number };
  /** Bytes per string character. */
  readonly width: 1 | 2;
  /** Decrypts in place. */
  readonly decrypt: (buf: Uint8Array, seed: number) => void;
  /** The flag bit that means a literal in the compressed stream. */
  readonly literal: 0 | 1;
}

/** EA05 (older AutoIt 3 builds): MT19937 keystream, byte strings. */
export const EA05: Dialect = {
  version: 5,
  tag: 0xceb06dff,
  keys: { kind: 0x29bc, path: 0x29ac, size: 0x45aa, sum: 0xc3d2 },
  seeds: { kind: 0xa25e, path: 0xf25e },
  width: 1,
  decrypt: mtDecrypt,
  literal: 0,
};

/** EA06 (newer AutoIt 3 builds): AutoIt's own keystream, UTF-16 strings, tokenised scripts. */
export const EA06: Dialect = {
  version: 6,
  tag: 0x52ca436b,
  keys: { kind: 0xadbc, path: 0xf820, size: 0x87bc, sum: 0xa685 },
  seeds: { kind: 0xb33f, path: 0xf479 },
  width: 2,
  decrypt: lameDecrypt,
  literal: 1,
};

/** Strings this long or longer are skipped unread (ClamAV reads a kind marker only under 300). */
const MAX_STRING = 300;
/** The compressed flag, three sizes and checksum words, and the two FILETIMEs after them. */
const FIXED = 13 + 16;
const SCRIPT_KIND = '>>>AUTOIT SCRIPT<<<';

/** Where an encrypted string is, its length in characters and its keystream seed. */
interface StringAt {
  readonly at: number;
  readonly chars: number;
  readonly seed: number;
}

/** A string's decrypted bytes, or undefined when it is too long to read or cut short. */
function decrypted(d: Uint8Array, s: StringAt, dia: Dialect): Uint8Array | undefined {
  const n = s.chars * dia.width;
  if (s.chars >= MAX_STRING || s.at + n > d.length) return undefined;
  const b = d.slice(s.at, s.at + n);
  dia.decrypt(b, s.chars + s.seed);
  return b;
}

/** True when the kind marker reads as the script's, compared as ClamAV does (narrowed to bytes). */
function isScript(d: Uint8Array, s: StringAt, dia: Dialect): boolean {
  if (dia.version !== 6 || s.chars !== SCRIPT_KIND.length) return false;
  const b = decrypted(d, s, dia);
  if (b === undefined) return false;
  narrow(b);
  return String.fromCharCode(...b.subarray(0, s.chars)) === SCRIPT_KIND;
}

/** The original path, for the member's name (UTF-16 in EA06, bytes in EA05). */
function pathName(d: Uint8Array, s: StringAt, dia: Dialect): string | undefined {
  const b = decrypted(d, s, dia);
  if (b === undefined) return undefined;
  if (dia.width === 1) return String.fromCharCode(...b);
  return String.fromCharCode(
    ...Array.from({ length: s.chars }, (_, i) => (b[2 * i] ?? 0) | ((b[2 * i + 1] ?? 0) << 8)),
  );
}

/** A string's length word at `at`, de-XORed; negative (as a 32-bit count of bytes) ends the walk. */
function stringBytes(d: Uint8Array, at: number, key: number, dia: Dialect): { chars: number; bytes: number } {
  const chars = (u32le(d, at) ^ key) >>> 0;
  return { chars, bytes: Math.imul(chars, dia.width) >>> 0 };
}

/** Where an archive's entries start and how its data is keyed. */
export interface Walk {
  readonly dialect: Dialect;
  /** Offset of the first entry in the bytes given. */
  readonly start: number;
  /** The data keystream's seed (EA05 adds the sum of the 16 bytes before the entries). */
  readonly dataSeed: number;
}

/** One entry's header facts. */
interface Entry {
  readonly name: string;
  readonly compressed: boolean;
  readonly script: boolean;
  /** Adler-32 of the decrypted packed data, as the header gives it. */
  readonly sum: number;
}

/** Adler-32 of `d`. */
export function adler32(d: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < d.length; ) {
    // Blocks of 3800 bytes keep both sums exact (far below 2^53) before the modulo.
    for (const stop = Math.min(d.length, i + 3800); i < stop; i++) {
      a += d[i] ?? 0;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** The member's bytes: decrypted, then decompressed when flagged; undefined when skipped. */
function content(packed: Uint8Array, e: Entry, w: Walk, ctx: ExtractContext): Uint8Array | undefined {
  const dia = w.dialect;
  const data = packed.slice();
  dia.decrypt(data, w.dataSeed);
  // A mismatch is reported, but the member is still read and scanned, as ClamAV scans it.
  if (adler32(data) !== e.sum) ctx.broken(`${e.name}: checksum mismatch`);
  if (!e.compressed) return data;
  if (data.length < 8 || u32le(data, 0) !== (0x304145 | ((0x30 + dia.version) << 24)) >>> 0) {
    ctx.broken(`${e.name}: not an EA0${dia.version} compressed stream`);
    return undefined;
  }
  // A size of 0 is taken as the packed size, as ClamAV does.
  const size = u32be(data, 4) || data.length;
  if (size > ctx.maxMemberSize) {
    ctx.tooBig(e.name, size);
    return undefined;
  }
  const out = unpack(data, size, dia.literal);
  if (!out.ok) ctx.broken(`${e.name}: damaged compressed data after ${out.data.length} of ${size} bytes`);
  return out.data;
}

/** The member as ClamAV scans it: EA06 scripts decompiled to text, anything else as it is. */
function* finish(bytes: Uint8Array, e: Entry, ctx: ExtractContext): Generator<Member> {
  if (!e.script) {
    yield { name: e.name, data: bytes };
    return;
  }
  const d = decompile(bytes, ctx.maxMemberSize);
  if (d.over) {
    ctx.tooBig(e.name, undefined);
    return;
  }
  if (d.error !== undefined) ctx.broken(`${e.name}: script decompiled in part (${d.error})`);
  yield { name: e.name, data: d.text };
}

/** True when the bytes left at `at` (fewer than 8) begin like an entry tag. */
function cutTag(d: Uint8Array, at: number, dia: Dialect): boolean {
  if (at >= d.length) return false;
  for (let i = 0; i < 4 && at + i < d.length; i++) if (d[at + i] !== (dia.tag >>> (8 * i)) % 256) return false;
  return true;
}

/** A length with its sign bit set: ClamAV's walk ends there. */
function negative(n: number, ctx: ExtractContext): boolean {
  if ((n | 0) >= 0) return false;
  ctx.broken(`AutoIt entry with a length of ${n >>> 0} bytes`);
  return true;
}

/**
 * Walks the entries of an AutoIt archive in `d` from `w.start`, yielding each member. Ends at the
 * first word that is not the entry tag, and at damage (reported, as is a cut tag).
 */
export function* entries(d: Uint8Array, w: Walk, ctx: ExtractContext): Generator<Member> {
  const dia = w.dialect;
  let at = w.start;
  let index = 0;
  while (at < d.length) {
    if (at + 8 > d.length) return cutTag(d, at, dia) ? ctx.broken('AutoIt entry truncated in its tag') : undefined;
    if (u32le(d, at) !== dia.tag) return;
    const kind = stringBytes(d, at + 4, dia.keys.kind, dia);
    if (negative(kind.bytes, ctx)) return;
    const script = isScript(d, { at: at + 8, chars: kind.chars, seed: dia.seeds.kind }, dia);
    at += 8 + kind.bytes;
    if (at + 4 > d.length) return ctx.broken('AutoIt entry truncated in its strings');
    const path = stringBytes(d, at, dia.keys.path, dia);
    if (negative(path.bytes, ctx)) return;
    const pathText = pathName(d, { at: at + 4, chars: path.chars, seed: dia.seeds.path }, dia);
    at += 4 + path.bytes;
    if (at + 13 > d.length) return ctx.broken('AutoIt entry truncated in its header');
    const compressed = d[at] === 1;
    const packedSize = (u32le(d, at + 1) ^ dia.keys.size) >>> 0;
    const sum = (u32le(d, at + 9) ^ dia.keys.sum) >>> 0;
    if (negative(packedSize, ctx)) return;
    at += FIXED;
    if (packedSize === 0) continue;
    index++;
    const name = pathText ?? `autoit.${String(index).padStart(3, '0')}`;
    if (packedSize > ctx.maxMemberSize) {
      ctx.tooBig(name, packedSize);
      at += packedSize;
      continue;
    }
    // Too short to hold a stream tag: skipped, and the walk goes on from the data itself.
    if (compressed && packedSize < 4) continue;
    if (at + packedSize > d.length) return ctx.broken(`${name}: AutoIt data truncated`);
    const e: Entry = { name, compressed, script, sum };
    const bytes = content(d.subarray(at, at + packedSize), e, w, ctx);
    at += packedSize;
    if (bytes !== undefined && bytes.length >= 4) yield* finish(bytes, e, ctx);
  }
}
