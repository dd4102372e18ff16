// The aPLib-like decoder MEW, FSG and PESpin share: streams from the test encoder and hand-made
// ones decode, cut or out-of-bounds streams fail without throwing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AplibWriter, aplibPack } from '../../test-support/aplib-encoder.js';
import { aplibDecode } from './aplib.js';

const SAMPLE = new TextEncoder().encode('MEW and FSG share this LZ77: abcabcabcabc, zzzzzzzz, MEW and FSG!');

test('the aPLib-like decoder reads what the test encoder writes, and stops on cut input', () => {
  const packed = aplibPack(SAMPLE);
  // source and destination as two views of one buffer, as MEW's stub decodes in place
  const buf = new Uint8Array(packed.length + SAMPLE.length);
  buf.set(packed);
  const end = aplibDecode(buf.subarray(0, packed.length), buf.subarray(packed.length));
  assert.deepEqual(end, { srcEnd: packed.length, dstEnd: SAMPLE.length });
  assert.deepEqual(buf.subarray(packed.length), SAMPLE);
  for (let n = 1; n < packed.length; n++) {
    const cut = new Uint8Array(n + SAMPLE.length);
    cut.set(packed.subarray(0, n));
    assert.equal(aplibDecode(cut.subarray(0, n), cut.subarray(n)), undefined, `cut at ${n}`);
  }
  assert.equal(aplibDecode(packed, new Uint8Array(10)), undefined);
});

test('FSG decoder: literals, a short copy, a zero byte, a one-byte-distance copy and the end', () => {
  // Tags (top bit first) 0 0 | 111 0010 | 111 0000 | 110 [byte 0x05: distance 2, length 3] | 110 [0x00: end]
  // 'A' comes first without a tag; then 'B', 'C'; a 1-byte copy 2 back; a zero; a 3-byte copy 2 back.
  const tags = '00' + '1110010' + '1110000' + '110' + '110';
  const bytes = [0x41];
  let bit = 0;
  const literal: Record<number, number[]> = { 0: [0x42], 1: [0x43], 18: [0x05], 21: [0x00] };
  for (let i = 0; i < tags.length; i += 8) {
    bytes.push(Number.parseInt(tags.slice(i, i + 8).padEnd(8, '0'), 2));
    for (; bit < Math.min(i + 8, tags.length); bit++) bytes.push(...(literal[bit] ?? []));
  }
  bytes.push(0, 0);
  const out = new Uint8Array(16);
  assert.notEqual(aplibDecode(Uint8Array.from(bytes), out), undefined);
  assert.deepEqual([...out.subarray(0, 8)], [0x41, 0x42, 0x43, 0x42, 0x00, 0x42, 0x00, 0x42]);
});

test('FSG decoder: a stream cut short or copying from before its output fails', () => {
  assert.equal(aplibDecode(Uint8Array.of(0x41, 0x00), new Uint8Array(4)), undefined);
  assert.equal(aplibDecode(Uint8Array.of(0x41, 0b11100110, 0, 0), new Uint8Array(4)), undefined);
  assert.equal(aplibDecode(new Uint8Array(0), new Uint8Array(4)), undefined);
});

test('offsets wrap at 32 bits as in ClamAV: a 25-bit offset code can name a near byte', () => {
  const w = new AplibWriter(0x41);
  w.bit(0);
  w.byte(0x42); // literal B
  w.bit(1);
  w.bit(0);
  w.gamma(2 ** 24 + 3); // after a literal: high part 2^24 + 1, so (high - 1) << 8 wraps to 0
  w.byte(1); // offset 1
  w.gamma(2); // length 2, + 2 for an offset under 0x80
  const stream = w.end();
  const out = new Uint8Array(16);
  assert.deepEqual(aplibDecode(stream, out), { srcEnd: stream.length, dstEnd: 6 });
  assert.equal(new TextDecoder().decode(out.subarray(0, 6)), 'ABBBBB');
});
