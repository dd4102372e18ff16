// The UPX handler on ClamAV's clam-upx.exe (NRV2B) and on UPX-like executables built here for
// NRV2B/2D/2E and LZMA: the rebuilt executable's sections hold the decoded bytes; damage, hostile
// sizes and executables that are not UPX end cleanly.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { assertLeftAlone, onlyMember, runHandler } from '../../../test-support/extract.js';
import { findClam, sha256, skipWithout, testFile } from '../../../test-support/testfiles.js';
import { nrvEncode, type SampleStub, sampleImage, UPX0_RVA, upxSample } from '../../../test-support/upx-samples.js';
import type { Member } from '../../types.js';
import { readPe } from '../pe.js';
import { upxHandler } from './index.js';

const run = (data: Uint8Array, maxMemberSize = 1 << 24) => runHandler(upxHandler, data, maxMemberSize);
const skipFiles = skipWithout('clam-upx.exe');

test('clam-upx.exe: NRV2B decodes and rebuilds as ClamAV does, clam.exe inside', { skip: skipFiles }, () => {
  const out = onlyMember(upxHandler, testFile('clam-upx.exe'), 1 << 24);
  // ClamAV's rebuilt file is 20480 bytes with clam.exe at 19936; only its DOS header differs from ours
  assert.equal(out.length, 20480);
  assert.equal(findClam(out), 19936);
  const pe = readPe(out);
  assert.ok(pe !== undefined, 'the rebuilt file is a PE');
  assert.equal(pe.peOffset, 0xd0);
  assert.ok(pe.sections.length >= 1);
  for (const s of pe.sections) assert.equal(s.rawSize, s.virtualSize, `${s.name}: file size = memory size`);
});

/** SHA-256 of ClamAV 1.4's rebuilt file past its DOS header (0xd0 bytes, the only part that differs). */
const CLAMAV_REBUILT: Record<string, { size: number; sha256: string }> = {
  'clam-upx.exe': { size: 20480, sha256: '3d8c6efe6d88277ba15f39158c2039e16855125527a0f54175446fefa2625a4a' },
  // AutoIt's executables are NRV2E UPX whose stub keeps the imports operand elsewhere (found by search)
  'clam.ea05.exe': { size: 548864, sha256: '907d8fd23ed66618268eecb1d99db318ca0bbbd6a0558a946aff648ce8c29e05' },
  'clam.ea06.exe': { size: 618496, sha256: '638d4eadda6a7452ea14d1083b943b42c400f386aab60a438187cf66602108aa' },
};

test('real UPX files (NRV2B, NRV2E): the rebuilt file is ClamAV\u2019s past the DOS header', {
  skip: skipWithout(...Object.keys(CLAMAV_REBUILT)),
}, () => {
  for (const [f, want] of Object.entries(CLAMAV_REBUILT)) {
    const r = run(testFile(f));
    assert.deepEqual(r.broken, [], f);
    const out = (r.members[0] as Member).data;
    assert.equal(out.length, want.size, f);
    assert.equal(sha256(out.subarray(0xd0)), want.sha256, f);
  }
});

const OTHERS = ['clam.exe', 'clam-aspack.exe', 'clam-petite.exe', 'clam-yc.exe', 'clam-wwpack.exe', 'clam-fsg.exe'];
const MORE_OTHERS = ['clam-mew.exe', 'clam-upack.exe', 'clam-pespin.exe', 'clam-nsis.exe'];

test('clam.exe and other packers\u2019 test files are not UPX: nothing yielded, nothing reported', {
  skip: skipWithout(...OTHERS, ...MORE_OTHERS),
}, () => {
  assertLeftAlone(upxHandler, [...OTHERS, ...MORE_OTHERS], 1 << 24);
});

test('clam-upx.exe damaged: bit flips in the packed data and cuts never throw', { skip: skipFiles }, () => {
  const file = testFile('clam-upx.exe');
  let broken = 0;
  for (let bit = 0x400 * 8; bit < 0x720 * 8; bit += 11) {
    const bad = file.slice();
    bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
    const r = run(bad);
    assert.ok(r.members.length + r.broken.length === 1, `flip ${bit}: one outcome`);
    broken += r.broken.length;
  }
  assert.ok(broken > 0, 'flips that break the stream are reported');
  for (let cut = 0; cut < file.length; cut += 37) run(file.subarray(0, cut));
  const zeroed = file.slice();
  zeroed.fill(0, 0x500, 0x720);
  assert.deepEqual(run(zeroed).broken, ['UPX: the compressed data does not decode']);
});

/** The original program of the synthetic samples: two sections, a marker in each. */
function original() {
  const text = new Uint8Array(0x2000);
  const data = new Uint8Array(0x1000);
  const mark = new TextEncoder().encode('vigil-upx-sample ');
  for (let i = 0; i + mark.length <= text.length; i += 97) text.set(mark, i);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  return [
    { rva: UPX0_RVA, data: text },
    { rva: UPX0_RVA + 0x2000, data },
  ];
}

function checkRebuilt(out: Uint8Array, sections: ReturnType<typeof original>): void {
  const pe = readPe(out);
  assert.ok(pe !== undefined);
  assert.equal(pe.sections.length, sections.length);
  sections.forEach((s, i) => {
    const got = pe.sections[i];
    assert.ok(got !== undefined);
    assert.equal(got.rva, s.rva);
    assert.deepEqual(out.subarray(got.rawOffset, got.rawOffset + got.rawSize), s.data, `section ${i}`);
  });
}

for (const method of ['2b', '2d', '2e'] as const) {
  test(`NRV${method.toUpperCase()} stub: recognised, decoded, rebuilt from the original header`, () => {
    const sections = original();
    const img = sampleImage(sections);
    const stub: SampleStub = { kind: 'nrv', method, imports: img.imports };
    const file = upxSample(nrvEncode(img.memory, method), stub, 0x4000);
    checkRebuilt(onlyMember(upxHandler, file, 1 << 24), sections);
  });
}

test('a stub naming NRV2B over NRV2D data: the blind attempts still decode it, as ClamAV does', () => {
  const sections = original();
  const img = sampleImage(sections);
  const file = upxSample(nrvEncode(img.memory, '2d'), { kind: 'nrv', method: '2b', imports: img.imports }, 0x4000);
  const r = run(file);
  assert.equal(r.members.length, 1);
  // NRV2B fails on it; the blind NRV2D succeeds, and the header is found by searching backwards
  // (this stub keeps its operand where NRV2B stubs do, not where NRV2D ones do)
  checkRebuilt((r.members[0] as Member).data, sections);
});

test('no header in the decoded memory: it is wrapped in a made-up PE, bytes intact', () => {
  const memory = new Uint8Array(0x3000).map((_, i) => (i * 13) & 0xff);
  const file = upxSample(nrvEncode(memory, '2b'), { kind: 'nrv', method: '2b', imports: 0x10 }, 0x4000);
  const r = run(file);
  assert.equal(r.members.length, 1);
  const out = (r.members[0] as Member).data;
  const pe = readPe(out);
  assert.ok(pe?.sections[0] !== undefined);
  assert.deepEqual(out.subarray(pe.sections[0].rawOffset, pe.sections[0].rawOffset + memory.length), memory);
});

test('hostile sizes: UPX0 claiming more memory than maxMemberSize is reported, not allocated', () => {
  const img = sampleImage(original());
  const packed = nrvEncode(img.memory, '2b');
  const file = upxSample(packed, { kind: 'nrv', method: '2b', imports: img.imports }, 0x7fff0000);
  const r = run(file, 1 << 20);
  assert.equal(r.members.length, 0);
  assert.equal(r.tooBig.length, 1);
  // a window too small for what the stream holds: the decoder stops at its end
  const small = upxSample(packed, { kind: 'nrv', method: '2b', imports: img.imports }, 0x1000);
  assert.equal(run(small).members.length, 0);
});

const haveXz = (() => {
  try {
    execFileSync('xz', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

test('LZMA stub: the raw LZMA stream after the two-byte UPX header decodes and rebuilds', {
  skip: haveXz ? false : 'xz is not installed',
}, () => {
  const sections = original();
  const img = sampleImage(sections);
  const raw = execFileSync('xz', ['--format=raw', '--lzma1=lc=3,lp=0,pb=2', '-c'], { input: img.memory });
  const packed = new Uint8Array(raw.length + 2);
  packed.set([0x5d, 0x00]);
  packed.set(raw, 2);
  const stub: SampleStub = { kind: 'lzma', size: img.memory.length, imports: img.imports };
  checkRebuilt(onlyMember(upxHandler, upxSample(packed, stub, 0x4000), 1 << 24), sections);
  const bad = packed.slice();
  bad[2] = 0xff; // a range coder never starts with a non-zero byte
  assert.deepEqual(run(upxSample(bad, stub, 0x4000)).broken, ['UPX: the compressed data does not decode']);
  for (let bit = 16; bit < packed.length * 8; bit += 5) {
    const flipped = packed.slice();
    flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
    const r = run(upxSample(flipped, stub, 0x4000));
    assert.equal(r.members.length + r.broken.length, 1, `flip ${bit}: one outcome`);
  }
});
