// MEW: ClamAV's test file unpacks to a PE holding the ZIP with clam.exe; other executables are left
// alone; cut, bit-flipped and hostile copies end cleanly; the LZMA stage on streams made elsewhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { put32 } from '../../../test-support/archives.js';
import { byteFlips, recordingContext, runHandler } from '../../../test-support/extract.js';
import { LZMA_LC4_PB2, lzmaPlain } from '../../../test-support/lzma-samples.js';
import { CLAM_EXE_SHA256, sha256, skipWithout, testFile, zipHashes } from '../../../test-support/testfiles.js';
import { Damaged } from '../image-lzma.js';
import { readPe } from '../pe.js';
import { mewHandler } from './index.js';
import { mewLzma } from './mewlzma.js';
import { unpackMew } from './unpack.js';

const skip = skipWithout('clam-mew.exe', 'clam.exe');
const run = (d: Uint8Array, max = 64 << 20) => runHandler(mewHandler, d, max);

test('clam-mew.exe unpacks to a PE holding the ZIP with clam.exe', { skip }, () => {
  const { broken, members } = run(testFile('clam-mew.exe'));
  assert.deepEqual(broken, []);
  assert.equal(members.length, 1);
  const m = members[0]!;
  assert.equal(m.type, 'CL_TYPE_MSEXE');
  const pe = readPe(m.data);
  assert.ok(pe, 'the rebuilt file is a PE');
  assert.equal(pe.sections.length, 5, 'five MEW streams, five sections');
  assert.equal(pe.entryRva, 0x1020, 'the original entry point the stub keeps');
  assert.ok(zipHashes(m.data).includes(CLAM_EXE_SHA256));
});

test('a PE that is not MEW-packed is left alone', { skip }, () => {
  const d = testFile('clam.exe');
  const pe = readPe(d);
  assert.ok(pe);
  assert.deepEqual(unpackMew(d, pe, recordingContext()), { kind: 'not-packed' });
});

test('a truncated clam-mew.exe never throws; cut streams are reported', { skip }, () => {
  const d = testFile('clam-mew.exe');
  for (let n = 0; n < d.length; n += 3) {
    const { members } = run(d.subarray(0, n), 1 << 20); // members within 1 MiB, as run asserts
    // the entry point is the file's last bytes: a cut file is not recognised at all
    if (n < 0x600) assert.equal(members.length, 0);
  }
  // keep the stub, cut the streams: the data after `k` is gone (zero, as past a file's end)
  let broken = 0;
  for (let k = 0x21c; k < 0x5f0; k += 4) {
    const x = d.slice();
    x.fill(0, k, 0x5f0);
    const r = run(x, 1 << 20);
    broken += r.broken.length;
    assert.equal(r.members.length + r.broken.length, 1);
  }
  assert.ok(broken >= 100, `most cut streams are reported (${broken})`);
});

test('bit flips in clam-mew.exe end cleanly', { skip }, () => {
  const d = testFile('clam-mew.exe');
  let broken = 0;
  for (const x of byteFlips(d)) broken += run(x, 1 << 20).broken.length; // members within 1 MiB, as run asserts
  assert.ok(broken > 0, 'damage in the streams is reported');
});

test('a section size past the member limit is reported, not unpacked', { skip }, () => {
  const r = run(testFile('clam-mew.exe'), 0x3000);
  assert.equal(r.members.length, 0);
  assert.deepEqual(r.tooBig, [['mew-unpacked', 0x6000]]);
});

test('a hostile virtual size is capped', { skip }, () => {
  const d = testFile('clam-mew.exe');
  const pe = readPe(d)!;
  const table = pe.peOffset + 24 + 0xe0;
  put32(d, table + 8, 0x7ff00000); // the empty section claims 2 GiB
  const r = run(d, 1 << 20);
  assert.equal(r.members.length, 0);
  assert.equal(r.tooBig.length, 1);
});

/** An image with MEW's LZMA block list at 0, the stream after it, probabilities and output further on. */
function mewLzmaImage(stream: Uint8Array, size: number, vma: number) {
  const probsAt = 0x1000;
  const outAt = 0x9000;
  const img = new Uint8Array(outAt + size + 16);
  put32(img, 0, vma + probsAt);
  put32(img, 4, size);
  put32(img, 8, vma + outAt);
  put32(img, 12, stream.length + 1);
  img[16] = 0x5d; // the properties byte the stub skips
  img.set(stream, 17);
  put32(img, 17 + stream.length, 0); // end of the block list
  return { img, outAt };
}

test("MEW's LZMA stage decodes a plain LZMA block into the image", () => {
  const want = lzmaPlain();
  const vma = 0x401000;
  const { img, outAt } = mewLzmaImage(LZMA_LC4_PB2, want.length, vma);
  mewLzma(img, 0, vma, false);
  assert.equal(sha256(img.subarray(outAt, outAt + want.length)), sha256(want));
});

test("MEW's LZMA stage stops on damaged or cut streams with Damaged only", () => {
  const want = lzmaPlain();
  const vma = 0x401000;
  for (let n = 0; n < LZMA_LC4_PB2.length; n += 5) {
    const { img } = mewLzmaImage(LZMA_LC4_PB2.subarray(0, n), want.length, vma);
    img.fill(0xff, 17 + n); // no end of list: the stream runs off into junk or the image's end
    assert.throws(() => mewLzma(img.subarray(0, 0x9000 + want.length), 0, vma, false), Damaged);
  }
  for (let o = 1; o < LZMA_LC4_PB2.length; o += 3) {
    const s = Buffer.from(LZMA_LC4_PB2);
    s[o] = (s[o] as number) ^ 0x5a;
    const { img } = mewLzmaImage(s, want.length, vma);
    try {
      mewLzma(img, 0, vma, false);
    } catch (e) {
      assert.ok(e instanceof Damaged, String(e));
    }
  }
});

// 32 bytes, a CALL to absolute 0x1000 (big-endian, as MEW stores it) then filler, raw LZMA as above.
const LZMA_CALL = Buffer.from('004839fc1810002382ead3c5a648c0575c6ffffff5d90000', 'hex');

test("MEW's special LZMA form turns CALL targets back to relative", () => {
  const vma = 0x401000;
  const { img, outAt } = mewLzmaImage(LZMA_CALL, 32, vma);
  const special = new Uint8Array(img.length + 4);
  put32(special, 0, 12); // the fix-up covers the first 12 bytes
  special.set(img, 4);
  mewLzma(special, 0, vma, true);
  const out = special.subarray(outAt, outAt + 32);
  // E8 at 1: target 0x1000 less the 2 bytes up to the operand, little-endian
  assert.deepEqual([...out.subarray(0, 7)], [0x90, 0xe8, 0xfe, 0x0f, 0x00, 0x00, 0x90]);
  assert.equal(Buffer.from(out.subarray(12)).toString(), 'tail'.repeat(5));
});
