// The update commands as processes: `vigil repo init/publish/halt`, `vigil serve-updates`,
// `vigil witness serve` and `vigil update`, then `vigil scan` with the database it installed.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { staticServer } from '@vigil/updates';
import { repoRoot, run, vigilBin } from './peer.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-updates-'));
const children: ChildProcessWithoutNullStreams[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a serving command and returns the URL it prints. */
async function serve(args: readonly string[]): Promise<string> {
  const child = spawn(vigilBin, args);
  children.push(child);
  return new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(/http:\/\/[^\s,]+/.exec(d.toString())?.[0] ?? ''));
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}

const ok = (args: readonly string[]) => {
  const r = run(vigilBin, args);
  assert.equal(r.status, 0, `vigil ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

test('publish, witness, serve, update and scan with what was installed; refusals leave the database in use', async () => {
  const repo = join(dir, 'repo');
  const state = join(dir, 'state');
  const vkey = ok(['witness', 'keygen', 'witness.test/ci', '-o', join(dir, 'w.key')]).trim();
  // The witness needs the log's key, which init makes: init names the witness's URL up front.
  const port = 20000 + Math.floor(Math.random() * 20000);
  const witnessUrl = `http://127.0.0.1:${port}`;
  const init = run(vigilBin, [
    'repo',
    'init',
    '--dir',
    repo,
    '--origin',
    'updates.test/log',
    '--root-key-dir',
    join(dir, 'root'),
    '--witness',
    witnessUrl,
    '--witness-key',
    vkey,
  ]);
  assert.equal(init.status, 0, init.stderr);
  assert.match(init.stderr, /WARNING: witness .* did not cosign/, 'the witness is not up yet');
  assert.equal(readdirSync(join(dir, 'root')).length, 3);
  const trust = join(repo, 'client', 'trust.json');
  const logKey = (JSON.parse(readFileSync(trust, 'utf8')) as { logKeys: string[] }).logKeys[0] as string;
  await serve([
    'witness',
    'serve',
    '--key',
    join(dir, 'w.key'),
    '--log',
    logKey,
    '--state',
    join(dir, 'wstate'),
    '--listen',
    `127.0.0.1:${port}`,
  ]);
  const mirror = await serve(['serve-updates', '--dir', repo, '--listen', '127.0.0.1:0']);

  ok(['db', 'compile', '-d', join(repoRoot, 'examples', 'signatures'), '-o', join(dir, 'v1.vdb')]);
  assert.match(ok(['repo', 'publish', join(dir, 'v1.vdb'), '--dir', repo]), /daily release 1 published/);
  assert.match(ok(['update', '--trust', trust, '--state', state, '--mirror', mirror]), /daily: updated to release 1/);
  const scan = run(vigilBin, [
    'scan',
    '--no-summary',
    '-d',
    join(state, 'daily.db'),
    join(repoRoot, 'examples', 'files'),
  ]);
  assert.equal(scan.status, 1);
  assert.match(scan.stdout, /demo-sample.txt: Vigil.Demo.Body.UNOFFICIAL FOUND/);

  // A release that is not a database: refused after download, the database in use kept.
  const before = readFileSync(join(state, 'daily.db'));
  writeFileSync(join(dir, 'broken.vdb'), 'not a database');
  ok(['repo', 'publish', join(dir, 'broken.vdb'), '--dir', repo]);
  const bad = run(vigilBin, ['update', '--trust', trust, '--state', state, '--mirror', mirror]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^ERROR: daily\/2\.vdb \(targets version \d+\) does not load \(/m);
  assert.match(bad.stderr, /; keeping the database in use$/m);
  assert.deepEqual(readFileSync(join(state, 'daily.db')), before);
  // Halting it: the client stays where it is, and says so.
  assert.match(ok(['repo', 'halt', '2', '--dir', repo]), /release 2: halted/);
  assert.match(ok(['update', '--trust', trust, '--state', state, '--mirror', mirror]), /already at release 1/);
  assert.match(ok(['repo', 'status', '--dir', repo]), /daily 2\thalted/);
  // With every release halted the client keeps what it has.
  ok(['repo', 'halt', '1', '--dir', repo]);
  assert.match(
    ok(['update', '--trust', trust, '--state', state, '--mirror', mirror]),
    /no release is offered to this installation now.*keeping/,
  );
  assert.deepEqual(readFileSync(join(state, 'daily.db')), before);
  // The next good release comes as a delta from the one the client has.
  const sigs = join(dir, 'sigs-3');
  cpSync(join(repoRoot, 'examples', 'signatures'), sigs, { recursive: true });
  writeFileSync(join(sigs, 'more.ndb'), 'Vigil.Demo.Added:0:*:766967696c2d616464656421\n');
  // A directory of signatures (freshclam's, say) is compiled by repo publish itself.
  assert.match(ok(['repo', 'publish', sigs, '--dir', repo]), /daily release 3 published/);
  assert.deepEqual(
    readdirSync(repo).filter((f) => f.endsWith('.vdb')),
    [],
    'no compiled file left behind',
  );
  ok(['db', 'compile', '-d', sigs, '-o', join(dir, 'v3.vdb')]);
  assert.match(
    ok(['update', '--trust', trust, '--state', state, '--mirror', mirror]),
    /daily: updated to release 3 \(targets version \d+\) \(as a delta, \d+ bytes\)/,
  );
  assert.deepEqual(readFileSync(join(state, 'daily.db')), readFileSync(join(dir, 'v3.vdb')));
});

test('an update service gated by the licensing service: the regional policy decides who gets databases', async () => {
  const repo = join(dir, 'repo-gated');
  ok(['repo', 'init', '--dir', repo, '--origin', 'gated.test/log', '--root-key-dir', join(dir, 'root-gated')]);
  ok(['db', 'compile', '-d', join(repoRoot, 'examples', 'signatures'), '-o', join(dir, 'g1.vdb')]);
  ok(['repo', 'publish', join(dir, 'g1.vdb'), '--dir', repo]);
  ok(['license', 'keygen', '--out', join(dir, 'lkeys')]);
  const token = 'a-long-enough-admin-token';
  const policy = join(repoRoot, 'packages', 'licensing', 'src', 'testdata', 'us-2024.json');
  const licences = await serve([
    'license-server',
    '--db',
    join(dir, 'lic.db'),
    '--key',
    join(dir, 'lkeys', 'licence-private.pem'),
    '--token',
    token,
    '--policy',
    policy,
    '--listen',
    '127.0.0.1:0',
  ]);
  const admin = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const post = async (path: string, body: unknown, headers: Record<string, string> = admin) => {
    const r = await fetch(`${licences}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as { licence?: { id: string } } };
  };
  await post('/products', { id: 'vigil', name: 'Vigil' });
  await post('/plans', { product: 'vigil', name: 'pro', seats: 2, days: 365 });
  // The service acts now, after both 2024 dates: a German customer can buy, a U.S. one cannot. (A
  // U.S. installation's update refusal is tested in the updates and licensing packages.)
  const de = await post('/licences', { product: 'vigil', plan: 'pro', customer: 'C-DE', billingCountry: 'DE' });
  assert.equal(de.status, 201);
  const us = await post('/licences', { product: 'vigil', plan: 'pro', customer: 'C-US', billingCountry: 'US' });
  assert.equal(us.status, 451, 'no new sales in the U.S. since 20 July 2024');
  const deId = de.body.licence?.id as string;
  assert.equal(
    (await post(`/licences/${deId}/activate`, { machineId: 'pc-1' }, { 'content-type': 'application/json' })).status,
    200,
  );

  const mirror = await serve(['serve-updates', '--dir', repo, '--licence-server', licences, '--listen', '127.0.0.1:0']);
  const trust = join(repo, 'client', 'trust.json');
  const state = join(dir, 'state-gated');
  const none = run(vigilBin, ['update', '--trust', trust, '--state', state, '--mirror', mirror]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /HTTP 403/);
  assert.match(
    ok(['update', '--trust', trust, '--state', state, '--mirror', mirror, '--licence', deId, '--machine', 'pc-1']),
    /updated to release 1/,
  );
});

test('vigil update --clamav refuses a .cvd that ClamAV did not sign, and writes nothing', async () => {
  const mirrorDir = join(dir, 'cvd-mirror');
  const dbDir = join(dir, 'clamav-db');
  mkdirSync(mirrorDir);
  mkdirSync(dbDir);
  const body = gzipSync(Buffer.alloc(1024));
  const md5 = createHash('md5').update(body).digest('hex');
  const header = `ClamAV-VDB:29 Nov 2026 12-00 +0000:27000:1:90:${md5}:notClamAVsSignature:someone:0`;
  writeFileSync(join(mirrorDir, 'daily.cvd'), Buffer.concat([Buffer.from(header.padEnd(512, ' ')), body]));
  const server = staticServer(mirrorDir);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => server.close());
  const files = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Asynchronously: the mirror is served from this process.
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(vigilBin, ['update', '--clamav', '--mirror', files, '--database-dir', dbDir, '--db', 'daily']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) => resolve({ code, stderr }));
  });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /could not update daily: .*digital signature does not verify with ClamAV's key/);
  assert.deepEqual(readdirSync(dbDir), []);
});
