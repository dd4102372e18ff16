// PESpin: the POLY1 snippet on inputs built here (its FSG decoder is tested in ../aplib.test.ts),
// and ClamAV's test file unpacked to a PE holding clam.exe; damaged and hostile copies end cleanly.
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
import { clamOffsets, skipWithout, testFile } from '../../../test-support/testfiles.js';
import { readPe } from '../pe.js';
import { pespinHandler } from './index.js';
import { runPoly1 } from './layers.js';

const OTHERS = ['clam.exe', 'clam-petite.exe', 'clam-wwpack.exe', 'clam-yc.exe'];
const skip = skipWithout('clam-pespin.exe', ...OTHERS);

test('POLY1: a 0x24-byte snippet ending in STOSB runs per byte with CL counting down', () => {
  const snippet = new Uint8Array(0x25).fill(0x90);
  snippet.set([0x04, 0x05, 0xeb, 0x01, 0xcc, 0x32, 0xc1, 0xfe, 0xc0, 0xc0, 0xc8, 0x01]);
  snippet[0x24] = 0xaa;
  const buf = new Uint8Array([...snippet, 0x10, 0x20, 0x30]);
  assert.equal(runPoly1(buf, 0, 0x25, 3), true);
  const ror1 = (a: number) => ((a >> 1) | (a << 7)) & 0xff;
  const want = [0x10, 0x20, 0x30].map((b, i) => ror1(((((b + 5) & 0xff) ^ (3 - i)) + 1) & 0xff));
  assert.deepEqual([...buf.subarray(0x25)], want);
  snippet[0x24] = 0x90;
  assert.equal(runPoly1(Uint8Array.from([...snippet, 1]), 0, 0x25, 1), false);
});

test('clam-pespin.exe unpacks to a PE holding clam.exe', { skip }, () => {
  const out = onlyMember(pespinHandler, testFile('clam-pespin.exe'));
  const pe = readPe(out);
  assert.ok(pe);
  assert.deepEqual(
    pe.sections.map((s) => s.rva),
    [0x1000, 0x2000, 0x3000, 0x4000],
  );
  assert.equal(clamOffsets(out).length, 1);
});

test('an executable PESpin did not pack is left alone', { skip }, () => {
  assertLeftAlone(pespinHandler, OTHERS);
});

test('PESpin cut short or with bits flipped ends cleanly, reporting damage', { skip }, () => {
  const file = testFile('clam-pespin.exe');
  const broken = brokenRuns(pespinHandler, cutsAndFlips(file, 0xa00, file.length, 300));
  assert.ok(broken > 10, `damage reported ${broken} times`);
});

test('PESpin: compressed sections larger than the member limit are reported, not expanded', { skip }, () => {
  // The compressed fourth section's memory size claimed as 2 GiB.
  const hostile = patched(testFile('clam-pespin.exe'), 0xc8 + 24 + 0xe0 + 3 * 40 + 8, 0x7ff00000);
  const r = runHandler(pespinHandler, hostile);
  assert.deepEqual(r.members, []);
  assert.equal(r.tooBig.length, 1);
});
