// Small archive writers for tests: just enough of each format to build good and hostile inputs
// byte by byte, where the real tools would refuse to make them; and the little-endian writers they use.
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { concatBytes } from '../containers/read.js';

const te = new TextEncoder();

/** `v` as 16-bit little-endian bytes. */
export function u16(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff);
}
/** `v` as 32-bit little-endian bytes. */
export function u32(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
}
/** `v` as `n` little-endian bytes (up to 2^53). */
export function le(v: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.floor(v / 2 ** (8 * i)) & 0xff);
}
/** Writes `v` as 32-bit little-endian at `o` of `d`. */
export function put32(d: Uint8Array, o: number, v: number): void {
  for (let k = 0; k < 4; k++) d[o + k] = (v >>> (8 * k)) & 0xff;
}
/** `n` lowercase letters in a pattern set by `seed`: text that compresses, for folders and streams. */
export function letters(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => 97 + ((i * seed + (i >> 7)) % 26));
}
/** Deterministic pseudo-random bytes (xorshift32 from `seed`). */
export function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
/** The parts one after another. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

export interface ZipEntry {
  readonly name: string;
  readonly data: Uint8Array;
  readonly method?: 0 | 8;
  readonly flags?: number;
  /** Overrides the uncompressed size written in the headers (a lying archive). */
  readonly claimedSize?: number;
  /** Points the central directory at another entry's local header (an overlapping bomb). */
  readonly sameDataAs?: number;
}

/** A ZIP with local headers, a central directory and its end record. */
export function zip(entries: readonly ZipEntry[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  const offsets: number[] = [];
  let offset = 0;
  for (const e of entries) {
    const method = e.method ?? 8;
    const packed = method === 8 ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const name = te.encode(e.name);
    const size = e.claimedSize ?? e.data.length;
    const fields = [u16(e.flags ?? 0), u16(method), u32(0), u32(crc32(e.data)), u32(packed.length), u32(size)];
    const at = e.sameDataAs === undefined ? offset : (offsets[e.sameDataAs] as number);
    offsets.push(at);
    if (e.sameDataAs === undefined) {
      const local = concat(u32(0x04034b50), u16(20), ...fields, u16(name.length), u16(0), name, packed);
      locals.push(local);
      offset += local.length;
    }
    central.push(
      concat(
        u32(0x02014b50),
        u16(20),
        u16(20),
        ...fields,
        u16(name.length),
        u16(0),
        u16(0),
        u16(0),
        u16(0),
        u32(0),
        u32(at),
        name,
      ),
    );
  }
  const dir = concat(...central);
  const end = concat(
    u32(0x06054b50),
    u16(0),
    u16(0),
    u16(entries.length),
    u16(entries.length),
    u32(dir.length),
    u32(offset),
    u16(0),
  );
  return concat(...locals, dir, end);
}

function octal(v: number, width: number): string {
  return `${v.toString(8).padStart(width - 1, '0')}\0`;
}

/** One tar header block; `ustar` false gives a V7 header. */
export function tarHeader(name: string, size: number, opts: { type?: string; ustar?: boolean } = {}): Uint8Array {
  const h = new Uint8Array(512);
  h.set(te.encode(name).subarray(0, 100), 0);
  h.set(te.encode(octal(0o644, 8)), 100);
  h.set(te.encode(octal(0, 8)), 108);
  h.set(te.encode(octal(0, 8)), 116);
  h.set(te.encode(size < 8 ** 11 ? octal(size, 12) : `${size.toString(8)}`.slice(0, 12)), 124);
  h.set(te.encode(octal(0, 12)), 136);
  h[156] = (opts.type ?? '0').charCodeAt(0);
  if (opts.ustar !== false) h.set(te.encode('ustar\x0000'), 257);
  h.fill(0x20, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0);
  h.set(te.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
  return h;
}

/** A tar archive of `entries`, each padded to 512 bytes, with the end marker. */
export function tar(
  entries: readonly { name: string; data: Uint8Array; type?: string; ustar?: boolean }[],
): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    parts.push(tarHeader(e.name, e.data.length, e), e.data, new Uint8Array((512 - (e.data.length % 512)) % 512));
  }
  return concat(...parts, new Uint8Array(1024));
}

/** A newc cpio archive. */
export function cpioNewc(entries: readonly { name: string; data: Uint8Array }[]): Uint8Array {
  const hex8 = (v: number) => v.toString(16).padStart(8, '0');
  const pad4 = (n: number) => new Uint8Array((4 - (n % 4)) % 4);
  const parts: Uint8Array[] = [];
  for (const e of [...entries, { name: 'TRAILER!!!', data: new Uint8Array(0) }]) {
    const name = te.encode(`${e.name}\0`);
    const mode = e.name === 'TRAILER!!!' ? 0 : 0o100644;
    const fields = [1, mode, 0, 0, 1, 0, e.data.length, 0, 0, 0, 0, name.length, 0].map(hex8).join('');
    const head = te.encode(`070701${fields}`);
    parts.push(head, name, pad4(head.length + name.length), e.data, pad4(e.data.length));
  }
  return concat(...parts);
}

/** `data` gzipped `times` times over. */
export function gzipNested(data: Uint8Array, times: number): Uint8Array {
  let out = data;
  for (let i = 0; i < times; i++) out = new Uint8Array(gzipSync(out));
  return out;
}

/**
 * A version-3 compound file with one stream in regular sectors (the mini-stream cutoff is set
 * below its size). `loop` makes the stream's first sector point to itself.
 */
export function ole2(name: string, data: Uint8Array, opts: { loop?: boolean } = {}): Uint8Array {
  const S = 512;
  const streamSectors = Math.ceil(data.length / S);
  const out = new Uint8Array(S * (3 + streamSectors));
  const dv = new DataView(out.buffer);
  out.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], 0);
  dv.setUint16(0x18, 0x3e, true);
  dv.setUint16(0x1a, 3, true);
  dv.setUint16(0x1c, 0xfffe, true);
  dv.setUint16(0x1e, 9, true);
  dv.setUint16(0x20, 6, true);
  dv.setUint32(0x2c, 1, true);
  dv.setUint32(0x30, 1, true);
  dv.setUint32(0x38, 64, true);
  dv.setUint32(0x3c, 0xfffffffe, true);
  dv.setUint32(0x44, 0xfffffffe, true);
  for (let i = 0; i < 109; i++) dv.setUint32(0x4c + i * 4, i === 0 ? 0 : 0xffffffff, true);
  const fat = S; // sector 0
  for (let i = 0; i < S / 4; i++) dv.setUint32(fat + i * 4, 0xffffffff, true);
  dv.setUint32(fat, 0xfffffffd, true);
  dv.setUint32(fat + 4, 0xfffffffe, true);
  for (let k = 0; k < streamSectors; k++) {
    const next = opts.loop === true && k === 0 ? 2 : k + 1 < streamSectors ? 3 + k : 0xfffffffe;
    dv.setUint32(fat + (2 + k) * 4, next, true);
  }
  const dir = 2 * S; // sector 1
  const entry = (o: number, n: string, type: number, start: number, size: number) => {
    for (let i = 0; i < n.length; i++) dv.setUint16(o + i * 2, n.charCodeAt(i), true);
    dv.setUint16(o + 64, (n.length + 1) * 2, true);
    out[o + 66] = type;
    dv.setUint32(o + 116, start, true);
    dv.setUint32(o + 120, size, true);
  };
  entry(dir, 'Root Entry', 5, 0xfffffffe, 0);
  entry(dir + 128, name, 2, 2, data.length);
  out.set(data, 3 * S); // sectors 2..
  return out;
}
