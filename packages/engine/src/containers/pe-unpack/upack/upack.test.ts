import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { Damaged } from '../mew/lzma.js';
import { put32, recordingContext } from '../mew/testkit.js';
import { readPe } from '../pe.js';
import { upackLzma } from './decode.js';
import { upackHandler } from './index.js';
import { unpackUpack } from './unpack.js';

const DIR = '/usr/share/clamav-testfiles';
const skip = existsSync(DIR) ? false : `${DIR} is not installed`;
const CLAM_SHA = '71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495';
const sha256 = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
const file = (name: string) => new Uint8Array(readFileSync(`${DIR}/${name}`));

/** The SHA-256 of each member of the ZIPs found in `d` (the rebuilt Upack test file is a ZIP SFX). */
function zipMembers(d: Uint8Array): string[] {
  const b = Buffer.from(d);
  const out: string[] = [];
  for (let at = b.indexOf('PK\x03\x04'); at >= 0; at = b.indexOf('PK\x03\x04', at + 4)) {
    const csize = b.readUInt32LE(at + 18);
    const start = at + 30 + b.readUInt16LE(at + 26) + b.readUInt16LE(at + 28);
    const body = b.subarray(start, start + csize);
    out.push(sha256(b.readUInt16LE(at + 8) === 8 ? inflateRawSync(body) : body));
  }
  return out;
}

function unpackFile(d: Uint8Array, max = 64 << 20) {
  const ctx = recordingContext(max);
  return { ctx, members: [...upackHandler.extract(d, ctx)] };
}

test('clam-upack.exe unpacks to a PE holding the ZIP with clam.exe', { skip }, () => {
  const { ctx, members } = unpackFile(file('clam-upack.exe'));
  assert.deepEqual(ctx.brokenCalls, []);
  assert.equal(members.length, 1);
  const pe = readPe(members[0]!.data);
  assert.ok(pe, 'the rebuilt file is a PE');
  assert.equal(pe.sections.length, 1);
  assert.equal(pe.entryRva, 0x20, "the entry point as ClamAV's rebuild states it");
  assert.ok(zipMembers(members[0]!.data).includes(CLAM_SHA));
});

test('PEs that are not Upack-packed are left alone', { skip }, () => {
  for (const name of ['clam.exe', 'clam-mew.exe']) {
    const d = file(name);
    assert.deepEqual(unpackUpack(d, readPe(d)!, recordingContext()), { kind: 'not-packed' }, name);
  }
});

test('a truncated clam-upack.exe never throws, and damage to the stream is reported', { skip }, () => {
  const d = file('clam-upack.exe');
  let broken = 0;
  for (let n = 0; n < d.length; n += 3) {
    const { ctx, members } = unpackFile(d.subarray(0, n), 1 << 20);
    broken += ctx.brokenCalls.length;
    for (const m of members) assert.ok(m.data.length <= 1 << 20);
  }
  assert.ok(broken > 0);
});

test('bit flips in clam-upack.exe end cleanly', { skip }, () => {
  const d = file('clam-upack.exe');
  let broken = 0;
  for (let o = 0; o < d.length; o++) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const x = d.slice();
      x[o] = (x[o] as number) ^ mask;
      const { ctx, members } = unpackFile(x, 1 << 20);
      broken += ctx.brokenCalls.length;
      for (const m of members) assert.ok(m.data.length <= 1 << 20);
    }
  }
  assert.ok(broken > 100, `damage is reported (${broken})`);
});

test('section sizes past the member limit are reported, not unpacked', { skip }, () => {
  const { ctx, members } = unpackFile(file('clam-upack.exe'), 0x8000);
  assert.equal(members.length, 0);
  assert.deepEqual(ctx.tooBigCalls, [0xe000]);
  const d = file('clam-upack.exe');
  const pe = readPe(d)!;
  put32(d, pe.peOffset + 24 + 0x148 + 40 + 8, 0x7ff00000); // the second section claims 2 GiB
  const hostile = unpackFile(d, 1 << 20);
  assert.equal(hostile.members.length, 0);
  assert.equal(hostile.ctx.tooBigCalls.length, 1);
});

// 1276 bytes (sample below) as raw LZMA with lc=3, lp=0, pb=0, made with Python's lzma module.
const LZMA_LC3_PB0 = Buffer.from(
  '002691d240b18516ebc52df6e6163d37f1b55159ec6e9cb97f264dbddada534ca2e0d5f7e4780944ba7194a26b51b26692a50f72fabe6c0d05116755c3a1a934d6cebe1b81b8464745617aac355990fa1ebb51db63da469702c7ac82ffe9658ff31bc7c737ee62ef8905a328d626452df840694b963846bf88b0669136e0ab14b84173837eb69485e6db619336f4b2086e40dd4d8131b2d6f1fa1e508a44b2cc0a7212a09e5c894de9c5d3fa731be433eb4b6bb35764b657dff595f527d020220cc2902ed37b44915f5e998d36d011bfb6dd6766c4e6cb981d544ddc33ff96af2c0ea3543c357e6b27baa8109f9666721789a3cff927bc1db4a8bf7966c04d2d57a50b03a377162671488d4beba32ba3769b6c8828a4c347731db4a75688f3d283c3facc3d7b61aac60e93f9829ab13d64dd521b1f467475ce54298553d779b524393dab640e83b51a2e93e7cd75eaa084e761ca9dc1f113e5f1453d35b59fa4e0f6aea323223beea2f18bbfaaabbc3c2e3d3df328fab0af52b3961cc1416318a346c7c27d24bf27556829e04042e9fb22817fffff65b00000',
  'hex',
);

function sample(): Uint8Array {
  const parts: number[] = [];
  for (let i = 0; i < 40; i++) parts.push(...Buffer.from(`MEW lzma block ${i % 7}; `));
  for (let i = 0; i < 256; i++) parts.push(i);
  for (let i = 0; i < 300; i++) parts.push((i * i) & 0xff);
  return Uint8Array.from(parts);
}

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
  const want = sample();
  const { img, st } = upackImage(LZMA_LC3_PB0, want.length);
  upackLzma(img, st);
  assert.equal(sha256(img.subarray(st.out, st.end)), sha256(want));
});

test("Upack's LZMA stops on cut or damaged streams with Damaged only", () => {
  const want = sample();
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
