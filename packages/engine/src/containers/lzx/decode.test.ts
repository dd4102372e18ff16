// The LZX decoder against streams from the test encoder: every block type, window sizes, frames,
// resets, E8 translation; and damaged or hostile streams end with an error, never a throw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lzxEncode, type TestEncodeOptions } from '../../test-support/lzx-encoder.js';
import { LZX_FRAME, LzxStream, lzxDecompress } from './decode.js';

/** Text-like data with repeats near and far, stray bytes, and x86 `call` opcodes (E8). */
function sample(n: number, seed = 1): Uint8Array {
  const words = ['hello ', 'world ', 'frame ', '\xe8\x10\x00\x00\x00', 'abc', 'the quick brown fox '];
  const out = new Uint8Array(n);
  let x = seed;
  let i = 0;
  while (i < n) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    if (x % 7 === 0) {
      out[i++] = (x >> 8) & 0xff;
      continue;
    }
    for (const c of words[x % words.length] as string) if (i < n) out[i++] = c.charCodeAt(0);
  }
  return out;
}

function roundTrip(input: Uint8Array, options: TestEncodeOptions = {}) {
  const enc = lzxEncode(input, options);
  const params = {
    windowBits: options.windowBits ?? 16,
    length: input.length,
    resetInterval: options.resetInterval ?? 0,
  };
  return { enc, result: lzxDecompress(enc.data, params, Number.MAX_SAFE_INTEGER) };
}

function assertRoundTrip(input: Uint8Array, options: TestEncodeOptions = {}) {
  const { result } = roundTrip(input, options);
  assert.equal(result.status, 'ok', result.message);
  assert.deepEqual(result.data, input);
}

test('verbatim blocks decode, with matches, repeated offsets and long lengths', () => {
  assertRoundTrip(sample(5000));
  assertRoundTrip(new Uint8Array(3000).fill(0x41)); // one literal then matches of 257 at offset 1
  assertRoundTrip(new Uint8Array([7])); // a single byte
});

test('aligned-offset blocks decode', () => {
  const data = sample(100_000, 2);
  assertRoundTrip(data, { blocks: [{ type: 'aligned', size: data.length }] });
});

test('uncompressed blocks decode, odd-sized ones padded, between coded blocks', () => {
  const data = sample(90_001, 3);
  assertRoundTrip(data, { blocks: [{ type: 'uncompressed', size: data.length }] });
  assertRoundTrip(data, {
    blocks: [
      { type: 'verbatim', size: 1001 },
      { type: 'uncompressed', size: 33_333 },
      { type: 'aligned', size: 20_000 },
      { type: 'uncompressed', size: 3 },
    ],
  });
});

test('every window size from 2^15 to 2^21 decodes, matches reaching round the window end', () => {
  const data = sample(150_000, 4);
  for (let windowBits = 15; windowBits <= 21; windowBits++) {
    assertRoundTrip(data, { windowBits, blocks: [{ type: windowBits % 2 ? 'aligned' : 'verbatim', size: 150_000 }] });
  }
});

test('E8 call translation is undone', () => {
  const data = sample(70_000, 5);
  const { enc, result } = roundTrip(data, { e8Size: 1_000_000, blocks: [{ type: 'uncompressed', size: 70_000 }] });
  assert.equal(result.status, 'ok', result.message);
  assert.deepEqual(result.data, data);
  // The stored bytes differ from the input: the encoder translated the call targets.
  const stored = enc.data.subarray(enc.data.length - data.length);
  assert.notDeepEqual(stored, data);
  assertRoundTrip(data, { e8Size: 40_000 });
});

test('resets every N frames: decoding may start at any reset point', () => {
  const data = sample(5 * LZX_FRAME + 1234, 6);
  const options = { resetInterval: 2, blocks: [{ type: 'uncompressed' as const, size: 40_001 }] };
  const { enc, result } = roundTrip(data, options);
  assert.equal(result.status, 'ok', result.message);
  assert.deepEqual(result.data, data);
  const from = enc.frameOffsets[4] as number;
  const tail = lzxDecompress(
    enc.data.subarray(from),
    { windowBits: 16, length: data.length - 4 * LZX_FRAME, resetInterval: 2 },
    1e9,
  );
  assert.equal(tail.status, 'ok', tail.message);
  assert.deepEqual(tail.data, data.subarray(4 * LZX_FRAME));
});

test('a stream is read in pieces and skipped through', () => {
  const data = sample(100_000, 7);
  const enc = lzxEncode(data);
  const s = LzxStream.open(enc.data, { windowBits: 16, length: data.length });
  assert.ok(typeof s !== 'string');
  assert.deepEqual(s.read(10).data, data.subarray(0, 10));
  assert.equal(s.skip(40_000), undefined);
  assert.equal(s.offset, 40_010);
  assert.deepEqual(s.read(50_000).data, data.subarray(40_010, 90_010));
  const rest = s.read(20_000);
  assert.match(rest.error ?? '', /ends early/);
  assert.deepEqual(rest.data, data.subarray(90_010));
});

test('impossible parameters and over-long streams are refused before decoding', () => {
  assert.equal(typeof LzxStream.open(new Uint8Array(10), { windowBits: 22, length: 1 }), 'string');
  assert.equal(typeof LzxStream.open(new Uint8Array(10), { windowBits: 14, length: 1 }), 'string');
  const r = lzxDecompress(new Uint8Array(10), { windowBits: 16, length: 2 ** 40 }, 1 << 20);
  assert.equal(r.status, 'over-limit');
});

test('truncated streams stop with an error, never a throw', () => {
  const data = sample(80_000, 8);
  const enc = lzxEncode(data, {
    blocks: [
      { type: 'aligned', size: 30_000 },
      { type: 'uncompressed', size: 10_001 },
    ],
  }).data;
  for (let cut = 0; cut < enc.length - 2; cut += Math.max(1, Math.floor(enc.length / 300))) {
    const r = lzxDecompress(enc.subarray(0, cut), { windowBits: 16, length: data.length }, 1e9);
    assert.equal(r.status, 'corrupt', `cut at ${cut}`);
    assert.ok(r.data.length < data.length);
    assert.deepEqual(r.data, data.subarray(0, r.data.length));
  }
});

test('bit flips end cleanly: an error or some output of the stated length', () => {
  const data = sample(40_000, 9);
  const enc = lzxEncode(data, { blocks: [{ type: 'aligned', size: 20_000 }] }).data;
  let errors = 0;
  for (let i = 0; i < 400; i++) {
    const bad = enc.slice();
    const at = (i * 7919) % bad.length;
    bad[at] = (bad[at] as number) ^ (1 << (i % 8));
    const r = lzxDecompress(bad, { windowBits: 16, length: data.length }, 1e9);
    if (r.status === 'corrupt') errors++;
    else assert.equal(r.data.length, data.length);
  }
  assert.ok(errors > 100, `only ${errors} of 400 flips were noticed`);
});

test('random bytes end cleanly for every window size', () => {
  let x = 12345;
  for (let t = 0; t < 200; t++) {
    const junk = Uint8Array.from({ length: 50 + (t % 50) * 20 }, () => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x >> 16;
    });
    const r = lzxDecompress(junk, { windowBits: 15 + (t % 7), length: 100_000, resetInterval: t % 3 }, 1e9);
    assert.ok(r.status === 'corrupt' || r.data.length === 100_000);
  }
});
