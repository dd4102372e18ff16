// The NRV decoders against the test encoder: every method and bit-buffer width round-trips,
// far and repeated offsets included; damaged streams fail without throwing or overrunning.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nrvEncode } from '../../../test-support/upx-samples.js';
import { type NrvMethod, nrvDecode } from './nrv.js';

const METHODS: readonly NrvMethod[] = ['2b', '2d', '2e'];

/** Text, runs, a far repeat (past 0xd00 bytes) and noise: literals, short, long and far matches. */
function sampleData(): Uint8Array {
  const parts: number[] = [];
  const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog; ');
  for (let i = 0; i < 20; i++) parts.push(...text);
  for (let i = 0; i < 300; i++) parts.push(0);
  let x = 12345;
  const noise: number[] = [];
  for (let i = 0; i < 0xe00; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    noise.push(x >>> 24);
  }
  parts.push(...noise, ...noise.slice(0, 600), 1, 2, 3, 1, 2, 3, 1, 2, 3, 9, 9, 9, 9, 9, 9, 9, 9);
  return Uint8Array.from(parts);
}

function decode(packed: Uint8Array, method: NrvMethod, size: number, width: 8 | 32 = 32) {
  const out = new Uint8Array(size);
  const r = nrvDecode(packed, { start: 0, end: packed.length }, out, { method, width });
  return { r, out };
}

for (const method of METHODS) {
  for (const width of [32, 8] as const) {
    test(`NRV${method.toUpperCase()} (${width}-bit flags): encoded data decodes to the same bytes`, () => {
      const data = sampleData();
      const packed = nrvEncode(data, method, width, 0x1000);
      assert.ok(packed.length < data.length, 'the encoder used matches');
      const { r, out } = decode(packed, method, data.length + 100, width);
      assert.ok(r !== undefined, 'decodes');
      assert.equal(r.written, data.length);
      assert.equal(r.read, packed.length);
      assert.deepEqual(out.subarray(0, data.length), data);
    });
  }

  test(`NRV${method.toUpperCase()}: a window too small, a cut or a flipped stream fails cleanly`, () => {
    const data = sampleData();
    const packed = nrvEncode(data, method, 32, 0x1000);
    assert.equal(decode(packed, method, data.length - 1).r, undefined, 'output past the window');
    for (let cut = 0; cut < packed.length; cut += 7) {
      assert.equal(decode(packed.subarray(0, cut), method, data.length).r, undefined, `cut at ${cut}`);
    }
    let failed = 0;
    for (let i = 0; i < packed.length * 8; i += 13) {
      const bad = packed.slice();
      bad[i >> 3] = (bad[i >> 3] as number) ^ (1 << (i & 7));
      const { r } = decode(bad, method, data.length);
      if (r === undefined) failed++;
      else assert.ok(r.written <= data.length);
    }
    assert.ok(failed > 0, 'some flips are caught');
  });
}

test('NRV: the wrong method on a stream does not decode it to the original', () => {
  const data = sampleData();
  const packed = nrvEncode(data, '2e');
  for (const other of ['2b', '2d'] as const) {
    const { r, out } = decode(packed, other, data.length);
    assert.ok(r === undefined || r.written !== data.length || !out.every((b, i) => b === data[i]));
  }
});

test('NRV: an offset reaching before the output fails', () => {
  // a literal, then a match 5 bytes back with only one byte out
  const packed = nrvEncode(Uint8Array.from([7]), '2b');
  const out = new Uint8Array(64);
  assert.ok(nrvDecode(packed, { start: 0, end: packed.length }, out, { method: '2b' }) !== undefined);
  // flags: 1 (literal), 0 (match), gamma(3) = bits 1 then 1 (high 3 -> offset byte 4 -> distance 5),
  // length bits 0 1; the match would copy from before the first byte
  const w = 0b1011_0100_0000_0000_0000_0000_0000_0000 >>> 0;
  const evil = Uint8Array.from([w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24, 7, 4]);
  assert.equal(nrvDecode(evil, { start: 0, end: evil.length }, out, { method: '2b' }), undefined);
});
