// FSG: executables packed here in the 2.0 and 1.33 forms (with clam.exe when installed) come back
// section by section; ClamAV's test executables are left alone; damage and hostile sizes end cleanly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aplibPack } from '../../../test-support/aplib-encoder.js';
import { put32 } from '../../../test-support/archives.js';
import { recordingContext, runHandler } from '../../../test-support/extract.js';
import {
  CLAM_EXE_SHA256,
  clamExe as installedClamExe,
  sha256,
  skipWithout,
  testFile,
} from '../../../test-support/testfiles.js';
import { buildPe, readPe } from '../pe.js';
import { fsgHandler } from './index.js';
import { unpackFsg } from './unpack.js';

const skip = skipWithout('clam.exe', 'clam-fsg.exe', 'clam-mew.exe', 'clam-upack.exe');
const run = (d: Uint8Array, max = 64 << 20) => runHandler(fsgHandler, d, max);
const BASE = 0x400000;
const EP = 0x480; // the stub's offset in the packed section
const OTHER = new TextEncoder().encode('a second original section, packed as its own stream. '.repeat(3));

/** clam.exe when installed, else other bytes to pack. */
function clamExe(): Uint8Array {
  return installedClamExe() ?? OTHER;
}

/** A PE with an empty section at 0x1000 (0x2000 long) and the packed one at 0x3000 holding `body`. */
function packedPe(body: Uint8Array): Uint8Array {
  const sections = [
    { rva: 0x1000, virtualSize: 0x2000, data: new Uint8Array(0) },
    { rva: 0x3000, virtualSize: 0x1000, data: body },
  ];
  return buildPe({ imageBase: BASE, entryRva: 0x3000 + EP, sections }, 1 << 20)!;
}

/** FSG 2.0: XCHG ESP,[new ESP]; the stack gives EDI, ESI, EBX; [EBX+12] is the original entry. */
function fsg20(payload: Uint8Array): Uint8Array {
  const body = new Uint8Array(0x600);
  const stream = aplibPack(payload);
  assert.ok(stream.length < 0x400);
  body.set(stream);
  put32(body, 0x400, BASE + 0x3410);
  put32(body, 0x410, BASE + 0x1000); // EDI: the empty section
  put32(body, 0x414, BASE + 0x3000); // ESI: the stream
  put32(body, 0x420, BASE + 0x3440); // EBX: the import helpers' table
  put32(body, 0x44c, BASE + 0x1020); // the original entry point
  body.set([0x87, 0x25], EP);
  put32(body, EP + 2, BASE + 0x3400);
  return packedPe(body);
}

/** FSG 1.33: MOV ESI to a header table naming EDI, ESI and a second section at 0x2000. */
function fsg133(first: Uint8Array, second: Uint8Array): Uint8Array {
  const body = new Uint8Array(0x600);
  const a = aplibPack(first);
  const b = aplibPack(second);
  assert.ok(a.length + b.length < EP);
  body.set(a);
  body.set(b, a.length);
  body[EP] = 0xbe;
  put32(body, EP + 1, BASE + 0x180);
  put32(body, EP + 163, 0x1020 - (0x3000 + EP + 167)); // the jump to the original entry point
  const pe = packedPe(body);
  put32(pe, 0x184, BASE + 0x1000);
  put32(pe, 0x188, BASE + 0x3000);
  put32(pe, 0x18c, BASE + 0x2000 + 1);
  return pe;
}

function sectionData(pe: Uint8Array, k: number): Uint8Array {
  const layout = readPe(pe)!;
  const s = layout.sections[k]!;
  return pe.subarray(s.rawOffset, s.rawOffset + s.rawSize);
}

test('FSG 2.0: the packed program comes back as the rebuilt PE', () => {
  const payload = clamExe();
  const { broken, members } = run(fsg20(payload));
  assert.deepEqual(broken, []);
  assert.equal(members.length, 1);
  const pe = readPe(members[0]!.data)!;
  assert.equal(pe.entryRva, 0x1020);
  assert.equal(pe.sections[0]!.rva, 0x1000);
  assert.equal(sha256(sectionData(members[0]!.data, 0).subarray(0, payload.length)), sha256(payload));
});

test('FSG 1.33: each original section comes back at its address', () => {
  const payload = clamExe();
  const r = unpackFsg(fsg133(payload, OTHER), readPe(fsg133(payload, OTHER))!, recordingContext());
  assert.equal(r.kind, 'unpacked');
  if (r.kind !== 'unpacked') return;
  const pe = readPe(r.pe)!;
  assert.deepEqual(
    pe.sections.map((s) => [s.rva, s.virtualSize]),
    [
      [0x1000, 0x1000],
      [0x2000, 0x1000],
    ],
  );
  assert.equal(pe.entryRva, 0x1020);
  assert.equal(sha256(sectionData(r.pe, 0).subarray(0, payload.length)), sha256(payload));
  assert.deepEqual(sectionData(r.pe, 1).subarray(0, OTHER.length), OTHER);
});

test('the packed clam.exe is what comes back', { skip }, () => {
  const r = unpackFsg(fsg20(clamExe()), readPe(fsg20(clamExe()))!, recordingContext());
  assert.equal(r.kind, 'unpacked');
  if (r.kind === 'unpacked') assert.equal(sha256(sectionData(r.pe, 0).subarray(0, 544)), CLAM_EXE_SHA256);
});

test('PEs that are not FSG-packed are left alone', { skip }, () => {
  // clam-fsg.exe is, despite its name, a plain PE with clam.exe appended (found as an embedded PE)
  for (const name of ['clam.exe', 'clam-fsg.exe', 'clam-mew.exe', 'clam-upack.exe']) {
    const d = testFile(name);
    assert.deepEqual(unpackFsg(d, readPe(d)!, recordingContext()), { kind: 'not-packed' }, name);
  }
});

test('truncated and bit-flipped FSG files end cleanly, damage reported', () => {
  for (const make of [() => fsg20(clamExe()), () => fsg133(clamExe(), OTHER)]) {
    const d = make();
    let broken = 0;
    for (let n = 0x200; n < 0x200 + 0x300; n += 3) {
      const x = d.slice();
      x.fill(0, n, 0x200 + 0x400); // the streams cut at n (zero, as past a file's end), the stub kept
      broken += run(x, 1 << 20).broken.length; // members within 1 MiB, as run asserts
    }
    assert.ok(broken > 10, `cut streams are reported (${broken})`);
    for (let o = 0; o < d.length; o++) {
      const x = d.slice();
      x[o] = (x[o] as number) ^ 0xa5;
      run(x, 1 << 20);
      for (const n of [o, o + 1]) run(d.subarray(0, n));
    }
  }
});

test('an empty section past the member limit is reported, not unpacked', () => {
  const d = fsg20(clamExe());
  const small = run(d, 0x1000);
  assert.equal(small.members.length, 0);
  assert.deepEqual(small.tooBig, [['fsg-unpacked', 0x2000]]);
  const pe = readPe(d)!;
  put32(d, pe.peOffset + 24 + 0xe0 + 8, 0x7ff00000); // the empty section claims 2 GiB
  const hostile = run(d, 1 << 20);
  assert.equal(hostile.members.length, 0);
  assert.equal(hostile.tooBig.length, 1);
});
