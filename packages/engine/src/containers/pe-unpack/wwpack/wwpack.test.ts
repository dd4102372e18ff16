// WWPack32: the decoder on streams built here, and ClamAV's test file unpacked byte for byte as
// ClamAV rebuilds it (with the zip holding clam.exe); damaged and hostile copies end cleanly.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { testEnv } from '../../../test-support/env.js';
import { readPe } from '../pe.js';
import { bitFlips, firstZipMember, patched, runHandler, truncations } from '../petite/testkit.js';
import { wwDecodeBlock } from './decode.js';
import { wwpackHandler } from './index.js';

const DIR = '/usr/share/clamav-testfiles';
const CLAM_SHA256 = '71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495';
const skip = existsSync(DIR) ? false : `ClamAV's test files are not installed in ${DIR}`;
const read = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));
const hash = (algo: string, d: Uint8Array) => createHash(algo).update(d).digest('hex');

/** A WWPack stream: bit fields packed into 32-bit words from the top, literal bytes in between. */
function stream(parts: readonly (readonly [number, number] | string)[]): Uint8Array {
  const words: number[][] = [];
  let cur: number[] = [];
  const literals: number[][] = [];
  let bits = 0;
  let pendingLiterals: number[] = [];
  const flush = () => {
    words.push(cur);
    literals.push(pendingLiterals);
    cur = [];
    pendingLiterals = [];
    bits = 0;
  };
  for (const p of parts) {
    if (typeof p === 'string') {
      cur.push(0);
      pendingLiterals.push(p.charCodeAt(0));
      if (++bits === 32) flush();
      continue;
    }
    const [value, width] = p;
    for (let k = width - 1; k >= 0; k--) {
      cur.push((value >> k) & 1);
      if (++bits === 32) flush();
    }
  }
  flush();
  flush(); // one spare word, as the packer leaves room for the reader's look-ahead
  const out: number[] = [];
  for (const [i, w] of words.entries()) {
    let v = 0;
    for (let k = 0; k < 32; k++) v = (v << 1) | (w[k] ?? 0);
    out.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24, ...(literals[i] ?? []));
  }
  return Uint8Array.from(out);
}

const END: (readonly [number, number])[] = [
  [1, 1],
  [3, 2],
  [3, 2],
  [0x1ff, 9],
];

test('WWPack decoder: literals, a two-byte copy, a long copy and the end marker', () => {
  // "AB", a two-byte copy 2 back ("AB"), then a 3-byte copy (prefix 1) 4 back: "ABA".
  const s = stream(['A', 'B', [1, 1], [3, 2], [0, 2], [1, 5], [1, 1], [1, 2], [0, 3], [4 + 31 - 32, 5], ...END]);
  const out = new Uint8Array(16);
  const end = wwDecodeBlock(s, out, 0);
  assert.equal(end, 7);
  assert.equal(new TextDecoder().decode(out.subarray(0, 7)), 'ABABABA');
});

test('WWPack decoder: a stream without its end marker, or copying from before its output, fails', () => {
  const out = new Uint8Array(16);
  assert.equal(wwDecodeBlock(stream(['A', 'B']), out, 0), undefined);
  assert.equal(wwDecodeBlock(stream(['A', [1, 1], [3, 2], [1, 2], [0, 6], ...END]), out, 0), undefined);
  assert.equal(wwDecodeBlock(new Uint8Array(3), out, 0), undefined);
});

test('clam-wwpack.exe unpacks to the very file ClamAV rebuilds, with clam.exe inside', { skip }, () => {
  const r = runHandler(wwpackHandler, read('clam-wwpack.exe'), testEnv);
  assert.deepEqual(r.broken, []);
  assert.equal(r.members.length, 1);
  const out = (r.members[0] as { data: Uint8Array }).data;
  assert.equal(hash('md5', out), '7b8cd3dd6a198ec191afce0206665d2d');
  assert.equal(readPe(out)?.sections.length, 4);
  const clam = firstZipMember(out, testEnv);
  assert.ok(clam);
  assert.equal(hash('sha256', clam), CLAM_SHA256);
});

test('an executable WWPack did not pack is left alone', { skip }, () => {
  for (const name of ['clam.exe', 'clam-petite.exe', 'clam-yc.exe', 'clam-pespin.exe']) {
    const r = runHandler(wwpackHandler, read(name), testEnv);
    assert.deepEqual([r.members.length, r.broken.length], [0, 0], name);
  }
});

test('WWPack cut short or with bits flipped ends cleanly, reporting damage', { skip }, () => {
  const file = read('clam-wwpack.exe');
  let broken = 0;
  for (const d of [...truncations(file, 64), ...bitFlips(file, 0xa00, 0x1000, 400)]) {
    const r = runHandler(wwpackHandler, d, testEnv);
    assert.ok(r.members.length <= 1);
    if (r.broken.length) broken++;
  }
  assert.ok(broken > 10, `damage reported ${broken} times`);
});

test('WWPack: an image larger than the member limit is reported, not built', { skip }, () => {
  // The fourth section's memory size claimed as 2 GiB.
  const hostile = patched(read('clam-wwpack.exe'), 0xc8 + 24 + 0xe0 + 3 * 40 + 8, 0x7ff00000);
  const r = runHandler(wwpackHandler, hostile, testEnv);
  assert.deepEqual(r.members, []);
  assert.equal(r.tooBig.length, 1);
});
