import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  consistencyProof,
  EMPTY_ROOT,
  hashChildren,
  hashLeaf,
  inclusionProof,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => hashLeaf(Uint8Array.of(i, i >> 8)));

/** The tree hash written straight from RFC 6962's definition, to check the proofs against. */
function mth(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length === 0) return new Uint8Array(createHash('sha256').digest());
  if (entries.length === 1) return hashLeaf(entries[0] as Uint8Array);
  let k = 1;
  while (k * 2 < entries.length) k *= 2;
  return hashChildren(mth(entries.slice(0, k)), mth(entries.slice(k)));
}

describe('RFC 6962 Merkle tree', () => {
  // The eight test leaves of the RFC 6962 reference implementation, and its roots for sizes 1 to 8.
  const leaves = [
    '',
    '00',
    '10',
    '2021',
    '3031',
    '40414243',
    '5051525354555657',
    '606162636465666768696a6b6c6d6e6f',
  ].map((h) => hashLeaf(Buffer.from(h, 'hex')));
  const roots = [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ];

  it('computes the reference roots', () => {
    for (const [i, r] of roots.entries()) assert.equal(hex(treeRoot(leaves, i + 1)), r, `size ${i + 1}`);
    assert.equal(hex(treeRoot([])), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.deepEqual(treeRoot([]), EMPTY_ROOT);
  });

  it('proves and verifies every leaf and every pair of sizes up to 40', () => {
    const all = leavesOf(40);
    for (let n = 1; n <= 40; n++) {
      const root = treeRoot(all, n);
      assert.deepEqual(root, mth(Array.from({ length: n }, (_, i) => Uint8Array.of(i, i >> 8))));
      for (let i = 0; i < n; i++) {
        assert.ok(
          verifyInclusion(all[i] as Uint8Array, { index: i, size: n }, inclusionProof(all, i, n), root),
          `${i}/${n}`,
        );
      }
      for (let m = 0; m <= n; m++) {
        const proof = consistencyProof(all, m, n);
        assert.ok(verifyConsistency({ oldSize: m, newSize: n }, proof, treeRoot(all, m), root), `${m}->${n}`);
      }
    }
  });

  it('refuses proofs that are altered, cut, lengthened, or for another place', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 70 }), fc.nat(), fc.nat(), fc.nat(), (n, a, b, flip) => {
        const all = leavesOf(n);
        const root = treeRoot(all);
        const i = a % n;
        const proof = inclusionProof(all, i, n);
        const leaf = all[i] as Uint8Array;
        assert.equal(verifyInclusion(leaf, { index: (i + 1) % n, size: n }, proof, root), false);
        assert.equal(verifyInclusion(leaf, { index: i, size: n }, [...proof, root], root), false);
        if (proof.length > 0) {
          assert.equal(verifyInclusion(leaf, { index: i, size: n }, proof.slice(1), root), false);
          const bad = proof.map((p, j) =>
            j === flip % proof.length ? p.map((x, k) => (k === flip % 32 ? x ^ 1 : x)) : p,
          );
          assert.equal(verifyInclusion(leaf, { index: i, size: n }, bad, root), false);
        }
        const m = 1 + (b % (n - 1));
        const cproof = consistencyProof(all, m, n);
        const oldRoot = treeRoot(all, m);
        assert.equal(verifyConsistency({ oldSize: m, newSize: n }, cproof, oldRoot, root), true);
        assert.equal(verifyConsistency({ oldSize: m, newSize: n }, cproof, root, oldRoot), false);
        assert.equal(verifyConsistency({ oldSize: m, newSize: n }, cproof.slice(1), oldRoot, root), false);
        assert.equal(verifyConsistency({ oldSize: m, newSize: n }, [...cproof, root], oldRoot, root), false);
        // A log that rewrote an old entry cannot prove its new tree extends the old one.
        const forked = [...all];
        forked[flip % m] = hashLeaf(Uint8Array.of(0xff, 0xfe, 0xfd));
        const forkRoot = treeRoot(forked);
        assert.equal(
          verifyConsistency({ oldSize: m, newSize: n }, consistencyProof(forked, m, n), oldRoot, forkRoot),
          false,
        );
      }),
    );
  });

  it('refuses sizes and indexes outside the tree', () => {
    const all = leavesOf(5);
    assert.throws(() => inclusionProof(all, 5, 5), /leaf 5 is not in a tree of 5/);
    assert.throws(() => consistencyProof(all, 4, 6), /cannot be made from a log of 5/);
    assert.throws(() => consistencyProof(all, 4, 3), /no consistency proof from size 4 to size 3/);
    assert.equal(verifyInclusion(all[0] as Uint8Array, { index: -1, size: 5 }, [], treeRoot(all)), false);
    assert.equal(verifyConsistency({ oldSize: 2, newSize: 5 }, [], treeRoot(all, 2), treeRoot(all)), false);
  });
});
