// The scan pipeline's view rules, each checked against clamscan 1.4 when it was written.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { bytesSource } from '../bytesource.js';
import { compileDatabase } from '../database/api.js';
import { testEnv } from '../test-support/env.js';
import { resolveScanOptions } from './options.js';
import { createScanner } from './scanner.js';

const hex = (s: string) => Buffer.from(s).toString('hex');
function scan(ndb: string, data: string): string[] {
  const { database } = compileDatabase([{ name: 't.ndb', bytes: new TextEncoder().encode(ndb) }], testEnv, {
    detectPua: false,
  });
  const r = createScanner(database, testEnv).scan(
    bytesSource(new TextEncoder().encode(data)),
    resolveScanOptions({ allMatch: true }),
  );
  return r.detections.map((d) => d.name).sort();
}

test('text: generic signatures also match the normalised view (lower case, one space), even with no target-7 signature loaded', () => {
  const text = 'Redistribution is permitted without\n   specific prior WRITTEN permission.\n';
  assert.deepEqual(scan(`Gen:0:*:${hex('without specific')}\n`, text), ['Gen.UNOFFICIAL']);
  assert.deepEqual(scan(`Low:0:*:${hex('written permission')}\n`, text), ['Low.UNOFFICIAL']);
  assert.deepEqual(scan(`Txt:7:*:${hex('written permission')}\n`, text), ['Txt.UNOFFICIAL']);
  assert.deepEqual(scan(`Raw7:7:*:${hex('WRITTEN')}\n`, text), [], 'target 7 sees only the normalised text');
});

test('HTML: never matched raw; matched normalised by generic and target-3 signatures', () => {
  const html = '<html><body>Hello <B>World</B></body></html>\n';
  assert.deepEqual(scan(`Raw:0:*:${hex('<B>World')}\n`, html), []);
  assert.deepEqual(scan(`Norm:0:*:${hex('<b>world')}\n`, html), ['Norm.UNOFFICIAL']);
  assert.deepEqual(scan(`Html:3:*:${hex('hello <b>')}\n`, html), ['Html.UNOFFICIAL']);
});

test('HTML: a comment ends at its first >, as in ClamAV, so text after a > inside it is matched', () => {
  const html = '<html><head><!-- by <a@b.net>\n  The above  notice --></head></html>\n';
  assert.deepEqual(scan(`C:0:*:${hex('the above notice -->')}\n`, html), ['C.UNOFFICIAL']);
  assert.deepEqual(scan(`C:0:*:${hex('by xyz')}\n`, '<html><!-- by xyz --></html>\n'), []);
});

test('text: control bytes and bytes above 0x7f are dropped from the normalised view, as in ClamAV', () => {
  const text = 'The GNU General Public License\u201d (which refers) to ABC\u00e9DEF and a\u001bb here.\n';
  assert.deepEqual(scan(`L:0:*:${hex('public license (which')}\n`, text), ['L.UNOFFICIAL']);
  assert.deepEqual(scan(`E:0:*:${hex('abcdef and ab')}\n`, text), ['E.UNOFFICIAL']);
});

test('files of 5 bytes or fewer are not matched, as in ClamAV', () => {
  assert.deepEqual(scan(`Tiny:0:*:${hex('AAAA')}\n`, 'AAAA\n'), []);
  assert.deepEqual(scan(`Tiny:0:*:${hex('AAAA')}\n`, 'AAAA\n\n'), ['Tiny.UNOFFICIAL']);
});

test('HTML files are not matched by whole-file hashes (ClamAV hashes in the raw pass, which HTML skips)', () => {
  const html = '<html><body>hashed page</body></html>\n';
  const md5 = createHash('md5').update(html).digest('hex');
  const { database } = compileDatabase(
    [{ name: 't.hdb', bytes: new TextEncoder().encode(`${md5}:${html.length}:Page\n`) }],
    testEnv,
    { detectPua: false },
  );
  const scanner = createScanner(database, testEnv);
  const opts = resolveScanOptions({ allMatch: true });
  assert.equal(scanner.scan(bytesSource(new TextEncoder().encode(html)), opts).verdict, 'clean');
  const text = 'hashed page, plain text\n';
  const { database: db2 } = compileDatabase(
    [
      {
        name: 't.hdb',
        bytes: new TextEncoder().encode(`${createHash('md5').update(text).digest('hex')}:${text.length}:Text\n`),
      },
    ],
    testEnv,
    { detectPua: false },
  );
  assert.equal(createScanner(db2, testEnv).scan(bytesSource(new TextEncoder().encode(text)), opts).verdict, 'infected');
});

test('HTML views: tags kept and lower-cased with white space dropped after >, text alone, links in their own case', () => {
  const html = '<html><body><a HREF = "Page.HTML">Text  HERE</a>  <p>Para</p></body></html>\n';
  assert.deepEqual(scan(`T:0:*:${hex('<a href="page.html">text here</a><p>')}\n`, html), ['T.UNOFFICIAL']);
  assert.deepEqual(scan(`W:0:*:${hex('text here para')}\n`, html), ['W.UNOFFICIAL']);
  assert.deepEqual(scan(`L:0:*:${hex(' Page.HTML ')}\n`, html), ['L.UNOFFICIAL']);
  assert.deepEqual(scan(`N:0:*:${hex('</a> <p>')}\n`, html), []);
});
