import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { readPe } from '../pe.js';
import { unpackLz } from './aplib.js';
import { mewHandler } from './index.js';
import { Damaged } from './lzma.js';
import { mewLzma } from './mewlzma.js';
import { aplibPack, put32, recordingContext } from './testkit.js';
import { unpackMew } from './unpack.js';

const DIR = '/usr/share/clamav-testfiles';
const skip = existsSync(DIR) ? false : `${DIR} is not installed`;
const CLAM_SHA = '71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495';
const sha256 = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
const file = (name: string) => new Uint8Array(readFileSync(`${DIR}/${name}`));

/** The SHA-256 of each member of the first ZIP found in `d` (the rebuilt MEW test file is a ZIP SFX). */
function zipMembers(d: Uint8Array): string[] {
  const b = Buffer.from(d);
  const out: string[] = [];
  for (let at = b.indexOf('PK\x03\x04'); at >= 0; at = b.indexOf('PK\x03\x04', at + 4)) {
    const method = b.readUInt16LE(at + 8);
    const csize = b.readUInt32LE(at + 18);
    const start = at + 30 + b.readUInt16LE(at + 26) + b.readUInt16LE(at + 28);
    const body = b.subarray(start, start + csize);
    out.push(sha256(method === 8 ? inflateRawSync(body) : body));
  }
  return out;
}

function unpackFile(d: Uint8Array, max = 64 << 20) {
  const ctx = recordingContext(max);
  const members = [...mewHandler.extract(d, ctx)];
  return { ctx, members };
}

test('clam-mew.exe unpacks to a PE holding the ZIP with clam.exe', { skip }, () => {
  const { ctx, members } = unpackFile(file('clam-mew.exe'));
  assert.deepEqual(ctx.brokenCalls, []);
  assert.equal(members.length, 1);
  const m = members[0]!;
  assert.equal(m.type, 'CL_TYPE_MSEXE');
  const pe = readPe(m.data);
  assert.ok(pe, 'the rebuilt file is a PE');
  assert.equal(pe.sections.length, 5, 'five MEW streams, five sections');
  assert.equal(pe.entryRva, 0x1020, 'the original entry point the stub keeps');
  assert.ok(zipMembers(m.data).includes(CLAM_SHA));
});

test('a PE that is not MEW-packed is left alone', { skip }, () => {
  const d = file('clam.exe');
  const pe = readPe(d);
  assert.ok(pe);
  assert.deepEqual(unpackMew(d, pe, recordingContext()), { kind: 'not-packed' });
});

test('a truncated clam-mew.exe never throws; cut streams are reported', { skip }, () => {
  const d = file('clam-mew.exe');
  for (let n = 0; n < d.length; n += 3) {
    const { members } = unpackFile(d.subarray(0, n), 1 << 20);
    // the entry point is the file's last bytes: a cut file is not recognised at all
    if (n < 0x600) assert.equal(members.length, 0);
    for (const m of members) assert.ok(m.data.length <= 1 << 20);
  }
  // keep the stub, cut the streams: the data after `k` is gone (zero, as past a file's end)
  let broken = 0;
  for (let k = 0x21c; k < 0x5f0; k += 4) {
    const x = d.slice();
    x.fill(0, k, 0x5f0);
    const { ctx, members } = unpackFile(x, 1 << 20);
    broken += ctx.brokenCalls.length;
    assert.equal(members.length + ctx.brokenCalls.length, 1);
  }
  assert.ok(broken >= 100, `most cut streams are reported (${broken})`);
});

test('bit flips in clam-mew.exe end cleanly', { skip }, () => {
  const d = file('clam-mew.exe');
  let broken = 0;
  for (let o = 0; o < d.length; o++) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const x = d.slice();
      x[o] = (x[o] as number) ^ mask;
      const { ctx, members } = unpackFile(x, 1 << 20);
      for (const m of members) assert.ok(m.data.length <= 1 << 20);
      broken += ctx.brokenCalls.length;
    }
  }
  assert.ok(broken > 0, 'damage in the streams is reported');
});

test('a section size past the member limit is reported, not unpacked', { skip }, () => {
  const { ctx, members } = unpackFile(file('clam-mew.exe'), 0x3000);
  assert.equal(members.length, 0);
  assert.deepEqual(ctx.tooBigCalls, [0x6000]);
});

test('a hostile virtual size is capped', { skip }, () => {
  const d = file('clam-mew.exe');
  const pe = readPe(d)!;
  const table = pe.peOffset + 24 + 0xe0;
  put32(d, table + 8, 0x7ff00000); // the empty section claims 2 GiB
  const { ctx, members } = unpackFile(d, 1 << 20);
  assert.equal(members.length, 0);
  assert.equal(ctx.tooBigCalls.length, 1);
});

const SAMPLE = new TextEncoder().encode('MEW and FSG share this LZ77: abcabcabcabc, zzzzzzzz, MEW and FSG!');

test('the aPLib-like decoder reads what the test encoder writes, and stops on cut input', () => {
  const packed = aplibPack(SAMPLE);
  const buf = new Uint8Array(packed.length + SAMPLE.length);
  buf.set(packed);
  const end = unpackLz(buf, { at: 0, len: packed.length }, { at: packed.length, len: SAMPLE.length });
  assert.deepEqual(end, { srcEnd: packed.length, dstEnd: buf.length });
  assert.deepEqual(buf.subarray(packed.length), SAMPLE);
  for (let n = 1; n < packed.length; n++) {
    const cut = new Uint8Array(n + SAMPLE.length);
    cut.set(packed.subarray(0, n));
    assert.equal(unpackLz(cut, { at: 0, len: n }, { at: n, len: SAMPLE.length }), undefined, `cut at ${n}`);
  }
  const small = new Uint8Array(packed.length + 10);
  small.set(packed);
  assert.equal(unpackLz(small, { at: 0, len: packed.length }, { at: packed.length, len: 10 }), undefined);
});

// 1276 bytes (lzmaSample below) as raw LZMA with lc=4, lp=0, pb=2, made with Python's lzma module.
const LZMA_LC4_PB2 = Buffer.from(
  '00269147312cc4b954771bfcdfe3e425a7f7ac05c5ef00ff2953ee5917e326824cff830b812765884c55634c9931c1752dd81150364d279c5f91bca3d2208ec264ef4a7dcd37f3101a847bb89b49c6ad6ba3a3c8d921189a788769ff037aae5b86cbf3ed2c0642a28469349fc89b59c0a438bb6459c3224f9f0c7951bfe68d5c88d9ee515eb1a94506be8e1bea0ef3aa912c2473c09bea7a578d930eabc95e73fcbc2067739158b5b2afecdbd46dc5c79dd40ac2409a44eff97b29f6b171f6bcb8dff5ad32ff398353cd2d0e27fbbaf42c05607680f2812423e4debcd91b3c5792de5934f93c7c63e4bfe5dabc6dab29f13e74a2ab88947f1588feb34262a4f662e24524916916f57fe711e4aad8c034d8bdecb3f93cd4c7922de5f89d0f0a97c2fb25178fb7cf9b88d2be4cf6959bfd66d62778a9f774253496652782375a71e0312f514a8f5b768da6b22295ca690a25553236dc73217736f92c9abd12b506ec7dd58f9b3cfd342090bf7a3743d97118290021f3a756a51824c7ed3821b1f8a53e9ab26832e7c77925c4354a6d38c42e9b70a39fe58b15389f88c40549aa9063cfd7fffe72e800',
  'hex',
);

/** The bytes LZMA_LC4_PB2 holds. */
function lzmaSample(): Uint8Array {
  const parts: number[] = [];
  for (let i = 0; i < 40; i++) parts.push(...Buffer.from(`MEW lzma block ${i % 7}; `));
  for (let i = 0; i < 256; i++) parts.push(i);
  for (let i = 0; i < 300; i++) parts.push((i * i) & 0xff);
  return Uint8Array.from(parts);
}

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
  const want = lzmaSample();
  const vma = 0x401000;
  const { img, outAt } = mewLzmaImage(LZMA_LC4_PB2, want.length, vma);
  mewLzma(img, 0, vma, false);
  assert.equal(sha256(img.subarray(outAt, outAt + want.length)), sha256(want));
});

test("MEW's LZMA stage stops on damaged or cut streams with Damaged only", () => {
  const want = lzmaSample();
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
