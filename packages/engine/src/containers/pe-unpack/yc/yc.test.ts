// yC: the decryptor emulation on windows built here (including ClamAV's quirks), and ClamAV's test
// file decrypted byte for byte as ClamAV writes it (a UPX-packed program, for the UPX unpacker to
// take on); damaged copies end cleanly and a file over the member limit is reported.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertLeftAlone, brokenRuns, cutsAndFlips, onlyMember, runHandler } from '../../../test-support/extract.js';
import { md5, skipWithout, testFile } from '../../../test-support/testfiles.js';
import { readPe } from '../pe.js';
import { ycHandler } from './index.js';
import { runPoly } from './poly.js';

const OTHERS = ['clam.exe', 'clam-petite.exe', 'clam-wwpack.exe', 'clam-pespin.exe'];
const skip = skipWithout('clam-yc.exe', ...OTHERS);

/** A buffer holding a 0x30-byte decryptor window (NOP-filled) at 0 and `code` at 0x40. */
function withWindow(window: readonly number[], code: readonly number[]): Uint8Array {
  const buf = new Uint8Array(0x40 + code.length).fill(0x90, 0, 0x30);
  buf.set(window, 0);
  buf.set(code, 0x40);
  return buf;
}
const rol8 = (a: number, n: number) => ((a << n) | (a >> (8 - n))) & 0xff;
const ror8 = (a: number, n: number) => ((a >> (n & 7)) | (a << ((8 - (n & 7)) & 7))) & 0xff;

test('yC emulation: add, a jump over junk, xor with CL and a rotation, CL counting down', () => {
  const plain = [0x00, 0x41, 0xff, 0x80, 0x7e];
  const buf = withWindow([0x04, 0x10, 0xeb, 0x01, 0xcc, 0x32, 0xc1, 0xc0, 0xc0, 0x03], plain);
  assert.equal(runPoly(buf, { decryptor: 0, code: 0x40, count: 5, max: 5, limit: buf.length }), undefined);
  const want = plain.map((b, i) => rol8(((b + 0x10) & 0xff) ^ ((5 - i) & 0xff), 3));
  assert.deepEqual([...buf.subarray(0x40)], want);
});

test('yC emulation steps one byte past ROR AL,CL as ClamAV does', () => {
  // The byte after D2 C8 is skipped: 0xAB would be an unknown opcode if it were run.
  const buf = withWindow([0xd2, 0xc8, 0xab, 0x34, 0x55], [0x12, 0x34]);
  assert.equal(runPoly(buf, { decryptor: 0, code: 0x40, count: 2, max: 2, limit: buf.length }), undefined);
  assert.deepEqual([...buf.subarray(0x40)], [ror8(0x12, 2) ^ 0x55, ror8(0x34, 1) ^ 0x55]);
});

test('yC emulation: unknown code, an endless jump and a window past the end stop it', () => {
  const unknown = withWindow([0x0f], [1]);
  assert.equal(runPoly(unknown, { decryptor: 0, code: 0x40, count: 1, max: 1, limit: unknown.length }), 'opcode');
  const loop = withWindow([0xeb, 0xfe], [1]);
  assert.equal(runPoly(loop, { decryptor: 0, code: 0x40, count: 1, max: 1, limit: loop.length }), 'bounds');
  const short = new Uint8Array(0x28).fill(0x90);
  assert.equal(runPoly(short, { decryptor: 0x20, code: 0x10, count: 1, max: 1, limit: short.length }), 'bounds');
});

test('yC emulation reads its window again when decrypting rewrites it', () => {
  // The window adds 1 and runs over its own third byte: 0x90 becomes 0x91, which it cannot run.
  const buf = new Uint8Array(0x40).fill(0x90);
  buf.set([0x04, 0x01], 0);
  assert.equal(runPoly(buf, { decryptor: 0, code: 2, count: 2, max: 2, limit: buf.length }), 'opcode');
  assert.equal(buf[2], 0x91);
});

test('clam-yc.exe decrypts to the very file ClamAV writes: the UPX-packed program', { skip }, () => {
  const out = onlyMember(ycHandler, testFile('clam-yc.exe'));
  assert.equal(md5(out), '8822fca1f7b0cb5506f15f8088956197');
  assert.deepEqual(
    readPe(out)?.sections.map((s) => s.name),
    ['UPX0', 'UPX1', '.rsrc'],
  );
});

test('an executable yC did not encrypt is left alone', { skip }, () => {
  assertLeftAlone(ycHandler, OTHERS);
});

test('yC cut short or with bits flipped ends cleanly', { skip }, () => {
  const file = testFile('clam-yc.exe');
  const broken = brokenRuns(ycHandler, cutsAndFlips(file, 0xc00, file.length, 400));
  assert.ok(broken > 0, `damage reported ${broken} times`);
});

test('yC: a file over the member limit is reported, not decrypted', { skip }, () => {
  const r = runHandler(ycHandler, testFile('clam-yc.exe'), 4096);
  assert.deepEqual(r.members, []);
  assert.deepEqual(r.tooBig, [['yc-unpacked', 6226]]);
});
