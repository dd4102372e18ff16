// Tests of the policy parser: one golden per bad policy (testdata/bad/<case>.json gives exactly
// the message in <case>.out; regenerate with UPDATE_GOLDENS=1), and what a good policy becomes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { isLicensingError } from './errors.js';
import { formatInstant, parseInstant } from './instant.js';
import { parsePolicy, validatePolicy } from './policy.js';

// Tests run from dist/, the data stays in src/.
const testdata = new URL('../src/testdata/', import.meta.url);
const bad = new URL('bad/', testdata);
const update = process.env.UPDATE_GOLDENS === '1';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(isLicensingError(e, 'E_POLICY'), `not an E_POLICY LicensingError: ${String(e)}`);
    return e.message;
  }
  return assert.fail('no error was thrown');
}

test('each bad policy in testdata/bad gives its exact message', () => {
  const cases = readdirSync(bad)
    .filter((f) => f.endsWith('.json'))
    .sort();
  assert.ok(cases.length >= 25);
  for (const file of cases) {
    const text = readFileSync(new URL(file, bad), 'utf8');
    const message = messageOf(() => parsePolicy(text, file));
    const out = new URL(file.replace(/\.json$/, '.out'), bad);
    if (update) writeFileSync(out, `${message}\n`);
    assert.equal(message, readFileSync(out, 'utf8').trimEnd(), file);
  }
});

test('JSON that does not parse is an E_POLICY error naming the document', () => {
  assert.match(
    messageOf(() => parsePolicy('{"version": 1,', 'p.json')),
    /^p\.json: is not valid JSON \(.+\)$/,
  );
});

test('the error carries its source and path', () => {
  try {
    parsePolicy('{"version":1,"publishedAt":"2024-06-21","jurisdictions":[{"country":"us","rules":[]}]}', 'x.json');
    assert.fail('no error');
  } catch (e) {
    assert.ok(isLicensingError(e));
    assert.equal(e.source, 'x.json');
    assert.equal(e.path, 'jurisdictions[0].country');
  }
});

test('text over the size cap is refused before parsing', () => {
  const big = ' '.repeat(1024 * 1024 + 1);
  assert.equal(
    messageOf(() => parsePolicy(big)),
    'policy.json: is 1048577 characters long, over the limit of 1048576',
  );
});

test('the 2024 policy parses into dated, frozen rules with derived ids and defaults', () => {
  const policy = parsePolicy(readFileSync(new URL('us-2024.json', testdata), 'utf8'));
  assert.equal(policy.version, 1);
  assert.equal(policy.publishedAtMs, Date.UTC(2024, 5, 21));
  const [us] = policy.jurisdictions;
  assert.equal(us?.country, 'US');
  assert.deepEqual(
    us?.rules.map((r) => r.id),
    [
      'US/new-sale/2024-07-20',
      'US/renewal/2024-09-29',
      'US/activation/2024-09-29',
      'US/resale/2024-09-29',
      'US/transfer/2024-09-29',
      'US/signature-update/2024-09-29',
    ],
  );
  const sale = us?.rules[0];
  assert.equal(sale?.effectiveMs, Date.UTC(2024, 6, 20));
  assert.equal(sale?.existingInstallations, 'keep-working');
  assert.equal(sale?.path, 'jurisdictions[0].rules[0]');
  assert.equal(sale?.until, undefined);
  assert.ok(Object.isFrozen(policy) && Object.isFrozen(us) && Object.isFrozen(sale) && Object.isFrozen(sale?.notice));
});

test('rules may end, and one may follow another on the same action', () => {
  const policy = validatePolicy({
    version: 3,
    publishedAt: '2024-06-21T12:30:00+02:00',
    jurisdictions: [
      {
        country: 'RU',
        rules: [
          {
            id: 'first',
            action: 'cloud-lookup',
            effective: '2024-01-01',
            until: '2024-06-01',
            effect: 'deny',
            reason: 'a',
          },
          {
            action: 'cloud-lookup',
            effective: '2024-06-01',
            effect: 'deny',
            reason: 'b',
            exempt: { customers: ['C'] },
          },
        ],
      },
    ],
  });
  assert.equal(policy.publishedAtMs, Date.UTC(2024, 5, 21, 10, 30));
  const rules = policy.jurisdictions[0]?.rules ?? [];
  assert.equal(rules[0]?.id, 'first');
  assert.equal(rules[0]?.untilMs, Date.UTC(2024, 5, 1));
  assert.deepEqual(rules[1]?.exempt, { customers: ['C'] });
});

test('instants: dates are UTC midnights, instants need a zone, impossible days are refused', () => {
  assert.equal(parseInstant('2024-02-29'), Date.UTC(2024, 1, 29));
  assert.equal(parseInstant('2023-02-29'), undefined);
  assert.equal(parseInstant('2024-09-29T04:00Z'), Date.UTC(2024, 8, 29, 4));
  assert.equal(parseInstant('2024-09-29T00:00:00.5-04:00'), Date.UTC(2024, 8, 29, 4, 0, 0, 500));
  assert.equal(parseInstant('2024-09-29T24:00:00Z'), undefined);
  assert.equal(parseInstant('2024-09-29T00:00:00'), undefined);
  assert.equal(parseInstant('2024-9-29'), undefined);
  assert.equal(formatInstant(Date.UTC(2024, 8, 29)), '2024-09-29');
  assert.equal(formatInstant(Date.UTC(2024, 8, 29, 4)), '2024-09-29T04:00:00.000Z');
});
