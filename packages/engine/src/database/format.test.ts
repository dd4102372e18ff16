import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVigilError } from '../errors.js';
import { testEnv } from '../test-support/env.js';
import { PAGE_SIZE, readHeader, readSections, writeSections } from './format.js';

const sample = () =>
  writeSections({ a: Uint8Array.from([1, 2, 3]), b: Uint32Array.from([7, 8]), c: Float64Array.from([0.5]) }, testEnv);

test('sections round-trip with their types and values', () => {
  const s = readSections(sample(), testEnv).sections;
  assert.deepEqual([...(s.a as Uint8Array)], [1, 2, 3]);
  assert.ok(s.b instanceof Uint32Array);
  assert.deepEqual([...(s.b as Uint32Array)], [7, 8]);
  assert.deepEqual([...(s.c as Float64Array)], [0.5]);
});

test('every single-byte corruption and every truncation is refused with E_DATABASE_FORMAT', () => {
  const good = sample();
  for (let i = 0; i < good.length; i++) {
    const bad = good.slice();
    bad[i] = (bad[i] as number) ^ 0x40;
    assert.throws(
      () => readSections(bad, testEnv),
      (e) => isVigilError(e, 'E_DATABASE_FORMAT'),
      `byte ${i}`,
    );
  }
  for (let n = 0; n < good.length; n += 5) {
    const cut = new Uint8Array(new ArrayBuffer(n));
    cut.set(good.subarray(0, n));
    assert.throws(
      () => readSections(cut, testEnv),
      (e) => isVigilError(e, 'E_DATABASE_FORMAT'),
      `length ${n}`,
    );
  }
});

test('a file of another format version is refused by name', () => {
  const bad = sample();
  bad[8] = 99;
  assert.throws(() => readSections(bad, testEnv), /format version 99/);
});

test('a paged section is left out of the checksum and checked a page at a time', () => {
  const big = Uint8Array.from({ length: 3 * PAGE_SIZE + 10 }, (_, i) => i * 7);
  const file = writeSections({ a: Uint8Array.from([1, 2, 3]), 'big@paged': big }, testEnv);
  const { residentLength, totalLength } = readHeader(file);
  assert.equal(totalLength, file.length);
  assert.ok(residentLength < PAGE_SIZE);
  const opened = readSections(file, testEnv);
  assert.equal(opened.sections['big@paged'], undefined, 'not a resident view');
  const paged = opened.paged['big@paged'];
  assert.equal(paged?.pageCount, 4);
  assert.deepEqual(paged?.page(3), big.subarray(3 * PAGE_SIZE));
  const end = (paged?.at ?? 0) + big.length - 1;
  for (const at of [paged?.at ?? 0, end]) {
    const bad = file.slice();
    bad[at] = (bad[at] as number) ^ 1;
    const pages = readSections(bad, testEnv).paged['big@paged'];
    const damaged = at === end ? 3 : 0;
    assert.throws(() => pages?.page(damaged), /page \d of section big@paged is damaged/);
    assert.deepEqual(pages?.page(1), big.subarray(PAGE_SIZE, 2 * PAGE_SIZE), 'other pages still read');
  }
  assert.throws(() => readSections(file.slice(0, residentLength), testEnv), /truncated or padded/);
});
