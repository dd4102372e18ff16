// Property tests (fast-check): for random valid policies and instants, decide never throws, a
// denial names a rule in force for that jurisdiction and action, an allowance means no rule
// applies to the customer, and notices only mention rules starting after the instant within
// their lead time. The parser, fed random JSON, throws nothing but E_POLICY errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decide, inForce, isExempt } from './decide.js';
import { dryRun } from './dryrun.js';
import { isLicensingError } from './errors.js';
import { DAY_MS } from './instant.js';
import { ACTIONS, parsePolicy, rulesOf, validatePolicy } from './policy.js';

const HOUR = 3_600_000;
const BASE = Date.UTC(2024, 0, 1);
const SPAN_HOURS = 3 * 365 * 24;
const COUNTRIES = ['US', 'DE', 'RU', 'CN'] as const;
const CUSTOMERS = ['C-1', 'C-2', 'C-3'] as const;

// An instant as a policy may write it: a date when it falls on a UTC midnight (if chosen), else an ISO instant.
function written(hours: number, asDate: boolean): string {
  const iso = new Date(BASE + hours * HOUR).toISOString();
  return asDate && hours % 24 === 0 ? iso.slice(0, 10) : iso;
}

// The rules of one action: sorted distinct boundaries paired into non-overlapping periods, the
// last one open-ended when the count is odd.
const actionRules = fc
  .record({
    action: fc.constantFrom(...ACTIONS),
    bounds: fc.uniqueArray(
      fc.integer({ min: 0, max: SPAN_HOURS }).map((h) => h - (h % 12)),
      { maxLength: 5 },
    ),
    asDate: fc.boolean(),
    leadDays: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
    exempt: fc.subarray([...CUSTOMERS]),
  })
  .map(({ action, bounds, asDate, leadDays, exempt }) => {
    const sorted = [...bounds].sort((a, b) => a - b);
    const rules: Record<string, unknown>[] = [];
    for (let i = 0; i < sorted.length; i += 2) {
      const until = sorted[i + 1];
      rules.push({
        action,
        effective: written(sorted[i]!, asDate),
        ...(until === undefined ? {} : { until: written(until, asDate) }),
        effect: 'deny',
        reason: `${action} ${i}`,
        ...(leadDays === undefined ? {} : { notice: { leadDays, text: 'soon' } }),
        ...(exempt.length === 0 ? {} : { exempt: { customers: exempt } }),
      });
    }
    return rules;
  });

const policyJson = fc
  .uniqueArray(
    fc.record({
      country: fc.constantFrom(...COUNTRIES),
      perAction: fc.uniqueArray(actionRules, { maxLength: 4, selector: (r) => r[0]?.action ?? '' }),
    }),
    { maxLength: 3, selector: (j) => j.country },
  )
  .map((js) => ({
    version: 1,
    publishedAt: '2024-01-01',
    jurisdictions: js.map((j) => ({ country: j.country, rules: j.perAction.flat() })),
  }));

const request = fc.record({
  action: fc.constantFrom(...ACTIONS),
  atMs: fc.integer({ min: -30 * 24, max: SPAN_HOURS + 30 * 24 }).map((h) => BASE + h * HOUR),
  country: fc.constantFrom(...COUNTRIES, 'FR'),
  id: fc.option(fc.constantFrom(...CUSTOMERS), { nil: undefined }),
  ip: fc.option(fc.constantFrom(...COUNTRIES), { nil: undefined }),
});

test('decide: never throws, denials name a rule in force, allowances have none, notices are due', () => {
  const seen = { denied: 0, allowed: 0, notices: 0 };
  fc.assert(
    fc.property(policyJson, fc.array(request, { minLength: 1, maxLength: 10 }), (json, requests) => {
      const policy = parsePolicy(JSON.stringify(json));
      for (const r of requests) {
        const customer = {
          billingCountry: r.country,
          ...(r.id === undefined ? {} : { id: r.id }),
          ...(r.ip === undefined ? {} : { ipCountry: r.ip }),
        };
        const d = decide(policy, { action: r.action, at: new Date(r.atMs), customer });
        const applicable = rulesOf(policy, r.country).filter(
          (rule) => rule.action === r.action && inForce(rule, r.atMs) && !isExempt(rule, r.id),
        );
        assert.equal(d.allowed, applicable.length === 0);
        seen[d.allowed ? 'allowed' : 'denied'] += 1;
        seen.notices += d.notices.length;
        if (!d.allowed) {
          assert.equal(d.rule?.jurisdiction, r.country);
          assert.equal(d.rule?.action, r.action);
          assert.ok(d.rule !== undefined && inForce(d.rule, r.atMs));
          assert.equal(d.reason, d.rule?.reason);
        }
        for (const n of d.notices) {
          const rule = rulesOf(policy, r.country).find((x) => x.id === n.ruleId);
          assert.ok(rule?.notice !== undefined);
          assert.ok(rule.effectiveMs > r.atMs && rule.effectiveMs - r.atMs <= rule.notice.leadDays * DAY_MS);
          assert.ok(n.daysLeft >= 1 && n.daysLeft <= rule.notice.leadDays);
        }
        assert.equal(d.signals.ipCountryDiffers, r.ip !== undefined && r.ip !== r.country);
      }
    }),
    { numRuns: 300 },
  );
  // The generators must reach every case, or the property says little.
  assert.ok(seen.denied > 0 && seen.allowed > 0 && seen.notices > 0, JSON.stringify(seen));
});

test('dryRun: a policy compared with itself affects no licence', () => {
  const licence = fc.record({
    id: fc.string({ minLength: 1, maxLength: 4 }).filter((s) => s.trim() !== ''),
    customer: fc.constantFrom(...CUSTOMERS),
    billingCountry: fc.constantFrom(...COUNTRIES),
    expires: fc.integer({ min: 0, max: SPAN_HOURS }).map((h) => written(h, false)),
    activations: fc.nat({ max: 3 }),
  });
  fc.assert(
    fc.property(policyJson, fc.uniqueArray(licence, { maxLength: 5, selector: (l) => l.id }), (json, licences) => {
      const policy = validatePolicy(json);
      const window = { from: new Date(BASE), to: new Date(BASE + SPAN_HOURS * HOUR) };
      assert.deepEqual(dryRun(policy, policy, { licences, window }).affected, []);
    }),
    { numRuns: 100 },
  );
});

test('parsePolicy: random JSON and damaged policies throw nothing but E_POLICY errors', () => {
  const damaged = fc.tuple(policyJson, fc.nat(), fc.string({ maxLength: 3 })).map(([json, cut, junk]) => {
    const text = JSON.stringify(json);
    const at = cut % (text.length + 1);
    return text.slice(0, at) + junk + text.slice(at);
  });
  const inputs = fc.oneof(
    fc.json(),
    damaged,
    policyJson.map((j) => JSON.stringify(j)),
  );
  fc.assert(
    fc.property(inputs, (text) => {
      try {
        parsePolicy(text);
      } catch (e) {
        assert.ok(isLicensingError(e, 'E_POLICY'), String(e));
        assert.match(e.message, /^policy\.json: /);
      }
    }),
    { numRuns: 500 },
  );
});
