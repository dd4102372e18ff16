// WWPack32: the decoder on streams built here, and ClamAV's test file unpacked byte for byte as
// ClamAV rebuilds it (with the zip holding clam.exe); damaged and hostile copies end cleanly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assertLeftAlone,
  brokenRuns,
  cutsAndFlips,
  onlyMember,
  patched,
  runHandler,
} from '../../../test-support/extract.js';
import { CLAM_EXE_SHA256, md5, skipWithout, testFile, zipHashes } from '../../../test-support/testfiles.js';
import { readPe } from '../pe.js';
import { wwDecodeBlock } from './decode.js';
import { wwpackHandler } from './index.js';

const OTHERS = ['clam.exe', 'clam-petite.exe', 'clam-yc.exe', 'clam-pespin.exe'];
const skip = skipWithout('clam-wwpack.exe', ...OTHERS);

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
  const out = onlyMember(wwpackHandler, testFile('clam-wwpack.exe'));
  assert.equal(md5(out), '7b8cd3dd6a198ec191afce0206665d2d');
  assert.equal(readPe(out)?.sections.length, 4);
  assert.equal(zipHashes(out)[0], CLAM_EXE_SHA256, 'the first member of the zip inside is clam.exe');
});

test('an executable WWPack did not pack is left alone', { skip }, () => {
  assertLeftAlone(wwpackHandler, OTHERS);
});

test('WWPack cut short or with bits flipped ends cleanly, reporting damage', { skip }, () => {
  const file = testFile('clam-wwpack.exe');
  const broken = brokenRuns(wwpackHandler, cutsAndFlips(file, 0xa00, 0x1000, 400));
  assert.ok(broken > 10, `damage reported ${broken} times`);
});

test('WWPack: an image larger than the member limit is reported, not built', { skip }, () => {
  // The fourth section's memory size claimed as 2 GiB.
  const hostile = patched(testFile('clam-wwpack.exe'), 0xc8 + 24 + 0xe0 + 3 * 40 + 8, 0x7ff00000);
  const r = runHandler(wwpackHandler, hostile);
  assert.deepEqual(r.members, []);
  assert.equal(r.tooBig.length, 1);
});
