// Running a container handler in a test: an ExtractContext that records what the handler reports,
// one run with every member checked against the size cap, and damaged copies of an input (cut
// short, bits flipped, a field patched) for the tests that hostile input ends cleanly.
import assert from 'node:assert/strict';
import type { ContainerHandler, ExtractContext, Member } from '../containers/types.js';
import type { EngineEnv } from '../env.js';
import { testEnv } from './env.js';
import { testFile } from './testfiles.js';

/** One `tooBig` report: the member's name and the size it claimed, if known. */
export type TooBig = readonly [name: string, size: number | undefined];

/** What a handler reported through its context. */
export interface Reports {
  readonly broken: string[];
  readonly tooBig: TooBig[];
}

/** An ExtractContext that keeps its reports in `reports`. */
export interface RecordingContext extends ExtractContext {
  readonly reports: Reports;
}

/** The context's settings; a number is the member limit alone. */
export type RunOptions = number | { readonly maxMemberSize?: number; readonly env?: EngineEnv; readonly name?: string };

/** A context allowing `maxMemberSize` bytes per member (64 MiB unless told), with the node-backed test env. */
export function recordingContext(options: RunOptions = {}): RecordingContext {
  const o = typeof options === 'number' ? { maxMemberSize: options } : options;
  const reports: Reports = { broken: [], tooBig: [] };
  return {
    env: o.env ?? testEnv,
    name: o.name ?? 'test',
    maxMemberSize: o.maxMemberSize ?? 64 << 20,
    reports,
    tooBig: (name, size) => void reports.tooBig.push([name, size]),
    encrypted: () => {},
    broken: (what) => void reports.broken.push(what),
  };
}

/** What one run of a handler produced and reported. */
export interface Run extends Reports {
  readonly members: Member[];
}

/** Runs `handler` over `data`, asserting that no member passes the context's member limit. */
export function runHandler(handler: ContainerHandler, data: Uint8Array, options: RunOptions = {}): Run {
  const ctx = recordingContext(options);
  const members: Member[] = [];
  for (const m of handler.extract(data, ctx)) {
    assert.ok(m.data.length <= ctx.maxMemberSize, `${m.name} passes maxMemberSize`);
    members.push(m);
  }
  return { members, ...ctx.reports };
}

/** Runs `handler` over `data` expecting one member and no damage reported; the member's bytes. */
export function onlyMember(handler: ContainerHandler, data: Uint8Array, options: RunOptions = {}): Uint8Array {
  const r = runHandler(handler, data, options);
  assert.deepEqual(r.broken, []);
  assert.equal(r.members.length, 1);
  return (r.members[0] as Member).data;
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

/** `data` cut short at 64 points, then `count` copies with one bit flipped across `[from, to)`. */
export function cutsAndFlips(data: Uint8Array, from: number, to: number, count: number): Uint8Array[] {
  return [...truncations(data, 64), ...bitFlips(data, from, to, count)];
}

/** Copies of `data` with each byte in turn XORed with each of `masks`. */
export function* byteFlips(data: Uint8Array, masks: readonly number[] = [0x01, 0x80, 0xff]): Generator<Uint8Array> {
  for (let o = 0; o < data.length; o++) {
    for (const mask of masks) {
      const copy = data.slice();
      copy[o] = (copy[o] as number) ^ mask;
      yield copy;
    }
  }
}

/** A copy of `data` with a 32-bit little-endian `value` written at `at`. */
export function patched(data: Uint8Array, at: number, value: number): Uint8Array {
  const copy = data.slice();
  new DataView(copy.buffer).setUint32(at, value, true);
  return copy;
}

/** Asserts that `handler` yields nothing and reports nothing on each of ClamAV's test files named. */
export function assertLeftAlone(handler: ContainerHandler, names: readonly string[], options: RunOptions = {}): void {
  for (const name of names) {
    const r = runHandler(handler, testFile(name), options);
    assert.deepEqual([r.members.length, r.broken, r.tooBig], [0, [], []], name);
  }
}

/**
 * Runs an unpacker over damaged copies of its input: each run ends (no throw) with at most the one
 * rebuilt file, which `check` may inspect. Returns how many of the runs reported damage.
 */
export function brokenRuns(handler: ContainerHandler, inputs: readonly Uint8Array[], check?: (r: Run) => void): number {
  let broken = 0;
  for (const d of inputs) {
    const r = runHandler(handler, d);
    assert.ok(r.members.length <= 1);
    check?.(r);
    if (r.broken.length > 0) broken++;
  }
  return broken;
}
