// Petite: ClamAV's test file unpacks to a PE with the sections and entry point ClamAV finds and
// the zip holding clam.exe; other executables are left alone; damaged and hostile copies end cleanly.
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
import { CLAM_EXE_SHA256, skipWithout, testFile, zipHashes } from '../../../test-support/testfiles.js';
import { readPe } from '../pe.js';
import { petiteHandler } from './index.js';

const OTHERS = ['clam.exe', 'clam-wwpack.exe', 'clam-yc.exe', 'clam-pespin.exe'];
const skip = skipWithout('clam-petite.exe', ...OTHERS);

test('clam-petite.exe unpacks to the sections and entry point ClamAV finds, with clam.exe inside', { skip }, () => {
  const out = onlyMember(petiteHandler, testFile('clam-petite.exe'));
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
  assert.equal(zipHashes(out)[0], CLAM_EXE_SHA256, 'the first member of the zip inside is clam.exe');
});

test('an executable Petite did not pack is left alone', { skip }, () => {
  assertLeftAlone(petiteHandler, OTHERS);
});

test('Petite cut short or with bits flipped ends cleanly, reporting damage', { skip }, () => {
  const file = testFile('clam-petite.exe');
  const broken = brokenRuns(petiteHandler, cutsAndFlips(file, 0x400, 0x1000, 400), (r) => {
    for (const m of r.members) assert.ok(readPe(m.data), 'a member is a PE');
  });
  assert.ok(broken > 10, `damage reported ${broken} times`);
});

test('Petite: an image larger than the member limit is reported, not built', { skip }, () => {
  // Section 1 moved to 2 GiB: the image from the lowest section to the highest spans that much.
  const hostile = patched(testFile('clam-petite.exe'), 0xf0 + 24 + 0xe0 + 40 + 12, 0x7ff00000);
  const r = runHandler(petiteHandler, hostile);
  assert.deepEqual(r.members, []);
  assert.equal(r.tooBig.length, 1);
  assert.ok((r.tooBig[0]?.[1] ?? 0) > 0x7f000000);
});

test('Petite level-0 (stored) files are reported as not unpacked', { skip }, () => {
  const r = runHandler(petiteHandler, patched(testFile('clam-petite.exe'), 0x442 + 0x80, 0x163c988d));
  assert.deepEqual(r.members, []);
  assert.match(r.broken.join(), /level-0/);
});
