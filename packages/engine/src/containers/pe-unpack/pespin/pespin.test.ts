// PESpin: the FSG decoder and the POLY1 snippet on inputs built here, and ClamAV's test file
// unpacked to a PE holding clam.exe; damaged and hostile copies end cleanly.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { testEnv } from '../../../test-support/env.js';
import { readPe } from '../pe.js';
import { bitFlips, patched, runHandler, truncations } from '../petite/testkit.js';
import { pespinHandler } from './index.js';
import { runPoly1 } from './layers.js';
import { unfsg } from './unfsg.js';

const DIR = '/usr/share/clamav-testfiles';
const CLAM_SHA256 = '71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495';
const skip = existsSync(DIR) ? false : `ClamAV's test files are not installed in ${DIR}`;
const read = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));
const sha256 = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
const text = (d: Uint8Array) => new TextDecoder().decode(d);

test('FSG decoder: literals, a short copy, a zero byte, a one-byte-distance copy and the end', () => {
  // Tags (top bit first) 0 0 | 111 0010 | 111 0000 | 110 [byte 0x05: distance 2, length 3] | 110 [0x00: end]
  // 'A' comes first without a tag; then 'B', 'C'; a 1-byte copy 2 back; a zero; a 3-byte copy 2 back.
  const tags = '00' + '1110010' + '1110000' + '110' + '110';
  const bytes = [0x41];
  let bit = 0;
  const literal: Record<number, number[]> = { 0: [0x42], 1: [0x43], 18: [0x05], 21: [0x00] };
  for (let i = 0; i < tags.length; i += 8) {
    bytes.push(Number.parseInt(tags.slice(i, i + 8).padEnd(8, '0'), 2));
    for (; bit < Math.min(i + 8, tags.length); bit++) bytes.push(...(literal[bit] ?? []));
  }
  bytes.push(0, 0);
  const out = new Uint8Array(16);
  assert.equal(unfsg(Uint8Array.from(bytes), out), true);
  assert.deepEqual([...out.subarray(0, 8)], [0x41, 0x42, 0x43, 0x42, 0x00, 0x42, 0x00, 0x42]);
});

test('FSG decoder: a stream cut short or copying from before its output fails', () => {
  assert.equal(unfsg(Uint8Array.of(0x41, 0x00), new Uint8Array(4)), false);
  assert.equal(unfsg(Uint8Array.of(0x41, 0b11100110, 0, 0), new Uint8Array(4)), false);
  assert.equal(unfsg(new Uint8Array(0), new Uint8Array(4)), false);
});

test('POLY1: a 0x24-byte snippet ending in STOSB runs per byte with CL counting down', () => {
  const snippet = new Uint8Array(0x25).fill(0x90);
  snippet.set([0x04, 0x05, 0xeb, 0x01, 0xcc, 0x32, 0xc1, 0xfe, 0xc0, 0xc0, 0xc8, 0x01]);
  snippet[0x24] = 0xaa;
  const buf = new Uint8Array([...snippet, 0x10, 0x20, 0x30]);
  assert.equal(runPoly1(buf, 0, 0x25, 3), true);
  const ror1 = (a: number) => ((a >> 1) | (a << 7)) & 0xff;
  const want = [0x10, 0x20, 0x30].map((b, i) => ror1(((((b + 5) & 0xff) ^ (3 - i)) + 1) & 0xff));
  assert.deepEqual([...buf.subarray(0x25)], want);
  snippet[0x24] = 0x90;
  assert.equal(runPoly1(Uint8Array.from([...snippet, 1]), 0, 0x25, 1), false);
});

test('clam-pespin.exe unpacks to a PE holding clam.exe', { skip }, () => {
  const r = runHandler(pespinHandler, read('clam-pespin.exe'), testEnv);
  assert.deepEqual(r.broken, []);
  assert.equal(r.members.length, 1);
  const out = (r.members[0] as { data: Uint8Array }).data;
  const pe = readPe(out);
  assert.ok(pe);
  assert.deepEqual(
    pe.sections.map((s) => s.rva),
    [0x1000, 0x2000, 0x3000, 0x4000],
  );
  const found: number[] = [];
  for (let at = out.indexOf(0x4d); at >= 0; at = out.indexOf(0x4d, at + 1))
    if (text(out.subarray(at, at + 2)) === 'MZ' && sha256(out.subarray(at, at + 544)) === CLAM_SHA256) found.push(at);
  assert.equal(found.length, 1);
});

test('an executable PESpin did not pack is left alone', { skip }, () => {
  for (const name of ['clam.exe', 'clam-petite.exe', 'clam-wwpack.exe', 'clam-yc.exe']) {
    const r = runHandler(pespinHandler, read(name), testEnv);
    assert.deepEqual([r.members.length, r.broken.length], [0, 0], name);
  }
});

test('PESpin cut short or with bits flipped ends cleanly, reporting damage', { skip }, () => {
  const file = read('clam-pespin.exe');
  let broken = 0;
  for (const d of [...truncations(file, 64), ...bitFlips(file, 0xa00, file.length, 300)]) {
    const r = runHandler(pespinHandler, d, testEnv);
    assert.ok(r.members.length <= 1);
    if (r.broken.length) broken++;
  }
  assert.ok(broken > 10, `damage reported ${broken} times`);
});

test('PESpin: compressed sections larger than the member limit are reported, not expanded', { skip }, () => {
  // The compressed fourth section's memory size claimed as 2 GiB.
  const hostile = patched(read('clam-pespin.exe'), 0xc8 + 24 + 0xe0 + 3 * 40 + 8, 0x7ff00000);
  const r = runHandler(pespinHandler, hostile, testEnv);
  assert.deepEqual(r.members, []);
  assert.equal(r.tooBig.length, 1);
});
