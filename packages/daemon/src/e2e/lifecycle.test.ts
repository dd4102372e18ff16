// The daemon's life: reloads under load (RELOAD, SIGUSR2, SelfCheck, a database that fails to
// load), going to the background, its files, its log and VirusEvent, a bad configuration, and what
// Vigil adds to clamd: TLS with client certificates and the HTTP endpoint.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { CLAM_EXE_SHA256, instream, type RunningDaemon, request, startDaemon, until, vigilBin } from './harness.js';

const exe = new Uint8Array(readFileSync('/usr/share/clamav-testfiles/clam.exe'));
const FOUND = 'stream: ClamAV-Test-File.UNOFFICIAL FOUND\0';
const MARKER = new TextEncoder().encode('some bytes with VIGIL-NEW-SIGNATURE inside');
let work = '';

before(() => {
  work = mkdtempSync(join(tmpdir(), 'vigil-daemon-life-'));
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A fresh database directory with the clam.exe hash signature. */
function database(name: string): string {
  const db = join(work, name);
  mkdirSync(db);
  writeFileSync(join(db, 'test.hsb'), `${CLAM_EXE_SHA256}:544:ClamAV-Test-File\n`);
  return db;
}
const addMarkerSignature = (db: string) =>
  writeFileSync(join(db, 'new.ndb'), `Vigil.New:0:*:${Buffer.from('VIGIL-NEW-SIGNATURE').toString('hex')}\n`);

/** `n` INSTREAM scans of clam.exe, `concurrency` at a time; `midway` runs when half are done. */
async function load(d: RunningDaemon, n: number, concurrency: number, midway: () => Promise<void>): Promise<string[]> {
  const replies: string[] = [];
  let next = 0;
  let mid: Promise<void> | undefined;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        if (next === n / 2) mid = midway();
        replies.push(await request(d.socket, instream(exe)).catch((e: Error) => `failed: ${e.message}`));
      }
    }),
  );
  await mid;
  return replies;
}

for (const concurrent of [true, false]) {
  test(`RELOAD in the middle of a load drops no request (ConcurrentDatabaseReload ${concurrent ? 'yes' : 'no'}), and the new signatures are used after it`, async () => {
    const db = database(`reload-${concurrent}`);
    const d = await startDaemon('vigil', [
      `DatabaseDirectory ${db}`,
      'SelfCheck 0',
      'MaxThreads 2',
      `ConcurrentDatabaseReload ${concurrent ? 'yes' : 'no'}`,
    ]);
    try {
      assert.equal(await request(d.socket, instream(MARKER)), 'stream: OK\0');
      const replies = await load(d, 400, 20, async () => {
        addMarkerSignature(db);
        assert.equal(await request(d.socket, 'zRELOAD\0'), 'RELOADING\0');
      });
      assert.equal(replies.length, 400);
      assert.deepEqual(
        replies.filter((r) => r !== FOUND),
        [],
      );
      await until(() => d.output().includes('Database correctly reloaded (2 signatures)'), 10_000, 'the reload');
      assert.equal(await request(d.socket, instream(MARKER)), 'stream: Vigil.New.UNOFFICIAL FOUND\0');
    } finally {
      await d.stop();
    }
  });
}

test('SIGUSR2 reloads; SelfCheck reloads when the database directory changes', async () => {
  const db = database('signals');
  const d = await startDaemon('vigil', [`DatabaseDirectory ${db}`, 'SelfCheck 1']);
  try {
    addMarkerSignature(db);
    await until(async () => (await request(d.socket, instream(MARKER))).includes('Vigil.New'), 5000, 'SelfCheck');
    assert.match(d.output(), /SelfCheck: Database modification detected. Forcing reload./);
    rmSync(join(db, 'new.ndb'));
    d.child.kill('SIGUSR2');
    await until(async () => (await request(d.socket, instream(MARKER))) === 'stream: OK\0', 5000, 'SIGUSR2');
  } finally {
    await d.stop();
  }
});

for (const concurrent of [true, false]) {
  test(`a database that fails to load at RELOAD leaves the old one serving, and says why (ConcurrentDatabaseReload ${concurrent ? 'yes' : 'no'})`, async () => {
    const db = database(`broken-${concurrent}`);
    const d = await startDaemon('vigil', [
      `DatabaseDirectory ${db}`,
      'SelfCheck 0',
      `ConcurrentDatabaseReload ${concurrent ? 'yes' : 'no'}`,
    ]);
    try {
      writeFileSync(join(db, 'bad.ndb'), 'Broken:0:*:zz\n');
      assert.equal(await request(d.socket, 'zRELOAD\0'), 'RELOADING\0');
      await until(() => d.output().includes('Database reload failed'), 10_000, 'the failed reload');
      assert.match(d.output(), /ERROR: Database reload failed, keeping the old one: [\s\S]*bad\.ndb:1:12: /);
      assert.equal(await request(d.socket, instream(exe)), FOUND);
    } finally {
      await d.stop();
    }
  });
}

test('Foreground no: the daemon goes to the background once it serves; SIGTERM removes its socket and PID file', async () => {
  const dir = join(work, 'bg');
  mkdirSync(dir);
  const conf = join(dir, 'clamd.conf');
  const socket = join(dir, 'sock');
  const pidFile = join(dir, 'pid');
  const logFile = join(dir, 'log');
  writeFileSync(
    conf,
    [
      `LocalSocket ${socket}`,
      `PidFile ${pidFile}`,
      `DatabaseDirectory ${database('bg-db')}`,
      `LogFile ${logFile}`,
      'LogTime yes',
      'LogClean yes',
      `VirusEvent echo "%v in $CLAM_VIRUSEVENT_FILENAME" >> ${join(dir, 'events')}`,
      'SelfCheck 0',
      '',
    ].join('\n'),
  );
  const r = spawnSync(vigilBin, ['daemon', '-c', conf], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    assert.ok(pid > 0 && pid !== r.pid);
    assert.equal(await request(socket, instream(exe)), FOUND);
    assert.equal(await request(socket, `zSCAN ${conf}\0`), `${conf}: OK\0`);
    await until(() => existsSync(join(dir, 'events')), 5000, 'VirusEvent');
    assert.equal(readFileSync(join(dir, 'events'), 'utf8'), 'ClamAV-Test-File.UNOFFICIAL in instream(local)\n');
    process.kill(pid, 'SIGTERM');
    await until(() => !existsSync(pidFile) && !existsSync(socket), 10_000, 'the files to go');
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} -> \+\+\+ Started at /m);
    assert.match(log, / -> instream\(local\): ClamAV-Test-File.UNOFFICIAL FOUND$/m);
    assert.match(log, new RegExp(` -> ${conf.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: OK$`, 'm'));
    assert.match(log, / -> --- Stopped at /);
  } finally {
    // A failed assertion must not leave the daemon running in the background.
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already, as it should be
    }
  }
});

test('start-up errors are clear and leave nothing behind: a bad setting, a socket in use, a stale socket', async () => {
  const dir = join(work, 'errors');
  mkdirSync(dir);
  const conf = join(dir, 'bad.conf');
  writeFileSync(conf, `LocalSocket ${join(dir, 's')}\nFoeground yes\n`);
  const bad = spawnSync(vigilBin, ['daemon', '-c', conf], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, `ERROR: ${conf}:2: unknown option Foeground\n`);

  const db = database('errors-db');
  const d = await startDaemon('vigil', [`DatabaseDirectory ${db}`, 'SelfCheck 0']);
  try {
    writeFileSync(conf, `LocalSocket ${d.socket}\nDatabaseDirectory ${db}\nForeground yes\n`);
    const busy = spawnSync(vigilBin, ['daemon', '-c', conf], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(busy.status, 2);
    assert.match(busy.stderr, /Socket file .* is in use by another process/);
    assert.equal(await request(d.socket, 'zPING\0'), 'PONG\0', 'the first daemon is untouched');
  } finally {
    await d.stop();
  }
  // A socket file left by a daemon that died: replaced (FixStaleSocket yes, the default).
  const stale = join(dir, 'stale.sock');
  execFileSync('/usr/bin/python3', [
    '-c',
    `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(stale)})`,
  ]);
  assert.ok(existsSync(stale));
  const d2 = await startDaemon('vigil', [`DatabaseDirectory ${db}`, 'SelfCheck 0', `LocalSocket ${stale}`]);
  try {
    assert.equal(await request(stale, 'zPING\0'), 'PONG\0');
  } finally {
    await d2.stop();
  }
});

/** A CA, a server certificate and a client certificate, made with openssl. */
function certificates(dir: string): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  mkdirSync(dir);
  const p = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=Vigil test CA',
  );
  for (const who of ['server', 'client']) {
    ssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      p(`${who}.key`),
      '-out',
      p(`${who}.csr`),
      '-subj',
      `/CN=${who === 'server' ? 'localhost' : 'scanner-client'}`,
    );
    writeFileSync(
      p(`${who}.ext`),
      who === 'server' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n',
    );
    ssl(
      'x509',
      '-req',
      '-in',
      p(`${who}.csr`),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-out',
      p(`${who}.pem`),
      '-days',
      '2',
      '-extfile',
      p(`${who}.ext`),
    );
  }
  return {
    ca: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
  };
}

/** A TCP port nobody listens on now. */
const freePort = () => 20_000 + Math.floor(Math.random() * 20_000);

test('TLS: clients with a certificate from the configured CA are served; others are refused at the handshake', async () => {
  const c = certificates(join(work, 'tls'));
  const port = freePort();
  const d = await startDaemon('vigil', [
    `DatabaseDirectory ${database('tls-db')}`,
    'SelfCheck 0',
    `TLSSocket ${port}`,
    'TLSAddr 127.0.0.1',
    `TLSCertificateFile ${c.serverCert}`,
    `TLSPrivateKeyFile ${c.serverKey}`,
    `TLSClientCAFile ${c.ca}`,
  ]);
  const tlsRequest = (data: Uint8Array | string, withCert: boolean) =>
    new Promise<string>((resolve, reject) => {
      const s = tlsConnect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: readFileSync(c.ca),
        ...(withCert ? { cert: readFileSync(c.clientCert), key: readFileSync(c.clientKey) } : {}),
      });
      let out = '';
      s.on('secureConnect', () => s.write(data));
      s.on('data', (b: Buffer) => {
        out += b.toString('latin1');
      });
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
  try {
    assert.equal(await tlsRequest('zPING\0', true), 'PONG\0');
    assert.equal(await tlsRequest(instream(exe), true), FOUND);
    await assert.rejects(
      tlsRequest('zPING\0', false),
      /certificate required|handshake|alert|ECONNRESET|socket hang up/i,
    );
  } finally {
    await d.stop();
  }
});

function http(
  port: number,
  method: string,
  path: string,
  body?: Uint8Array,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path }, (res) => {
      let text = '';
      res.on('data', (b: Buffer) => {
        text += b.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('HTTP: POST /scan answers a JSON file document, /metrics counts what was done, /healthz, and limits', async () => {
  const port = freePort();
  const d = await startDaemon('vigil', [
    `DatabaseDirectory ${database('http-db')}`,
    'SelfCheck 0',
    `HTTPSocket ${port}`,
    'StreamMaxLength 100K',
  ]);
  try {
    const found = await http(port, 'POST', '/scan?name=upload.exe', exe);
    assert.equal(found.status, 200);
    const doc = JSON.parse(found.body);
    assert.equal(doc.status, 'infected');
    assert.equal(doc.path, 'upload.exe');
    assert.deepEqual(
      doc.detections.map((x: { name: string; location: string }) => [x.name, x.location]),
      [['ClamAV-Test-File.UNOFFICIAL', 'upload.exe']],
    );
    assert.equal(JSON.parse((await http(port, 'POST', '/scan', MARKER)).body).status, 'clean');
    const big = await http(port, 'POST', '/scan', new Uint8Array(200_000)).catch((e: Error) => ({
      status: 0,
      body: e.message,
    }));
    assert.ok(
      big.status === 413 || /EPIPE|ECONNRESET|socket hang up/.test(big.body),
      `oversized body: ${big.status} ${big.body}`,
    );
    assert.equal((await http(port, 'GET', '/scan')).status, 405);
    assert.equal((await http(port, 'GET', '/nope')).status, 404);
    assert.equal(await request(d.socket, instream(exe)), FOUND);
    const health = JSON.parse((await http(port, 'GET', '/healthz')).body);
    assert.deepEqual([health.status, health.signatures], ['ok', 1]);
    const metrics = (await http(port, 'GET', '/metrics')).body;
    assert.match(metrics, /^vigil_scans_total\{result="infected"\} 2$/m);
    assert.match(metrics, /^vigil_scans_total\{result="clean"\} 1$/m);
    assert.match(metrics, /^vigil_detections_total 2$/m);
    assert.match(metrics, /^vigil_scan_duration_seconds_count 3$/m);
    assert.match(metrics, /^vigil_rejected_total\{reason="stream-limit"\} 1$/m);
    assert.match(metrics, /^vigil_database_signatures 1$/m);
    assert.match(metrics, /^vigil_commands_total\{command="INSTREAM"\} 1$/m);
  } finally {
    await d.stop();
  }
});
