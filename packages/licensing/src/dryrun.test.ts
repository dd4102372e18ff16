// Dry runs: the 2024 rule against a policy with no rules lists the US licences and what each
// loses from when; a later amendment lists only what it adds; listed instants work too.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { dryRun, formatDryRun, type LicenceRecord } from './dryrun.js';
import { isLicensingError } from './errors.js';
import { parsePolicy, validatePolicy } from './policy.js';

const us2024 = parsePolicy(readFileSync(new URL('../src/testdata/us-2024.json', import.meta.url), 'utf8'));
const none = validatePolicy({ version: 1, publishedAt: '2024-01-01', jurisdictions: [] });
const window = { from: new Date('2024-06-01'), to: new Date('2025-01-01') };

const licences: LicenceRecord[] = [
  { id: 'L-4', customer: 'C-4', billingCountry: 'US', expires: '2025-06-01', activations: 0 },
  { id: 'L-2', customer: 'C-2', billingCountry: 'DE', expires: '2025-06-01', activations: 3 },
  { id: 'L-1', customer: 'C-1', billingCountry: 'US', expires: '2025-06-01', activations: 2 },
  { id: 'L-3', customer: 'C-3', billingCountry: 'US', expires: '2024-08-15', activations: 1 },
];

test('the 2024 rule: which licences lose what, and from when', () => {
  const result = dryRun(none, { ...us2024, version: 2 }, { licences, window });
  assert.equal(result.examined, 4);
  assert.deepEqual(
    result.affected.map((a) => [a.licence.id, a.changes.map((c) => `${c.action}@${c.from}`)]),
    [
      [
        'L-1',
        [
          'new-sale@2024-07-20',
          'renewal@2024-09-29',
          'activation@2024-09-29',
          'resale@2024-09-29',
          'transfer@2024-09-29',
          'signature-update@2024-09-29',
        ],
      ],
      // Expired before the September date: only buying again and renewing concern it.
      ['L-3', ['new-sale@2024-07-20', 'renewal@2024-09-29']],
      // No installation: nothing to update.
      [
        'L-4',
        [
          'new-sale@2024-07-20',
          'renewal@2024-09-29',
          'activation@2024-09-29',
          'resale@2024-09-29',
          'transfer@2024-09-29',
        ],
      ],
    ],
  );
  const update = result.affected[0]?.changes.at(-1);
  assert.equal(update?.until, undefined);
  assert.equal(update?.ruleId, 'US/signature-update/2024-09-29');
  assert.equal(update?.existingInstallations, 'keep-working');
});

test('the text report', () => {
  const proposed = validatePolicy({
    version: 2,
    publishedAt: '2024-06-21',
    jurisdictions: [
      {
        country: 'US',
        rules: [
          { action: 'new-sale', effective: '2024-07-20', effect: 'deny', reason: 'no sales' },
          {
            action: 'signature-update',
            effective: '2024-09-29',
            until: '2024-12-01',
            effect: 'deny',
            reason: 'no updates',
          },
        ],
      },
    ],
  });
  const text = formatDryRun(dryRun(none, proposed, { licences, window }));
  assert.equal(
    text,
    [
      'Dry run of policy version 2 against version 1, from 2024-06-01 to 2025-01-01: 3 of 4 licences affected.',
      '',
      'L-1 (customer C-1, billed in US, expires 2025-06-01, 2 activations)',
      '  new-sale         denied from 2024-07-20 by US/new-sale/2024-07-20: no sales',
      '  signature-update denied from 2024-09-29 until 2024-12-01 by US/signature-update/2024-09-29: no updates; existing installations keep-working',
      '',
      'L-3 (customer C-3, billed in US, expires 2024-08-15, 1 activation)',
      '  new-sale         denied from 2024-07-20 by US/new-sale/2024-07-20: no sales',
      '',
      'L-4 (customer C-4, billed in US, expires 2025-06-01, 0 activations)',
      '  new-sale         denied from 2024-07-20 by US/new-sale/2024-07-20: no sales',
      '',
    ].join('\n'),
  );
});

test('an amendment lists only what the policy in force allowed', () => {
  const amended = validatePolicy({
    version: 2,
    publishedAt: '2024-10-01',
    jurisdictions: [
      {
        country: 'US',
        rules: [
          ...us2024.jurisdictions[0]!.rules.map((r) => ({
            action: r.action,
            effective: r.effective,
            effect: r.effect,
            reason: r.reason,
          })),
          { action: 'cloud-lookup', effective: '2024-11-01T05:00:00Z', effect: 'deny', reason: 'no cloud' },
        ],
      },
    ],
  });
  const result = dryRun(us2024, amended, { licences, window });
  assert.deepEqual(
    result.affected.map((a) => [a.licence.id, a.changes.map((c) => `${c.action}@${c.from}`)]),
    [['L-1', ['cloud-lookup@2024-11-01T05:00:00.000Z']]],
  );
  // Lifting rules denies nothing new.
  assert.deepEqual(dryRun(us2024, none, { licences, window }).affected, []);
});

test('a period ends at expiry, and at the end of an exemption', () => {
  const proposed = validatePolicy({
    version: 2,
    publishedAt: '2024-06-21',
    jurisdictions: [
      {
        country: 'US',
        rules: [{ action: 'signature-update', effective: '2024-07-01', effect: 'deny', reason: 'r' }],
      },
    ],
  });
  const current = validatePolicy({
    version: 1,
    publishedAt: '2024-06-01',
    jurisdictions: [
      {
        country: 'US',
        rules: [
          {
            action: 'signature-update',
            effective: '2024-10-01',
            effect: 'deny',
            reason: 'r',
            exempt: { customers: ['C-1'] },
          },
        ],
      },
    ],
  });
  const result = dryRun(current, proposed, { licences, window });
  const periods = result.affected.map((a) => [a.licence.id, a.changes.map((c) => `${c.from}..${c.until ?? ''}`)]);
  assert.deepEqual(periods, [
    ['L-1', ['2024-07-01..']], // exempt under the current policy, not under the proposed one
    ['L-3', ['2024-07-01..2024-08-15']], // expires
  ]);
});

test('listed instants, in any order', () => {
  const at = [new Date('2024-10-01'), new Date('2024-07-01'), new Date('2024-08-01')];
  const result = dryRun(none, us2024, { licences: licences.slice(2, 3), window: at });
  assert.deepEqual(result.window, { instants: ['2024-07-01', '2024-08-01', '2024-10-01'] });
  assert.deepEqual(
    result.affected[0]?.changes.map((c) => `${c.action}@${c.from}`),
    [
      'new-sale@2024-08-01',
      'renewal@2024-10-01',
      'activation@2024-10-01',
      'resale@2024-10-01',
      'transfer@2024-10-01',
      'signature-update@2024-10-01',
    ],
  );
});

test('bad licence records and windows are E_INPUT errors naming the place', () => {
  const cases: [LicenceRecord[], string][] = [
    [[{ ...licences[0]!, billingCountry: 'U.S.' }], 'licences: [0].billingCountry: "U.S." is not an ISO 3166-1'],
    [[{ ...licences[0]!, expires: 'soon' }], 'licences: [0].expires: "soon" is not a date'],
    [[licences[0]!, { ...licences[1]!, id: 'L-4' }], 'licences: [1].id: "L-4" is already the id of [0]'],
    [[{ ...licences[0]!, activations: -1 }], 'licences: [0].activations: -1 is not an integer of at least 0'],
  ];
  for (const [records, message] of cases) {
    assert.throws(
      () => dryRun(none, us2024, { licences: records, window }),
      (e) => isLicensingError(e, 'E_INPUT') && e.message.startsWith(message),
    );
  }
  assert.throws(
    () => dryRun(none, us2024, { licences, window: { from: window.to, to: window.from } }),
    /^LicensingError: window: to: 2024-06-01 is not after from 2025-01-01$/,
  );
});
