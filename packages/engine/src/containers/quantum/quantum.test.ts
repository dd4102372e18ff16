// The Quantum decoder: streams from the test encoder (literals only and with matches, windows of
// 2^10 to 2^21, several frames) decoded byte for byte; a cabinet with a Quantum folder whose
// clam.exe clamscan finds too (libmspack decodes what the encoder wrote); damaged streams end with
// an error, never a throw.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { noise } from '../../test-support/archives.js';
import { runHandler } from '../../test-support/extract.js';
import { quantumEncode, quantumInput } from '../../test-support/quantum-encoder.js';
import { CLAM_EXE_SHA256, sha256, skipWithout, testFile } from '../../test-support/testfiles.js';
import { cabHandler } from '../cab/index.js';
import { QUANTUM_FRAME, QuantumStream } from './decode.js';

/** Text with repeats near and far, so that all three match kinds and many offset slots occur. */
function prose(n: number): Uint8Array {
  const words = ['cabinet', 'folder', 'quantum', 'frame', 'a', 'of', 'the', 'model', '\r\n', 'window'];
  const r = noise(n, 4);
  let s = '';
  for (let i = 0; s.length < n; i++) s += `${words[(r[i % n] as number) % words.length]} `;
  return new TextEncoder().encode(s.slice(0, n));
}

function decode(frames: Uint8Array[], windowBits: number, n: number) {
  const s = QuantumStream.open(quantumInput(frames), windowBits);
  assert.ok(typeof s !== 'string', String(s));
  return s.read(n);
}

test('encoded streams decode byte for byte, across frames and for every window size', () => {
  const inputs: [string, Uint8Array][] = [
    ['prose', prose(2 * QUANTUM_FRAME + 1234)],
    ['noise', noise(20_000, 1)],
    ['zeros', new Uint8Array(QUANTUM_FRAME + 100)],
    ['one byte', Uint8Array.of(0xc3)],
  ];
  for (const [what, data] of inputs) {
    for (const windowBits of [10, 15, 21]) {
      for (const literalsOnly of [true, false]) {
        const frames = quantumEncode(data, windowBits, literalsOnly);
        const r = decode(frames, windowBits, data.length);
        const label = `${what}, window 2^${windowBits}${literalsOnly ? ', literals only' : ''}`;
        assert.equal(r.error, undefined, label);
        assert.ok(Buffer.from(r.data).equals(Buffer.from(data)), label);
      }
    }
  }
  // Matches do shrink the stream (the encoder used them).
  const data = prose(50_000);
  const size = (f: Uint8Array[]) => f.reduce((n, b) => n + b.length, 0);
  assert.ok(size(quantumEncode(data, 16)) < size(quantumEncode(data, 16, true)) * 0.7);
});

test('a stream is read on from where it is: skips and reads in pieces give the same bytes', () => {
  const data = prose(100_000);
  const s = QuantumStream.open(quantumInput(quantumEncode(data, 15)), 15);
  assert.ok(typeof s !== 'string');
  assert.deepEqual([...s.read(10).data], [...data.subarray(0, 10)]);
  assert.equal(s.skip(50_000), undefined);
  assert.equal(s.offset, 50_010);
  assert.deepEqual([...s.read(40_000).data], [...data.subarray(50_010, 90_010)]);
  // Past the end the stream runs out of input and says so.
  const rest = s.read(1_000_000);
  assert.ok(rest.error !== undefined && rest.data.length < 1_000_000);
});

test('window sizes outside 2^10..2^21 are refused', () => {
  for (const bits of [0, 9, 22, 31]) assert.match(String(QuantumStream.open(new Uint8Array(8), bits)), /not supported/);
});

test('damaged streams: truncation and bit flips end with an error or wrong bytes, never a throw', () => {
  const data = prose(2 * QUANTUM_FRAME + 500);
  const input = quantumInput(quantumEncode(data, 16));
  for (let cut = 0; cut < input.length; cut += 97) {
    const s = QuantumStream.open(input.subarray(0, cut), 16) as QuantumStream;
    const r = s.read(data.length);
    assert.ok(r.error !== undefined, `cut at ${cut}`);
    assert.ok(r.data.length < data.length);
  }
  const rand = noise(3000, 8);
  for (let i = 0; i < 500; i++) {
    const bad = input.slice();
    const at = ((rand[3 * i] as number) | ((rand[3 * i + 1] as number) << 8)) % bad.length;
    bad[at] = (bad[at] as number) ^ (1 << ((rand[3 * i + 2] as number) & 7));
    const r = (QuantumStream.open(bad, 16) as QuantumStream).read(data.length);
    assert.ok(r.data.length <= data.length);
    if (r.error === undefined) assert.equal(r.data.length, data.length);
  }
});

/** A cabinet of one Quantum folder (window 2^`bits`), one data block per frame, holding `files`. */
function quantumCab(files: readonly [string, Uint8Array][], bits: number): Uint8Array {
  const stream = Uint8Array.from(files.flatMap(([, d]) => [...d]));
  const frames = quantumEncode(stream, bits);
  const le = (v: number, n: number) => Array.from({ length: n }, (_, i) => Math.floor(v / 2 ** (8 * i)) & 0xff);
  const table: number[] = [];
  let offset = 0;
  for (const [name, d] of files) {
    table.push(...le(d.length, 4), ...le(offset, 4), ...le(0, 2), ...le(0x5821, 2), ...le(0, 2), ...le(0x20, 2));
    table.push(...new TextEncoder().encode(name), 0);
    offset += d.length;
  }
  const filesAt = 36 + 8;
  const dataAt = filesAt + table.length;
  const blocks = frames.flatMap((f, i) => {
    const size = Math.min(QUANTUM_FRAME, stream.length - i * QUANTUM_FRAME);
    return [...le(0, 4), ...le(f.length, 2), ...le(size, 2), ...f];
  });
  const total = dataAt + blocks.length;
  const header = [...new TextEncoder().encode('MSCF'), ...le(0, 4), ...le(total, 4), ...le(0, 4)];
  header.push(...le(filesAt, 4), ...le(0, 4), 3, 1, ...le(1, 2), ...le(files.length, 2), ...le(0, 2), ...le(0, 2));
  header.push(...le(0, 2));
  const folder = [...le(dataAt, 4), ...le(frames.length, 2), ...le(2 | (bits << 8) | (4 << 4), 2)];
  return Uint8Array.from([...header, ...folder, ...table, ...blocks]);
}

function extract(cab: Uint8Array) {
  return runHandler(cabHandler, cab, { name: 'q.cab', maxMemberSize: 1 << 26 });
}

test('a Quantum cabinet: clam.exe comes out of its second frame, and clamscan finds it too', {
  skip: skipWithout('clam.exe'),
}, () => {
  const clam = testFile('clam.exe');
  const pad = prose(QUANTUM_FRAME + 3000);
  for (const bits of [10, 16, 21]) {
    const cab = quantumCab(
      [
        ['notes.txt', pad],
        ['clam.exe', clam],
      ],
      bits,
    );
    const r = extract(cab);
    assert.deepEqual(r.broken, [], `window 2^${bits}`);
    assert.deepEqual(
      r.members.map((m) => m.name),
      ['notes.txt', 'clam.exe'],
    );
    assert.ok(Buffer.from(r.members[0]?.data ?? []).equals(Buffer.from(pad)));
    assert.equal(sha256(r.members[1]?.data ?? new Uint8Array(0)), CLAM_EXE_SHA256);
    if (spawnSync('clamscan', ['--version']).status !== 0) continue;
    const dir = mkdtempSync(join(tmpdir(), 'vigil-quantum-'));
    try {
      writeFileSync(join(dir, 'clam.hsb'), `${CLAM_EXE_SHA256}:544:ClamAV-Test-File\n`);
      writeFileSync(join(dir, 'q.cab'), cab);
      const c = spawnSync('clamscan', ['--no-summary', '-d', join(dir, 'clam.hsb'), join(dir, 'q.cab')], {
        encoding: 'utf8',
      });
      assert.match(c.stdout, /ClamAV-Test-File\.UNOFFICIAL FOUND/, `clamscan on window 2^${bits}: ${c.stdout}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
