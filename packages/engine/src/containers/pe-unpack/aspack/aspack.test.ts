// The ASPack handler on ClamAV's clam-aspack.exe (2.12) and on ASPack-like executables built here
// for each version: sections decode to the original bytes (calls and jumps restored), the entry
// point is the original one; damage, hostile sizes and other executables end cleanly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aspackEncode, aspackSample, testStubTables } from '../../../test-support/aspack-samples.js';
import { assertLeftAlone, onlyMember, runHandler } from '../../../test-support/extract.js';
import { findClam, skipWithout, testFile } from '../../../test-support/testfiles.js';
import { readPe } from '../pe.js';
import { AspackDecoder } from './decode.js';
import { CodeTable } from './huffman.js';
import { ASPACK_VERSIONS, aspackHandler } from './index.js';

const run = (data: Uint8Array, maxMemberSize = 1 << 24) => runHandler(aspackHandler, data, maxMemberSize);
const OTHERS = ['clam.exe', 'clam-upx.exe', 'clam-petite.exe', 'clam-fsg.exe', 'clam-mew.exe', 'clam-yc.exe'];
const MORE_OTHERS = ['clam-upack.exe', 'clam-pespin.exe', 'clam-wwpack.exe', 'clam.ea05.exe'];
const skipFiles = skipWithout('clam-aspack.exe');

test('clam-aspack.exe: three blocks decode, the original sections and entry point come back', {
  skip: skipFiles,
}, () => {
  const out = onlyMember(aspackHandler, testFile('clam-aspack.exe'), 1 << 24);
  const pe = readPe(out);
  assert.ok(pe !== undefined);
  assert.equal(pe.entryRva, 0x1020);
  assert.deepEqual(
    pe.sections.map((s) => s.rva),
    [0x1000, 0x2000, 0x3000, 0x4000],
    'the stub and its data section are dropped',
  );
  // as in ClamAV's rebuilt file (whose headers are larger), clam.exe is 0xde0 bytes into the last section
  const last = pe.sections[3];
  assert.ok(last !== undefined);
  assert.equal(findClam(out), last.rawOffset + 0xde0);
});

test('clam.exe and other packers\u2019 test files are not ASPack: nothing yielded, nothing reported', {
  skip: skipWithout(...OTHERS, ...MORE_OTHERS),
}, () => {
  assertLeftAlone(aspackHandler, [...OTHERS, ...MORE_OTHERS], 1 << 24);
});

test('clam-aspack.exe damaged: cuts and bit flips in the packed sections never throw', { skip: skipFiles }, () => {
  const file = testFile('clam-aspack.exe');
  for (let cut = 0; cut < file.length; cut += 61) run(file.subarray(0, cut));
  let broken = 0;
  for (let bit = 0x600 * 8; bit < 0xc00 * 8; bit += 17) {
    const bad = file.slice();
    bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
    const r = run(bad);
    assert.equal(r.members.length + r.broken.length, 1, `flip ${bit}: one outcome`);
    broken += r.broken.length;
  }
  assert.ok(broken > 0, 'flips that break a block are reported');
});

/** A code section with relative calls and jumps, and a data section. */
function original() {
  const text = new Uint8Array(0x1000);
  for (let i = 0; i + 16 <= text.length; i += 16) {
    text.set([0x55, 0x8b, 0xec, 0xe8], i);
    new DataView(text.buffer).setInt32(i + 4, 0x100 - i * 2, true); // call (backwards further down)
    text.set([0xe9, 0x10, 0, 0, 0, 0x90, 0x5d, 0xc3], i + 8); // jmp +0x10
  }
  const data = new Uint8Array(0x1000);
  const words = new TextEncoder().encode('alpha beta gamma delta epsilon ');
  for (let i = 0; i < data.length; i++)
    data[i] = i < 0xc00 ? (words[(i * 7) % words.length] as number) : (i >> 3) & 0xff;
  return [
    { rva: 0x1000, data: text },
    { rva: 0x2000, data },
  ];
}

for (const [index, v] of ASPACK_VERSIONS.entries()) {
  for (const aligned of [true, false]) {
    test(`ASPack ${v.name}${aligned ? '' : ' (no aligned table)'}: the sections decode to the original bytes`, () => {
      const sections = original();
      const file = aspackSample(sections, { version: index, oep: 0x1010, aligned, changeAt: 0x700 });
      const out = onlyMember(aspackHandler, file, 1 << 24);
      const pe = readPe(out);
      assert.ok(pe !== undefined);
      assert.equal(pe.entryRva, 0x1010);
      assert.equal(pe.sections.length, 2);
      sections.forEach((s, i) => {
        const got = pe.sections[i];
        assert.ok(got !== undefined);
        assert.equal(got.rva, s.rva);
        assert.deepEqual(out.subarray(got.rawOffset, got.rawOffset + s.data.length), s.data, `section ${i}`);
      });
    });
  }
}

test('hostile sizes and lists: a huge section is reported too big; bad block lists are broken', () => {
  const sample = aspackSample(original(), { version: 0, oep: 0x1010, aligned: true });
  const big = sample.slice();
  const pe = readPe(big);
  assert.ok(pe !== undefined);
  const table = pe.dataDirOffset + 16 * 8;
  new DataView(big.buffer).setUint32(table + 8, 0x7fff0000, true); // first section's VirtualSize
  const r = run(big, 1 << 20);
  assert.deepEqual([r.members.length, r.tooBig.length], [0, 1]);

  const stubOffset = (pe.sections[2] as { rawOffset: number }).rawOffset;
  const v = ASPACK_VERSIONS[0];
  assert.ok(v !== undefined);
  const outside = sample.slice();
  new DataView(outside.buffer).setUint32(stubOffset + v.blocks + 4, 0x100000, true);
  assert.deepEqual(run(outside).broken, ['ASPack: a block lies outside the image']);
  const endless = sample.slice();
  for (let k = 0; k < 0x80; k += 8) {
    new DataView(endless.buffer).setUint32(stubOffset + v.blocks + k, 0x1000, true);
    new DataView(endless.buffer).setUint32(stubOffset + v.blocks + k + 4, 0x10, true);
  }
  const r2 = run(endless);
  assert.equal(r2.members.length + r2.broken.length, 1, 'an overwritten list ends cleanly');
});

test('ASPack decoder: truncated blocks fail, incomplete codes are refused', () => {
  const data = new TextEncoder().encode('the decoder reads what the encoder wrote, '.repeat(40));
  const packed = aspackEncode(data, { aligned: true });
  const ok = new Uint8Array(data.length);
  ok.set(packed);
  assert.ok(new AspackDecoder(testStubTables()).block(ok, 0, data.length));
  assert.deepEqual(ok, data);
  for (let cut = 0; cut < packed.length; cut += 3) {
    const buf = new Uint8Array(data.length).fill(0xff);
    buf.set(packed.subarray(0, cut));
    assert.ok(!new AspackDecoder(testStubTables()).block(buf, 0, data.length) || cut > packed.length - 8, `cut ${cut}`);
  }
  const t = new CodeTable(4);
  assert.equal(t.build(Uint8Array.from([1, 2, 3, 0])), false, 'incomplete');
  assert.equal(t.build(Uint8Array.from([1, 2, 3, 3])), true, 'complete');
  assert.equal(t.build(Uint8Array.from([1, 1, 1, 0])), false, 'oversubscribed');
  assert.equal(t.build(Uint8Array.from([18, 1, 1, 0])), false, 'a length past 17');
});
