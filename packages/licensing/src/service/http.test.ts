// The HTTP API end to end on a loopback port: 50 concurrent activations racing for the last seat
// (exactly one wins, on the wire, in the database and in the audit, and again after a reopen),
// expiry (410), regional denials (451 with the reason and notices), updates denied with
// keep-working, and bad requests (bad JSON, missing fields, big bodies, unknown licences, tokens).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { call, serve, TOKEN, testServer, testService } from './fixtures.js';
import { licensingServer } from './http.js';
import { verifyLicenceFile } from './licence-file.js';
import { LicensingService } from './service.js';
import { SqliteLicenceStore } from './sqlite-store.js';

const SALE = { product: 'vigil', plan: 'pro', customer: 'C-1', billingCountry: 'DE' };

test('50 concurrent activations for the last seat: one wins, 49 get 409, and it holds after a reopen', async () => {
  const t = await testService({ seats: 3 });
  const clock = { now: new Date() };
  const http = await testServer(t.service, clock);
  const issued = await call(`${http.url}/licences`, { body: SALE });
  assert.equal(issued.status, 201);
  const id: string = issued.body.licence.id;
  for (const m of ['m-a', 'm-b']) {
    assert.equal((await call(`${http.url}/licences/${id}/activate`, { body: { machineId: m } })).status, 200);
  }
  const racers = Array.from({ length: 50 }, (_, i) => `race-${i}`);
  const replies = await Promise.all(
    racers.map((m) => call(`${http.url}/licences/${id}/activate`, { body: { machineId: m }, token: null })),
  );
  const won = replies.filter((r) => r.status === 200);
  const lost = replies.filter((r) => r.status === 409);
  assert.equal(won.length, 1);
  assert.equal(lost.length, 49);
  for (const r of lost) assert.equal(r.body.error.code, 'E_SEATS');
  assert.equal(won[0]?.body.seatsUsed, 3);
  const check = async (service: LicensingService) => {
    const view = await service.getLicence(id, { now: new Date() });
    assert.equal(view.seatsUsed, 3);
    const entries = (await service.audit({ licenceId: id })).filter((a) => racers.includes(String(a.detail.machineId)));
    assert.equal(entries.length, 50);
    assert.equal(entries.filter((a) => a.outcome === 'ok').length, 1);
    assert.equal(entries.filter((a) => a.detail.code === 'E_SEATS').length, 49);
  };
  await check(t.service);
  const audit = await call(`${http.url}/audit?licence=${id}`);
  assert.equal(audit.body.entries.length, 53, 'the issue, two activations and the 50 racers');
  await http.close();
  await t.store.close();
  const store = await SqliteLicenceStore.open(t.dbPath);
  await check(new LicensingService({ store, signingKey: t.keys.privatePem }));
  await store.close();
  await t.done();
});

test('expiry over HTTP: 410 with the date; renewal brings the licence back with a new file', async () => {
  const t = await testService({ days: 30 });
  const clock = { now: new Date('2024-01-01T00:00:00Z') };
  const http = await testServer(t.service, clock);
  const id: string = (await call(`${http.url}/licences`, { body: SALE })).body.licence.id;
  clock.now = new Date('2024-02-01T00:00:00Z');
  const expired = await call(`${http.url}/licences/${id}/activate`, { body: { machineId: 'm-1' }, token: null });
  assert.equal(expired.status, 410);
  assert.equal(expired.body.error.code, 'E_EXPIRED');
  assert.equal(expired.body.error.expiresAt, '2024-01-31T00:00:00.000Z');
  assert.match(expired.body.error.message, /expired on 2024-01-31T00:00:00.000Z/);
  const renewed = await call(`${http.url}/licences/${id}/renew`, { body: { days: 30 } });
  assert.equal(renewed.status, 200);
  assert.equal(renewed.body.licence.expiresAt, '2024-03-02T00:00:00.000Z');
  const file = JSON.stringify(renewed.body.file);
  assert.equal(verifyLicenceFile(file, [t.keys.publicKey], clock.now).expiresAt, '2024-03-02T00:00:00.000Z');
  assert.equal((await call(`${http.url}/licences/${id}/activate`, { body: { machineId: 'm-1' } })).status, 200);
  const moved = await call(`${http.url}/licences/${id}/transfer`, {
    body: { toCustomer: 'C-2', billingCountry: 'BE' },
  });
  assert.equal(moved.status, 200);
  assert.deepEqual(moved.body.clearedActivations, ['m-1']);
  const view = await call(`${http.url}/licences/${id}`, { token: null });
  assert.equal(view.body.licence.customer, 'C-2');
  assert.equal(view.body.seatsUsed, 0);
  await http.close();
  await t.done();
});

test('2024 over HTTP: 451 with the reason and notices; updates denied but keep working', async () => {
  const t = await testService({ policy: true });
  const clock = { now: new Date('2024-07-01T00:00:00Z') };
  const http = await testServer(t.service, clock);
  const us = { ...SALE, customer: 'C-US', billingCountry: 'US' };
  const id: string = (await call(`${http.url}/licences`, { body: us })).body.licence.id;
  await call(`${http.url}/licences/${id}/activate`, { body: { machineId: 'm-1' } });
  clock.now = new Date('2024-09-10T00:00:00Z');
  const sale = await call(`${http.url}/licences`, { body: us });
  assert.equal(sale.status, 451);
  assert.equal(sale.body.error.code, 'E_DENIED_BY_POLICY');
  assert.equal(sale.body.error.rule, 'US/new-sale/2024-07-20');
  assert.match(sale.body.error.reason, /no new sales in the United States/);
  assert.equal(sale.body.error.notices.length, 5);
  const updates = await call(`${http.url}/licences/${id}/updates?machine=m-1`, { token: null });
  assert.equal(updates.status, 200);
  assert.equal(updates.body.allowed, true);
  assert.equal(updates.body.notices.length, 5);
  clock.now = new Date('2024-09-29T00:00:00Z');
  const denied = await call(`${http.url}/licences/${id}/updates?machine=m-1`, { token: null });
  assert.equal(denied.status, 200);
  assert.equal(denied.body.allowed, false);
  assert.equal(denied.body.existingInstallations, 'keep-working');
  const activation = await call(`${http.url}/licences/${id}/activate`, { body: { machineId: 'm-2' } });
  assert.equal(activation.status, 451);
  assert.equal(activation.body.error.existingInstallations, 'keep-working');
  await http.close();
  await t.done();
});

/** Sends a raw request: `chunks` are written one by one (chunked encoding, no content-length). */
function raw(url: string, path: string, chunks: readonly string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

test('bad requests: 400 naming the field, 401/403, 404, 405, 413, never 500', async () => {
  const t = await testService();
  const http = await testServer(t.service, { now: new Date('2024-06-02T00:00:00Z') });
  const u = http.url;
  const id: string = (await call(`${u}/licences`, { body: SALE })).body.licence.id;
  const expect = async (
    reply: Promise<{ status: number; body: { error: { code: string; message: string } } }>,
    status: number,
    code: string,
    message: RegExp,
  ) => {
    const r = await reply;
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error.code, code);
    assert.match(r.body.error.message, message);
  };
  await expect(call(`${u}/licences`, { body: '{"product": ' }), 400, 'E_INPUT', /^body: not JSON/);
  await expect(call(`${u}/licences`, { body: '[1]' }), 400, 'E_INPUT', /body must be a JSON object/);
  await expect(call(`${u}/licences`, { body: '', method: 'POST' }), 400, 'E_INPUT', /body: empty/);
  await expect(
    call(`${u}/licences`, { body: { ...SALE, customer: undefined } }),
    400,
    'E_INPUT',
    /^customer: missing field/,
  );
  await expect(
    call(`${u}/licences`, { body: { ...SALE, seats: '3' } }),
    400,
    'E_INPUT',
    /^seats: "3" is not a whole number/,
  );
  await expect(
    call(`${u}/plans`, { body: { product: 'vigil', name: 'x', seats: 1 } }),
    400,
    'E_INPUT',
    /^days: missing/,
  );
  await expect(call(`${u}/products`, { body: { id: 'vigil', name: 'x' } }), 409, 'E_CONFLICT', /exists/);
  await expect(call(`${u}/licences/${id}/activate`, { body: {} }), 400, 'E_INPUT', /^machineId: missing field/);
  await expect(call(`${u}/licences/${id}/updates`), 400, 'E_INPUT', /^machine: missing/);
  await expect(call(`${u}/audit?limit=x`), 400, 'E_INPUT', /^limit: "x"/);
  await expect(call(`${u}/licences/%E0%A4%A/activate`, { body: {} }), 400, 'E_INPUT', /percent-encoding/);
  await expect(call(`${u}/licences/L-nope`), 404, 'E_NOT_FOUND', /No licence L-nope/);
  await expect(
    call(`${u}/licences/L-nope/activate`, { body: { machineId: 'm' } }),
    404,
    'E_NOT_FOUND',
    /no such licence/,
  );
  await expect(call(`${u}/nope`), 404, 'E_NOT_FOUND', /no route \/nope/);
  await expect(call(`${u}/licences`, { method: 'GET' }), 405, 'E_METHOD', /takes POST/);
  await expect(call(`${u}/licences`, { body: SALE, token: null }), 401, 'E_UNAUTHENTICATED', /admin bearer token/);
  await expect(call(`${u}/audit`, { token: 'wrong-token' }), 403, 'E_FORBIDDEN', /wrong admin token/);
  await expect(
    call(`${u}/licences/${id}/renew`, { body: { days: 1 }, token: null }),
    401,
    'E_UNAUTHENTICATED',
    /token/,
  );
  const big = { ...SALE, pad: 'x'.repeat(70_000) };
  await expect(call(`${u}/licences`, { body: big }), 413, 'E_TOO_LARGE', /larger than 65536 bytes/);
  const streamed = await raw(
    u,
    '/licences',
    Array.from({ length: 20 }, () => 'x'.repeat(4096)),
  );
  assert.equal(streamed.status, 413);
  // The server still answers after all that.
  assert.equal((await call(`${u}/licences/${id}`)).status, 200);
  await http.close();
  await t.done();
});

test('the server refuses a short admin token, and records the IP country a proxy reports', async () => {
  const t = await testService();
  assert.throws(() => licensingServer({ service: t.service, adminToken: 'short' }), /at least 16 characters/);
  const server = licensingServer({
    service: t.service,
    adminToken: TOKEN,
    ipCountry: (req) => req.headers['x-country'] as string | undefined,
  });
  const http = await serve(server);
  const res = await fetch(`${http.url}/licences`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'x-country': 'fr' },
    body: JSON.stringify(SALE),
  });
  assert.equal(res.status, 201);
  const issued = (await t.service.audit({})).find((a) => a.action === 'issue');
  assert.deepEqual(issued?.detail.policy, [
    { action: 'new-sale', jurisdiction: 'DE', allowed: true, ipCountry: 'FR', ipCountryDiffers: true },
  ]);
  await http.close();
  await t.done();
});

/** Writes `text` on a raw connection and collects everything until the server closes it. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (c: Buffer) => {
      answer += c.toString();
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

test('a client that does not finish its request in time is cut off with 408', async () => {
  const t = await testService();
  const http = await serve(licensingServer({ service: t.service, adminToken: TOKEN, requestTimeoutMs: 300 }));
  const port = Number(new URL(http.url).port);
  const head = (path: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a`;
  const started = Date.now();
  assert.match(await exchange(port, head('/licences/L-1/activate')), /^HTTP\/1\.1 408/);
  assert.ok(Date.now() - started < 5000);
  // Refused before its body was read, a request does not hold its connection open either.
  assert.match(await exchange(port, head('/licences')), /^HTTP\/1\.1 401/);
  await http.close();
  await t.done();
});
