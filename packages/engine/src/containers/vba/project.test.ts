import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { dirRecords, moduleStream, type VbaProjectSpec } from '../../test-support/vbadoc.js';
import { projectText } from './project.js';

const SOURCE = 'Attribute VB_Name = "Module1"\r\nSub AutoOpen()\r\n    MsgBox "VigilVbaMarker_7f3a9c"\r\nEnd Sub\r\n';
const SPEC: VbaProjectSpec = {
  modules: [
    { name: 'Module1', source: SOURCE, pcode: 40 },
    { name: 'ThisDocument', source: 'Attribute VB_Name = "ThisDocument"\r\n', kind: 'class' },
  ],
};
const streams = new Map(SPEC.modules.map((m) => [m.name.toLowerCase(), [moduleStream(m)]]));
const lookup = (key: string) => streams.get(key) ?? [];
const latin1 = (b: Uint8Array) => new TextDecoder('latin1').decode(b);

test("the project's text is ClamAV's, byte for byte (MD5 and size from clamscan 1.4.6 --debug)", () => {
  const r = projectText(dirRecords(SPEC), { lookup, max: 1 << 20 });
  assert.equal(r.status, 'ok');
  if (r.status !== 'ok') return;
  assert.equal(r.modules, 2);
  assert.equal(r.text.length, 1287);
  assert.equal(createHash('md5').update(r.text).digest('hex'), '36de9d273aebf515896571e6fb0f1c80');
  const t = latin1(r.text);
  assert.ok(
    t.startsWith('REM VBA project extracted from Microsoft Office document\n\nREM PROJECTSYSKIND: Windows 32 bit\n'),
  );
  // Normalised outside strings: lower case, blanks squeezed; the string keeps its case.
  assert.ok(t.includes('sub autoopen()\r\n msgbox "VigilVbaMarker_7f3a9c"\r\nend sub'));
  assert.ok(t.includes('REM MODULEOFFSET: 0x00000028\nREM MODULEHELPCONTEXT: 0x00000000'));
});

test('a module whose stream is missing leaves its REM lines only; one that fails to decompress is passed over', () => {
  const broken = (key: string) => (key === 'module1' ? [Uint8Array.of(1, 2, 3, 4, 0x02)] : []);
  const r = projectText(dirRecords(SPEC), { lookup: broken, max: 1 << 20 });
  assert.equal(r.status, 'ok');
  if (r.status === 'ok')
    assert.ok(!latin1(r.text).includes('Marker') && latin1(r.text).includes('REM MODULENAME: Module1'));
});

/** The dir stream with the record `id` (first found at a record boundary) changed by `edit`. */
function editRecord(id: number, edit: (d: DataView, at: number) => void): Uint8Array {
  const d = dirRecords(SPEC).slice();
  const v = new DataView(d.buffer);
  for (let o = 0; o + 6 <= d.length; o += 6 + v.getUint32(o + 2, true) + (v.getUint16(o, true) === 9 ? 2 : 0)) {
    if (v.getUint16(o, true) === id) {
      edit(v, o);
      return d;
    }
  }
  throw new Error(`no record ${id}`);
}

test('ClamAV drops the whole text for a damaged dir stream, and so does this', () => {
  const cases: [string, Uint8Array][] = [
    ['an absurd record size', editRecord(0x04, (v, o) => v.setUint32(o + 2, 0xffffff00, true))],
    ['PROJECTNAME empty', editRecord(0x04, (v, o) => v.setUint32(o + 2, 0, true))],
    ['PROJECTSYSKIND of 2 bytes', editRecord(0x01, (v, o) => v.setUint32(o + 2, 2, true))],
    ['a module without its terminator', editRecord(0x2b, (v, o) => v.setUint16(o, 0x2c, true))],
    ['MODULEOFFSET of 2 bytes', editRecord(0x31, (v, o) => v.setUint32(o + 2, 2, true))],
    ['MODULENAMEUNICODE missing', editRecord(0x47, (v, o) => v.setUint16(o, 0x99, true))],
    ['a module stream name too long', editRecord(0x32, (v, o) => v.setUint32(o + 2, 200, true))],
    ['one trailing byte', Uint8Array.from([...dirRecords(SPEC).subarray(0, -6), 0x10])],
  ];
  for (const [what, dir] of cases) {
    const r = projectText(dir, { lookup, max: 1 << 20 });
    assert.equal(r.status, 'broken', what);
  }
});

test('a dir stream that ends at a record boundary without its terminator is still read, as in ClamAV', () => {
  const r = projectText(dirRecords(SPEC).subarray(0, -6), { lookup, max: 1 << 20 });
  assert.equal(r.status, 'ok');
});

test('truncated at every point and bit-flipped everywhere: ok or broken, never a throw', () => {
  const dir = dirRecords(SPEC);
  for (let n = 0; n < dir.length; n++) {
    const r = projectText(dir.subarray(0, n), { lookup, max: 1 << 20 });
    assert.ok(r.status === 'ok' || r.status === 'broken', `${n}`);
  }
  for (let i = 0; i < dir.length; i++) {
    for (const bit of [0x01, 0x08, 0x80]) {
      const bad = dir.slice();
      bad[i] = (bad[i] as number) ^ bit;
      const r = projectText(bad, { lookup, max: 1 << 20 });
      assert.ok(r.status === 'ok' || r.status === 'broken', `byte ${i} bit ${bit}`);
    }
  }
});

test('the text never passes the limit', () => {
  assert.equal(projectText(dirRecords(SPEC), { lookup, max: 1000 }).status, 'too-big');
  const source = Array.from({ length: 2000 }, (_, i) => `x${i} = ${i * 7}\r\n`).join('');
  const big = { modules: [{ name: 'Module1', source }] };
  const bigStreams = [moduleStream(big.modules[0] as { name: string; source: string })];
  assert.equal(projectText(dirRecords(big), { lookup: () => bigStreams, max: 10000 }).status, 'too-big');
  assert.equal(projectText(dirRecords(big), { lookup: () => bigStreams, max: 1 << 20 }).status, 'ok');
});
