// Upack: ClamAV's test file unpacks to a PE holding the ZIP with clam.exe; other executables are left
// alone; cut, bit-flipped and hostile copies end cleanly; Upack's LZMA on a stream made elsewhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { put32 } from '../../../test-support/archives.js';
import { byteFlips, recordingContext, runHandler } from '../../../test-support/extract.js';
import { LZMA_LC3_PB0, lzmaPlain } from '../../../test-support/lzma-samples.js';
import { CLAM_EXE_SHA256, sha256, skipWithout, testFile, zipHashes } from '../../../test-support/testfiles.js';
import { Damaged } from '../image-lzma.js';
import { readPe } from '../pe.js';
import { upackLzma } from './decode.js';
import { upackHandler } from './index.js';
import { unpackUpack } from './unpack.js';

const skip = skipWithout('clam-upack.exe', 'clam-mew.exe', 'clam.exe');
const run = (d: Uint8Array, max = 64 << 20) => runHandler(upackHandler, d, max);

test('clam-upack.exe unpacks to a PE holding the ZIP with clam.exe', { skip }, () => {
  const { broken, members } = run(testFile('clam-upack.exe'));
  assert.deepEqual(broken, []);
  assert.equal(members.length, 1);
  const pe = readPe(members[0]!.data);
  assert.ok(pe, 'the rebuilt file is a PE');
  assert.equal(pe.sections.length, 1);
  assert.equal(pe.entryRva, 0x20, "the entry point as ClamAV's rebuild states it");
  assert.ok(zipHashes(members[0]!.data).includes(CLAM_EXE_SHA256));
});

test('PEs that are not Upack-packed are left alone', { skip }, () => {
  for (const name of ['clam.exe', 'clam-mew.exe']) {
    const d = testFile(name);
    assert.deepEqual(unpackUpack(d, readPe(d)!, recordingContext()), { kind: 'not-packed' }, name);
  }
});

test('a truncated clam-upack.exe never throws, and damage to the stream is reported', { skip }, () => {
  const d = testFile('clam-upack.exe');
  let broken = 0;
  for (let n = 0; n < d.length; n += 3) broken += run(d.subarray(0, n), 1 << 20).broken.length; // members within 1 MiB
  assert.ok(broken > 0);
});

test('bit flips in clam-upack.exe end cleanly', { skip }, () => {
  const d = testFile('clam-upack.exe');
  let broken = 0;
  for (const x of byteFlips(d)) broken += run(x, 1 << 20).broken.length; // members within 1 MiB, as run asserts
  assert.ok(broken > 100, `damage is reported (${broken})`);
});

test('section sizes past the member limit are reported, not unpacked', { skip }, () => {
  const small = run(testFile('clam-upack.exe'), 0x8000);
  assert.equal(small.members.length, 0);
  assert.deepEqual(small.tooBig, [['upack-unpacked', 0xe000]]);
  const d = testFile('clam-upack.exe');
  const pe = readPe(d)!;
  put32(d, pe.peOffset + 24 + 0x148 + 40 + 8, 0x7ff00000); // the second section claims 2 GiB
  const hostile = run(d, 1 << 20);
  assert.equal(hostile.members.length, 0);
  assert.equal(hostile.tooBig.length, 1);
});

/** An image with the table Upack's stub prepares, room for the output, and the stream last. */
function upackImage(stream: Uint8Array, size: number) {
  const cells = 0x402 + 8 * 0x300;
  const out = cells * 4;
  const input = out + size;
  const img = new Uint8Array(input + stream.length - 1);
  for (const [k, v] of [0xffffffff, 0, 1, 1, 1, 1].entries()) put32(img, 4 * k, v);
  for (let k = 6; k < cells; k++) put32(img, 4 * k, 0x400);
  img.set(stream.subarray(1), input); // Upack's coder starts at the code, past LZMA's leading zero
  return { img, st: { table: 0, input, out, end: out + size, shift: 5 } };
}

test("Upack's LZMA decodes a plain LZMA stream (lc=3, lp=0, pb=0)", () => {
  const want = lzmaPlain();
  const { img, st } = upackImage(LZMA_LC3_PB0, want.length);
  upackLzma(img, st);
  assert.equal(sha256(img.subarray(st.out, st.end)), sha256(want));
});

test("Upack's LZMA stops on cut or damaged streams with Damaged only", () => {
  const want = lzmaPlain();
  for (let n = 2; n < LZMA_LC3_PB0.length - 8; n += 5) {
    const { img, st } = upackImage(LZMA_LC3_PB0.subarray(0, n), want.length);
    assert.throws(() => upackLzma(img, st), Damaged, `cut at ${n}`);
  }
  for (let o = 1; o < LZMA_LC3_PB0.length; o += 3) {
    const s = Buffer.from(LZMA_LC3_PB0);
    s[o] = (s[o] as number) ^ 0x5a;
    const { img, st } = upackImage(s, want.length);
    try {
      upackLzma(img, st);
    } catch (e) {
      assert.ok(e instanceof Damaged, String(e));
    }
  }
});
