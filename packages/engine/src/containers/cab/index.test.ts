// The CAB handler: ClamAV's test cabinet, and cabinets built here with stored and LZX folders (one
// LZX stream over a folder's blocks, a frame per block); damaged ones end with a report, never a throw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { le, letters } from '../../test-support/archives.js';
import { runHandler } from '../../test-support/extract.js';
import { lzxEncode } from '../../test-support/lzx-encoder.js';
import { CLAM_EXE_SHA256, clamExe, sha256, skipWithout, testFile } from '../../test-support/testfiles.js';
import { LZX_FRAME } from '../lzx/decode.js';
import { cabHandler } from './index.js';

const te = new TextEncoder();
const run = (data: Uint8Array, maxMemberSize = 1 << 26) =>
  runHandler(cabHandler, data, { maxMemberSize, name: 'test.cab' });

interface BuiltFolder {
  readonly method: number;
  /** Each block's payload and the size it decodes to. */
  readonly blocks: ReadonlyArray<{ readonly payload: Uint8Array; readonly size: number }>;
}

interface BuiltFile {
  readonly name: string;
  readonly folder: number;
  readonly offset: number;
  readonly size: number;
}

function buildCab(folders: readonly BuiltFolder[], files: readonly BuiltFile[]): Uint8Array {
  const fileTable = files.flatMap((f) => [
    ...le(f.size, 4),
    ...le(f.offset, 4),
    ...le(f.folder, 2),
    ...le(0, 6),
    ...te.encode(f.name),
    0,
  ]);
  const filesAt = 36 + 8 * folders.length;
  let dataAt = filesAt + fileTable.length;
  const folderTable: number[] = [];
  const data: number[] = [];
  for (const f of folders) {
    folderTable.push(...le(dataAt, 4), ...le(f.blocks.length, 2), ...le(f.method, 2));
    for (const b of f.blocks) {
      const block = [...le(0, 4), ...le(b.payload.length, 2), ...le(b.size, 2), ...b.payload];
      data.push(...block);
      dataAt += block.length;
    }
  }
  const total = filesAt + fileTable.length + data.length;
  const head = [
    ...te.encode('MSCF'),
    ...le(0, 4),
    ...le(total, 4),
    ...le(0, 4),
    ...le(filesAt, 4),
    ...le(0, 4),
    3,
    1,
    ...le(folders.length, 2),
    ...le(files.length, 2),
    ...le(0, 2),
    ...le(0, 2),
    ...le(0, 2),
  ];
  return Uint8Array.from([...head, ...folderTable, ...fileTable, ...data]);
}

/** An LZX folder holding `data`, one 32 KiB frame per block as cabinet writers lay them out. */
function lzxFolder(data: Uint8Array, windowBits = 16): BuiltFolder {
  const enc = lzxEncode(data, {
    windowBits,
    blocks: [
      { type: 'aligned', size: Math.min(data.length, 40_000) },
      { type: 'uncompressed', size: Math.min(Math.max(0, data.length - 40_000), 5001) },
    ],
  });
  const offsets = [...enc.frameOffsets, enc.data.length];
  const blocks = [];
  for (let i = 0; i + 1 < offsets.length; i++) {
    blocks.push({
      payload: enc.data.subarray(offsets[i], offsets[i + 1]),
      size: Math.min(LZX_FRAME, data.length - i * LZX_FRAME),
    });
  }
  return { method: 3 | (windowBits << 8), blocks };
}

test('clam.cab: clam.exe comes out of its folder', { skip: skipWithout('clam.cab') }, () => {
  const r = run(testFile('clam.cab'));
  assert.deepEqual(r.broken, []);
  assert.ok(r.members.some((m) => sha256(m.data) === CLAM_EXE_SHA256));
});

test('LZX folder: files spanning several blocks come out whole, also when listed out of order', {
  skip: skipWithout('clam.exe'),
}, () => {
  const exe = clamExe();
  assert.ok(exe);
  const a = letters(70_000, 3);
  const stream = new Uint8Array(a.length + exe.length + 10);
  stream.set(a);
  stream.set(exe, a.length);
  stream.set(te.encode('tail bytes'), a.length + exe.length);
  for (const windowBits of [15, 16, 21]) {
    const cab = buildCab(
      [lzxFolder(stream, windowBits)],
      [
        { name: 'clam.exe', folder: 0, offset: a.length, size: exe.length },
        { name: 'a.txt', folder: 0, offset: 0, size: a.length },
        { name: 'tail', folder: 0, offset: a.length + exe.length, size: 10 },
      ],
    );
    const r = run(cab);
    assert.deepEqual(r.broken, []);
    assert.deepEqual(
      r.members.map((m) => m.name),
      ['clam.exe', 'a.txt', 'tail'],
    );
    assert.equal(sha256(r.members[0]?.data ?? new Uint8Array(0)), CLAM_EXE_SHA256);
    assert.deepEqual(r.members[1]?.data, a);
    assert.deepEqual(r.members[2]?.data, te.encode('tail bytes'));
  }
});

test('stored and LZX folders side by side', () => {
  const s = te.encode('stored bytes');
  const l = letters(1000, 7);
  const cab = buildCab(
    [{ method: 0, blocks: [{ payload: s, size: s.length }] }, lzxFolder(l)],
    [
      { name: 's', folder: 0, offset: 0, size: s.length },
      { name: 'l', folder: 1, offset: 0, size: l.length },
    ],
  );
  const r = run(cab);
  assert.deepEqual(r.broken, []);
  assert.deepEqual(r.members[0]?.data, s);
  assert.deepEqual(r.members[1]?.data, l);
});

test('LZX and Quantum window sizes out of range are reported', () => {
  const bad = lzxFolder(letters(100, 3));
  const cab = buildCab(
    [
      { ...bad, method: 3 | (22 << 8) },
      { method: 2 | (22 << 8), blocks: bad.blocks },
    ],
    [
      { name: 'x', folder: 0, offset: 0, size: 100 },
      { name: 'q', folder: 1, offset: 0, size: 100 },
    ],
  );
  const r = run(cab);
  assert.match(r.broken.join(), /window size/);
  assert.match(r.broken.join(), /Quantum window size 2\^22 is not supported/);
});

test('a file over the member limit is reported, and a file far into a huge folder hits the work limit', () => {
  const l = letters(50_000, 3);
  const folder = lzxFolder(l);
  const r = run(buildCab([folder], [{ name: 'l', folder: 0, offset: 0, size: l.length }]), 10_000);
  assert.deepEqual(
    r.tooBig.map(([name]) => name),
    ['l'],
  );
  const far = buildCab([folder], [{ name: 'far', folder: 0, offset: 2 ** 31, size: 10 }]);
  const rf = run(far);
  assert.match(rf.broken.join(), /limit/);
});

test('truncated and bit-flipped LZX cabinets end with a report, never a throw', () => {
  const l = letters(80_000, 5);
  const cab = buildCab([lzxFolder(l)], [{ name: 'l', folder: 0, offset: 0, size: l.length }]);
  const step = Math.max(1, Math.floor(cab.length / 200));
  for (let cut = 60; cut < cab.length - 4; cut += step) {
    const r = run(cab.subarray(0, cut));
    assert.ok(r.broken.length > 0, `cut at ${cut}`);
    assert.ok((r.members[0]?.data.length ?? 0) < l.length);
  }
  for (let i = 0; i < 300; i++) {
    const bad = cab.slice();
    const at = 40 + ((i * 7919) % (bad.length - 40));
    bad[at] = (bad[at] as number) ^ (1 << (i % 8));
    run(bad);
  }
});
