import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compressOvba } from '../../test-support/ovba.js';
import { decompressVba } from './decompress.js';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).map((b) => Number.parseInt(b, 16)));
const text = (b: Uint8Array) => new TextDecoder('latin1').decode(b);
const ok = (r: ReturnType<typeof decompressVba>): Uint8Array => {
  assert.equal(r.status, 'ok', JSON.stringify(r));
  return (r as { data: Uint8Array }).data;
};

test('MS-OVBA 3.2.1, no compression: literals only', () => {
  const packed = hex('01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74 75 76 2E');
  assert.equal(text(ok(decompressVba(packed, 0, 1000))), 'abcdefghijklmnopqrstuv.');
});

test('MS-OVBA 3.2.2, normal compression: copy tokens at growing offsets', () => {
  const packed = hex(
    '01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B 6C 00 20 6D 6E 6F 70 06 71 02 70 04 00 72 73 74 75 76 10 77 78 79 7A 00 2C',
  );
  assert.equal(text(ok(decompressVba(packed, 0, 1000))), '#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa');
});

test('a container may start past other bytes (a module stream after its p-code)', () => {
  const packed = compressOvba(new TextEncoder().encode('Sub AutoOpen()\r\nEnd Sub\r\n'));
  const stream = new Uint8Array(50 + packed.length);
  stream.fill(0xee, 0, 50);
  stream.set(packed, 50);
  assert.equal(text(ok(decompressVba(stream, 50, 1000))), 'Sub AutoOpen()\r\nEnd Sub\r\n');
});

test('sources over several chunks come back whole', () => {
  for (const n of [4095, 4097, 5000, 9000, 12345]) {
    const src = new Uint8Array(n).map((_, i) => 32 + ((i * i * 7 + (i >> 5)) % 90));
    assert.deepEqual(ok(decompressVba(compressOvba(src), 0, 1 << 20)), src, `${n} bytes`);
  }
});

test("as in ClamAV, a source of exactly 4096 bytes fails: the next chunk's header is sought past the end", () => {
  const src = new Uint8Array(4096).map((_, i) => 32 + ((i * 31) % 90));
  assert.equal(decompressVba(compressOvba(src), 0, 1 << 20).status, 'failed');
});

test('an empty result is a failure, as in ClamAV', () => {
  assert.equal(decompressVba(Uint8Array.of(1, 0, 0xb0), 0, 100).status, 'failed');
  assert.equal(decompressVba(new Uint8Array(0), 0, 100).status, 'failed');
});

test('a copy token cut short fails the stream', () => {
  // Flag 0x02: a literal, then a copy token of which one byte is left.
  assert.equal(decompressVba(Uint8Array.of(1, 0, 0xb0, 0x02, 0x61, 0x45), 0, 100).status, 'failed');
});

test('truncated at every point and bit-flipped everywhere: a result or a failure, never a throw', () => {
  const src = new TextEncoder().encode(
    'Attribute VB_Name = "Module1"\r\nSub AutoOpen()\r\n  Shell "calc"\r\nEnd Sub\r\n'.repeat(80),
  );
  const packed = compressOvba(src);
  for (let n = 0; n <= packed.length; n += 7) {
    const r = decompressVba(packed.subarray(0, n), 0, 1 << 20);
    assert.ok(['ok', 'failed'].includes(r.status));
  }
  for (let i = 0; i < packed.length; i += 5) {
    for (const bit of [0x01, 0x10, 0x80]) {
      const bad = packed.slice();
      bad[i] = (bad[i] as number) ^ bit;
      const r = decompressVba(bad, 0, 1 << 20);
      if (r.status === 'ok') assert.ok(r.data.length <= 1 << 20);
    }
  }
});

test('the output is capped: a hostile stream of long copies stops at the limit', () => {
  // Every flag bit set: each token copies up to 4098 bytes from just behind.
  const hostile = new Uint8Array(3 + 9 * 20000);
  hostile.set([1, 0xff, 0xbf]);
  for (let o = 3; o < hostile.length; o += 9) {
    hostile[o] = 0xff;
    hostile.fill(0xff, o + 1, o + 9);
    hostile[o + 2] = 0x0f;
  }
  assert.equal(decompressVba(hostile, 0, 1 << 16).status, 'over-limit');
  const fine = compressOvba(new Uint8Array(10000).fill(0x61));
  assert.equal(decompressVba(fine, 0, 9999).status, 'over-limit');
  assert.equal(ok(decompressVba(fine, 0, 10000)).length, 10000);
});
