import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { aplibPack, put32, recordingContext } from '../mew/testkit.js';
import { buildPe, readPe } from '../pe.js';
import { fsgHandler } from './index.js';
import { unpackFsg } from './unpack.js';

const DIR = '/usr/share/clamav-testfiles';
const skip = existsSync(DIR) ? false : `${DIR} is not installed`;
const CLAM_SHA = '71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495';
const sha256 = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
const BASE = 0x400000;
const EP = 0x480; // the stub's offset in the packed section
const OTHER = new TextEncoder().encode('a second original section, packed as its own stream. '.repeat(3));

function clamExe(): Uint8Array {
  return existsSync(`${DIR}/clam.exe`) ? new Uint8Array(readFileSync(`${DIR}/clam.exe`)) : OTHER;
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
  const ctx = recordingContext();
  const members = [...fsgHandler.extract(fsg20(payload), ctx)];
  assert.deepEqual(ctx.brokenCalls, []);
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
  if (r.kind === 'unpacked') assert.equal(sha256(sectionData(r.pe, 0).subarray(0, 544)), CLAM_SHA);
});

test('PEs that are not FSG-packed are left alone', { skip }, () => {
  // clam-fsg.exe is, despite its name, a plain PE with clam.exe appended (found as an embedded PE)
  for (const name of ['clam.exe', 'clam-fsg.exe', 'clam-mew.exe', 'clam-upack.exe']) {
    const d = new Uint8Array(readFileSync(`${DIR}/${name}`));
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
      const ctx = recordingContext(1 << 20);
      const members = [...fsgHandler.extract(x, ctx)];
      broken += ctx.brokenCalls.length;
      for (const m of members) assert.ok(m.data.length <= 1 << 20);
    }
    assert.ok(broken > 10, `cut streams are reported (${broken})`);
    for (let o = 0; o < d.length; o++) {
      const x = d.slice();
      x[o] = (x[o] as number) ^ 0xa5;
      const ctx = recordingContext(1 << 20);
      for (const m of fsgHandler.extract(x, ctx)) assert.ok(m.data.length <= 1 << 20);
      for (const n of [o, o + 1]) [...fsgHandler.extract(d.subarray(0, n), recordingContext())];
    }
  }
});

test('an empty section past the member limit is reported, not unpacked', () => {
  const d = fsg20(clamExe());
  const small = recordingContext(0x1000);
  assert.equal([...fsgHandler.extract(d, small)].length, 0);
  assert.deepEqual(small.tooBigCalls, [0x2000]);
  const pe = readPe(d)!;
  put32(d, pe.peOffset + 24 + 0xe0 + 8, 0x7ff00000); // the empty section claims 2 GiB
  const ctx = recordingContext(1 << 20);
  assert.equal([...fsgHandler.extract(d, ctx)].length, 0);
  assert.equal(ctx.tooBigCalls.length, 1);
});
