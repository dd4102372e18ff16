// The regional availability policy: which actions are denied in which country, from when and
// until when, with what notice ahead of time. This file holds the data model and its validation
// (from JSON text or an already parsed value); deciding on a request is decide.ts's job, and
// signing and distributing a policy belong to the updates side.
import { Checker, describe, join } from './check.js';
import { COUNTRY_CODES, isCountryCode } from './countries.js';
import { LicensingError } from './errors.js';
import { POLICY_LIMITS } from './limits.js';

/** Every action a policy can deny, in the order reports list them. */
export const ACTIONS = [
  'new-sale',
  'renewal',
  'activation',
  'resale',
  'transfer',
  'signature-update',
  'cloud-lookup',
] as const;

/** Something a customer or an installation asks to do. */
export type Action = (typeof ACTIONS)[number];

/**
 * What installations already in place do while a rule denies an action: `keep-working` (the
 * default) keeps scanning with what they have, e.g. their last signature database; `stop` means
 * the law requires the product to stop running there.
 */
export type ExistingInstallations = 'keep-working' | 'stop';

/** A notice shown to affected customers `leadDays` days before a rule takes effect. */
export interface RuleNotice {
  readonly leadDays: number;
  readonly text: string;
}

/** One dated rule of a jurisdiction, validated, with its instants resolved. */
export interface PolicyRule {
  /** The id given in the policy, or `<country>/<action>/<effective>`; unique in the policy. */
  readonly id: string;
  /** Where the rule is in the policy document, e.g. `jurisdictions[0].rules[2]`. */
  readonly path: string;
  /** The country code of the jurisdiction the rule belongs to. */
  readonly jurisdiction: string;
  readonly action: Action;
  /** The only effect: actions that no rule denies are allowed. */
  readonly effect: 'deny';
  /** The first instant the rule applies, as written in the policy. */
  readonly effective: string;
  /** `effective` in milliseconds since the epoch. */
  readonly effectiveMs: number;
  /** The first instant the rule no longer applies (the ban is lifted), as written. */
  readonly until?: string;
  /** `until` in milliseconds since the epoch. */
  readonly untilMs?: number;
  /** Why the action is denied, for the customer and for the audit trail. */
  readonly reason: string;
  readonly notice?: RuleNotice;
  /** Customers (by id) the rule does not apply to, e.g. holders of a specific licence. */
  readonly exempt?: { readonly customers: readonly string[] };
  readonly existingInstallations: ExistingInstallations;
}

/** The rules of one country. */
export interface Jurisdiction {
  /** ISO 3166-1 alpha-2 code, upper case. */
  readonly country: string;
  readonly rules: readonly PolicyRule[];
}

/** A validated, frozen policy. */
export interface Policy {
  /** Increases with each published policy. */
  readonly version: number;
  readonly publishedAt: string;
  readonly publishedAtMs: number;
  readonly jurisdictions: readonly Jurisdiction[];
}

const POLICY_FIELDS = {
  allowed: ['version', 'publishedAt', 'jurisdictions'],
  required: ['version', 'publishedAt', 'jurisdictions'],
};
const JURISDICTION_FIELDS = { allowed: ['country', 'rules'], required: ['country', 'rules'] };
const RULE_FIELDS = {
  allowed: ['id', 'action', 'effective', 'until', 'effect', 'reason', 'notice', 'exempt', 'existingInstallations'],
  required: ['action', 'effective', 'effect', 'reason'],
};
const NOTICE_FIELDS = { allowed: ['leadDays', 'text'], required: ['leadDays', 'text'] };
const EXEMPT_FIELDS = { allowed: ['customers'], required: ['customers'] };

/**
 * Parses and validates policy JSON text. Throws an E_POLICY LicensingError whose message starts
 * with `source` and the place of the first problem found.
 */
export function parsePolicy(text: string, source = 'policy.json'): Policy {
  const max = POLICY_LIMITS.maxTextLength;
  if (text.length > max) {
    throw new LicensingError('E_POLICY', `${source}: is ${text.length} characters long, over the limit of ${max}`, {
      source,
      path: '',
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new LicensingError('E_POLICY', `${source}: is not valid JSON (${why})`, { source, path: '', cause });
  }
  return validatePolicy(value, source);
}

/** Validates an already parsed JSON value as a policy (see `parsePolicy`). */
export function validatePolicy(value: unknown, source = 'policy.json'): Policy {
  const check = new Checker(source);
  const fields = check.object(value, '', POLICY_FIELDS);
  const version = check.integer(fields.version, 'version', { min: 1, max: Number.MAX_SAFE_INTEGER });
  const publishedAtMs = check.instant(fields.publishedAt, 'publishedAt');
  const list = check.array(fields.jurisdictions, 'jurisdictions', COUNTRY_CODES.size);
  const jurisdictions = list.map((j, i) => readJurisdiction(check, j, join('jurisdictions', i)));
  checkUnique(check, jurisdictions);
  return deepFreeze({ version, publishedAt: fields.publishedAt as string, publishedAtMs, jurisdictions });
}

function readJurisdiction(check: Checker, value: unknown, path: string): Jurisdiction {
  const fields = check.object(value, path, JURISDICTION_FIELDS);
  const country = readCountry(check, fields.country, join(path, 'country'));
  const rulesPath = join(path, 'rules');
  const list = check.array(fields.rules, rulesPath, POLICY_LIMITS.maxRulesPerJurisdiction);
  const rules = list.map((r, i) => readRule(check, r, { path: join(rulesPath, i), country }));
  checkOverlaps(check, rules);
  return { country, rules };
}

function readCountry(check: Checker, value: unknown, path: string): string {
  if (typeof value !== 'string') check.fail(path, `expected a country code, got ${describe(value)}`);
  if (isCountryCode(value)) return value;
  const upper = value.toUpperCase();
  const hint = isCountryCode(upper) ? ` (write it in upper case: "${upper}")` : '';
  return check.fail(path, `${describe(value)} is not an ISO 3166-1 alpha-2 country code${hint}`);
}

function readRule(check: Checker, value: unknown, at: { path: string; country: string }): PolicyRule {
  const { path, country } = at;
  const f = check.object(value, path, RULE_FIELDS);
  const id = f.id === undefined ? undefined : check.string(f.id, join(path, 'id'));
  const action = check.oneOf(f.action, join(path, 'action'), ACTIONS);
  const effectiveMs = check.instant(f.effective, join(path, 'effective'));
  const effective = f.effective as string;
  const untilMs = f.until === undefined ? undefined : check.instant(f.until, join(path, 'until'));
  if (untilMs !== undefined && untilMs <= effectiveMs) {
    check.fail(join(path, 'until'), `${describe(f.until)} is not after effective ${describe(effective)}`);
  }
  if (f.effect !== 'deny') {
    check.fail(join(path, 'effect'), `${describe(f.effect)} is not supported: the only effect is "deny"`);
  }
  const rule: PolicyRule = {
    id: id ?? `${country}/${action}/${effective}`,
    path,
    jurisdiction: country,
    action,
    effect: 'deny',
    effective,
    effectiveMs,
    ...(untilMs === undefined ? {} : { until: f.until as string, untilMs }),
    reason: check.string(f.reason, join(path, 'reason')),
    ...optional('notice', f.notice === undefined ? undefined : readNotice(check, f.notice, join(path, 'notice'))),
    ...optional('exempt', f.exempt === undefined ? undefined : readExempt(check, f.exempt, join(path, 'exempt'))),
    existingInstallations:
      f.existingInstallations === undefined
        ? 'keep-working'
        : check.oneOf(f.existingInstallations, join(path, 'existingInstallations'), ['keep-working', 'stop'] as const),
  };
  return rule;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function readNotice(check: Checker, value: unknown, path: string): RuleNotice {
  const f = check.object(value, path, NOTICE_FIELDS);
  const leadDays = check.integer(f.leadDays, join(path, 'leadDays'), { min: 1, max: POLICY_LIMITS.maxLeadDays });
  return { leadDays, text: check.string(f.text, join(path, 'text')) };
}

function readExempt(check: Checker, value: unknown, path: string): { customers: string[] } {
  const f = check.object(value, path, EXEMPT_FIELDS);
  const listPath = join(path, 'customers');
  const list = check.array(f.customers, listPath, POLICY_LIMITS.maxExemptCustomers);
  const seen = new Map<string, number>();
  const customers = list.map((c, i) => {
    const id = check.string(c, join(listPath, i));
    const first = seen.get(id);
    if (first !== undefined) check.fail(join(listPath, i), `${describe(id)} is already ${join(listPath, first)}`);
    seen.set(id, i);
    return id;
  });
  return { customers };
}

/** True when the periods of two rules share at least one instant. */
export function periodsOverlap(a: PolicyRule, b: PolicyRule): boolean {
  const aEnd = a.untilMs ?? Number.POSITIVE_INFINITY;
  const bEnd = b.untilMs ?? Number.POSITIVE_INFINITY;
  return a.effectiveMs < bEnd && b.effectiveMs < aEnd;
}

/** Describes a rule's period for messages: `from 2024-09-29` or `from 2024-09-29 until 2025-01-01`. */
export function describePeriod(rule: PolicyRule): string {
  return rule.until === undefined ? `from ${rule.effective}` : `from ${rule.effective} until ${rule.until}`;
}

// Two rules on one action in one jurisdiction must not be in force at once: the decision would
// depend on their order, and a lifted ban could be silently reinstated by a forgotten duplicate.
function checkOverlaps(check: Checker, rules: readonly PolicyRule[]): void {
  rules.forEach((rule, i) => {
    for (const earlier of rules.slice(0, i)) {
      if (earlier.action !== rule.action || !periodsOverlap(earlier, rule)) continue;
      const same = earlier.effectiveMs === rule.effectiveMs && earlier.untilMs === rule.untilMs;
      const what = `${rule.action} ${describePeriod(rule)}`;
      const other = `${earlier.path} (${rule.action} ${describePeriod(earlier)})`;
      check.fail(rule.path, same ? `${what} duplicates ${other}` : `${what} overlaps ${other}`);
    }
  });
}

function checkUnique(check: Checker, jurisdictions: readonly Jurisdiction[]): void {
  const countries = new Map<string, number>();
  const ids = new Map<string, string>();
  jurisdictions.forEach((j, i) => {
    const first = countries.get(j.country);
    if (first !== undefined) {
      check.fail(join(join('jurisdictions', i), 'country'), `"${j.country}" is already jurisdictions[${first}]`);
    }
    countries.set(j.country, i);
    for (const rule of j.rules) {
      const used = ids.get(rule.id);
      if (used !== undefined) check.fail(rule.path, `id ${describe(rule.id)} is already the id of ${used}`);
      ids.set(rule.id, rule.path);
    }
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The rules of `country` in `policy`; empty when the policy does not name the country. */
export function rulesOf(policy: Policy, country: string): readonly PolicyRule[] {
  return policy.jurisdictions.find((j) => j.country === country)?.rules ?? [];
}
