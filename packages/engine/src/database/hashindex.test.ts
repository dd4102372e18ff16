import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { testEnv } from '../test-support/env.js';
import { readSections, writeSections } from './format.js';
import { HashIndex, HashIndexBuilder } from './hashindex.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function roundTrip(b: HashIndexBuilder): HashIndex {
  const bytes = writeSections(b.toSections('h'), testEnv);
  return new HashIndex(readSections(bytes, testEnv), 'h', b.digestLength);
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
