// `vigil license` and `vigil license-server` as processes: keys, an offline licence file that
// verifies and one that was tampered with, and the server activating seats up to the limit, on a
// SQLite file and on a PostgreSQL database (a private server, skipped without Debian's postgresql).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PostgresLicenceStore } from '@vigil/licensing/service/index';
import { postgresMissing, usePostgres } from '@vigil/licensing/service/postgres-fixture';
import { run, vigilBin } from './peer.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-license-'));
const kill: (() => void)[] = [];
after(() => {
  for (const k of kill) k();
  rmSync(dir, { recursive: true, force: true });
});
const postgres = usePostgres();

test('vigil license: issue and verify offline; the server keeps to the seats', async () => {
  assert.equal(run(vigilBin, ['license', 'keygen', '--out', dir]).status, 0);
  const priv = join(dir, 'licence-private.pem');
  const pub = join(dir, 'licence-public.pem');
  const file = join(dir, 'l.json');
  const issued = run(vigilBin, [
    'license',
    'issue',
    '--key',
    priv,
    '--customer',
    'C-1',
    '--country',
    'DE',
    '--seats',
    '2',
    '--days',
    '30',
    '-o',
    file,
  ]);
  assert.equal(issued.status, 0, issued.stderr);
  assert.equal(run(vigilBin, ['license', 'verify', file, '--key', pub]).status, 0);
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  doc.licence.seats = 200;
  writeFileSync(join(dir, 'tampered.json'), JSON.stringify(doc));
  const bad = run(vigilBin, ['license', 'verify', join(dir, 'tampered.json'), '--key', pub]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /signature does not verify/);

  await serverKeepsSeats(join(dir, 'lic.db'), priv);
});

test('vigil license-server --db postgres://…: the same, on a PostgreSQL database', {
  skip: postgresMissing(),
}, async () => {
  const keys = join(dir, 'pg-keys');
  assert.equal(run(vigilBin, ['license', 'keygen', '--out', keys]).status, 0);
  const url = await (await postgres()).freshDatabase();
  const id = await serverKeepsSeats(url, join(keys, 'licence-private.pem'));
  const store = await PostgresLicenceStore.open(url);
  const machines = await store.transaction((tx) => tx.listActivations(id));
  assert.deepEqual(
    machines.map((a) => a.machineId),
    ['m1', 'm2'],
    'the activations are in the database',
  );
  await store.close();
});

/**
 * Starts license-server on `db`, activates a two-seat licence three times, stops it with SIGTERM;
 * returns the licence's id.
 */
async function serverKeepsSeats(db: string, priv: string): Promise<string> {
  const token = 'a-long-enough-admin-token';
  const child = spawn(vigilBin, [
    'license-server',
    '--db',
    db,
    '--key',
    priv,
    '--token',
    token,
    '--listen',
    '127.0.0.1:0',
  ]);
  kill.push(() => child.kill('SIGKILL'));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(/http:\/\/[^\s,]+/.exec(d.toString())?.[0] ?? ''));
    child.once('exit', (code) => reject(new Error(`license-server exited with ${code}`)));
  });
  const post = async (path: string, body: unknown, auth = true) => {
    const r = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  assert.equal((await post('/products', { id: 'vigil', name: 'Vigil' })).status < 300, true);
  assert.equal((await post('/plans', { product: 'vigil', name: 'pro', seats: 2, days: 365 })).status < 300, true);
  const sale = await post('/licences', { product: 'vigil', plan: 'pro', customer: 'C-2', billingCountry: 'FR' });
  assert.equal(sale.status, 201, JSON.stringify(sale.body));
  const id = (sale.body.licence as { id: string }).id;
  const statuses = [];
  for (const m of ['m1', 'm2', 'm3'])
    statuses.push((await post(`/licences/${id}/activate`, { machineId: m }, false)).status);
  assert.deepEqual(statuses, [200, 200, 409]);
  assert.equal((await post('/licences', { product: 'vigil' }, false)).status, 401);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  return id;
}
