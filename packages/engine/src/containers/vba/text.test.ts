import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toUtf8 } from './codepage.js';
import { legacyModuleKey, streamKey } from './names.js';
import { normaliseVba } from './normalise.js';

const te = new TextEncoder();
const norm = (s: string) => new TextDecoder('latin1').decode(normaliseVba(te.encode(s)));

test('normalisation: lower case and single blanks outside strings, line continuations joined', () => {
  assert.equal(
    norm('Sub  AutoOpen()\r\n\tShell  "CMD /C  Calc"\r\nEnd Sub'),
    'sub autoopen()\r\n shell "CMD /C  Calc"\r\nend sub',
  );
  assert.equal(norm('x = "a" & _\r\n    "B"'), 'x = "a" & "B"');
  assert.equal(norm('x = 1 _\ny'), 'x = 1 y');
  assert.equal(norm('a_b = 1'), 'a_b = 1');
  // An unterminated string keeps the rest as it is.
  assert.equal(norm('"ABC\nDEF'), '"ABC\nDEF');
});

test('code pages: ISO-8859-1 maps bytes, 1252 fails on its holes as iconv does, UTF-8 passes with a cut last character zeroed', () => {
  assert.deepEqual(toUtf8(Uint8Array.of(0x41, 0xe9), 28591), te.encode('Aé'));
  assert.deepEqual(toUtf8(Uint8Array.of(0x80, 0x41), 1252), te.encode('€A'));
  assert.equal(toUtf8(Uint8Array.of(0x41, 0x81), 1252), undefined);
  assert.deepEqual(toUtf8(Uint8Array.of(0x41, 0xc3), 65001), Uint8Array.of(0x41, 0));
  assert.deepEqual(toUtf8(Uint8Array.of(0x41, 0xc3, 0xa9), 65001), Uint8Array.of(0x41, 0xc3, 0xa9));
  assert.deepEqual(toUtf8(Uint8Array.of(0x4d, 0, 0x31, 0), 1200), te.encode('M1'));
  assert.equal(toUtf8(Uint8Array.of(0x4d, 0, 0x31), 1200), undefined);
  assert.equal(toUtf8(Uint8Array.of(0x41), 709), undefined);
  assert.equal(toUtf8(new Uint8Array(0), 1252), undefined);
});

test('stream names are keyed as ClamAV keys them, whichever record they come from', () => {
  const u16 = (s: string) => Uint8Array.from([...s].flatMap((c) => [c.charCodeAt(0) & 0xff, c.charCodeAt(0) >> 8]));
  assert.equal(streamKey(u16('_VBA_PROJECT\0'), 26), '_vba_project');
  assert.equal(streamKey(u16('\u0001Ole10Native\0'), 26), '_1_ole10native');
  assert.equal(streamKey(u16('\0'), 2), undefined);
  assert.equal(streamKey(u16('Module1\0'), 130), undefined);
  assert.equal(streamKey(u16('Mod\u00e9\0'), 10), 'mod_aaj_');
  assert.equal(legacyModuleKey(u16('Module1'), false), 'module1');
  assert.equal(legacyModuleKey(te.encode('Module1'), true), 'module1');
  assert.equal(legacyModuleKey(new Uint8Array(0), false), undefined);
});
