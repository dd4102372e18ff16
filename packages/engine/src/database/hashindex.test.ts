import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { isVigilError } from '../errors.js';
import { testEnv } from '../test-support/env.js';
import { type PageSource, readHeader, readSections, writeSections } from './format.js';
import { HashIndex, HashIndexBuilder } from './hashindex.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const bytesOf = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

function roundTrip(b: HashIndexBuilder): HashIndex {
  const bytes = writeSections(b.toSections('h'), testEnv);
  const { sections, paged } = readSections(bytes, testEnv);
  return new HashIndex(sections, paged, 'h', b.digestLength);
}

/** The index opened from its resident bytes only, its pages read from `file` (counted in `reads`). */
function fromResident(file: Uint8Array, reads: number[] = []): HashIndex {
  const resident = file.slice(0, readHeader(file).residentLength);
  const source: PageSource = {
    size: file.length,
    read: (offset, length) => {
      reads.push(offset);
      return file.slice(offset, offset + length);
    },
  };
  const { sections, paged } = readSections(resident, testEnv, source);
  return new HashIndex(sections, paged, 'h', 16);
}

test('lookup finds every entry by digest and size, and nothing else', () => {
  const b = new HashIndexBuilder('md5');
  for (let i = 0; i < 5000; i++) b.add(md5(`x${i}`), i + 1, i);
  b.add(md5('any'), null, 9999);
  const idx = roundTrip(b);
  for (let i = 0; i < 5000; i += 7) {
    const d = Uint8Array.from(Buffer.from(md5(`x${i}`), 'hex'));
    assert.deepEqual(idx.lookup(d, i + 1), [i]);
    assert.deepEqual(idx.lookup(d, i + 2), [], 'size must match');
  }
  assert.deepEqual(idx.lookup(Uint8Array.from(Buffer.from(md5('any'), 'hex')), 123456), [9999]);
  assert.deepEqual(idx.lookup(Uint8Array.from(Buffer.from(md5('absent'), 'hex')), 1), []);
  assert.equal(idx.wants(17), true, 'a * size makes every size worth hashing');
});

test('wants() is true only for sizes some signature names', () => {
  const b = new HashIndexBuilder('sha256');
  b.add(createHash('sha256').update('a').digest('hex'), 100, 0);
  b.add(createHash('sha256').update('b').digest('hex'), 300, 1);
  const idx = roundTrip(b);
  assert.equal(idx.wants(100), true);
  assert.equal(idx.wants(300), true);
  assert.equal(idx.wants(200), false);
});

test('equal digests: every size is found, and for one digest and size the entry added last (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 3 })), { maxLength: 200 }),
      (entries) => {
        const b = new HashIndexBuilder('md5');
        entries.forEach(([k, size], i) => {
          b.add(md5(`k${k}`), size, i);
        });
        const idx = roundTrip(b);
        entries.forEach(([k, size]) => {
          const same = entries.flatMap(([k2, s2], j) => (k2 === k && s2 === size ? [j] : []));
          const want = same.slice(-1);
          const got = idx.lookup(Uint8Array.from(Buffer.from(md5(`k${k}`), 'hex')), size).sort((a, b) => a - b);
          assert.deepEqual(got, want);
        });
      },
    ),
  );
});

test('a run of one digest across several pages is found whole, whatever the size asked', () => {
  const b = new HashIndexBuilder('md5');
  for (let i = 0; i < 3000; i++) b.add(md5(`before${i}`), 1, 100_000 + i);
  for (let size = 1; size <= 400; size++) b.add(md5('same'), size, size);
  const idx = roundTrip(b);
  for (const size of [1, 170, 171, 250, 341, 400]) assert.deepEqual(idx.lookup(bytesOf(md5('same')), size), [size]);
  assert.deepEqual(idx.lookup(bytesOf(md5('same')), 401), []);
});

test('opened from its resident bytes, an index reads only the pages a lookup needs', () => {
  const b = new HashIndexBuilder('md5');
  for (let i = 0; i < 20_000; i++) b.add(md5(`x${i}`), i + 1, i);
  const file = writeSections(b.toSections('h'), testEnv);
  const header = readHeader(file);
  assert.ok(header.residentLength < file.length / 10, 'the records are not resident');
  const reads: number[] = [];
  const idx = fromResident(file, reads);
  assert.equal(reads.length, 0, 'opening reads no page');
  for (let i = 0; i < 20_000; i += 997) {
    reads.length = 0;
    assert.deepEqual(idx.lookup(bytesOf(md5(`x${i}`)), i + 1), [i]);
    assert.ok(reads.length >= 1 && reads.length <= 2, `${reads.length} pages read`);
  }
});

test('a damaged or missing page is an E_DATABASE_FORMAT error naming the page, not a wrong answer', () => {
  const b = new HashIndexBuilder('md5');
  for (let i = 0; i < 2000; i++) b.add(md5(`x${i}`), i + 1, i);
  const file = writeSections(b.toSections('h'), testEnv);
  const damaged = file.slice();
  damaged[file.length - 5] = (damaged[file.length - 5] as number) ^ 1;
  const idx = fromResident(damaged);
  let failed = 0;
  for (let i = 0; i < 2000; i++) {
    try {
      assert.deepEqual(idx.lookup(bytesOf(md5(`x${i}`)), i + 1), [i]);
    } catch (e) {
      assert.ok(isVigilError(e, 'E_DATABASE_FORMAT'), String(e));
      assert.match((e as Error).message, /page 11 of section h\.records@paged is damaged/);
      failed++;
    }
  }
  assert.ok(failed > 0 && failed < 200, `${failed} lookups failed`);
  assert.throws(
    () => fromResident(file.slice(0, file.length - 100)),
    (e) => isVigilError(e, 'E_DATABASE_FORMAT') && /truncated/.test((e as Error).message),
  );
});
