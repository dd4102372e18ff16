// The 2024 scenario as a test: in the United States, new sales denied from 20 July 2024, and
// renewals, activations, resale, transfers and signature updates from 29 September 2024, each
// with a 30-day notice; installations in place keep working. Customers billed in the US and in
// Germany try each action before, between and after the two dates.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { type Customer, decide } from './decide.js';
import { isLicensingError } from './errors.js';
import { type Action, parsePolicy, validatePolicy } from './policy.js';

const policy = parsePolicy(
  readFileSync(new URL('../src/testdata/us-2024.json', import.meta.url), 'utf8'),
  'us-2024.json',
);
const US: Customer = { id: 'C-US', billingCountry: 'US' };
const DE: Customer = { id: 'C-DE', billingCountry: 'DE' };
const LICENSING: readonly Action[] = ['renewal', 'activation', 'resale', 'transfer', 'signature-update'];

function ask(customer: Customer, action: Action, at: string) {
  return decide(policy, { action, at: new Date(at), customer });
}

test('1 July 2024: a US customer may buy, and is told new sales end in 19 days', () => {
  const d = ask(US, 'new-sale', '2024-07-01T00:00:00Z');
  assert.equal(d.allowed, true);
  assert.equal(d.rule, undefined);
  assert.equal(d.jurisdiction, 'US');
  assert.equal(d.existingInstallations, 'keep-working');
  assert.deepEqual(
    d.notices.map((n) => [n.action, n.effective, n.daysLeft, n.ruleId]),
    [['new-sale', '2024-07-20', 19, 'US/new-sale/2024-07-20']],
  );
  assert.equal(d.notices[0]?.text, 'From 20 July 2024 this product can no longer be bought in your country.');
  for (const action of LICENSING) assert.equal(ask(US, action, '2024-07-01').allowed, true, action);
});

test('20 June 2024: no notice yet, 30 days and a minute ahead of the first date', () => {
  assert.deepEqual(ask(US, 'new-sale', '2024-06-19T23:59:00Z').notices, []);
  assert.equal(ask(US, 'new-sale', '2024-06-20T00:00:00Z').notices[0]?.daysLeft, 30);
});

test('the ban on sales starts at the first instant of 20 July (UTC)', () => {
  const before = ask(US, 'new-sale', '2024-07-19T23:59:59Z');
  assert.equal(before.allowed, true);
  assert.equal(before.notices[0]?.daysLeft, 1);
  const at = ask(US, 'new-sale', '2024-07-20T00:00:00Z');
  assert.equal(at.allowed, false);
  assert.equal(at.rule?.id, 'US/new-sale/2024-07-20');
  assert.deepEqual(at.notices, []);
});

test('1 September 2024: a US customer cannot buy, can still renew and update, and sees the September notices', () => {
  const sale = ask(US, 'new-sale', '2024-09-01T00:00:00Z');
  assert.equal(sale.allowed, false);
  assert.equal(sale.rule?.action, 'new-sale');
  assert.equal(sale.reason, 'U.S. Commerce final determination of 20 June 2024: no new sales in the United States');
  for (const action of LICENSING) assert.equal(ask(US, action, '2024-09-01').allowed, true, action);
  const update = ask(US, 'signature-update', '2024-09-01T00:00:00Z');
  assert.deepEqual(
    update.notices.map((n) => [n.action, n.daysLeft]),
    LICENSING.map((a) => [a, 28]),
  );
  assert.match(update.notices.at(-1)?.text ?? '', /^From 29 September 2024 this product no longer receives signature/);
});

test('the September notices appear exactly 30 days ahead', () => {
  assert.equal(ask(US, 'renewal', '2024-08-29T23:59:59Z').notices.length, 0);
  assert.equal(ask(US, 'renewal', '2024-08-30T00:00:00Z').notices.length, 5);
});

test('after 29 September 2024: no updates nor licensing in the US, and installations keep working', () => {
  for (const at of ['2024-09-29T00:00:00Z', '2024-10-15T08:00:00Z', '2030-01-01']) {
    for (const action of ['new-sale', ...LICENSING] as const) {
      const d = ask(US, action, at);
      assert.equal(d.allowed, false, `${action} at ${at}`);
      assert.equal(d.rule?.action, action);
      assert.equal(d.existingInstallations, 'keep-working');
      assert.deepEqual(d.notices, []);
    }
    // The policy does not name cloud lookups: they stay allowed.
    assert.equal(ask(US, 'cloud-lookup', at).allowed, true);
  }
  const update = ask(US, 'signature-update', '2024-10-01');
  assert.equal(update.reason, 'U.S. Commerce final determination of 20 June 2024: no updates in the United States');
  assert.equal(update.rule?.path, 'jurisdictions[0].rules[5]');
});

test('a customer billed in Germany is never affected and never notified', () => {
  for (const at of ['2024-07-01', '2024-07-20', '2024-09-01', '2024-09-29', '2025-01-01']) {
    for (const action of ['new-sale', ...LICENSING, 'cloud-lookup'] as const) {
      const d = ask(DE, action, at);
      assert.equal(d.allowed, true, `${action} at ${at}`);
      assert.deepEqual(d.notices, []);
      assert.equal(d.signals.ipCountryDiffers, false);
    }
  }
});

test('the IP country is a signal only: DE billing with a US IP is allowed and flagged', () => {
  const d = ask({ ...DE, ipCountry: 'US' }, 'signature-update', '2024-10-01');
  assert.equal(d.allowed, true);
  assert.equal(d.jurisdiction, 'DE');
  assert.deepEqual(d.signals, { ipCountryDiffers: true, ipCountry: 'US' });
  const us = ask({ ...US, ipCountry: 'DE' }, 'signature-update', '2024-10-01');
  assert.equal(us.allowed, false);
  assert.deepEqual(us.signals, { ipCountryDiffers: true, ipCountry: 'DE' });
  assert.deepEqual(ask({ ...US, ipCountry: 'us' }, 'renewal', '2024-07-01').signals, {
    ipCountryDiffers: false,
    ipCountry: 'us',
  });
});

test('a lifted ban, a rule that replaces another, and an exempt customer', () => {
  const p = validatePolicy({
    version: 2,
    publishedAt: '2025-01-01',
    jurisdictions: [
      {
        country: 'US',
        rules: [
          { action: 'signature-update', effective: '2024-09-29', until: '2025-03-01', effect: 'deny', reason: 'ban' },
          {
            action: 'renewal',
            effective: '2024-09-29',
            until: '2025-03-01',
            effect: 'deny',
            reason: 'first',
            exempt: { customers: ['C-GOV'] },
          },
          {
            action: 'renewal',
            effective: '2025-03-01',
            effect: 'deny',
            reason: 'second',
            existingInstallations: 'stop',
            notice: { leadDays: 10, text: 'The rules change on 1 March.' },
          },
        ],
      },
    ],
  });
  const at = (when: string, action: Action, customer: Customer = US) =>
    decide(p, { action, at: new Date(when), customer });
  assert.equal(at('2025-02-28T23:59:59Z', 'signature-update').allowed, false);
  assert.equal(at('2025-03-01', 'signature-update').allowed, true);
  assert.equal(at('2025-02-01', 'renewal').reason, 'first');
  assert.equal(at('2025-03-01', 'renewal').reason, 'second');
  assert.equal(at('2025-03-01', 'renewal').existingInstallations, 'stop');
  // The notice of the next rule shows while the first is in force.
  assert.deepEqual(
    at('2025-02-20', 'renewal').notices.map((n) => n.daysLeft),
    [9],
  );
  const gov = at('2025-02-20', 'renewal', { id: 'C-GOV', billingCountry: 'US' });
  assert.equal(gov.allowed, true);
  assert.equal(gov.exemptFrom?.reason, 'first');
  assert.equal(gov.notices.length, 1, 'exempt from the first rule only');
});

test('a malformed request is an E_INPUT error, not a decision', () => {
  const bad: [Customer, Date, string][] = [
    [{ billingCountry: 'us' }, new Date('2024-07-01'), 'request: customer.billingCountry: "us" is not an ISO 3166-1'],
    [{ billingCountry: 'USA' }, new Date('2024-07-01'), 'request: customer.billingCountry: "USA"'],
    [US, new Date('not a date'), 'request: at: is an invalid Date'],
  ];
  for (const [customer, at, message] of bad) {
    assert.throws(
      () => decide(policy, { action: 'renewal', at, customer }),
      (e) => isLicensingError(e, 'E_INPUT') && e.message.startsWith(message),
    );
  }
  assert.throws(
    () => decide(policy, { action: 'update' as Action, at: new Date(), customer: US }),
    /request: action: "update" is not one of new-sale/,
  );
});
