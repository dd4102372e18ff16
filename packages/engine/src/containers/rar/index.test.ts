// The RAR handler on RAR 4 and RAR 5 archives built here byte by byte (test-support/rar.ts; the
// builders' output was checked once against 7-Zip's `7z t`). There is no differential test against
// clamscan: Debian's clamav ships without libclamunrar (`clamscan --debug` says "searching for
// unrar ... not found"), so clamscan here lists no RAR member at all, where vigil reads stored ones.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { concat } from '../../test-support/archives.js';
import { testEnv } from '../../test-support/env.js';
import { block5, RAR5_ENCRYPTION_RECORD, rar4, rar4File, rar5, rar5File, vint } from '../../test-support/rar.js';
import { crc32 } from '../read.js';
import type { ExtractContext, Member } from '../types.js';
import { rarHandler } from './index.js';
import { unicodeName } from './rar4.js';

const CLAM_SHA256 = '71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495';
const CLAM = '/usr/share/clamav-testfiles/clam.exe';
const te = new TextEncoder();
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const PAYLOAD = Uint8Array.from({ length: 3000 }, (_, i) => (i * 31 + 7) & 0xff);
const NOTE = te.encode('a note\n');

interface Run {
  readonly members: Member[];
  readonly broken: string[];
  readonly tooBig: [string, number | undefined][];
  readonly encrypted: string[];
}

function run(data: Uint8Array, maxMemberSize = 1 << 26): Run {
  const r: Run = { members: [], broken: [], tooBig: [], encrypted: [] };
  const ctx: ExtractContext = {
    env: testEnv,
    name: 'test.rar',
    maxMemberSize,
    tooBig: (n, s) => r.tooBig.push([n, s]),
    encrypted: (n) => r.encrypted.push(n),
    broken: (w) => r.broken.push(w),
  };
  r.members.push(...rarHandler.extract(data, ctx));
  return r;
}

const listing = (r: Run) => r.members.map((m) => [m.name, sha256(m.data)]);

test('RAR 4: stored members are yielded under their names with their bytes', () => {
  const r = run(
    rar4([
      { name: 'payload.bin', data: PAYLOAD },
      { name: 'docs\\note.txt', data: NOTE },
    ]),
  );
  assert.deepEqual(listing(r), [
    ['payload.bin', sha256(PAYLOAD)],
    ['docs\\note.txt', sha256(NOTE)],
  ]);
  assert.deepEqual(r.broken, []);
});

test('RAR 5: stored members are yielded under their names with their bytes', () => {
  const r = run(
    rar5([
      { name: 'payload.bin', data: PAYLOAD },
      { name: 'docs/nöte.txt', data: NOTE },
    ]),
  );
  assert.deepEqual(listing(r), [
    ['payload.bin', sha256(PAYLOAD)],
    ['docs/nöte.txt', sha256(NOTE)],
  ]);
  assert.deepEqual(r.broken, []);
});

test("ClamAV's test program stored in RAR 4 and RAR 5 comes out whole", (t) => {
  if (!existsSync(CLAM)) return t.skip(`${CLAM} is not installed (apt-get install clamav-testfiles)`);
  const clam = new Uint8Array(readFileSync(CLAM));
  for (const archive of [rar4([{ name: 'clam.exe', data: clam }]), rar5([{ name: 'clam.exe', data: clam }])]) {
    assert.deepEqual(listing(run(archive)), [['clam.exe', CLAM_SHA256]]);
  }
});

test('compressed members are reported with their method, the stored ones still read', () => {
  const r4 = run(
    rar4([
      { name: 'packed', data: PAYLOAD, method: 0x33 },
      { name: 'note', data: NOTE },
    ]),
  );
  assert.deepEqual(r4.broken, ["packed: compressed with RAR's method 0x33: not decoded"]);
  assert.deepEqual(listing(r4), [['note', sha256(NOTE)]]);
  const r5 = run(
    rar5([
      { name: 'packed', data: PAYLOAD, method: 3 },
      { name: 'note', data: NOTE },
    ]),
  );
  assert.deepEqual(r5.broken, ["packed: compressed with RAR's method 3: not decoded"]);
  assert.deepEqual(listing(r5), [['note', sha256(NOTE)]]);
});

test('encrypted members and encrypted headers are reported, not yielded', () => {
  const r4 = run(
    rar4([
      { name: 'secret', data: PAYLOAD, flags: 0x04 },
      { name: 'note', data: NOTE },
    ]),
  );
  assert.deepEqual([r4.encrypted, listing(r4)], [['secret'], [['note', sha256(NOTE)]]]);
  const r5 = run(
    rar5([
      { name: 'secret', data: PAYLOAD, extra: RAR5_ENCRYPTION_RECORD },
      { name: 'note', data: NOTE },
    ]),
  );
  assert.deepEqual([r5.encrypted, listing(r5)], [['secret'], [['note', sha256(NOTE)]]]);
  const h4 = run(rar4([{ name: 'note', data: NOTE }], { mainFlags: 0x80 }));
  assert.deepEqual([h4.encrypted, h4.members.length], [['headers'], 0]);
  const h5 = run(rar5([{ name: 'note', data: NOTE }], { encryptedHeaders: true }));
  assert.deepEqual([h5.encrypted, h5.members.length], [['headers'], 0]);
});

test('volumes: a member going on in the next volume gives its first part; one continued is reported', () => {
  const first = run(rar4([{ name: 'big', data: PAYLOAD, flags: 0x02 }], { mainFlags: 0x101, endFlags: 1 }));
  assert.deepEqual(listing(first), [['big', sha256(PAYLOAD)]]);
  assert.deepEqual(first.broken, ['big: continues in the next volume: only its first part is read']);
  const second = run(
    rar4(
      [
        { name: 'big', data: NOTE, flags: 0x01 },
        { name: 'next', data: NOTE },
      ],
      { mainFlags: 1 },
    ),
  );
  assert.deepEqual(listing(second), [['next', sha256(NOTE)]]);
  assert.deepEqual(second.broken, ['big: continued from the previous volume: not read']);
  const r5 = run(rar5([{ name: 'big', data: PAYLOAD, blockFlags: 0x10 }], { archiveFlags: 1, endFlags: 1 }));
  assert.deepEqual(listing(r5), [['big', sha256(PAYLOAD)]]);
  const c5 = run(rar5([{ name: 'big', data: NOTE, blockFlags: 0x08 }], { archiveFlags: 3 }));
  assert.deepEqual([c5.members.length, c5.broken], [0, ['big: continued from the previous volume: not read']]);
});

test('directories are passed over; the archive comment is read when stored', () => {
  const r4 = run(
    rar4([
      { name: 'CMT', data: NOTE, type: 0x7a },
      { name: 'dir', data: new Uint8Array(0), flags: 0xe0 },
    ]),
  );
  assert.deepEqual(listing(r4), [['comment', sha256(NOTE)]]);
  const r5 = run(
    rar5([
      { name: 'CMT', data: NOTE, type: 3 },
      { name: 'dir', data: new Uint8Array(0), fileFlags: 1 },
    ]),
  );
  assert.deepEqual(listing(r5), [['comment', sha256(NOTE)]]);
});

test("RAR 4's compact Unicode names are decoded", () => {
  // One character of the high byte 0x04 block, then six copied from the Latin-1 name.
  assert.equal(unicodeName(te.encode('abc.txt'), Uint8Array.of(0x04, 0b01110000, 0x3b, 0x04)), 'лbc.txt');
  // Three Latin-1 characters shifted by 0x8f under the high byte.
  assert.equal(unicodeName(te.encode('abc'), Uint8Array.of(0x04, 0b11000000, 0x81, 0x8f)), 'ӰӱӲ');
  const r = run(rar4([{ name: 'abc.txt', data: NOTE, unicodeName: Uint8Array.of(0x04, 0b01110000, 0x3b, 0x04) }]));
  assert.deepEqual(listing(r), [['лbc.txt', sha256(NOTE)]]);
});

test('a member claiming 4 GiB is reported as too big, not read', () => {
  const big = 2 ** 32 + 5;
  const r4 = run(
    rar4([
      { name: 'huge', data: NOTE, claimedSize: big },
      { name: 'note', data: NOTE },
    ]),
    1 << 20,
  );
  assert.deepEqual([r4.tooBig, listing(r4)], [[['huge', big]], [['note', sha256(NOTE)]]]);
  const r5 = run(rar5([{ name: 'huge', data: NOTE, claimedSize: big }]), 1 << 20);
  assert.deepEqual([r5.tooBig, r5.members.length], [[['huge', big]], 0]);
  // Data that claims 4 GiB in a small file: the member is refused, the walk ends at the file's end.
  const header = rar4File({ name: 'huge', data: NOTE }).subarray(0, -NOTE.length);
  header.set([0xff, 0xff, 0xff, 0xff], 7); // the packed size, not covered by a CRC check on data
  const lying = run(concat(rar4([]).subarray(0, 20), fixCrc4(header), NOTE), 1 << 20);
  assert.equal(lying.members.length, 0);
  assert.deepEqual(lying.tooBig, [['huge', NOTE.length]]);
});

/** Rewrites a RAR 4 block's CRC16 after an edit. */
function fixCrc4(block: Uint8Array): Uint8Array {
  const c = crc32(block.subarray(2));
  block[0] = c & 0xff;
  block[1] = (c >>> 8) & 0xff;
  return block;
}
/** Where each block of a built archive ends: cutting there leaves a shorter, whole archive. */
function boundaries(sig: number, blocks: readonly Uint8Array[]): Set<number> {
  const out = new Set<number>();
  let o = sig;
  for (const b of blocks) {
    o += b.length;
    out.add(o);
  }
  return out;
}

test('RAR 4 cut anywhere but between blocks reports the damage; nothing throws', () => {
  const files = [rar4File({ name: 'one', data: PAYLOAD.subarray(0, 100) }), rar4File({ name: 'two', data: NOTE })];
  const full = rar4([
    { name: 'one', data: PAYLOAD.subarray(0, 100) },
    { name: 'two', data: NOTE },
  ]);
  const ends = boundaries(7, [full.subarray(7, 20), ...files]);
  for (let n = 0; n < full.length; n++) {
    const r = run(full.subarray(0, n));
    if (ends.has(n)) assert.deepEqual(r.broken, [], `cut at ${n}`);
    else assert.ok(r.broken.length > 0, `cut at ${n} is not reported`);
  }
});

test('RAR 5 cut anywhere but between blocks reports the damage; nothing throws', () => {
  const files = [rar5File({ name: 'one', data: PAYLOAD.subarray(0, 100) }), rar5File({ name: 'two', data: NOTE })];
  const full = rar5([
    { name: 'one', data: PAYLOAD.subarray(0, 100) },
    { name: 'two', data: NOTE },
  ]);
  const main = block5(1, vint(0));
  const ends = boundaries(8, [main, ...files]);
  for (let n = 0; n < full.length; n++) {
    const r = run(full.subarray(0, n));
    if (ends.has(n)) assert.deepEqual(r.broken, [], `cut at ${n}`);
    else assert.ok(r.broken.length > 0, `cut at ${n} is not reported`);
  }
});

test('a bit flipped anywhere in headers or data is reported (CRCs), never thrown', () => {
  const r4 = rar4([
    { name: 'one', data: PAYLOAD.subarray(0, 200) },
    { name: 'two', data: NOTE },
  ]);
  const r5 = rar5([
    { name: 'one', data: PAYLOAD.subarray(0, 200) },
    { name: 'two', data: NOTE },
  ]);
  for (const archive of [r4, r5]) {
    for (let i = 0; i < archive.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = archive.slice();
        bad[i] = (bad[i] as number) ^ bit;
        const r = run(bad);
        assert.ok(
          r.broken.some((b) => !b.includes('not decoded')),
          `flip at ${i} is not reported`,
        );
      }
    }
  }
});

test('hostile headers end the walk: tiny, oversized and endless numbers', () => {
  const sig5 = rar5([]).subarray(0, 8);
  // A header size of 0, one past RARLAB's 2 MiB bound, and a number that never ends.
  for (const tail of [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0x81, 0x80, 0x80, 0x01], new Array(30).fill(0xff)]) {
    const r = run(concat(sig5, Uint8Array.from(tail)));
    assert.equal(r.members.length, 0);
    assert.ok(r.broken.length > 0);
  }
  const r = run(te.encode('Rar!\x1a\x07\x02\x00'));
  assert.deepEqual(r.broken, ['not a RAR 1.5-4.x or RAR 5 signature']);
});
