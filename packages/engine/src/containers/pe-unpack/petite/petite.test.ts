// Petite: ClamAV's test file unpacks to a PE with the sections and entry point ClamAV finds and
// the zip holding clam.exe; other executables are left alone; damaged and hostile copies end cleanly.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { testEnv } from '../../../test-support/env.js';
import { readPe } from '../pe.js';
import { petiteHandler } from './index.js';
import { bitFlips, firstZipMember, patched, runHandler, truncations } from './testkit.js';

const DIR = '/usr/share/clamav-testfiles';
const CLAM_SHA256 = '71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495';
const skip = existsSync(DIR) ? false : `ClamAV's test files are not installed in ${DIR}`;
const read = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));
const sha256 = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

test('clam-petite.exe unpacks to the sections and entry point ClamAV finds, with clam.exe inside', { skip }, () => {
  const r = runHandler(petiteHandler, read('clam-petite.exe'), testEnv);
  assert.deepEqual(r.broken, []);
  assert.equal(r.members.length, 1);
  const out = (r.members[0] as { data: Uint8Array }).data;
  const pe = readPe(out);
  assert.ok(pe);
  assert.equal(pe.entryRva, 0x1020);
  assert.deepEqual(
    pe.sections.map((s) => [s.rva, s.virtualSize]),
    [
      [0x1000, 0x1000],
      [0x2000, 0x2000],
      [0x4000, 0xffc],
    ],
  );
  const clam = firstZipMember(out, testEnv);
  assert.ok(clam);
  assert.equal(sha256(clam), CLAM_SHA256);
});

test('an executable Petite did not pack is left alone', { skip }, () => {
  for (const name of ['clam.exe', 'clam-wwpack.exe', 'clam-yc.exe', 'clam-pespin.exe']) {
    const r = runHandler(petiteHandler, read(name), testEnv);
    assert.deepEqual([r.members.length, r.broken.length], [0, 0], name);
  }
});

test('Petite cut short or with bits flipped ends cleanly, reporting damage', { skip }, () => {
  const file = read('clam-petite.exe');
  let broken = 0;
  for (const d of [...truncations(file, 64), ...bitFlips(file, 0x400, 0x1000, 400)]) {
    const r = runHandler(petiteHandler, d, testEnv);
    assert.ok(r.members.length <= 1);
    for (const m of r.members) assert.ok(readPe(m.data), 'a member is a PE');
    if (r.broken.length) broken++;
  }
  assert.ok(broken > 10, `damage reported ${broken} times`);
});

test('Petite: an image larger than the member limit is reported, not built', { skip }, () => {
  // Section 1 moved to 2 GiB: the image from the lowest section to the highest spans that much.
  const hostile = patched(read('clam-petite.exe'), 0xf0 + 24 + 0xe0 + 40 + 12, 0x7ff00000);
  const r = runHandler(petiteHandler, hostile, testEnv);
  assert.deepEqual(r.members, []);
  assert.equal(r.tooBig.length, 1);
  assert.ok((r.tooBig[0] ?? 0) > 0x7f000000);
});

test('Petite level-0 (stored) files are reported as not unpacked', { skip }, () => {
  const r = runHandler(petiteHandler, patched(read('clam-petite.exe'), 0x442 + 0x80, 0x163c988d), testEnv);
  assert.deepEqual(r.members, []);
  assert.match(r.broken.join(), /level-0/);
});
