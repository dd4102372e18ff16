// freshclam's job against a loopback mirror that serves CVDs and CDIFFs signed with test keys in
// ClamAV's two signature schemes: first download, CDIFFs applied, a bad CDIFF replaced by the
// whole CVD, a tampered CVD refused with the old one kept, a 429 remembered, DNS versions.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type DsigKey, openCvd, verifyDsig, verifyDsig2 } from '@vigil/engine';
import { nodeEnv } from '@vigil/node';
import { UpdateError } from '../errors.js';
import { staticServer } from '../serve.js';
import { listen } from '../test-support.js';
import { applyCdiff, type DatabaseFiles, openCdiff } from './cdiff.js';
import { dnsVersions, freshclam, tar } from './freshclam.js';

const work = mkdtempSync(join(tmpdir(), 'vigil-freshclam-'));
after(() => rmSync(work, { recursive: true, force: true }));

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/';
const big = (b64url: string) => BigInt(`0x${Buffer.from(b64url, 'base64url').toString('hex')}`);
function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}
/** A test RSA key pair: the public half as ClamAV's verifiers take it, and a signing function. */
function testKey(bits: number): { key: DsigKey; sign: (m: bigint) => string } {
  const jwk = generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ format: 'jwk' });
  const n = big(jwk.n as string);
  const d = big(jwk.d as string);
  const sign = (m: bigint) => {
    let s = modPow(m, d, n);
    let out = '';
    for (let i = 0; i < Math.ceil(bits / 6); i++, s >>= 6n) out += ALPHABET[Number(s & 63n)];
    return out;
  };
  return { key: { n, e: big(jwk.e as string) }, sign };
}
const cvdKey = testKey(1024);
const cdiffKey = testKey(2048);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

/** ClamAV's second scheme: a PSS-style block of 256 bytes, signed raw. */
function signDsig2(digest: Uint8Array): string {
  const salt = randomBytes(32);
  const h = sha256(Buffer.concat([Buffer.alloc(8), digest, salt]));
  const db = Buffer.concat([Buffer.alloc(190), Buffer.of(1), salt]);
  for (let i = 0, c = 0; i < db.length; c++) {
    const mask = sha256(Buffer.concat([h, Buffer.of(0, 0, c >> 8, c & 0xff)]));
    for (let k = 0; k < 32 && i < db.length; k++, i++) db[i] = (db[i] as number) ^ (mask[k] as number);
  }
  db[0] = (db[0] as number) & 0x7f;
  return cdiffKey.sign(BigInt(`0x${Buffer.concat([db, h, Buffer.of(0xbc)]).toString('hex')}`));
}

/** A signed .cvd of `files` (with their .info list). */
function cvd(db: string, version: number, files: DatabaseFiles): Buffer {
  const info = [...files].map(
    ([name, text]) =>
      `${name}:${Buffer.byteLength(text, 'latin1')}:${sha256(Buffer.from(text, 'latin1')).toString('hex')}`,
  );
  const all = new Map([...files, [`${db}.info`, `ClamAV-VDB:test:${version}:1\n${info.join('\n')}\n`]]);
  const body = gzipSync(tar(all));
  const md5 = createHash('md5').update(body).digest('hex');
  const header = `ClamAV-VDB:29 Nov 2026 12-00 +0000:${version}:${files.size}:90:${md5}:${cvdKey.sign(BigInt(`0x${md5}`))}:test:0`;
  return Buffer.concat([Buffer.from(header.padEnd(512, ' '), 'latin1'), body]);
}

/** A signed .cdiff turning `from` into `to` (line by line: XCHG, DEL, ADD), .info included. */
function cdiff(db: string, version: number, from: DatabaseFiles, to: DatabaseFiles): Buffer {
  const script: string[] = [];
  const withInfo = (files: DatabaseFiles, v: number) => openCvdFiles(cvd(db, v, files));
  const a = withInfo(from, version - 1);
  const b = withInfo(to, version);
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const x = (a.get(name) ?? '').split('\n').slice(0, -1);
    const y = (b.get(name) ?? '').split('\n').slice(0, -1);
    script.push(`OPEN ${name}`);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      if (i < x.length && i < y.length && x[i] !== y[i])
        script.push(`XCHG ${i + 1} ${(x[i] as string).split(' ')[0]} ${y[i]}`);
      else if (i >= y.length) script.push(`DEL ${i + 1} ${x[i]}`);
      else if (i >= x.length) script.push(`ADD ${y[i]}`);
    }
    script.push('CLOSE');
  }
  const text = Buffer.from(`${script.join('\n')}\n`, 'latin1');
  const head = Buffer.concat([Buffer.from(`ClamAV-Diff:${version}:${text.length}:`), gzipSync(text)]);
  return Buffer.concat([head, Buffer.from(`:${signDsig2(sha256(head))}`)]);
}
const openCvdFiles = (bytes: Uint8Array) =>
  new Map(
    openCvd(bytes, 'cvd', nodeEnv, cvdKey.key).members.map((m) => [m.name, Buffer.from(m.bytes).toString('latin1')]),
  );

describe("ClamAV's signature schemes with test keys", () => {
  it('verifies what the test signer signed and refuses the rest', () => {
    const md5 = createHash('md5').update('x').digest('hex');
    assert.ok(verifyDsig(md5, cvdKey.sign(BigInt(`0x${md5}`)), cvdKey.key));
    assert.equal(verifyDsig(md5, cvdKey.sign(BigInt(`0x${md5}`) + 1n), cvdKey.key), false);
    const digest = sha256(Buffer.from('script'));
    assert.ok(verifyDsig2(digest, signDsig2(digest), cdiffKey.key, nodeEnv));
    assert.equal(verifyDsig2(sha256(Buffer.from('other')), signDsig2(digest), cdiffKey.key, nodeEnv), false);
  });
});

describe('CDIFF scripts', () => {
  const files: DatabaseFiles = new Map([['a.ndb', 'one\ntwo\nthree\n']]);
  it('applies ADD, DEL, XCHG, MOVE and UNLINK', () => {
    const out = applyCdiff(
      files,
      'OPEN a.ndb\nDEL 2 two\nXCHG 3 thr THREE\nADD four\nCLOSE\nMOVE a.ndb b.ndb 1 one 1 one\nUNLINK b.ndb\n',
    );
    assert.deepEqual([...out], [['a.ndb', 'THREE\nfour\n']]);
  });
  it('refuses a script that does not fit, naming the line, and changes nothing', () => {
    assert.throws(
      () => applyCdiff(files, 'OPEN a.ndb\nDEL 2 zwei\nCLOSE\n', 'd-2.cdiff'),
      /d-2\.cdiff: line 3 .*line 2 of a\.ndb does not start with "zwei"/,
    );
    assert.throws(() => applyCdiff(files, 'ADD x\n'), /line 1 .*ADD with no file open/);
    assert.throws(() => applyCdiff(files, 'OPEN ../etc\nCLOSE\n'), /bad file name/);
    assert.throws(() => applyCdiff(files, 'OPEN a.ndb\n'), /never closed/);
    assert.deepEqual([...files], [['a.ndb', 'one\ntwo\nthree\n']]);
  });
  it('refuses a CDIFF whose signature does not verify', () => {
    const good = cdiff('daily', 2, files, new Map([['a.ndb', 'one\n']]));
    assert.equal(openCdiff(good, cdiffKey.key).version, 2);
    const bad = Buffer.from(good);
    bad[40] = (bad[40] as number) ^ 1;
    assert.throws(() => openCdiff(bad, cdiffKey.key, 'daily-2.cdiff'), /daily-2\.cdiff: the signature does not verify/);
  });
});

describe('freshclam', () => {
  const mirrorDir = join(work, 'mirror');
  mkdirSync(mirrorDir);
  const put = (name: string, bytes: Uint8Array) => writeFileSync(join(mirrorDir, name), bytes);
  const v = (n: number): DatabaseFiles =>
    new Map([
      [
        'daily.ndb',
        Array.from({ length: n }, (_, i) => `Test.Sig-${i}:0:*:4142434445${i.toString(16).padStart(2, '0')}`).join(
          '\n',
        ) + '\n',
      ],
    ]);
  const main: DatabaseFiles = new Map([['main.hdb', '44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test\n']]);
  const requests: string[] = [];
  const limited = new Set<string>();
  let url = '';
  const dbDir = join(work, 'db');
  mkdirSync(dbDir);
  const opts = () => ({
    databaseDir: dbDir,
    mirrors: [url],
    databases: ['main', 'daily'],
    cvdKey: cvdKey.key,
    cdiffKey: cdiffKey.key,
    timeoutMs: 3000,
  });
  const installedDaily = () => {
    const file = existsSync(join(dbDir, 'daily.cld')) ? 'daily.cld' : 'daily.cvd';
    const c = openCvd(readFileSync(join(dbDir, file)), file.endsWith('cld') ? 'cld' : 'cvd', nodeEnv, cvdKey.key);
    return {
      file,
      version: c.header.version,
      ndb: Buffer.from(c.members.find((m) => m.name === 'daily.ndb')?.bytes ?? []).toString(),
    };
  };

  it('downloads each database the first time, checking its signature', async () => {
    const files = staticServer(mirrorDir);
    url = await listen(
      createServer((req, res) => {
        requests.push(`${req.url ?? ''}${req.headers.range === undefined ? '' : ` ${req.headers.range}`}`);
        if (limited.has(req.url ?? '')) {
          res.writeHead(429, { 'retry-after': '120' });
          return res.end();
        }
        files.emit('request', req, res);
      }),
    );
    put('main.cvd', cvd('main', 1, main));
    put('daily.cvd', cvd('daily', 1, v(1)));
    const r = await freshclam(opts());
    assert.deepEqual(
      r.map((x) => [x.database, x.status, x.to, x.via]),
      [
        ['main', 'updated', 1, 'cvd'],
        ['daily', 'updated', 1, 'cvd'],
      ],
    );
    assert.equal(
      (await freshclam(opts())).every((x) => x.status === 'current'),
      true,
    );
  });

  it('applies the CDIFFs from the installed version on, and writes a .cld', async () => {
    put('daily-2.cdiff', cdiff('daily', 2, v(1), v(2)));
    put('daily-3.cdiff', cdiff('daily', 3, v(2), v(3)));
    put('daily.cvd', cvd('daily', 3, v(3)));
    requests.length = 0;
    const r = await freshclam(opts());
    assert.deepEqual(r[1], { database: 'daily', status: 'updated', from: 1, to: 3, via: 'cdiff' });
    assert.ok(!requests.includes('/daily.cvd'), 'only the header of the .cvd was read, not the whole file');
    assert.deepEqual(installedDaily(), { file: 'daily.cld', version: 3, ndb: v(3).get('daily.ndb') });
  });

  it('takes the whole .cvd when a CDIFF does not verify', async () => {
    const bad = cdiff('daily', 4, v(3), v(4));
    bad[30] = (bad[30] as number) ^ 1;
    put('daily-4.cdiff', bad);
    put('daily.cvd', cvd('daily', 4, v(4)));
    const r = await freshclam(opts());
    assert.deepEqual(r[1], { database: 'daily', status: 'updated', from: 3, to: 4, via: 'cvd' });
    assert.deepEqual(installedDaily(), { file: 'daily.cvd', version: 4, ndb: v(4).get('daily.ndb') });
  });

  it('refuses a tampered .cvd and keeps the installed one', async () => {
    const tampered = cvd('daily', 5, v(5));
    tampered[600] = (tampered[600] as number) ^ 1;
    put('daily.cvd', tampered);
    rmSync(join(mirrorDir, 'daily-4.cdiff'));
    await assert.rejects(freshclam(opts()), /could not update daily: .*MD5 of the contents does not match/);
    assert.equal(installedDaily().version, 4);
  });

  it('leaves a mirror alone as long as a 429 asks, across runs', async () => {
    put('daily.cvd', cvd('daily', 5, v(5)));
    limited.add('/main.cvd');
    await assert.rejects(freshclam(opts()), /HTTP 429 .* left alone until/);
    const state = JSON.parse(readFileSync(join(dbDir, 'vigil-freshclam.json'), 'utf8'));
    assert.ok(new Date(state.backoff[url].until).getTime() > Date.now() + 60_000);
    requests.length = 0;
    await assert.rejects(freshclam(opts()), (e: unknown) => e instanceof UpdateError && e.code === 'E_DENIED');
    assert.deepEqual(requests, [], 'the mirror was not contacted');
    const later = () => new Date(Date.now() + 3 * 3600_000);
    limited.clear();
    const r = await freshclam({ ...opts(), now: later });
    assert.equal(r[1]?.to, 5);
  });

  it('takes the versions from a DNS TXT record when given one', async () => {
    assert.deepEqual(dnsVersions('1.4.6:62:27461:1764400000:1:90:49192:335'), {
      main: 62,
      daily: 27461,
      bytecode: 335,
    });
    assert.throws(() => dnsVersions('garbage'), /has no main version/);
    requests.length = 0;
    const later = () => new Date(Date.now() + 3 * 3600_000);
    const r = await freshclam({ ...opts(), now: later, resolveTxt: async () => '1.4.6:1:5:0:1:90:0:1' });
    assert.ok(r.every((x) => x.status === 'current'));
    assert.deepEqual(requests, [], 'nothing fetched when DNS says all is current');
  });
});
