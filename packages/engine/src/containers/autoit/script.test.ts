// The pieces under the AutoIt archive reader: the two keystreams, C's number formats, the
// UTF-16 narrowing, and the EA06 token decompiler (its text, its stops and its cap).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lameDecrypt, mtDecrypt } from './ciphers.js';
import { decompile, narrow } from './script.js';

test('EA05 keystream is MT19937: outputs shifted right once, low byte', () => {
  // The reference MT19937 with seed 5489 starts 3499211612, 581869302, 3890346734.
  const b = new Uint8Array(3);
  mtDecrypt(b, 5489);
  assert.deepEqual(
    [...b],
    [3499211612, 581869302, 3890346734].map((v) => (v >>> 1) & 0xff),
  );
  // Past one state refill (624 outputs) it goes on; XOR twice gives the input back.
  const data = Uint8Array.from({ length: 2000 }, (_, i) => i & 0xff);
  const x = data.slice();
  mtDecrypt(x, 0x22af);
  assert.notDeepEqual(x, data);
  mtDecrypt(x, 0x22af);
  assert.deepEqual(x, data);
});

test('EA06 keystream: seeded by 16 bits, XOR twice gives the input back, seeds differ', () => {
  const data = new Uint8Array(64);
  const a = data.slice();
  const b = data.slice();
  lameDecrypt(a, 0x2477);
  lameDecrypt(b, 0x12477);
  assert.deepEqual(a, b, 'only 16 bits of the seed count');
  const c = data.slice();
  lameDecrypt(c, 0x2478);
  assert.notDeepEqual(a, c);
  lameDecrypt(a, 0x2477);
  assert.deepEqual(a, data);
});

test('narrow: UTF-16LE to bytes after a BOM or when it looks like ASCII, else unchanged', () => {
  const wide = (s: string) => Uint8Array.from([...s].flatMap((c) => [c.charCodeAt(0), 0]));
  const a = wide('hello');
  assert.equal(narrow(a), 5);
  assert.equal(new TextDecoder().decode(a.subarray(0, 5)), 'hello');
  const bom = Uint8Array.from([0xff, 0xfe, ...wide('ab')]);
  assert.equal(narrow(bom), 2);
  assert.deepEqual([...bom.subarray(0, 2)], [0x61, 0x62]);
  const binary = Uint8Array.from([0, 1, 0, 2, 0, 3, 0, 4]);
  assert.equal(narrow(binary), 8);
  assert.deepEqual([...binary], [0, 1, 0, 2, 0, 3, 0, 4]);
});

/** A token stream builder. */
class Tokens {
  readonly b: number[] = [];
  u32(v: number) {
    this.b.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    return this;
  }
  op(o: number) {
    this.b.push(o);
    return this;
  }
  /** A name or string token: its length, then UTF-16LE XORed with the length. */
  text(op: number, s: string) {
    this.op(op).u32(s.length);
    for (const c of s)
      this.b.push((c.charCodeAt(0) ^ s.length) & 0xff, ((c.charCodeAt(0) >>> 8) ^ (s.length >>> 8)) & 0xff);
    return this;
  }
  f64(v: number) {
    const d = new DataView(new ArrayBuffer(8));
    d.setFloat64(0, v, true);
    this.op(0x20);
    for (let i = 0; i < 8; i++) this.b.push(d.getUint8(i));
    return this;
  }
  bytes(lines: number) {
    return Uint8Array.from([lines & 0xff, 0, 0, 0, ...this.b]);
  }
}

const ascii = (b: Uint8Array) => new TextDecoder('latin1').decode(b);

test('decompile: keywords, functions, numbers, names, strings and operators as ClamAV writes them', () => {
  const t = new Tokens()
    .op(0)
    .u32(28) // LOCAL
    .text(0x33, 'x')
    .op(0x41)
    .op(1)
    .u32(0) // ABS
    .op(0x47)
    .op(5)
    .u32(0xfffffffc)
    .op(0x48)
    .op(0x49)
    .f64(2.5)
    .op(0x7f)
    .text(0x34, 'MyFunc')
    .op(0x47)
    .text(0x36, 'Hi')
    .op(0x4d)
    .text(0x32, 'CRLF')
    .text(0x35, 'Item')
    .op(0x40)
    .op(0x10)
    .u32(1)
    .u32(2)
    .op(0x48)
    .op(0x7f);
  const d = decompile(t.op(0x7f).bytes(2), 1 << 20);
  assert.equal(d.error, undefined);
  assert.equal(
    ascii(d.text),
    'LOCAL $x = ABS ( 0xfffffffc ) + 2.5 \nMyFunc( "Hi" & @CRLF .Item , 0x0000000200000001 ) \n',
    'stops after the line count, before the third end-of-line',
  );
});

test('decompile: a bad token stops it with what came before; hostile lengths do not allocate', () => {
  const unknown = decompile(new Tokens().op(0).u32(4).op(0x99).op(0x7f).bytes(1), 1 << 20);
  assert.equal(ascii(unknown.text), 'IF ');
  assert.match(unknown.error ?? '', /unknown token 0x99/);
  const badId = decompile(new Tokens().op(1).u32(100000).op(0x7f).bytes(1), 1 << 20);
  assert.match(badId.error ?? '', /unknown function ID/);
  for (const len of [0x7fffffff, 0x80000001, 0xffffffff, 1000]) {
    const huge = decompile(new Tokens().op(0x36).u32(len).op(0x7f).op(0x7f).bytes(1), 1 << 20);
    assert.match(huge.error ?? '', /passes the script/, `length ${len}`);
  }
  const short = decompile(new Tokens().op(0x20).bytes(1), 1 << 20);
  assert.match(short.error ?? '', /no room/);
});

test('decompile: text past the cap is reported as over, never grown past it', () => {
  const t = new Tokens();
  for (let i = 0; i < 200; i++) t.op(1).u32(163); // GUICTRLREGISTERLISTVIEWSORT, 28 bytes of text each
  t.op(0x7f); // ClamAV's bounds check wants a byte after a token's last one
  const d = decompile(t.bytes(1), 1000);
  assert.equal(d.over, true);
  assert.ok(d.text.length <= 1000);
  const all = decompile(t.bytes(1), 1 << 20);
  assert.equal(all.over, false);
  assert.equal(all.text.length, 200 * 28 + 1);
  assert.equal(ascii(all.text.subarray(0, 28)), 'GUICTRLREGISTERLISTVIEWSORT ');
});
