// Older InstallShield setups: the PE overlay's file records, data1.hdr and its `ISc(` cabinets.
// ClamAV's two test setups yield clam.exe; setups built here round-trip, and truncated, bit-flipped
// or lying ones end within their limits with a report, never a throw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { concat } from '../../test-support/archives.js';
import { type Run, runHandler } from '../../test-support/extract.js';
import { CLAM_EXE_SHA256, sha256, skipWithout, testFile } from '../../test-support/testfiles.js';
import { installShieldSetupHandler } from './index.js';
import { CHUNK_BUDGET, MAX_RECORDS } from './limits.js';
import { peOverlay } from './overlay.js';
import { leadingInteger } from './setup.js';

const te = new TextEncoder();
const run = (data: Uint8Array, maxMemberSize = 64 << 20) =>
  runHandler(installShieldSetupHandler, data, { maxMemberSize, name: 'setup.exe' });
const names = (r: Run) => r.members.map((m) => m.name);

/** A PE32 with two 0x200-byte sections; `last` says which one reaches furthest in memory. */
function pe(options: { plus?: boolean; firstIsLast?: boolean } = {}): Uint8Array {
  const d = new Uint8Array(0x600);
  const v = new DataView(d.buffer);
  v.setUint16(0, 0x5a4d, true);
  v.setUint32(0x3c, 0x40, true);
  v.setUint32(0x40, 0x4550, true);
  v.setUint16(0x46, 2, true); // sections
  v.setUint16(0x54, 0xe0, true); // optional header size
  v.setUint16(0x56, 0x0102, true); // executable
  const opt = 0x58;
  v.setUint16(opt, options.plus === true ? 0x20b : 0x10b, true);
  v.setUint32(opt + 16, 0x1000, true); // entry point
  v.setUint32(opt + 32, 0x1000, true); // section alignment
  v.setUint32(opt + 36, 0x200, true); // file alignment
  v.setUint32(opt + 60, 0x200, true); // size of headers
  const rvas = options.firstIsLast === true ? [0x3000, 0x1000] : [0x1000, 0x2000];
  for (let i = 0; i < 2; i++) {
    const s = opt + 0xe0 + i * 40;
    v.setUint32(s + 8, 0x200, true);
    v.setUint32(s + 12, rvas[i] as number, true);
    v.setUint32(s + 16, 0x200, true);
    v.setUint32(s + 20, 0x200 * (i + 1), true);
  }
  return d;
}

/** One overlay file record: name, path, version and decimal size, each NUL-terminated, then the bytes. */
function record(name: string, data: Uint8Array, size = String(data.length)): Uint8Array {
  return concat(te.encode(`${name}\0Disk1\\${name}\0 0.0.0.0\0${size}\0`), data);
}

interface HdrFile {
  readonly name: string;
  readonly data: Uint8Array;
  readonly flags?: number;
  readonly cab?: number;
  /** Marks the entry as a later copy of another file. */
  readonly duplicate?: boolean;
  /** Overrides the stream's offset in its cabinet. */
  readonly offset?: number;
  /** Overrides the stream's compressed size. */
  readonly csize?: number;
  /** Overrides the stream itself. */
  readonly stream?: Uint8Array;
}

/** A file's stream: chunks of a 16-bit length and a raw deflate stream each. */
function chunks(data: Uint8Array, chunkSize = 1000): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let o = 0; o < data.length; o += chunkSize) {
    const z = new Uint8Array(deflateRawSync(data.subarray(o, o + chunkSize)));
    parts.push(Uint8Array.of(z.length & 0xff, z.length >> 8), z);
  }
  return concat(...parts);
}

/** data1.hdr and data1.cab for `files`: streams from offset 0x200 of the cabinet, one after another. */
function cabinet(files: readonly HdrFile[]): { hdr: Uint8Array; cab: Uint8Array } {
  const streams = files.map((f) => f.stream ?? chunks(f.data));
  const cab = concat(te.encode('ISc('), new Uint8Array(0x1fc), ...streams);
  const dataOff = 0x20;
  const dirsOff = 0x60; // names are relative to dataOff + dirsOff
  const table = dataOff + dirsOff + 0x10;
  const namesAt = table + files.length * 87;
  const nameBytes = files.map((f) => te.encode(`${f.name}\0`));
  const hdr = new Uint8Array(namesAt + nameBytes.reduce((n, b) => n + b.length, 0));
  const v = new DataView(hdr.buffer);
  v.setUint32(0, 0x28635349, true);
  v.setUint32(12, dataOff, true);
  v.setUint32(dataOff + 12, dirsOff, true);
  v.setUint32(dataOff + 40, files.length, true);
  v.setUint32(dataOff + 44, 0x10, true);
  let stream = 0x200;
  let name = namesAt;
  files.forEach((f, i) => {
    const at = table + i * 87;
    const s = streams[i] as Uint8Array;
    v.setUint16(at, f.flags ?? 4, true);
    v.setBigUint64(at + 2, BigInt(f.data.length), true);
    v.setBigUint64(at + 10, BigInt(f.csize ?? s.length), true);
    v.setBigUint64(at + 18, BigInt(f.offset ?? stream), true);
    v.setUint32(at + 58, name - dataOff - dirsOff, true);
    hdr[at + 84] = f.duplicate === true ? 1 : 0;
    v.setUint16(at + 85, f.cab ?? 1, true);
    hdr.set(nameBytes[i] as Uint8Array, name);
    stream += s.length;
    name += (nameBytes[i] as Uint8Array).length;
  });
  return { hdr, cab };
}

const README = te.encode('read me\n');
const TOOL = Uint8Array.from({ length: 2500 }, (_, i) => (i * 13) & 0xff);
const PACKED = Uint8Array.from({ length: 3000 }, (_, i) => (i % 251) ^ 0x5a);

/** A setup: a PE, a plain file, data1.cab and data1.hdr with two files, and a byte of trailer. */
function setup(
  files: readonly HdrFile[] = [
    { name: 'tool.dll', data: TOOL },
    { name: 'packed.exe', data: PACKED },
  ],
) {
  const { hdr, cab } = cabinet(files);
  return concat(
    pe(),
    record('readme.txt', README),
    record('data1.cab', cab),
    record('data1.hdr', hdr),
    Uint8Array.of(0),
  );
}

test('overlay: after the section that reaches furthest in memory; none for PE32+ or when that is the first', () => {
  assert.deepEqual(peOverlay(concat(pe(), new Uint8Array(10))), { start: 0x600, size: 10 });
  assert.equal(peOverlay(pe()), undefined, 'no bytes after the sections');
  assert.equal(peOverlay(concat(pe({ plus: true }), new Uint8Array(10))), undefined);
  assert.equal(peOverlay(concat(pe({ firstIsLast: true }), new Uint8Array(10))), undefined);
  assert.equal(peOverlay(te.encode('MZ not a PE at all, not at all, not at all, not at all, not at all')), undefined);
});

test('size strings are read as strtol reads them, and must be whole', () => {
  assert.deepEqual(leadingInteger(' +544'), { value: 544, rest: '' });
  assert.deepEqual(leadingInteger('12x'), { value: 12, rest: 'x' });
  assert.equal(leadingInteger('x12'), undefined);
  const r = run(concat(pe(), record('a.txt', README, '8 bytes'), Uint8Array.of(0)));
  assert.deepEqual(r.members, []);
});

test('built setups: plain files, then the files data1.hdr lists, decoded from their chunks', () => {
  const r = run(setup());
  assert.deepEqual(names(r), ['readme.txt', 'tool.dll', 'packed.exe']);
  assert.deepEqual(r.members[0]?.data, README);
  assert.deepEqual(r.members[1]?.data, TOOL);
  assert.deepEqual(r.members[2]?.data, PACKED);
  assert.deepEqual(r.broken, []);
});

test('external and duplicate entries are skipped; a missing cabinet is reported and the raw files scanned', () => {
  const skipped = run(
    setup([
      { name: 'outside.exe', data: TOOL, flags: 0 },
      { name: 'copy.dll', data: TOOL, duplicate: true },
      { name: 'tool.dll', data: TOOL },
    ]),
  );
  assert.deepEqual(names(skipped), ['readme.txt', 'tool.dll']);
  assert.deepEqual(skipped.broken, []);
  const missing = run(setup([{ name: 'tool.dll', data: TOOL, cab: 2 }]));
  assert.deepEqual(names(missing), ['readme.txt', 'data1.hdr', 'data1.cab']);
  assert.match(missing.broken.join('\n'), /data2\.cab is not in this setup/);
});

test('a file ending exactly at the end of the overlay is dropped, as ClamAV drops it', () => {
  const r = run(concat(pe(), record('a.txt', README), record('b.txt', README)));
  assert.deepEqual(names(r), ['a.txt']);
  assert.deepEqual(r.broken, []);
});

test('truncated setups never throw; a cut inside a file is reported', () => {
  const s = setup();
  const overlayStart = 0x600;
  // A cut between records cannot be told from the end of the list; inside a file it can.
  for (let cut = 0; cut < s.length; cut += 11) {
    const r = run(s.subarray(0, cut));
    assert.ok(r.members.length <= 3, `cut at ${cut}`);
  }
  // Cut inside data1.cab's bytes: its record runs past the end.
  const inCab = run(s.subarray(0, overlayStart + 60 + 300));
  assert.match(inCab.broken.join('\n'), /data1\.cab runs past the end/);
});

test('bit flips end cleanly', () => {
  const s = setup();
  for (let i = 0x580; i < s.length; i += 5) {
    const q = s.slice();
    q[i] = (q[i] as number) ^ (1 << (i % 8));
    run(q); // members within 64 MiB, as run asserts
  }
});

test('hostile sizes: lying records, streams and bombs stop at their bounds', () => {
  const lying = run(concat(pe(), record('big.bin', README, String(2 ** 50))));
  assert.deepEqual(lying.members, []);
  assert.match(lying.broken.join('\n'), /past the end/);
  const outside = run(setup([{ name: 'tool.dll', data: TOOL, offset: 2 ** 40 }]));
  assert.match(outside.broken.join('\n'), /tool\.dll lies outside data1\.cab/);
  const bomb = run(setup([{ name: 'bomb', data: new Uint8Array(60000) }]), 20000);
  assert.deepEqual(
    bomb.tooBig.map(([name]) => name),
    ['bomb'],
  );
  assert.ok(!names(bomb).includes('bomb'));
  const small = run(concat(pe(), record('big.bin', TOOL), Uint8Array.of(0)), 1000);
  assert.deepEqual(
    small.tooBig.map(([name]) => name),
    ['big.bin'],
  );
});

test('ClamAV test setups: clam.exe as a plain file (ext) and from data2.cab (int)', {
  skip: skipWithout('clam_IScab_ext.exe', 'clam_IScab_int.exe'),
}, () => {
  for (const file of ['clam_IScab_ext.exe', 'clam_IScab_int.exe']) {
    const r = run(testFile(file));
    const clam = r.members.filter((m) => m.name === 'clam.exe');
    assert.equal(clam.length, 1, `${file}: clam.exe is a member`);
    assert.equal(sha256(clam[0]?.data ?? new Uint8Array()), CLAM_EXE_SHA256, file);
    assert.deepEqual(r.broken, [], file);
  }
});

test('caps: a stream of countless tiny chunks, and countless empty records, stop with a report', () => {
  const tiny = new Uint8Array((CHUNK_BUDGET + 10) * 4);
  for (let o = 0; o < tiny.length; o += 4) tiny.set([2, 0, 0x03, 0x00], o);
  const r = run(setup([{ name: 'tiny', data: README, stream: tiny }]));
  assert.match(r.broken.join('\n'), /too many compressed chunks for their output; tiny and the rest are not read/);
  const empty = new Uint8Array((MAX_RECORDS + 10) * 5);
  for (let o = 0; o < empty.length; o += 5) empty.set([0, 0, 0, 0x30, 0], o);
  const e = run(concat(pe(), empty, Uint8Array.of(0)));
  assert.deepEqual(e.members, []);
  assert.match(e.broken.join('\n'), /more than \d+ file records/);
});
