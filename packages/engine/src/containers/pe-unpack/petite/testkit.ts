// Helpers for the tests of the Petite, WWPack, yC and PESpin unpackers (pure, like the engine: the
// tests themselves read files and hash): a recording ExtractContext, one handler run, and damaged
// variants of a file (cut short at many points, single bits flipped across a span).
import type { EngineEnv } from '../../../env.js';
import type { ContainerHandler, ExtractContext, Member } from '../../types.js';

/** What one run of a handler produced and reported. */
export interface Run {
  readonly members: Member[];
  readonly broken: string[];
  readonly tooBig: (number | undefined)[];
}

/** Runs `handler` over `data` with a context that records its reports. */
export function runHandler(handler: ContainerHandler, data: Uint8Array, env: EngineEnv, maxMemberSize = 64 << 20): Run {
  const run: Run = { members: [], broken: [], tooBig: [] };
  const ctx: ExtractContext = {
    env,
    name: 'input',
    maxMemberSize,
    tooBig: (_name, size) => void run.tooBig.push(size),
    encrypted: () => {},
    broken: (what) => void run.broken.push(what),
  };
  for (const m of handler.extract(data, ctx)) run.members.push(m);
  return run;
}

/** `data` cut short at `count` points spread over its length. */
export function truncations(data: Uint8Array, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let k = 0; k < count; k++) out.push(data.subarray(0, Math.floor((data.length * k) / count)));
  return out;
}

/** Copies of `data`, each with one bit flipped, at `count` places spread over `[from, to)`. */
export function bitFlips(data: Uint8Array, from: number, to: number, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const at = from + Math.floor(((to - from) * k) / count);
    const copy = data.slice();
    copy[at] = (copy[at] as number) ^ (1 << (k % 8));
    out.push(copy);
  }
  return out;
}

/** Where `needle` first occurs in `hay`, or -1. */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

/** The first member of the first zip local header in `d`, inflated with `env` (deflate only). */
export function firstZipMember(d: Uint8Array, env: EngineEnv): Uint8Array | undefined {
  const at = indexOfBytes(d, Uint8Array.of(0x50, 0x4b, 0x03, 0x04));
  if (at < 0 || at + 30 > d.length) return undefined;
  const v = new DataView(d.buffer, d.byteOffset, d.length);
  const size = v.getUint32(at + 18, true);
  const start = at + 30 + v.getUint16(at + 26, true) + v.getUint16(at + 28, true);
  const r = env.inflate('raw', d.subarray(start, start + size), 1 << 20);
  return r.status === 'ok' ? r.data : undefined;
}

/** Writes a 32-bit little-endian value into a copy of `data`. */
export function patched(data: Uint8Array, at: number, value: number): Uint8Array {
  const copy = data.slice();
  new DataView(copy.buffer).setUint32(at, value, true);
  return copy;
}
