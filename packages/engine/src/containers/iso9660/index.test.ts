// The ISO 9660 handler on images built here (primary and Joliet trees, raw sectors, small blocks)
// and by genisoimage when it is installed; damaged and forged images (cut short, bits flipped, a
// directory pointing at itself, an extent past the end, a file claiming 4 GiB, too many or too
// deep directories) end with a report, never a throw, and read what ClamAV reads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findEmbedded } from '../../scan/embedded.js';
import { testEnv } from '../../test-support/env.js';
import { buildIso, type IsoEntry, isoDir, isoFile } from '../../test-support/iso9660-builder.js';
import type { ExtractContext, Member } from '../types.js';
import { iso9660Handler } from './index.js';
import { MAX_DIR_BLOCKS } from './limits.js';

const CLAM_SHA256 = '71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495';
const CLAM_EXE = '/usr/share/clamav-testfiles/clam.exe';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** A stand-in for clam.exe when the test files are absent: the tests check contents, not a verdict. */
const EXE = existsSync(CLAM_EXE)
  ? new Uint8Array(readFileSync(CLAM_EXE))
  : Uint8Array.from({ length: 544 }, (_, i) => i);
const TEXT = new TextEncoder().encode('nothing to see here\n'.repeat(300));
const LIMITS = { maxFiles: 10_000, maxEmbeddedPe: 40 << 20 };

interface Run {
  readonly members: Member[];
  readonly broken: string[];
  readonly tooBig: [string, number | undefined][];
}

/** Runs the handler over an image found in `bytes` as the scanner finds it (from its start). */
function run(bytes: Uint8Array, maxMemberSize = 1 << 26): Run {
  const found = findEmbedded(bytes, 'CL_TYPE_BINARY_DATA', LIMITS).find((f) => f.type === 'CL_TYPE_ISO9660');
  const data = bytes.subarray(found?.offset ?? 0);
  const r: Run = { members: [], broken: [], tooBig: [] };
  const ctx: ExtractContext = {
    env: testEnv,
    name: 'test.iso',
    maxMemberSize,
    tooBig: (n, s) => void r.tooBig.push([n, s]),
    encrypted: () => {},
    broken: (w) => void r.broken.push(w),
  };
  for (const m of iso9660Handler.extract(data, ctx)) {
    assert.ok(m.data.length <= maxMemberSize, `${m.name} passes maxMemberSize`);
    r.members.push(m);
  }
  return r;
}

const names = (r: Run) => r.members.map((m) => m.name);
const TREE: IsoEntry[] = [isoFile('README.TXT', TEXT), isoDir('SUB', [isoDir('DEEPER', [isoFile('CLAM.EXE', EXE)])])];

test('the primary tree: each file by its path, its version suffix cut, its bytes whole', () => {
  const r = run(buildIso(TREE));
  assert.deepEqual(names(r), ['README.TXT', 'SUB/DEEPER/CLAM.EXE']);
  assert.equal(sha256(r.members[1]?.data ?? new Uint8Array()), sha256(EXE));
  assert.deepEqual(r.members[0]?.data, TEXT);
  assert.deepEqual(r.broken, []);
});

test('a Joliet tree is read after the primary one, its names decoded from UTF-16', () => {
  const long = 'a file with a rather long Name, ünïcode.exe';
  const r = run(buildIso([isoDir('Long directory name', [isoFile(long, EXE)])], { joliet: true }));
  // The builder writes what is not ASCII as `_` in the primary tree, as mastering tools do.
  const primary = 'a file with a rather long Name, _n_code.exe';
  assert.deepEqual(names(r), [`Long directory name/${primary}`, `Long directory name/${long}`]);
  for (const m of r.members) assert.equal(sha256(m.data), sha256(EXE));
});

test('raw 2352-byte sectors and 512- or 1024-byte blocks', () => {
  for (const o of [{ sectorSize: 2352 }, { blockSize: 512 }, { blockSize: 1024, sectorSize: 2352 }] as const) {
    const image = buildIso(TREE, o);
    const r = run(image);
    assert.deepEqual(names(r), ['README.TXT', 'SUB/DEEPER/CLAM.EXE'], JSON.stringify(o));
    assert.equal(sha256(r.members[1]?.data ?? new Uint8Array()), sha256(EXE), JSON.stringify(o));
    assert.deepEqual(r.members[0]?.data, TEXT, JSON.stringify(o));
  }
});

test('a directory pointing at itself or at the root is reported and read once', () => {
  const self = run(buildIso([isoDir('A', [{ kind: 'link', name: 'SELF', to: 'self' }, isoFile('CLAM.EXE', EXE)])]));
  assert.deepEqual(names(self), ['A/CLAM.EXE']);
  assert.match(self.broken.join(), /A\/SELF\/: directory block \d+ is met again/);
  const up = run(buildIso([isoDir('A', [{ kind: 'link', name: 'UP', to: 'root' }]), isoFile('CLAM.EXE', EXE)]));
  assert.deepEqual(names(up), ['CLAM.EXE']);
  assert.match(up.broken.join(), /met again/);
});

test('an extent past the end ends its tree there, as ClamAV stops (Joliet tree too)', () => {
  const files = [isoFile('AAA.TXT', TEXT, { block: 1_000_000 }), isoFile('CLAM.EXE', EXE)];
  const r = run(buildIso(files, { joliet: true }));
  assert.deepEqual(names(r), []);
  assert.equal(r.broken.length, 2);
  assert.match(r.broken[0] ?? '', /AAA\.TXT: its 6000 bytes at block 1000000 pass the end of the image/);
  // One in a subdirectory ends the whole tree, not only its directory.
  const sub = run(buildIso([isoDir('A', [isoFile('X', TEXT, { block: 1_000_000 })]), isoFile('CLAM.EXE', EXE)]));
  assert.deepEqual(names(sub), []);
  // A directory past the end is only skipped.
  const image = buildIso([isoDir('A', []), isoFile('CLAM.EXE', EXE)]);
  const rec = findRecord(image, 'A');
  image.set([0x40, 0x42, 0x0f, 0], rec + 2); // its extent: block 1,000,000
  const dir = run(image);
  assert.deepEqual(names(dir), ['CLAM.EXE']);
  assert.match(dir.broken.join(), /A\/: directory block 1000000 lies past the end/);
});

test('a file claiming 4 GiB is left to the size limit; with no limit it passes the end, unallocated', () => {
  const files = [isoFile('BIG.BIN', TEXT, { size: 0xffffffff }), isoFile('CLAM.EXE', EXE)];
  const r = run(buildIso(files));
  assert.deepEqual(r.tooBig, [['BIG.BIN', 0xffffffff]]);
  assert.deepEqual(names(r), ['CLAM.EXE']);
  const unlimited = run(buildIso(files, { sectorSize: 2352 }), Number.MAX_SAFE_INTEGER);
  assert.deepEqual(names(unlimited), []);
  assert.match(unlimited.broken.join(), /BIG\.BIN: its 4294967295 bytes/);
});

test('interleaved files and roots are not read', () => {
  const file = run(buildIso([isoFile('CLAM.EXE', EXE, { interleaved: true }), isoFile('B.TXT', TEXT)]));
  assert.deepEqual(names(file), ['B.TXT']);
  assert.match(file.broken.join(), /CLAM\.EXE: interleaved/);
  const root = run(buildIso([isoFile('CLAM.EXE', EXE)], { interleavedRoot: true, joliet: true }));
  assert.deepEqual(names(root), []);
  assert.match(root.broken.join(), /root directory is interleaved/);
});

test(`past ${MAX_DIR_BLOCKS} directory blocks the image is left, as ClamAV leaves it`, () => {
  const wide = (at: number) =>
    buildIso(Array.from({ length: 1100 }, (_, i) => isoDir(`D${i}`, i === at ? [isoFile('CLAM.EXE', EXE)] : [])));
  assert.deepEqual(names(run(wide(1000))), ['D1000/CLAM.EXE']);
  const late = run(wide(1099));
  assert.deepEqual(names(late), []);
  assert.match(late.broken.join(), /more than 1024 directory blocks/);
  // Depth: each level is a block; 1024 levels below the root are read, 1025 are not.
  const deep = (levels: number) => {
    let e: IsoEntry[] = [isoFile('CLAM.EXE', EXE)];
    for (let i = 0; i < levels; i++) e = [isoDir('D', e)];
    return buildIso(e);
  };
  assert.equal(names(run(deep(1024)))[0]?.split('/').length, 1025);
  assert.deepEqual(names(run(deep(1025))), []);
});

test('directories made to be stepped through again and again end within the step cap', () => {
  // Ten thousand records in the root, each a link back to the root (about 180 blocks).
  const links: IsoEntry[] = Array.from({ length: 10_000 }, () => ({ kind: 'link', name: 'L', to: 'root' }));
  const started = Date.now();
  const r = run(buildIso(links));
  assert.deepEqual(names(r), []);
  assert.match(r.broken.join(), /directory block steps/);
  assert.ok(Date.now() - started < 5000);
});

test('cut short at many points, or with bits flipped, an image ends cleanly', () => {
  const image = buildIso(TREE, { joliet: true });
  for (let k = 0; k <= 64; k++) {
    const cut = image.subarray(0, Math.floor((image.length * k) / 64));
    const r = run(cut);
    // Whatever is yielded is a whole file, never a short read.
    for (const m of r.members) assert.ok(sha256(m.data) === sha256(EXE) || sha256(m.data) === sha256(TEXT), m.name);
    if (cut.length < image.length) assert.ok(r.broken.length > 0 || r.members.length < 4, `cut at ${cut.length}`);
  }
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  // Flip bits in the descriptors and directories (the first 24 sectors), where damage matters.
  for (let k = 0; k < 300; k++) {
    const bad = image.slice();
    for (let j = 0; j < 4; j++) {
      const at = 16 * 2048 + (rand() % (8 * 2048));
      bad[at] = (bad[at] as number) ^ (1 << (rand() % 8));
    }
    run(bad);
  }
});

test('no image: a stray descriptor too early, a bad block size, nothing 16 sectors in', () => {
  const image = buildIso(TREE);
  assert.deepEqual(findEmbedded(image.subarray(2048), 'CL_TYPE_BINARY_DATA', LIMITS), []);
  const badBlock = image.slice();
  badBlock[16 * 2048 + 128] = 0x00;
  badBlock[16 * 2048 + 129] = 0x03;
  assert.deepEqual(findEmbedded(badBlock, 'CL_TYPE_BINARY_DATA', LIMITS), []);
  const r = run(TEXT);
  assert.deepEqual(r.members, []);
  assert.match(r.broken.join(), /no ISO 9660 primary volume descriptor/);
});

test('an image made by genisoimage with Rock Ridge and Joliet', (t) => {
  if (!existsSync('/usr/bin/genisoimage') || !existsSync(CLAM_EXE)) {
    t.skip('genisoimage or clamav-testfiles is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'vigil-iso-'));
  try {
    const long = 'a long directory name/a file with a long name.exe';
    mkdirSync(join(dir, 'a long directory name'));
    const made = join(dir, 'made.iso');
    const args = ['-quiet', '-R', '-J', '-graft-points', '-o', made, `clam.exe=${CLAM_EXE}`, `${long}=${CLAM_EXE}`];
    assert.equal(spawnSync('genisoimage', args).status, 0);
    const r = run(new Uint8Array(readFileSync(made)));
    assert.deepEqual(names(r), ['A_LONG_D/A_FILE_W.EXE', 'CLAM.EXE', long, 'clam.exe']);
    for (const m of r.members) assert.equal(sha256(m.data), CLAM_SHA256, m.name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Where the directory record named `name` lies in an image built here. */
function findRecord(image: Uint8Array, name: string): number {
  const want = new TextEncoder().encode(name);
  const len = 33 + want.length + ((33 + want.length) % 2);
  for (let i = 17 * 2048; i < image.length; i++) {
    if (image[i] === len && image[i + 32] === want.length && want.every((b, j) => image[i + 33 + j] === b)) return i;
  }
  throw new Error(`no record ${name}`);
}
