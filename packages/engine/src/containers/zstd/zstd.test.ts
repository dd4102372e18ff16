// The Zstandard decoder and handler: real `zstd` output at several levels and windows decoded byte
// for byte, hand-made frames (raw, RLE, skippable, checksummed), damaged input ending with a
// report, and sizes claimed by a hostile header never allocated.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { bytesSource } from '../../bytesource.js';
import { recogniseType } from '../../filetypes/recognise.js';
import { noise } from '../../test-support/archives.js';
import { runHandler } from '../../test-support/extract.js';
import { CLAM_EXE_SHA256, hasTestFile, sha256, testFile } from '../../test-support/testfiles.js';
import { decodeZstd, zstdHandler } from './index.js';
import { xxh64 } from './xxh64.js';

const HAVE_ZSTD = spawnSync('zstd', ['--version']).status === 0;
const NO_ZSTD = HAVE_ZSTD ? false : 'the zstd tool is not installed (apt-get install zstd)';

const work = mkdtempSync(join(tmpdir(), 'vigil-zstd-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Compresses `data` with the real zstd tool and the given options. */
function zstd(data: Uint8Array, args: readonly string[]): Uint8Array {
  const input = join(work, 'in');
  writeFileSync(input, data);
  const r = spawnSync('zstd', ['-q', '-f', '-c', ...args, input], { maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `zstd ${args.join(' ')}: ${r.stderr}`);
  return new Uint8Array(r.stdout);
}

/** Text-like bytes: words of a small vocabulary, so every entropy stage has work to do. */
function prose(n: number): Uint8Array {
  const words = ['archive', 'block', 'frame', 'literal', 'match', 'offset', 'the', 'of', 'a', 'zstd', '\n', 'scan'];
  const r = noise(n, 7);
  let s = '';
  for (let i = 0; s.length < n; i++) s += `${words[(r[i % n] as number) % words.length]}${i % 17 === 0 ? '. ' : ' '}`;
  return new TextEncoder().encode(s.slice(0, n));
}

function run(data: Uint8Array, name = 'x.zst', maxMemberSize = 1 << 26) {
  return runHandler(zstdHandler, data, { name, maxMemberSize });
}

const hex = (h: number, l: number) => h.toString(16).padStart(8, '0') + l.toString(16).padStart(8, '0');

test('XXH64 gives the published values', () => {
  const te = new TextEncoder();
  assert.equal(hex(...xxh64(new Uint8Array(0))), 'ef46db3751d8e999');
  assert.equal(hex(...xxh64(te.encode('a'))), 'd24ec4f1a98c6e5b');
  assert.equal(hex(...xxh64(te.encode('abc'))), '44bc2cf5ad770999');
});

test('real zstd output at several levels and windows decodes byte for byte', { skip: NO_ZSTD }, () => {
  const inputs: [string, Uint8Array][] = [
    ['prose', prose(150_000)],
    ['noise', noise(70_000, 3)],
    ['mixed', Uint8Array.from([...prose(50_000), ...noise(5_000, 9), ...prose(50_000)])],
    ['empty', new Uint8Array(0)],
    ['one byte', Uint8Array.of(42)],
  ];
  const options: [string[], number][] = [
    [['-1'], 1],
    [['-3'], 1],
    [['-9'], 1],
    [['-19'], 1],
    [['--ultra', '-22'], 1],
    [['--fast=5'], 1],
    [['--no-check', '-6'], 0],
    [['-19', '--long=27'], 1],
    [['-B4096', '-5'], 1],
  ];
  for (const [what, data] of inputs) {
    for (const [args, checked] of options) {
      const r = decodeZstd(zstd(data, args), 1 << 26);
      const label = `${what} with ${args.join(' ')}`;
      assert.equal(r.status, 'ok', `${label}: ${r.message}`);
      assert.ok(Buffer.from(r.data).equals(Buffer.from(data)), `${label}: decoded bytes differ`);
      assert.equal(r.checked, checked, `${label}: checksums checked`);
    }
  }
});

test('a match 9 MB back, beyond the default window, decodes with --long', { skip: NO_ZSTD }, () => {
  const half = noise(9 << 20, 11);
  const data = new Uint8Array(half.length * 2);
  data.set(half);
  data.set(half, half.length);
  const packed = zstd(data, ['-3', '--long=25']);
  assert.ok(packed.length < half.length + (1 << 20), 'zstd found the long match');
  const r = decodeZstd(packed, 1 << 26);
  assert.equal(r.status, 'ok', r.message);
  assert.ok(Buffer.from(r.data).equals(Buffer.from(data)));
});

test('concatenated frames and skippable frames give one member, named after the file', { skip: NO_ZSTD }, () => {
  const a = prose(20_000);
  const b = noise(1_000, 5);
  const skippable = Uint8Array.of(0x5e, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3);
  const file = Uint8Array.from([...skippable, ...zstd(a, ['-19']), ...skippable, ...zstd(b, ['-1'])]);
  const r = run(file, 'notes.txt.zst');
  assert.deepEqual(r.broken, []);
  assert.equal(r.members.length, 1);
  assert.equal(r.members[0]?.name, 'notes.txt');
  assert.ok(Buffer.from(r.members[0]?.data ?? []).equals(Buffer.from([...a, ...b])));
  assert.equal(run(file, 'x.tar.zst').members[0]?.name, 'x.tar');
  assert.equal(run(file, 'blob').members[0]?.name, 'blob.out');
});

test("clam.exe compressed with zstd decodes to ClamAV's test program", {
  skip: NO_ZSTD || !hasTestFile('clam.exe') ? 'zstd or clamav-testfiles is missing' : false,
}, () => {
  const packed = zstd(testFile('clam.exe'), ['--ultra', '-22']);
  assert.equal(recogniseType(bytesSource(packed), []), 'CL_TYPE_ZSTD');
  const r = run(packed, 'clam.exe.zst');
  assert.deepEqual(r.broken, []);
  assert.equal(r.members[0]?.name, 'clam.exe');
  assert.equal(sha256(r.members[0]?.data ?? new Uint8Array(0)), CLAM_EXE_SHA256);
});

/** A frame: header descriptor, optional window byte, content size, then blocks and a checksum. */
function frame(opts: { fhd: number; window?: number; fcs?: number[]; blocks: number[][]; checksum?: number[] }) {
  return Uint8Array.from([
    0x28,
    0xb5,
    0x2f,
    0xfd,
    opts.fhd,
    ...(opts.window === undefined ? [] : [opts.window]),
    ...(opts.fcs ?? []),
    ...opts.blocks.flat(),
    ...(opts.checksum ?? []),
  ]);
}

/** A block header: last flag, type (0 raw, 1 RLE, 2 compressed), size. */
function blockHeader(last: boolean, type: number, size: number): number[] {
  const h = (size << 3) | (type << 1) | (last ? 1 : 0);
  return [h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff];
}

const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

test('hand-made frames: raw and RLE blocks, a content size, a checksum, literals-only blocks', () => {
  const text = new TextEncoder().encode('hello, zstd');
  const expected = Uint8Array.from([...text, ...new Uint8Array(1000).fill(0x41), 7, 7, 7, 9]);
  const blocks = [
    [...blockHeader(false, 0, text.length), ...text],
    [...blockHeader(false, 1, 1000), 0x41],
    // A compressed block: RLE literals (3 × 7), no sequences.
    [...blockHeader(false, 2, 3), (3 << 3) | 1, 7, 0],
    // A compressed block: raw literals (one byte), no sequences.
    [...blockHeader(true, 2, 3), (1 << 3) | 0, 9, 0],
  ];
  const fcs = [...le32(expected.length), 0, 0, 0, 0];
  const check = le32(xxh64(expected)[1]);
  // Single segment, 8-byte content size, checksum.
  const r = decodeZstd(frame({ fhd: 0xe4, fcs, blocks, checksum: check }), 1 << 20);
  assert.equal(r.status, 'ok', r.message);
  assert.equal(r.checked, 1);
  assert.deepEqual([...r.data], [...expected]);
  // A wrong checksum, a wrong content size, a dictionary, a reserved block type: each reported.
  const bad = [
    frame({ fhd: 0xe4, fcs, blocks, checksum: le32((xxh64(expected)[1] ^ 1) >>> 0) }),
    frame({ fhd: 0xe4, fcs: [...le32(expected.length + 1), 0, 0, 0, 0], blocks, checksum: check }),
    frame({ fhd: 0x01, window: 0x50, blocks: [[0x01], ...blocks] }),
    frame({ fhd: 0x00, window: 0x50, blocks: [blockHeader(true, 3, 0)] }),
  ];
  const messages = bad.map((f) => run(f).broken.join('; '));
  assert.match(messages[0] as string, /checksum does not match/);
  assert.match(messages[1] as string, /not the .* it declares/);
  assert.match(messages[2] as string, /dictionary 1/);
  assert.match(messages[3] as string, /reserved type/);
});

test('a block larger than the window it may use is refused', () => {
  // Window 1 KiB (exponent 0), then a 2 KiB RLE block.
  const f = frame({ fhd: 0x00, window: 0x00, blocks: [[...blockHeader(true, 1, 2048), 0]] });
  const r = decodeZstd(f, 1 << 20);
  assert.equal(r.status, 'corrupt');
  assert.match(r.message ?? '', /passes the maximum of 1024/);
});

test('hostile sizes: a huge content size or window is never allocated; output stops at the member limit', () => {
  // Claims 2^62 bytes in a single segment (so a 2^62-byte window), holds one 100-byte RLE block.
  const huge = frame({ fhd: 0xe0, fcs: [0, 0, 0, 0, 0, 0, 0, 0x40], blocks: [[...blockHeader(true, 1, 100), 1]] });
  const r = run(huge, 'x.zst', 4096);
  assert.match(r.broken.join(), /declares/);
  assert.equal(r.members[0]?.data.length, 100);
  // The largest window (2^41 + 7/8), 4000 RLE blocks of 128 KiB each: 500 MiB if it were let run.
  const window = 0xff;
  const blocks = Array.from({ length: 4000 }, (_, i) => [...blockHeader(i === 3999, 1, 128 * 1024), 0x90]);
  const bomb = run(frame({ fhd: 0x00, window, blocks }), 'bomb.zst', 1 << 20);
  assert.deepEqual(
    bomb.tooBig.map(([n]) => n),
    ['bomb'],
  );
  assert.ok((bomb.members[0]?.data.length ?? 0) <= 1 << 20);
});

test('damaged input: every truncation and bit flip ends cleanly, with a report', { skip: NO_ZSTD }, () => {
  const data = Uint8Array.from([...prose(40_000), ...noise(3_000, 2)]);
  const packed = zstd(data, ['-19']);
  for (let cut = 1; cut < packed.length; cut += Math.max(1, Math.floor(packed.length / 300))) {
    const r = run(packed.subarray(0, cut));
    assert.ok(r.broken.length > 0, `cut at ${cut}: reported`);
  }
  const rand = noise(4000, 99);
  for (let i = 0; i < 1000; i++) {
    const flipped = packed.slice();
    const at = ((rand[4 * i] as number) | ((rand[4 * i + 1] as number) << 8)) % packed.length;
    flipped[at] = (flipped[at] as number) ^ (1 << ((rand[4 * i + 2] as number) & 7));
    const r = run(flipped);
    const out = r.members[0]?.data ?? new Uint8Array(0);
    // The checksum makes a changed output a reported one.
    if (r.broken.length === 0) assert.ok(Buffer.from(out).equals(Buffer.from(data)), `flip at ${at}`);
    assert.ok(out.length <= data.length + 128 * 1024, `flip at ${at}: bounded output`);
  }
});
