// Decides whether one action is allowed for one customer at one instant under a policy, and
// which notices of upcoming rules the customer should see. Pure: the instant is handed in, and
// the jurisdiction is the customer's billing country (an IP-derived country is only recorded as
// a signal, never decided on). Enforcing the decision is the caller's job.
import { Checker, describe } from './check.js';
import { isCountryCode } from './countries.js';
import { DAY_MS } from './instant.js';
import { ACTIONS, type Action, type ExistingInstallations, type Policy, type PolicyRule, rulesOf } from './policy.js';

/** Who asks: the billing country decides the jurisdiction. */
export interface Customer {
  /** The customer's id, matched against rules' `exempt.customers`. */
  readonly id?: string;
  /** ISO 3166-1 alpha-2 code of the billing address, upper case. */
  readonly billingCountry: string;
  /** The country the request's IP address maps to, if known: a signal only. */
  readonly ipCountry?: string;
}

/** One question to the policy. */
export interface DecideRequest {
  readonly action: Action;
  readonly at: Date;
  readonly customer: Customer;
}

/** A rule that will take effect soon, to be shown to the customer ahead of time. */
export interface Notice {
  readonly action: Action;
  /** When the rule takes effect, as written in the policy. */
  readonly effective: string;
  readonly effectiveMs: number;
  /** The notice text from the policy. */
  readonly text: string;
  /** Whole days until the rule takes effect, rounded up (1 when less than a day is left). */
  readonly daysLeft: number;
  readonly ruleId: string;
}

/** Facts about the request that do not change the decision but may deserve a look. */
export interface Signals {
  /** True when an IP country was given and differs from the billing country. */
  readonly ipCountryDiffers: boolean;
  readonly ipCountry?: string;
}

/** The answer to a request. */
export interface Decision {
  readonly allowed: boolean;
  readonly action: Action;
  /** The country whose rules were applied: the billing country. */
  readonly jurisdiction: string;
  /** The instant decided on, as an ISO string. */
  readonly at: string;
  /** The rule that denies the action, when it is denied. */
  readonly rule?: PolicyRule;
  /** The denying rule's reason, when the action is denied. */
  readonly reason?: string;
  /** A rule in force that would deny the action, had the customer not been exempt from it. */
  readonly exemptFrom?: PolicyRule;
  /**
   * What installations already in place do: `keep-working` unless the denying rule says `stop`.
   * A client denied signature updates keeps scanning with its last database.
   */
  readonly existingInstallations: ExistingInstallations;
  /** Upcoming rules (for any action) within their notice lead time, soonest first. */
  readonly notices: readonly Notice[];
  readonly signals: Signals;
}

/** True when `rule` applies at `atMs`: from its effective instant on, and before its `until`. */
export function inForce(rule: PolicyRule, atMs: number): boolean {
  return rule.effectiveMs <= atMs && (rule.untilMs === undefined || atMs < rule.untilMs);
}

/** True when `customerId` is listed in the rule's exemptions. */
export function isExempt(rule: PolicyRule, customerId: string | undefined): boolean {
  return customerId !== undefined && (rule.exempt?.customers.includes(customerId) ?? false);
}

/**
 * The rule denying `action` in `country` at `atMs`, if any. Validation guarantees at most one:
 * rules on one action in one jurisdiction never overlap.
 */
export function ruleInForce(
  policy: Policy,
  where: { readonly country: string; readonly action: Action; readonly atMs: number },
): PolicyRule | undefined {
  return rulesOf(policy, where.country).find((r) => r.action === where.action && inForce(r, where.atMs));
}

/** The notices of `rules` due at `atMs`: rules starting after it, within their lead days. */
export function noticesDue(rules: readonly PolicyRule[], atMs: number, customerId?: string): Notice[] {
  const notices: Notice[] = [];
  for (const rule of rules) {
    const notice = rule.notice;
    const ahead = rule.effectiveMs - atMs;
    if (notice === undefined || ahead <= 0 || ahead > notice.leadDays * DAY_MS) continue;
    if (isExempt(rule, customerId)) continue;
    notices.push({
      action: rule.action,
      effective: rule.effective,
      effectiveMs: rule.effectiveMs,
      text: notice.text,
      daysLeft: Math.ceil(ahead / DAY_MS),
      ruleId: rule.id,
    });
  }
  return notices.sort(
    (a, b) =>
      a.effectiveMs - b.effectiveMs ||
      ACTIONS.indexOf(a.action) - ACTIONS.indexOf(b.action) ||
      (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0),
  );
}

/**
 * Decides `request` under `policy`. Throws an E_INPUT LicensingError only for a malformed
 * request (an invalid Date, an unknown action or billing country); a denial is a decision.
 */
export function decide(policy: Policy, request: DecideRequest): Decision {
  const atMs = checkRequest(request);
  const { action, customer } = request;
  const country = customer.billingCountry;
  const rule = ruleInForce(policy, { country, action, atMs });
  const exempt = rule !== undefined && isExempt(rule, customer.id);
  const denying = exempt ? undefined : rule;
  const ip = customer.ipCountry;
  return {
    allowed: denying === undefined,
    action,
    jurisdiction: country,
    at: new Date(atMs).toISOString(),
    ...(denying === undefined ? {} : { rule: denying, reason: denying.reason }),
    ...(exempt ? { exemptFrom: rule } : {}),
    existingInstallations: denying?.existingInstallations ?? 'keep-working',
    notices: noticesDue(rulesOf(policy, country), atMs, customer.id),
    signals: {
      ipCountryDiffers: ip !== undefined && ip.toUpperCase() !== country,
      ...(ip === undefined ? {} : { ipCountry: ip }),
    },
  };
}

function checkRequest(request: DecideRequest): number {
  const check = new Checker('request', 'E_INPUT');
  const at: unknown = request.at;
  const atMs = at instanceof Date ? at.getTime() : Number.NaN;
  if (Number.isNaN(atMs))
    check.fail('at', at instanceof Date ? 'is an invalid Date' : `expected a Date, got ${describe(at)}`);
  check.oneOf(request.action, 'action', ACTIONS);
  const country: unknown = request.customer?.billingCountry;
  if (typeof country !== 'string' || !isCountryCode(country)) {
    check.fail('customer.billingCountry', `${describe(country)} is not an ISO 3166-1 alpha-2 country code`);
  }
  return atMs;
}
