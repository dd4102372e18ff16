// The InstallShield MSI payload reader: ClamAV's test installers decode to clam.exe (and to the
// .msi that holds it), payloads built here round-trip, and damaged or hostile ones end with a report.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { concat } from '../../test-support/archives.js';
import { runHandler } from '../../test-support/extract.js';
import { CLAM_EXE_SHA256, indexOfBytes, sha256, skipWithout, testFile } from '../../test-support/testfiles.js';
import { MSI_KEY_BASE } from './limits.js';
import { deobfuscate, installShieldMsiHandler } from './msi.js';

const te = new TextEncoder();
const run = (data: Uint8Array, maxMemberSize = 64 << 20) =>
  runHandler(installShieldMsiHandler, data, { maxMemberSize, name: 'setup.exe' });

/** The inverse of the reader's deobfuscation: XOR with the name's key, then swap the nibbles. */
function obfuscate(data: Uint8Array, name: Uint8Array): Uint8Array {
  const key = name.map((c, i) => c ^ (MSI_KEY_BASE[i & 3] as number));
  return data.map((c, i) => {
    const x = c ^ (key[(i & 0x3ff) % key.length] as number);
    return (x >> 4) | (x << 4);
  });
}

interface Entry {
  readonly name: string;
  readonly data: Uint8Array;
  /** Overrides the compressed size written in the file block. */
  readonly csize?: number;
}

/** An MSI payload: the marker, a header with the file count, then each file block and its data. */
function payload(entries: readonly Entry[], count = entries.length): Uint8Array {
  const parts: Uint8Array[] = [te.encode('InstallShield\0')];
  const head = new Uint8Array(0x20);
  new DataView(head.buffer).setUint32(0, count, true);
  parts.push(head);
  for (const e of entries) {
    const name = te.encode(e.name);
    const packed = obfuscate(new Uint8Array(deflateSync(e.data)), name);
    const block = new Uint8Array(0x104 + 52);
    block.set(name);
    const v = new DataView(block.buffer);
    v.setUint32(0x104, 6, true);
    v.setBigUint64(0x104 + 8, BigInt(e.csize ?? packed.length), true);
    v.setUint32(0x104 + 20, 1, true);
    parts.push(block, packed);
  }
  return concat(...parts);
}

test('obfuscation round-trips, and the key restarts every 1024 bytes', () => {
  const name = te.encode('abc.exe');
  const data = Uint8Array.from({ length: 3000 }, (_, i) => (i * 31) & 0xff);
  const mixed = obfuscate(data, name);
  assert.notDeepEqual(mixed, data);
  assert.deepEqual(deobfuscate(mixed, name), data);
  // At 1024 the key index starts again from 0, not from 1024 % 7.
  const zeros = new Uint8Array(1025);
  const d = deobfuscate(zeros, name);
  assert.equal(d[1024], d[0]);
});

test('built payloads: every file decodes under its name', () => {
  const a = te.encode('first file\n');
  const b = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);
  const r = run(
    payload([
      { name: 'readme.txt', data: a },
      { name: 'tool.bin', data: b },
    ]),
  );
  assert.deepEqual(
    r.members.map((m) => m.name),
    ['readme.txt', 'tool.bin'],
  );
  assert.deepEqual(r.members[0]?.data, a);
  assert.deepEqual(r.members[1]?.data, b);
  assert.deepEqual(r.broken, []);
});

test('a chance marker whose header is not zeroed is no payload, and says nothing', () => {
  const p = payload([{ name: 'x', data: te.encode('x') }]);
  p[14 + 12] = 1;
  const r = run(p);
  assert.deepEqual(r.members, []);
  assert.deepEqual(r.broken, []);
});

test('truncated payloads end with a report at every cut, never a throw', () => {
  const p = payload([
    { name: 'one.txt', data: te.encode('one '.repeat(100)) },
    { name: 'two.txt', data: te.encode('two '.repeat(100)) },
  ]);
  for (let cut = 0; cut < p.length; cut += 7) {
    const r = run(p.subarray(0, cut));
    assert.ok(r.broken.length > 0, `cut at ${cut} of ${p.length} is reported`);
    assert.ok(r.members.length <= 1);
  }
});

test('bit flips end cleanly', () => {
  const p = payload([
    { name: 'one.txt', data: te.encode('one '.repeat(200)) },
    { name: 'two.txt', data: te.encode('two '.repeat(200)) },
  ]);
  for (let i = 0; i < p.length; i += 3) {
    const q = p.slice();
    q[i] = (q[i] as number) ^ (1 << (i % 8));
    run(q); // members within 64 MiB, as run asserts
  }
});

test('hostile sizes: a huge claimed size is refused, a bomb stops at maxMemberSize', () => {
  const lying = run(payload([{ name: 'big', data: te.encode('x'), csize: 2 ** 52 }]));
  assert.deepEqual(lying.members, []);
  assert.match(lying.broken.join('\n'), /past the end/);
  const bomb = run(payload([{ name: 'bomb', data: new Uint8Array(4 << 20) }]), 1 << 20);
  assert.deepEqual(bomb.members, []);
  assert.deepEqual(
    bomb.tooBig.map(([name]) => name),
    ['bomb'],
  );
  // A huge count with one file: the reader stops where the data does.
  const many = run(payload([{ name: 'a', data: te.encode('a') }], 0xffffffff));
  assert.equal(many.members.length, 1);
  assert.equal(many.broken.length, 1);
});

/** The payload of one of ClamAV's MSI-based test installers, from the marker ClamAV's signature finds. */
function testInstaller(file: string): Uint8Array {
  const d = testFile(file);
  const marker = te.encode('InstallShield\0');
  for (let at = indexOfBytes(d, marker); at >= 0; at = indexOfBytes(d, marker, at + 1)) {
    if (d[at + 14 + 292] === 6) return d.subarray(at);
  }
  throw new Error(`no InstallShield payload in ${file}`);
}

test('ClamAV test installers: clam_ISmsi_ext.exe holds clam.exe, clam_ISmsi_int.exe an .msi', {
  skip: skipWithout('clam_ISmsi_ext.exe', 'clam_ISmsi_int.exe'),
}, () => {
  const ext = run(testInstaller('clam_ISmsi_ext.exe'));
  assert.equal(ext.members[0]?.name, 'clam.exe409.bmp');
  assert.equal(sha256(ext.members[0]?.data ?? new Uint8Array()), CLAM_EXE_SHA256);
  assert.deepEqual(ext.broken, []);
  const int = run(testInstaller('clam_ISmsi_int.exe'));
  const msi = int.members.find((m) => m.name === 'clam.msi');
  assert.ok(msi !== undefined, 'clam.msi is a member');
  assert.deepEqual([...msi.data.subarray(0, 4)], [0xd0, 0xcf, 0x11, 0xe0], 'an OLE2 file');
  assert.deepEqual(int.broken, []);
});
