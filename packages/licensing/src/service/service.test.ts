// The service's operations, called directly with their `now`: the 2024 U.S. case (new sales
// denied from 20 July 2024, licensing and updates from 29 September, notices ahead, installations
// keep working) for a U.S. and a German customer; expiry, renewal, transfer, seats, idempotent
// activation, and the audit trail each of them leaves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestContext } from './answers.js';
import { isLicenceError, type LicenceErrorCode } from './errors.js';
import { testService } from './fixtures.js';
import { verifyLicenceFile } from './licence-file.js';

const at = (iso: string, ipCountry?: string): RequestContext => ({
  now: new Date(iso),
  actor: 'test',
  ...(ipCountry === undefined ? {} : { ipCountry }),
});

async function refused(p: Promise<unknown>, code: LicenceErrorCode, message: RegExp) {
  let error: unknown;
  await assert.rejects(p, (e: unknown) => {
    error = e;
    return isLicenceError(e, code) && message.test(e.message);
  });
  if (!isLicenceError(error)) throw new Error('unreachable');
  return error;
}

const US_REASON = /U\.S\. Commerce final determination of 20 June 2024/;

test('2024: a US customer buys before 20 July, is refused after, with the reason and notices', async () => {
  const { service, done } = await testService({ policy: true });
  const sale = { product: 'vigil', plan: 'pro', customer: 'C-US', billingCountry: 'US' };
  const early = await service.issue(sale, at('2024-07-01T00:00:00Z'));
  assert.equal(early.licence.billingCountry, 'US');
  assert.deepEqual(
    early.notices.map((n) => [n.action, n.daysLeft]),
    [['new-sale', 19]],
  );
  const e = await refused(service.issue(sale, at('2024-07-20T00:00:00Z')), 'E_DENIED_BY_POLICY', US_REASON);
  assert.equal(e.details.policy?.ruleId, 'US/new-sale/2024-07-20');
  assert.equal(e.details.policy?.jurisdiction, 'US');
  assert.deepEqual(
    e.details.policy?.notices.map((n) => n.action),
    [],
    'in July the September rules are still more than 30 days away',
  );
  const late = await refused(service.issue(sale, at('2024-09-10T00:00:00Z')), 'E_DENIED_BY_POLICY', US_REASON);
  assert.equal(late.details.policy?.notices.length, 5, 'by September the notices of the 29 September rules show');
  const audit = await service.audit({});
  const issues = audit.filter((a) => a.action === 'issue');
  assert.deepEqual(
    issues.map((a) => a.outcome),
    ['ok', 'refused', 'refused'],
  );
  assert.equal(issues[1]?.detail.code, 'E_DENIED_BY_POLICY');
  await done();
});

test('2024: US activation and renewal work until 29 September (with notices), then are refused', async () => {
  const { service, done } = await testService({ policy: true });
  const sale = { product: 'vigil', plan: 'pro', customer: 'C-US', billingCountry: 'US' };
  const { licence } = await service.issue(sale, at('2024-07-01T00:00:00Z'));
  const august = await service.activate(licence.id, 'm-1', at('2024-08-01T00:00:00Z'));
  assert.deepEqual(august.notices, [], 'no notice due in August');
  const september = await service.activate(licence.id, 'm-2', at('2024-09-15T00:00:00Z'));
  assert.deepEqual(
    september.notices.map((n) => [n.action, n.effective, n.daysLeft]),
    [
      ['renewal', '2024-09-29', 14],
      ['activation', '2024-09-29', 14],
      ['resale', '2024-09-29', 14],
      ['transfer', '2024-09-29', 14],
      ['signature-update', '2024-09-29', 14],
    ],
  );
  const renewed = await service.renew(licence.id, 30, at('2024-09-28T23:59:59Z'));
  assert.equal(renewed.notices.length, 5);
  assert.equal(renewed.licence.expiresAt, new Date(Date.parse(licence.expiresAt) + 30 * 86_400_000).toISOString());
  const denied = await refused(
    service.activate(licence.id, 'm-3', at('2024-09-29T00:00:00Z')),
    'E_DENIED_BY_POLICY',
    /Cannot activate licence .*: activation is denied in US from 2024-09-29/,
  );
  assert.equal(denied.details.policy?.existingInstallations, 'keep-working');
  await refused(service.renew(licence.id, 30, at('2024-10-01T00:00:00Z')), 'E_DENIED_BY_POLICY', US_REASON);
  await refused(
    service.transfer(licence.id, { toCustomer: 'C-DE', billingCountry: 'DE' }, at('2024-10-01T00:00:00Z')),
    'E_DENIED_BY_POLICY',
    /transfer is denied in US/,
  );
  await done();
});

test('2024: after 29 September US updates are denied, and installations keep working', async () => {
  const { service, done } = await testService({ policy: true });
  const sale = { product: 'vigil', plan: 'pro', customer: 'C-US', billingCountry: 'US' };
  const { licence } = await service.issue(sale, at('2024-07-01T00:00:00Z'));
  await service.activate(licence.id, 'm-1', at('2024-07-02T00:00:00Z'));
  const before = await service.checkUpdates(licence.id, 'm-1', at('2024-09-28T12:00:00Z'));
  assert.equal(before.allowed, true);
  assert.equal(before.notices.find((n) => n.action === 'signature-update')?.daysLeft, 1);
  const after = await service.checkUpdates(licence.id, 'm-1', at('2024-09-29T00:00:00Z', 'US'));
  assert.equal(after.allowed, false);
  assert.equal(after.existingInstallations, 'keep-working');
  assert.equal(after.ruleId, 'US/signature-update/2024-09-29');
  assert.match(after.reason ?? '', /no updates in the United States/);
  const trail = await service.audit({ licenceId: licence.id });
  const checks = trail.filter((a) => a.action === 'check-updates');
  assert.equal(checks.length, 1, 'only the denial is recorded');
  assert.equal(checks[0]?.outcome, 'refused');
  assert.deepEqual(checks[0]?.detail.policy, [
    {
      action: 'signature-update',
      jurisdiction: 'US',
      allowed: false,
      ruleId: 'US/signature-update/2024-09-29',
      reason: after.reason,
      ipCountry: 'US',
      ipCountryDiffers: false,
    },
  ]);
  await done();
});

test('2024: a German customer is unaffected, even from a US IP address (flagged in the audit)', async () => {
  const { service, done } = await testService({ policy: true });
  const sale = { product: 'vigil', plan: 'pro', customer: 'C-DE', billingCountry: 'DE' };
  const { licence, notices } = await service.issue(sale, at('2024-08-01T00:00:00Z', 'US'));
  assert.deepEqual(notices, []);
  const activated = await service.activate(licence.id, 'm-1', at('2024-10-01T00:00:00Z', 'US'));
  assert.deepEqual(activated.notices, []);
  await service.renew(licence.id, 365, at('2024-10-01T00:00:00Z'));
  const updates = await service.checkUpdates(licence.id, 'm-1', at('2024-10-02T00:00:00Z'));
  assert.equal(updates.allowed, true);
  const [issued] = await service.audit({ licenceId: licence.id });
  assert.deepEqual(issued?.detail.policy, [
    { action: 'new-sale', jurisdiction: 'DE', allowed: true, ipCountry: 'US', ipCountryDiffers: true },
  ]);
  // Reselling a German licence into the US after 29 September is a resale there: refused.
  await refused(
    service.transfer(licence.id, { toCustomer: 'C-US', billingCountry: 'US' }, at('2024-10-03T00:00:00Z')),
    'E_DENIED_BY_POLICY',
    /Cannot transfer licence .* to C-US: resale is denied in US/,
  );
  await done();
});

test('expiry: activation after expiresAt is refused with the date; renewal extends from the later of now and expiry', async () => {
  const { service, keys, done } = await testService({ days: 30 });
  const t0 = '2024-01-01T00:00:00.000Z';
  const { licence } = await service.issue(
    { product: 'vigil', plan: 'pro', customer: 'C-1', billingCountry: 'FR' },
    at(t0),
  );
  assert.equal(licence.expiresAt, '2024-01-31T00:00:00.000Z');
  await refused(
    service.activate(licence.id, 'm-1', at('2024-01-31T00:00:00Z')),
    'E_EXPIRED',
    /it expired on 2024-01-31T00:00:00.000Z/,
  );
  await refused(service.checkUpdates(licence.id, 'm-1', at('2024-02-01T00:00:00Z')), 'E_EXPIRED', /expired/);
  // Expired: the renewal counts from now.
  const late = await service.renew(licence.id, 10, at('2024-02-10T00:00:00Z'));
  assert.equal(late.previousExpiresAt, '2024-01-31T00:00:00.000Z');
  assert.equal(late.licence.expiresAt, '2024-02-20T00:00:00.000Z');
  // Not expired: it counts from the expiry, so no day is lost.
  const early = await service.renew(licence.id, 10, at('2024-02-15T00:00:00Z'));
  assert.equal(early.licence.expiresAt, '2024-03-01T00:00:00.000Z');
  const offline = verifyLicenceFile(early.file, [keys.publicKey], new Date('2024-02-29T00:00:00Z'));
  assert.equal(offline.expiresAt, '2024-03-01T00:00:00.000Z');
  assert.equal((await service.activate(licence.id, 'm-1', at('2024-02-16T00:00:00Z'))).seatsUsed, 1);
  await refused(service.renew(licence.id, 0, at('2024-02-16T00:00:00Z')), 'E_INPUT', /^days: 0 is not a whole number/);
  await done();
});

test('seats: re-activating a machine takes no second seat; a full licence refuses others; deactivation frees one', async () => {
  const { service, done } = await testService({ seats: 2 });
  const now = at('2024-06-02T00:00:00Z');
  const { licence } = await service.issue(
    { product: 'vigil', plan: 'pro', customer: 'C-1', billingCountry: 'NL' },
    now,
  );
  const first = await service.activate(licence.id, 'm-1', now);
  const again = await service.activate(licence.id, 'm-1', at('2024-06-03T00:00:00Z'));
  assert.equal(again.alreadyActive, true);
  assert.equal(again.activatedAt, first.activatedAt);
  assert.equal(again.seatsUsed, 1);
  await service.activate(licence.id, 'm-2', now);
  const full = await refused(service.activate(licence.id, 'm-3', now), 'E_SEATS', /all 2 seats are taken/);
  assert.equal(full.details.seats, 2);
  assert.equal((await service.deactivate(licence.id, 'm-2', now)).wasActive, true);
  assert.equal((await service.deactivate(licence.id, 'm-2', now)).wasActive, false);
  assert.equal((await service.activate(licence.id, 'm-3', now)).seatsUsed, 2);
  await refused(service.checkUpdates(licence.id, 'm-2', now), 'E_NOT_ACTIVATED', /m-2 is not activated/);
  await refused(service.activate('L-nope', 'm-1', now), 'E_NOT_FOUND', /no such licence/);
  const view = await service.getLicence(licence.id, now);
  assert.deepEqual(
    view.activations.map((a) => a.machineId),
    ['m-1', 'm-3'],
  );
  const outcomes = (await service.audit({ licenceId: licence.id })).map((a) => `${a.action} ${a.outcome}`);
  assert.deepEqual(outcomes, [
    'issue ok',
    'activate ok',
    'activate ok',
    'activate ok',
    'activate refused',
    'deactivate ok',
    'deactivate ok',
    'activate ok',
    'check-updates refused',
  ]);
  await done();
});

test('transfer: the licence changes hands, activations are cleared, the audit keeps both owners', async () => {
  const { service, keys, done } = await testService();
  const now = at('2024-06-02T00:00:00Z');
  const { licence } = await service.issue(
    { product: 'vigil', plan: 'pro', customer: 'C-1', billingCountry: 'AT' },
    now,
  );
  await service.activate(licence.id, 'm-1', now);
  await service.activate(licence.id, 'm-2', now);
  const moved = await service.transfer(licence.id, { toCustomer: 'C-2', billingCountry: 'CH' }, now);
  assert.deepEqual(moved.from, { customer: 'C-1', billingCountry: 'AT' });
  assert.deepEqual(moved.clearedActivations, ['m-1', 'm-2']);
  assert.equal(moved.licence.customer, 'C-2');
  assert.equal(verifyLicenceFile(moved.file, [keys.publicKey], now.now).billingCountry, 'CH');
  const view = await service.getLicence(licence.id, now);
  assert.equal(view.licence.customer, 'C-2');
  assert.equal(view.seatsUsed, 0);
  const entry = (await service.audit({ licenceId: licence.id })).find((a) => a.action === 'transfer');
  assert.deepEqual(entry?.detail.from, { customer: 'C-1', billingCountry: 'AT' });
  assert.deepEqual(entry?.detail.to, { customer: 'C-2', billingCountry: 'CH' });
  assert.deepEqual(entry?.detail.clearedActivations, ['m-1', 'm-2']);
  assert.deepEqual(
    ((entry?.detail.policy ?? []) as { action: string }[]).map((p) => p.action),
    ['transfer', 'resale'],
  );
  await refused(
    service.transfer(licence.id, { toCustomer: 'C-2', billingCountry: 'CH' }, now),
    'E_INPUT',
    /already belongs to C-2/,
  );
  await done();
});

test('products, plans and revoked licences: conflicts, missing parents and status are refused', async () => {
  const { service, store, done } = await testService();
  const now = at('2024-06-02T00:00:00Z');
  await refused(service.createProduct({ id: 'vigil', name: 'again' }, now), 'E_CONFLICT', /exists/);
  await refused(
    service.createPlan({ product: 'nope', name: 'x', seats: 1, days: 1 }, now),
    'E_NOT_FOUND',
    /no such product/,
  );
  await refused(
    service.issue({ product: 'vigil', plan: 'gold', customer: 'C-1', billingCountry: 'DE' }, now),
    'E_NOT_FOUND',
    /has no plan gold/,
  );
  const { licence } = await service.issue(
    { product: 'vigil', plan: 'pro', customer: 'C-1', billingCountry: 'DE' },
    now,
  );
  await store.transaction((tx) => tx.updateLicence(licence.id, { status: 'revoked' }));
  await refused(service.activate(licence.id, 'm-1', now), 'E_REVOKED', /it is revoked/);
  await refused(service.activate(licence.id, 'bad id', now), 'E_INPUT', /^machineId: "bad id" is not an id/);
  await refused(
    service.issue({ product: 'vigil', plan: 'pro', customer: 'C-1', billingCountry: 'XX' }, now),
    'E_INPUT',
    /^billingCountry: "XX"/,
  );
  await refused(
    service.activate(licence.id, 'm-1', { now: new Date('nope') }),
    'E_INPUT',
    /^now: expected a valid Date/,
  );
  await done();
});
