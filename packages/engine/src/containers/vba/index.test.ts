import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compoundFile } from '../../test-support/compound.js';
import { testEnv } from '../../test-support/env.js';
import { type VbaProjectSpec, vbaProjectBin, vbaProjectStream, wordDocument } from '../../test-support/vbadoc.js';
import { ole2Handler } from '../ole2/index.js';
import type { ExtractContext, Member } from '../types.js';
import { legacyModules } from './legacy.js';
import { walkTree } from './tree.js';

const MARKER = 'VigilVbaMarker_7f3a9c';
const SOURCE = `Attribute VB_Name = "Module1"\r\nSub AutoOpen()\r\n    MsgBox "${MARKER}"\r\nEnd Sub\r\n`;
const spec = (more: Partial<VbaProjectSpec> = {}): VbaProjectSpec => ({
  modules: [
    { name: 'Module1', source: SOURCE, pcode: 40 },
    { name: 'ThisDocument', source: 'Attribute VB_Name = "ThisDocument"\r\n', kind: 'class' },
  ],
  ...more,
});

function extract(d: Uint8Array, maxMemberSize = 1 << 24): { members: Member[]; broken: string[]; tooBig: string[] } {
  const broken: string[] = [];
  const tooBig: string[] = [];
  const ctx: ExtractContext = {
    env: testEnv,
    name: 'test.doc',
    maxMemberSize,
    tooBig: (name) => tooBig.push(name),
    encrypted: () => {},
    broken: (what) => broken.push(what),
  };
  return { members: [...ole2Handler.extract(d, ctx)], broken, tooBig };
}
const has = (m: Member, s: string) => new TextDecoder('latin1').decode(m.data).includes(s);

test('a Word document: the project text first (generic signatures only), then the raw streams', () => {
  const { members, broken } = extract(wordDocument(spec()));
  assert.deepEqual(broken, []);
  const first = members[0] as Member;
  assert.equal(first.name, 'vba_project');
  assert.equal(first.type, 'CL_TYPE_SCRIPT');
  assert.ok(has(first, `msgbox "${MARKER}"`));
  assert.deepEqual(
    members.slice(1).map((m) => m.name),
    ['WordDocument', '1Table', '_VBA_PROJECT', 'dir', 'Module1', 'ThisDocument', 'PROJECT'],
  );
  assert.ok(!members.slice(1).some((m) => has(m, MARKER)), 'the marker is only in the decoded source');
});

test("a _VBA_PROJECT that ClamAV's older walk reads adds each module's raw source, scanned as OLE2 data", () => {
  const { members } = extract(wordDocument(spec({ legacy: true })));
  const modules = members.filter((m) => m.type === 'CL_TYPE_MSOLE2');
  assert.deepEqual(
    modules.map((m) => m.name),
    ['module1', 'thisdocument'],
  );
  assert.equal(new TextDecoder().decode((modules[0] as Member).data), SOURCE);
  // In a storage (Macros/VBA): after the raw streams, as ClamAV reaches that directory later.
  assert.equal(members.at(-1)?.name, 'thisdocument');
  // The module sources are not compound files: the OLE2 handler, asked to open one, yields nothing.
  assert.deepEqual(extract((modules[0] as Member).data).members, []);
});

test('an OOXML vbaProject.bin: the project at the top of the file', () => {
  const { members } = extract(vbaProjectBin(spec({ legacy: true })));
  assert.equal(members[0]?.name, 'vba_project');
  assert.ok(has(members[0] as Member, MARKER));
  assert.ok(members.some((m) => m.name === 'module1' && has(m, `MsgBox "${MARKER}"`)));
});

test('no VBA is looked for without a _VBA_PROJECT, WordDocument, PowerPoint or Ole10Native stream', () => {
  const bin = vbaProjectBin(spec());
  const storage = compoundFile([
    {
      name: 'VBA',
      children: [{ name: 'dir', data: extract(bin).members.find((m) => m.name === 'dir')?.data as Uint8Array }],
    },
  ]);
  assert.deepEqual(
    extract(storage).members.map((m) => m.name),
    ['dir'],
  );
});

test('a damaged dir stream drops the project text, reported as broken; the raw streams stay', () => {
  const cut = spec({ editDir: (d) => d.subarray(0, d.length - 40) });
  const notEnded = spec({ editDir: (d) => d.map((b, i) => (i === d.length - 12 ? 0x2c : b)) });
  const empty = spec({ editCompressedDir: (d) => d.subarray(0, 3) });
  for (const s of [cut, notEnded, empty]) {
    const { members, broken } = extract(wordDocument(s));
    assert.ok(!members.some((m) => m.name === 'vba_project'));
    assert.equal(broken.length, 1, broken.join());
    assert.ok(members.some((m) => m.name === 'Module1'));
  }
});

test('a project text over maxMemberSize is reported, not yielded', () => {
  const { members, tooBig } = extract(vbaProjectBin(spec()), 1000);
  assert.ok(!members.some((m) => m.name === 'vba_project'));
  assert.ok(tooBig.includes('vba_project'));
});

test('a directory tree that loops: the walk stops there, as ClamAV does, and says so', () => {
  const d = wordDocument(spec());
  // Entry 1 (WordDocument) gets itself as its left sibling.
  const dirStart = 512 * (1 + new DataView(d.buffer).getUint32(0x30, true));
  new DataView(d.buffer).setUint32(dirStart + 128 + 68, 1, true);
  const tree = walkTree(d.subarray(dirStart, dirStart + 1024));
  assert.equal(tree.loopAt, 1);
  const { broken } = extract(d);
  assert.ok(broken.some((b) => b.includes('loops')));
});

test('the legacy walk: a 7-byte _VBA_PROJECT lists nothing; truncated or bit-flipped, it never throws', () => {
  assert.equal(legacyModules(vbaProjectStream(spec()), () => true).status, 'none');
  const full = vbaProjectStream(spec({ legacy: true }));
  const listed = legacyModules(full, () => true);
  assert.deepEqual(listed.status === 'ok' ? listed.modules : [], [
    { key: 'module1', offset: 40 },
    { key: 'thisdocument', offset: 0 },
  ]);
  assert.equal(legacyModules(full, (k) => k !== 'thisdocument').status, 'none');
  for (let n = 0; n < full.length; n++) legacyModules(full.subarray(0, n), () => true);
  for (let i = 0; i < full.length; i++) {
    const bad = full.slice();
    bad[i] = (bad[i] as number) ^ 0x41;
    legacyModules(bad, () => true);
  }
});

test('a whole document truncated at many points or bit-flipped: members or broken reports, never a throw', () => {
  const d = wordDocument(spec({ legacy: true }));
  for (let n = 0; n < d.length; n += 97) extract(d.subarray(0, n));
  for (let i = 512; i < d.length; i += 13) {
    const bad = d.slice();
    bad[i] = (bad[i] as number) ^ 0x24;
    extract(bad);
  }
});

test('decoding work is budgeted per file: a thousand dir streams that each decode to much stop early', () => {
  const hostile = new Uint8Array(3 + 9 * 500);
  hostile.set([1, 0xff, 0xbf]);
  for (let o = 3; o < hostile.length; o += 9) hostile.fill(0xff, o, o + 9);
  const storages = Array.from({ length: 1000 }, (_, i) => ({
    name: `S${i}`,
    children: [{ name: 'dir', data: hostile }],
  }));
  const d = compoundFile([{ name: 'WordDocument', data: new Uint8Array(100) }, ...storages]);
  const started = Date.now();
  const { members, tooBig, broken } = extract(d, 1 << 20);
  assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`);
  // The first few decode until their last token is cut short; the budget then refuses the rest.
  assert.equal(tooBig.length + broken.length, 1000);
  assert.ok(tooBig.length > 900, `${tooBig.length} refused`);
  assert.ok(!members.some((m) => m.name === 'vba_project'));
});
