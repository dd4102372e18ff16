// The PDF handler on documents built here: which streams ClamAV extracts, and how it decodes them
// (RunLength, LZW with its /EarlyChange as ClamAV reads it, no predictors, chains that stop). Each
// ClamAV behaviour named here was checked against clamscan 1.4 with documents of the same shape;
// the cases clamscan finds clam.exe in are also in the CLI's differential test (e2e/containers).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { testEnv } from '../../test-support/env.js';
import { lzwEncode, pdfWithStream, runLengthEncode } from '../../test-support/pdf.js';
import type { ExtractContext, Member } from '../types.js';
import { pdfHandler } from './index.js';
import { lzwDecode } from './lzw.js';

const te = new TextEncoder();
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const PAYLOAD = Uint8Array.from({ length: 3000 }, (_, i) => (i * 37 + (i >> 5)) & 0xff);
/** Long enough text for LZW to pass every code width and fill its table. */
const TEXT = te.encode(Array.from({ length: 6000 }, (_, i) => `w${(i * 7919) % 997}${'xyz'[i % 3]}`).join(' '));
const CLAM = '/usr/share/clamav-testfiles/clam.exe';

function run(data: Uint8Array, maxMemberSize = 1 << 26) {
  const r = { members: [] as Member[], broken: [] as string[], tooBig: [] as string[] };
  const ctx: ExtractContext = {
    env: testEnv,
    name: 't.pdf',
    maxMemberSize,
    tooBig: (n) => r.tooBig.push(n),
    encrypted: () => {},
    broken: (w) => r.broken.push(w),
  };
  r.members.push(...pdfHandler.extract(data, ctx));
  return r;
}
const hashes = (data: Uint8Array) => run(data).members.map((m) => sha(m.data));

test('RunLengthDecode: decoded in an embedded file; a run past the end leaves the raw stream', () => {
  assert.deepEqual(hashes(pdfWithStream('/Type /EmbeddedFile /Filter /RunLengthDecode', runLengthEncode(PAYLOAD))), [
    sha(PAYLOAD),
  ]);
  assert.deepEqual(hashes(pdfWithStream('/Type /EmbeddedFile /Filter /RL', runLengthEncode(PAYLOAD))), [sha(PAYLOAD)]);
  const cut = runLengthEncode(PAYLOAD).subarray(0, 500);
  const r = run(pdfWithStream('/Type /EmbeddedFile /Filter /RL', cut));
  assert.deepEqual(
    r.members.map((m) => sha(m.data)),
    [sha(cut)],
  );
  assert.match(r.broken.join(), /literal run passes the end/);
});

test('LZWDecode: every code width, a full table, clears; /EarlyChange 0 only where ClamAV reads it', () => {
  const emb = '/Type /EmbeddedFile /Filter /LZWDecode';
  assert.deepEqual(hashes(pdfWithStream(emb, lzwEncode(TEXT))), [sha(TEXT)]);
  assert.deepEqual(hashes(pdfWithStream(emb, lzwEncode(TEXT, { clearAt: 4000 }))), [sha(TEXT)]);
  const late = lzwEncode(TEXT, { earlyChange: false });
  assert.deepEqual(hashes(pdfWithStream(`${emb} /DecodeParms <</EarlyChange 0>>`, late)), [sha(TEXT)]);
  assert.deepEqual(hashes(pdfWithStream(`${emb} /DecodeParms <<\n/Columns 4 /EarlyChange 0>>`, late)), [sha(TEXT)]);
  // ClamAV takes `<< /EarlyChange 0 >>` (a space after `<<`) for no parameters: LZW stays early.
  const missed = hashes(pdfWithStream(`${emb} /DecodeParms << /EarlyChange 0 >>`, late));
  assert.equal(missed.length, 1);
  assert.notEqual(missed[0], sha(TEXT));
});

test('which streams ClamAV extracts: none with only RunLength or LZW unless something marks them', () => {
  const lzw = lzwEncode(PAYLOAD);
  assert.deepEqual(hashes(pdfWithStream('/Filter /LZWDecode', lzw)), []);
  assert.deepEqual(hashes(pdfWithStream('/Filter /RunLengthDecode', runLengthEncode(PAYLOAD))), []);
  // A page's /Contents, or a /JavaScript pointing at a missing object, marks the stream.
  const page = '4 0 obj\n<< /Type /Page /Contents 3 0 R >>\nendobj\n';
  assert.deepEqual(hashes(pdfWithStream('/Filter /LZWDecode', lzw, page)), [sha(PAYLOAD)]);
  assert.deepEqual(hashes(pdfWithStream('/Filter /LZWDecode /JavaScript 7 0 R', lzw)), [sha(PAYLOAD)]);
  // /EmbeddedFile counts only outside the filter list (before /Filter, or after /Length).
  assert.deepEqual(hashes(pdfWithStream('/Filter /LZWDecode /Type /EmbeddedFile', lzw)), []);
  // A pointer from inside an object stream does not mark it (clamscan leaves it too).
  const inner = '4 0 << /Type /Page /Contents 3 0 R >>';
  const objStm = `5 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Length ${inner.length} >>\nstream\n${inner}\nendstream\nendobj\n`;
  assert.deepEqual(hashes(pdfWithStream('/Filter /LZWDecode', lzw, objStm)), [sha(te.encode(inner))]);
  // Images other than JPEG are not extracted, whatever their filter.
  assert.deepEqual(hashes(pdfWithStream('/Subtype /Image /Filter /FlateDecode', deflateSync(PAYLOAD))), []);
  assert.deepEqual(hashes(pdfWithStream('/Subtype /Image', PAYLOAD)), []);
});

test('chains as ClamAV runs them: unknown names passed over, image filters stop, no predictors', () => {
  const z = deflateSync(PAYLOAD);
  assert.deepEqual(hashes(pdfWithStream('/Filter [/Foo /FlateDecode]', z)), [sha(PAYLOAD)]);
  assert.deepEqual(hashes(pdfWithStream('/Filter [/FlateDecode /DCTDecode]', z)), [sha(PAYLOAD)]);
  assert.deepEqual(hashes(pdfWithStream('/Filter /Fl#61teDecode', z)), [sha(PAYLOAD)]);
  assert.deepEqual(hashes(pdfWithStream('/Filter [/FlateDecode /LZWDecode]', deflateSync(lzwEncode(PAYLOAD)))), [
    sha(PAYLOAD),
  ]);
  // A PNG predictor is not undone: the member keeps each row's tag byte, as ClamAV scans it.
  const rows = new Uint8Array(PAYLOAD.length + PAYLOAD.length / 100);
  for (let r = 0; r < PAYLOAD.length / 100; r++) rows.set(PAYLOAD.subarray(r * 100, r * 100 + 100), r * 101 + 1);
  const png = pdfWithStream('/Filter /FlateDecode /DecodeParms <</Predictor 12 /Columns 100>>', deflateSync(rows));
  assert.deepEqual(hashes(png), [sha(rows)]);
  // Hex with line breaks fails ClamAV's decoder: the raw stream is what is scanned.
  const hex = te.encode(
    `${Buffer.from(PAYLOAD.subarray(0, 64))
      .toString('hex')
      .replace(/(.{32})/g, '$1\n')}>`,
  );
  assert.deepEqual(hashes(pdfWithStream('/Filter /ASCIIHexDecode', hex)), [sha(hex)]);
});

test('ASCII85: the last group is read only at ~>; a stray byte fails the filter', () => {
  const a85 = te.encode('87cURD]i,"Ebo7~>'); // "Hello World" in Adobe's alphabet, its last group short
  assert.deepEqual(hashes(pdfWithStream('/Filter /ASCII85Decode', a85)), [sha(te.encode('Hello World'))]);
  // Without `~>` the last, partial group is dropped.
  assert.deepEqual(hashes(pdfWithStream('/Filter /ASCII85Decode', a85.subarray(0, -2))), [sha(te.encode('Hello Wo'))]);
  const bad = te.encode('87cURD]i,"Ebo7{~>');
  assert.deepEqual(hashes(pdfWithStream('/Filter /ASCII85Decode', bad)), [sha(bad)]);
});

test('LZW and RunLength on hostile data: bounded by the member limit, never thrown', () => {
  const zeros = lzwEncode(new Uint8Array(1 << 20));
  const r = run(pdfWithStream('/Type /EmbeddedFile /Filter /LZWDecode', zeros), 1 << 16);
  assert.deepEqual([r.members.length, r.tooBig], [0, ['obj 3 0']]);
  const runs = Uint8Array.from({ length: 4000 }, (_, i) => (i % 2 === 0 ? 129 : 7));
  const rl = run(pdfWithStream('/Type /EmbeddedFile /Filter /RL', runs), 1 << 16);
  assert.deepEqual([rl.members.length, rl.tooBig], [0, ['obj 3 0']]);
  const good = lzwEncode(TEXT);
  for (let i = 0; i < good.length; i += 7) {
    const bad = good.slice();
    bad[i] = (bad[i] as number) ^ (1 << (i % 8));
    const out = lzwDecode(bad, true, TEXT.length * 2);
    assert.ok(out.data.length <= TEXT.length * 2);
  }
  for (let seed = 1; seed < 50; seed++) {
    const noise = Uint8Array.from({ length: 300 }, (_, i) => (i * seed * 2654435761) >>> 24);
    assert.ok(lzwDecode(noise, seed % 2 === 0, 1 << 16).data.length <= 1 << 16);
  }
});

test("ClamAV's test PDF still gives clam.exe", (t) => {
  const pdf = '/usr/share/clamav-testfiles/clam.pdf';
  if (!existsSync(pdf) || !existsSync(CLAM)) return t.skip('clamav-testfiles is not installed');
  assert.ok(hashes(new Uint8Array(readFileSync(pdf))).includes(sha(new Uint8Array(readFileSync(CLAM)))));
});
