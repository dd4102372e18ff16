// Files found inside other files' bytes: which hosts are searched, which headers are believed, how
// far each reaches, and ClamAV's cap on how many are listed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { bytesSource } from '../bytesource.js';
import { buildPe } from '../containers/pe-unpack/pe.js';
import { compileDatabase } from '../database/api.js';
import { concat, zip } from '../test-support/archives.js';
import { testEnv } from '../test-support/env.js';
import { buildIso, isoDir, isoFile } from '../test-support/iso9660-builder.js';
import { RAR4_SIGNATURE, rar4, rar5 } from '../test-support/rar.js';
import { findEmbedded } from './embedded.js';
import { resolveScanOptions, type ScanOptions } from './options.js';
import { createScanner } from './scanner.js';

const te = new TextEncoder();
const PAYLOAD = Uint8Array.from({ length: 700 }, (_, i) => (i * 7 + 3) & 0xff);
const md5 = (d: Uint8Array) => createHash('md5').update(d).digest('hex');

/** A small valid executable of our own: no signature knows it. */
function stub(body: Uint8Array = Uint8Array.of(0xc3)): Uint8Array {
  const pe = buildPe(
    { imageBase: 0x400000, entryRva: 0x1000, sections: [{ rva: 0x1000, virtualSize: 0x1000, data: body }] },
    1 << 20,
  );
  assert.ok(pe !== undefined);
  return pe;
}
/** An executable the test database knows. */
const EVIL_PE = stub(PAYLOAD);
const { database } = compileDatabase(
  [
    {
      name: 't.hdb',
      bytes: te.encode(`${md5(PAYLOAD)}:${PAYLOAD.length}:Test.Payload\n${md5(EVIL_PE)}:${EVIL_PE.length}:Test.Exe\n`),
    },
  ],
  testEnv,
  { detectPua: false },
);
const scanner = createScanner(database, testEnv);
const scan = (data: Uint8Array, options: Partial<ScanOptions> = {}) =>
  scanner.scan(bytesSource(data), resolveScanOptions(options), 'input');
const found = (data: Uint8Array, options: Partial<ScanOptions> = {}) =>
  scan(data, options).detections.map((d) => d.path.join('//'));

const LIMITS = { maxFiles: 10_000, maxEmbeddedPe: 40 << 20 };
const text = (n: number) => te.encode('plain words\n'.repeat(n));

test('an archive after an executable stub is scanned from its header (SFX)', () => {
  const exe = stub();
  const z = zip([{ name: 'evil', data: PAYLOAD, method: 8 }]);
  assert.deepEqual(found(concat(exe, z)), [`zip@${exe.length}//evil`]);
  assert.deepEqual(found(concat(exe, z), { scanArchive: false }), []);
  // After text as well: any host but a ZIP (whose own entries would each be found again).
  assert.deepEqual(found(concat(text(20), z)), [`zip@240//evil`]);
});

test('an executable inside an executable is scanned to the end of the file, within MaxEmbeddedPE', () => {
  const inner = concat(stub(), PAYLOAD);
  const host = concat(stub(), inner);
  const at = host.length - inner.length;
  assert.deepEqual(findEmbedded(host, 'CL_TYPE_MSEXE', LIMITS), [
    { offset: at, length: inner.length, type: 'CL_TYPE_MSEXE' },
  ]);
  assert.deepEqual(findEmbedded(host, 'CL_TYPE_MSEXE', { ...LIMITS, maxEmbeddedPe: inner.length - 1 }), []);
  assert.deepEqual(found(concat(stub(), EVIL_PE)), [`msexe@${stub().length}`]);
  assert.deepEqual(found(concat(stub(), EVIL_PE), { scanPe: false }), []);
  // Not in text: ClamAV looks for executables only in executables and OLE2 documents.
  assert.deepEqual(findEmbedded(concat(text(20), inner), 'CL_TYPE_TEXT_ASCII', LIMITS), []);
  // `MZ` with no PE header where the DOS header points is no executable.
  const fake = concat(stub(), te.encode('MZ'), new Uint8Array(100), te.encode('PE\0\0'), new Uint8Array(64));
  assert.deepEqual(findEmbedded(fake, 'CL_TYPE_MSEXE', LIMITS), []);
});

test('ZIP entries: each is its own archive; headers that do not hold are passed over', () => {
  const one = zip([{ name: 'a', data: PAYLOAD, method: 0 }]);
  const entry = 30 + 1 + PAYLOAD.length;
  const host = concat(text(10), one);
  assert.deepEqual(findEmbedded(host, 'CL_TYPE_BINARY_DATA', LIMITS), [
    { offset: 120, length: entry, type: 'CL_TYPE_ZIP' },
  ]);
  // A 7z signature inside the entry's data belongs to the entry, not to the host.
  const inner = concat(Uint8Array.of(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c), PAYLOAD);
  const hidden = concat(text(10), zip([{ name: 'a', data: inner, method: 0 }]));
  assert.deepEqual(
    findEmbedded(hidden, 'CL_TYPE_BINARY_DATA', LIMITS).map((f) => f.type),
    ['CL_TYPE_ZIP'],
  );
  // Sizes left to a data descriptor, or an empty entry, are not believed.
  const dd = one.slice();
  dd[6] = 0x08;
  assert.deepEqual(findEmbedded(concat(text(10), dd), 'CL_TYPE_BINARY_DATA', LIMITS), []);
  const empty = zip([{ name: 'a', data: new Uint8Array(0), method: 0 }]);
  assert.deepEqual(findEmbedded(concat(text(10), empty), 'CL_TYPE_BINARY_DATA', LIMITS), []);
  // A ZIP's own raw pass looks for nothing: its entries are unpacked from its directory.
  assert.deepEqual(findEmbedded(concat(one, one), 'CL_TYPE_ZIP', LIMITS), []);
});

test('RAR-SFX: a RAR 1.5-4.x archive after any stub is scanned from its marker, without a header check', () => {
  const exe = stub();
  const r4 = rar4([{ name: 'evil', data: PAYLOAD }]);
  assert.deepEqual(found(concat(exe, r4)), [`rar@${exe.length}//evil`]);
  assert.deepEqual(found(concat(exe, r4), { scanArchive: false }), []);
  // ClamAV believes the 7-byte marker alone: the slice is handed on even when no archive follows.
  const junk = concat(text(3), RAR4_SIGNATURE, text(3));
  assert.deepEqual(findEmbedded(junk, 'CL_TYPE_BINARY_DATA', LIMITS), [
    { offset: 36, length: junk.length - 36, type: 'CL_TYPE_RAR' },
  ]);
  // Not inside a RAR itself, and not for RAR 5, which ClamAV's built-in list has no SFX entry for.
  assert.deepEqual(findEmbedded(concat(r4, r4), 'CL_TYPE_RAR', LIMITS), []);
  assert.deepEqual(findEmbedded(concat(exe, rar5([{ name: 'evil', data: PAYLOAD }])), 'CL_TYPE_MSEXE', LIMITS), []);
});

test("ClamAV's cap: ten signature matches are listed per file, whether their headers hold or not", () => {
  const junkCab = () => concat(te.encode('MSCF'), new Uint8Array(4), text(1)); // no cabinet header follows
  const sevenZip = Uint8Array.of(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4);
  const host = (junk: number) => concat(text(2), ...Array.from({ length: junk }, junkCab), sevenZip, text(2));
  assert.deepEqual(
    findEmbedded(host(9), 'CL_TYPE_BINARY_DATA', LIMITS).map((f) => f.type),
    ['CL_TYPE_7Z'],
  );
  assert.deepEqual(findEmbedded(host(10), 'CL_TYPE_BINARY_DATA', LIMITS), []);
});

test('installer data is read only after an executable; NSIS from 4 bytes before its signature', () => {
  const nsis = concat(
    new Uint8Array(4),
    Uint8Array.of(0xef, 0xbe, 0xad, 0xde),
    te.encode('NullsoftInst'),
    new Uint8Array(40),
  );
  const exe = stub();
  assert.deepEqual(findEmbedded(concat(exe, nsis), 'CL_TYPE_MSEXE', LIMITS), [
    { offset: exe.length, length: nsis.length, type: 'CL_TYPE_NULSFT' },
  ]);
  assert.deepEqual(findEmbedded(concat(text(5), nsis), 'CL_TYPE_BINARY_DATA', LIMITS), []);
});

test('what is found embedded is not searched again, and the search ends within MaxRecursion', () => {
  // A zip entry after a stub holds a stub with a zip after it: the inner SFX is found when the
  // entry's member is scanned (a member is searched), not when the embedded zip itself is.
  const innerSfx = concat(stub(), zip([{ name: 'evil', data: PAYLOAD, method: 0 }]));
  const outer = concat(stub(), zip([{ name: 'setup.exe', data: innerSfx, method: 8 }]));
  const at = stub().length;
  assert.deepEqual(found(outer), [`zip@${at}//setup.exe//zip@${at}//evil`]);
  // An executable found embedded holds a zip: the host's search finds the zip once, and the
  // embedded executable's own scan does not look for it again.
  const twice = concat(stub(), stub(), zip([{ name: 'evil', data: PAYLOAD, method: 0 }]));
  assert.deepEqual(found(twice, { allMatch: true }), [`zip@${2 * at}//evil`]);
  const r = scan(outer, { maxRecursion: 2 });
  assert.deepEqual(r.detections, []);
  assert.deepEqual(
    r.limitsHit.map((l) => l.limit),
    ['MaxRecursion'],
  );
});

test('an ISO 9660 image: from 16 sectors before its primary descriptor, when that lies 32 KiB in or more', () => {
  const iso = buildIso([isoDir('SUB', [isoFile('EVIL', PAYLOAD)])]);
  assert.deepEqual(findEmbedded(iso, 'CL_TYPE_BINARY_DATA', LIMITS), [
    { offset: 0, length: iso.length, type: 'CL_TYPE_ISO9660' },
  ]);
  assert.deepEqual(found(iso), ['iso9660@0//SUB/EVIL']);
  assert.deepEqual(found(iso, { scanArchive: false }), []);
  // After other bytes, in any host that is searched; raw sectors start 16 bytes in (their header).
  assert.deepEqual(found(concat(text(10), iso)), ['iso9660@120//SUB/EVIL']);
  const raw = buildIso([isoFile('EVIL', PAYLOAD)], { sectorSize: 2352 });
  assert.deepEqual(found(raw), ['iso9660@16//EVIL']);
  // Its descriptor less than 32 KiB in, or a block size ClamAV does not know: no image.
  assert.deepEqual(findEmbedded(iso.subarray(2048), 'CL_TYPE_BINARY_DATA', LIMITS), []);
  const odd = iso.slice();
  odd[16 * 2048 + 129] = 0x09; // a block size of 2304
  assert.deepEqual(findEmbedded(odd, 'CL_TYPE_BINARY_DATA', LIMITS), []);
});
