// Deltas between database releases: they rebuild the new file exactly, stay small when little
// changed, and refuse to apply to another base or in a damaged form.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { applyDelta, makeDelta } from './delta.js';
import { UpdateError } from './errors.js';

/** Random bytes with some structure: the kind of change a new release makes to a database. */
function edited(old: Uint8Array): Uint8Array {
  const parts = [old.subarray(0, 100_000), randomBytes(3_000), old.subarray(100_000, 400_000), old.subarray(450_000)];
  return Buffer.concat(parts);
}

test('a delta rebuilds the new release byte for byte, and is small when little changed', () => {
  const old = randomBytes(600_000);
  const next = edited(old);
  const delta = makeDelta(old, next);
  assert.deepEqual(applyDelta(old, delta, next.length), new Uint8Array(next));
  assert.ok(delta.length < 4_000, `delta of ${delta.length} bytes for a 3,000-byte insertion and a cut`);
  // Identical files: a header and one copy.
  assert.ok(makeDelta(old, old).length < 64);
  // Nothing in common: the delta is the new file plus a few bytes.
  const other = randomBytes(10_000);
  const far = makeDelta(old, other);
  assert.deepEqual(applyDelta(old, far, other.length), new Uint8Array(other));
  assert.ok(far.length < other.length + 64);
});

test('any pair of files round-trips (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), fc.nat(3000), (a, b, cut) => {
      const next = Buffer.concat([b.subarray(0, cut % (b.length + 1)), a, b.subarray(cut % (b.length + 1))]);
      assert.deepEqual(applyDelta(a, makeDelta(a, next), next.length), new Uint8Array(next));
    }),
    { numRuns: 200 },
  );
});

test('a delta for another base, one that is damaged, or one that makes too much is refused', () => {
  const old = randomBytes(50_000);
  const next = edited(Buffer.concat([old, old, old, old, old, old, old, old, old, old]));
  const base = Buffer.concat([old, old, old, old, old, old, old, old, old, old]);
  const delta = makeDelta(base, next);
  const refused = (f: () => unknown, why: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof UpdateError && e.code === 'E_FORMAT' && why.test(e.message));
  refused(() => applyDelta(old, delta, next.length), /made from another version/);
  refused(() => applyDelta(base, delta, next.length - 1), /more than the/);
  refused(() => applyDelta(base, delta.subarray(0, 20), next.length), /not a Vigil delta/);
  // Every cut of the delta, and every flipped byte after the header, ends in a refusal or (for a
  // flip inside literal bytes) in a file of the stated length, which the client's hash check catches.
  for (let cut = 48; cut < delta.length; cut += 97) {
    assert.throws(() => applyDelta(base, delta.subarray(0, cut), next.length), UpdateError);
  }
  for (let at = 48; at < delta.length; at += 131) {
    const bent = delta.slice();
    bent[at] = (bent[at] as number) ^ 0x5a;
    try {
      assert.equal(applyDelta(base, bent, next.length).length, next.length);
    } catch (e) {
      assert.ok(e instanceof UpdateError, String(e));
    }
  }
});
