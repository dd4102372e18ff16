// The CHM handler: ClamAV's test file, and CHMs built here (stored and LZX-compressed files, resets,
// system files, directories); damaged and hostile files end with a report, never a throw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { le, letters } from '../../test-support/archives.js';
import { runHandler } from '../../test-support/extract.js';
import { lzxEncode } from '../../test-support/lzx-encoder.js';
import { CLAM_EXE_SHA256, sha256, skipWithout, testFile } from '../../test-support/testfiles.js';
import { LZX_FRAME } from '../lzx/decode.js';
import { chmHandler } from './index.js';

const te = new TextEncoder();
const MS = '::DataSpace/Storage/MSCompressed/';
const RESET_TABLE = `${MS}Transform/{7FC28940-9D31-11D0-9B27-00A0C91E9C7C}/InstanceData/ResetTable`;

const run = (data: Uint8Array, maxMemberSize = 1 << 26) =>
  runHandler(chmHandler, data, { maxMemberSize, name: 'test.chm' });

function encint(v: number): number[] {
  const out = [v & 0x7f];
  for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) out.unshift(0x80 | (x & 0x7f));
  return out;
}

interface Entry {
  readonly name: string;
  readonly section: number;
  readonly offset: number;
  readonly length: number;
}

/** A version 3 CHM with one PMGL chunk listing the entries by name and section 0 holding `section0`. */
function buildChm(unsorted: readonly Entry[], section0: Uint8Array): Uint8Array {
  const entries = [...unsorted].sort((x, y) => (x.name < y.name ? -1 : 1));
  const chunkSize = 4096;
  const chunk = new Uint8Array(chunkSize);
  chunk.set(te.encode('PMGL'));
  chunk.set(le(2, 4), 4);
  chunk.set(le(0xffffffff, 4), 0x10);
  let p = 0x14;
  for (const e of entries) {
    const name = te.encode(e.name);
    const bytes = [...encint(name.length), ...name, ...encint(e.section), ...encint(e.offset), ...encint(e.length)];
    chunk.set(bytes, p);
    p += bytes.length;
  }
  chunk.set(le(entries.length, 2), chunkSize - 2);
  const itsp = new Uint8Array(0x54);
  itsp.set(te.encode('ITSP'));
  itsp.set(le(1, 4), 4);
  itsp.set(le(0x54, 4), 8);
  itsp.set(le(chunkSize, 4), 0x10);
  itsp.set(le(2, 4), 0x14);
  itsp.set(le(1, 4), 0x18);
  itsp.set(le(0xffffffff, 4), 0x1c);
  itsp.set(le(0, 4), 0x20);
  itsp.set(le(0, 4), 0x24);
  itsp.set(le(0xffffffff, 4), 0x28);
  itsp.set(le(1, 4), 0x2c);
  const dirAt = 0x60 + 0x18;
  const section0At = dirAt + 0x54 + chunkSize;
  const total = section0At + section0.length;
  const head = new Uint8Array(0x60 + 0x18);
  head.set(te.encode('ITSF'));
  head.set(le(3, 4), 4);
  head.set(le(0x60, 4), 8);
  head.set(
    [
      16, 253, 1, 124, 170, 123, 208, 17, 158, 12, 0, 160, 201, 34, 230, 236, 17, 253, 1, 124, 170, 123, 208, 17, 158,
      12, 0, 160, 201, 34, 230, 236,
    ],
    0x18,
  );
  head.set([...le(0x60, 8), ...le(0x18, 8), ...le(dirAt, 8), ...le(0x54 + chunkSize, 8), ...le(section0At, 8)], 0x38);
  head.set([...le(0x1fe, 4), 0, 0, 0, 0, ...le(total, 8)], 0x60);
  const out = new Uint8Array(total);
  out.set(head);
  out.set(itsp, dirAt);
  out.set(chunk, dirAt + 0x54);
  out.set(section0, section0At);
  return out;
}

interface ChmOptions {
  readonly resetFrames?: number;
  /** Leaves the reset table out and adds SpanInfo instead. */
  readonly spanInfo?: boolean;
  /** The section length the reset table states (default: the true one). */
  readonly tableLength?: number;
  /** Further listing entries, as they are. */
  readonly extra?: readonly Entry[];
}

/** Files laid out in sections 0 and 1, with the LZX system files that section 1 needs. */
function chmWith(stored: Record<string, Uint8Array>, compressed: Record<string, Uint8Array>, opts: ChmOptions = {}) {
  const resetFrames = opts.resetFrames ?? 2;
  const plain: Uint8Array[] = [];
  let at = 0;
  const entries: Entry[] = [];
  const section1Parts = Object.values(compressed);
  const length1 = section1Parts.reduce((n, p) => n + p.length, 0);
  // The compressor pads the section up to a whole reset interval.
  const interval = resetFrames * LZX_FRAME;
  const section1 = new Uint8Array(Math.ceil(length1 / interval) * interval);
  let s1 = 0;
  for (const [name, data] of Object.entries(compressed)) {
    section1.set(data, s1);
    entries.push({ name, section: 1, offset: s1, length: data.length });
    s1 += data.length;
  }
  const enc = lzxEncode(section1, { resetInterval: resetFrames, windowBits: 16 });
  const control = Uint8Array.from([
    ...le(6, 4),
    ...te.encode('LZXC'),
    ...le(2, 4),
    ...le(resetFrames, 4),
    ...le(2, 4),
    ...le(resetFrames, 4),
    ...le(0, 4),
  ]);
  const table = Uint8Array.from([
    ...le(2, 4),
    ...le(enc.frameOffsets.length, 4),
    ...le(8, 4),
    ...le(0x28, 4),
    ...le(opts.tableLength ?? length1, 8),
    ...le(enc.data.length, 8),
    ...le(LZX_FRAME, 8),
    ...enc.frameOffsets.flatMap((o) => le(o, 8)),
  ]);
  const system: Record<string, Uint8Array> = { [`${MS}ControlData`]: control };
  if (opts.spanInfo) system[`${MS}SpanInfo`] = Uint8Array.from(le(length1, 8));
  else system[RESET_TABLE] = table;
  system[`${MS}Content`] = enc.data;
  for (const [name, data] of Object.entries({ ...stored, ...system })) {
    entries.push({ name, section: 0, offset: at, length: data.length });
    plain.push(data);
    at += data.length;
  }
  const section0 = new Uint8Array(at);
  let o = 0;
  for (const p of plain) {
    section0.set(p, o);
    o += p.length;
  }
  entries.push({ name: '/', section: 0, offset: 0, length: 0 }, { name: '/dir/', section: 0, offset: 0, length: 0 });
  entries.push(...(opts.extra ?? []));
  const chm = buildChm(entries, section0);
  // Content is the last thing in the file.
  return { chm, contentAt: chm.length - enc.data.length };
}

test('clam.chm: every file ClamAV scans, in its order; clam.exe.txt is clam.exe', {
  skip: skipWithout('clam.chm'),
}, () => {
  const r = run(testFile('clam.chm'));
  assert.deepEqual(r.broken, []);
  const names = r.members.map((m) => m.name);
  assert.deepEqual(names, [
    '/#IDXHDR',
    '/#ITBITS',
    '/#STRINGS',
    '/#SYSTEM',
    '/#TOPICS',
    '/#URLSTR',
    '/#URLTBL',
    '/#WINDOWS',
    '/$FIftiMain',
    '/$OBJINST',
    '/$WWAssociativeLinks/Property',
    '/$WWKeywordLinks/Property',
    '/clam.chm.hhc',
    '/clam.chm.hhk',
    '/clam.exe.txt',
  ]);
  const exe = r.members.find((m) => m.name === '/clam.exe.txt');
  assert.equal(sha256(exe?.data ?? new Uint8Array(0)), CLAM_EXE_SHA256);
  assert.match(new TextDecoder().decode(r.members.find((m) => m.name === '/clam.chm.hhc')?.data), /<HTML>/i);
});

test('built CHM: stored and compressed files, in listing order; system files and directories left out', () => {
  const a = letters(1000, 3);
  const b = letters(3 * LZX_FRAME + 77, 5); // spans several reset intervals
  const c = letters(5000, 7);
  const s = te.encode('stored file');
  const { chm } = chmWith({ '/s.txt': s, '/empty': new Uint8Array(0) }, { '/a.htm': a, '/b.htm': b, '/c.htm': c });
  const r = run(chm);
  assert.deepEqual(r.broken, []);
  assert.deepEqual(
    r.members.map((m) => m.name),
    ['/a.htm', '/b.htm', '/c.htm', '/empty', '/s.txt'],
  );
  const byName = new Map(r.members.map((m) => [m.name, m.data]));
  assert.deepEqual(byName.get('/a.htm'), a);
  assert.deepEqual(byName.get('/b.htm'), b);
  assert.deepEqual(byName.get('/c.htm'), c);
  assert.deepEqual(byName.get('/s.txt'), s);
  assert.equal(byName.get('/empty')?.length, 0);
});

test('built CHM: a file behind the decoder restarts it at the reset point before the file', () => {
  const big = letters(5 * LZX_FRAME, 11);
  const small = letters(300, 13);
  // Listed by name, the second file lies behind the first in the section.
  const { chm, contentAt } = chmWith({}, { '/z-early.htm': big, '/a-late.htm': small });
  const r = run(chm);
  assert.deepEqual(r.broken, []);
  assert.deepEqual(r.members[0]?.data, small);
  assert.deepEqual(r.members[1]?.data, big);
  // Damage the first frame: the late file still decodes from its own reset point, the early one does not.
  const bad = chm.slice();
  for (let i = 8; i < 40; i++) bad[contentAt + i] = 0x55;
  const rb = run(bad);
  assert.deepEqual(rb.members[0]?.data, small);
  assert.notDeepEqual(rb.members[1]?.data, big);
  assert.match(rb.broken.join(), /z-early/);
});

test('built CHM: without a reset table, SpanInfo gives the length and decoding starts at 0', () => {
  const a = letters(2 * LZX_FRAME + 5, 17);
  const b = letters(10, 19);
  const { chm } = chmWith({}, { '/a.htm': a, '/b.htm': b }, { spanInfo: true });
  const r = run(chm);
  assert.deepEqual(r.broken, []);
  assert.deepEqual(r.members[0]?.data, a);
  assert.deepEqual(r.members[1]?.data, b);
  // With neither, the compressed files are reported and come out empty.
  const bad = chm.slice();
  bad[Buffer.from(chm).indexOf('SpanInfo')] = 0x73;
  const rb = run(bad);
  assert.equal(rb.members[0]?.data.length, 0);
  assert.match(rb.broken.join(), /SpanInfo/);
});

test('a file larger than the member limit is reported, not decoded', () => {
  const { chm } = chmWith({ '/s.txt': letters(100, 3) }, { '/a.htm': letters(70_000, 5) });
  const r = run(chm, 50_000);
  assert.deepEqual(
    r.tooBig.map(([name]) => name),
    ['/a.htm'],
  );
  assert.deepEqual(
    r.members.map((m) => m.name),
    ['/s.txt'],
  );
});

test('a file far into a section the reset table says is huge stops at the work limit', () => {
  const far = { name: '/far.htm', section: 1, offset: 2 ** 39, length: 100 };
  const { chm } = chmWith({}, { '/a.htm': letters(100, 3) }, { tableLength: 2 ** 40, extra: [far] });
  const r = run(chm);
  assert.deepEqual(r.members[0]?.data, letters(100, 3));
  assert.equal(r.members[1]?.data.length, 0);
  assert.match(r.broken.join(), /far\.htm.*limit/);
});

test('truncated and bit-flipped CHMs end with a report, never a throw', () => {
  const { chm } = chmWith({ '/s.txt': letters(500, 3) }, { '/a.htm': letters(40_000, 5), '/b.htm': letters(9000, 7) });
  const step = Math.max(1, Math.floor(chm.length / 200));
  for (let cut = 0; cut < chm.length; cut += step) {
    assert.ok(run(chm.subarray(0, cut)).broken.length > 0, `cut at ${cut}`);
  }
  for (let i = 0; i < 300; i++) {
    const bad = chm.slice();
    const at = (i * 7919) % bad.length;
    bad[at] = (bad[at] as number) ^ (1 << (i % 8));
    run(bad);
  }
});
