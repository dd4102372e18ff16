// .cvd/.cld/.cud containers: header, MD5, digital signature, .info list, truncation.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { concatBytes } from '../containers/read.js';
import { compileDatabase } from '../database/api.js';
import { isVigilError } from '../errors.js';
import { testEnv } from '../test-support/env.js';
import { verifyDsig } from './clamav/cvd.js';

function tar(files: Record<string, string>): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [name, text] of Object.entries(files)) {
    const body = new TextEncoder().encode(text);
    const h = new Uint8Array(512);
    h.set(new TextEncoder().encode(name), 0);
    h.set(new TextEncoder().encode(`${body.length.toString(8).padStart(11, '0')}\0`), 124);
    h[156] = 0x30;
    blocks.push(h, body, new Uint8Array((512 - (body.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  return concatBytes(blocks);
}

const MEMBERS = {
  'test.ndb': 'Test.Body:0:*:41424344454647\n',
  'test.hdb': '44d88612fea8a8f36de82e1278abb02f:68:Test.Hash\n',
};

function container(body: Uint8Array, dsig = 'AAAA'): Uint8Array {
  const md5 = createHash('md5').update(body).digest('hex');
  const header = new Uint8Array(512).fill(0x20);
  header.set(
    new TextEncoder().encode(`ClamAV-VDB:24 Nov 2026 10-00 +0000:42:2:90:${md5}:${dsig}:vigil-test:1790000000`),
  );
  const out = new Uint8Array(512 + body.length);
  out.set(header);
  out.set(body, 512);
  return out;
}

function info(files: Record<string, string>): string {
  const lines = Object.entries(files).map(
    ([n, t]) => `${n}:${t.length}:${createHash('sha256').update(t).digest('hex')}`,
  );
  return `ClamAV-VDB:24 Nov 2026:42:2:90:x:x:vigil-test:0\n${lines.join('\n')}\nDSIG:none\n`;
}

const load = (name: string, bytes: Uint8Array) => compileDatabase([{ name, bytes }], testEnv, { detectPua: false });

test('a .cud (unsigned) loads its members, checks the MD5 and .info, and names stay UNOFFICIAL', () => {
  const { database } = load('test.cud', container(gzipSync(tar({ ...MEMBERS, 'test.info': info(MEMBERS) }))));
  assert.equal(database.info.total, 2);
  assert.deepEqual(database.info.sources, [
    { name: 'test.cud', signatures: 2, version: 42, builtAt: '24 Nov 2026 10-00 +0000', official: false },
  ]);
});

test("a .cvd whose digital signature does not verify with ClamAV's key is refused", () => {
  assert.throws(
    () => load('test.cvd', container(gzipSync(tar(MEMBERS)))),
    (e) =>
      isVigilError(e, 'E_SIGNATURE') &&
      /test\.cvd:0:0: error S013: the digital signature does not verify/.test(e.message),
  );
  assert.equal(verifyDsig('44d88612fea8a8f36de82e1278abb02f', 'not+a+signature'), false);
});

test('a truncated container, a bad header and a member that fails its .info hash are each refused by name', () => {
  const good = container(gzipSync(tar({ ...MEMBERS, 'test.info': info(MEMBERS) })));
  const cases: [Uint8Array, RegExp][] = [
    [good.subarray(0, good.length - 40), /the MD5 of the contents does not match the header/],
    [good.subarray(0, 300), /shorter than a CVD header/],
    [new Uint8Array(600), /does not start with 'ClamAV-VDB'/],
    [
      container(gzipSync(tar({ ...MEMBERS, 'test.info': info({ ...MEMBERS, 'test.ndb': 'other' }) }))),
      /test\.ndb is 29 bytes, test\.info says 5/,
    ],
  ];
  for (const [bytes, why] of cases) {
    assert.throws(
      () => load('test.cud', bytes),
      (e) => isVigilError(e, 'E_SIGNATURE') && why.test(e.message),
      String(why),
    );
  }
});

test('a .cld (what freshclam builds, plain tar) loads as official: names without .UNOFFICIAL', () => {
  const { database } = load('test.cld', container(tar(MEMBERS)));
  assert.equal(database.info.sources[0]?.official, true);
});

test('a .cld whose tar is cut short or missing is refused, not loaded as empty', () => {
  const whole = tar(MEMBERS);
  for (const [body, why] of [
    [whole.subarray(0, 1024 + 512 + 10), /tar entry 'test\.hdb' is truncated/],
    [new TextEncoder().encode('truncated'), /the tar archive is cut short \(9 stray bytes at byte 0\)/],
    [new Uint8Array(0), /holds no tar archive/],
  ] as const) {
    assert.throws(
      () => load('test.cld', container(body)),
      (e) => isVigilError(e, 'E_SIGNATURE') && why.test(e.message),
    );
  }
});
