// Dry run of a proposed policy: which licences it would affect, compared with the policy in
// force, over a range of time or at listed instants. For each licence and action it reports the
// periods where the proposed policy denies what the current one allows. Pure: the licences are
// handed in (storage comes later), and the report is plain text for a reviewer.
import { Checker, describe, join } from './check.js';
import { isCountryCode } from './countries.js';
import { isExempt, ruleInForce } from './decide.js';
import { formatInstant } from './instant.js';
import { ACTIONS, type Action, type ExistingInstallations, type Policy, type PolicyRule } from './policy.js';

/** The least a licence needs for a dry run; the licence store will hold more. */
export interface LicenceRecord {
  readonly id: string;
  /** The customer's id, matched against rules' exemptions. */
  readonly customer: string;
  /** ISO 3166-1 alpha-2 code, upper case: the jurisdiction. */
  readonly billingCountry: string;
  /** When the licence ends: `YYYY-MM-DD` or an ISO instant. */
  readonly expires: string;
  /** Installations currently activated under the licence. */
  readonly activations: number;
}

/** When to compare: every instant of `[from, to)`, or only the listed instants. */
export type DryRunWindow = { readonly from: Date; readonly to: Date } | readonly Date[];

/** One period where the proposed policy denies an action the current policy allows. */
export interface DeniedChange {
  readonly action: Action;
  readonly from: string;
  readonly fromMs: number;
  /** Where the period ends: absent when it runs to the end of the window. */
  readonly until?: string;
  readonly untilMs?: number;
  /** The proposed rule that denies. */
  readonly ruleId: string;
  readonly reason: string;
  readonly existingInstallations: ExistingInstallations;
}

/** A licence the proposed policy would affect, with its changes sorted by start then action. */
export interface AffectedLicence {
  readonly licence: LicenceRecord;
  readonly changes: readonly DeniedChange[];
}

/** The outcome of `dryRun`. */
export interface DryRunResult {
  readonly currentVersion: number;
  readonly proposedVersion: number;
  readonly window: { readonly from: string; readonly to: string } | { readonly instants: readonly string[] };
  /** How many licences were examined. */
  readonly examined: number;
  /** Affected licences, sorted by id. */
  readonly affected: readonly AffectedLicence[];
}

/**
 * When an action concerns a licence: what needs a live licence stops mattering at expiry, and
 * updates and cloud lookups only matter to a licence with installations. Renewal and new sales
 * concern the customer whatever the state of the licence.
 */
export const ACTION_SCOPE: Readonly<Record<Action, 'always' | 'unexpired' | 'installed'>> = Object.freeze({
  'new-sale': 'always',
  renewal: 'always',
  activation: 'unexpired',
  resale: 'unexpired',
  transfer: 'unexpired',
  'signature-update': 'installed',
  'cloud-lookup': 'installed',
});

interface Licence {
  readonly record: LicenceRecord;
  readonly expiresMs: number;
}

/**
 * Compares `proposed` with `current` for each licence over `options.window`. With a range, the
 * periods are exact (policies only change at rule boundaries); with listed instants, a period
 * starts at the first listed instant it covers and ends at the first one it no longer covers.
 */
export function dryRun(
  current: Policy,
  proposed: Policy,
  options: { readonly licences: readonly LicenceRecord[]; readonly window: DryRunWindow },
): DryRunResult {
  const licences = checkLicences(options.licences);
  const { instants, window, endMs } = resolveWindow(options.window, [current, proposed]);
  const affected: AffectedLicence[] = [];
  for (const licence of licences) {
    const expiry = licence.expiresMs;
    const own = endMs !== undefined && expiry > (instants[0] ?? expiry) && expiry < endMs ? [expiry] : [];
    const times = own.length === 0 ? instants : [...instants, ...own].sort((a, b) => a - b);
    const changes = ACTIONS.flatMap((action) => changesFor(current, proposed, { licence, action, times }));
    if (changes.length === 0) continue;
    changes.sort((a, b) => a.fromMs - b.fromMs || ACTIONS.indexOf(a.action) - ACTIONS.indexOf(b.action));
    affected.push({ licence: licence.record, changes });
  }
  affected.sort((a, b) => (a.licence.id < b.licence.id ? -1 : a.licence.id > b.licence.id ? 1 : 0));
  return {
    currentVersion: current.version,
    proposedVersion: proposed.version,
    window,
    examined: licences.length,
    affected,
  };
}

function resolveWindow(
  window: DryRunWindow,
  policies: readonly Policy[],
): { instants: number[]; window: DryRunResult['window']; endMs?: number } {
  const check = new Checker('window', 'E_INPUT');
  if (Array.isArray(window)) {
    const list = window as readonly Date[];
    const ms = list.map((d, i) => validTime(check, d, join('', i)));
    const instants = [...new Set(ms)].sort((a, b) => a - b);
    return { instants, window: { instants: instants.map(formatInstant) } };
  }
  const range = window as { readonly from: Date; readonly to: Date };
  const fromMs = validTime(check, range.from, 'from');
  const toMs = validTime(check, range.to, 'to');
  if (toMs <= fromMs) check.fail('to', `${formatInstant(toMs)} is not after from ${formatInstant(fromMs)}`);
  const bounds = new Set<number>([fromMs]);
  for (const rule of policies.flatMap((p) => p.jurisdictions.flatMap((j) => j.rules))) {
    for (const b of [rule.effectiveMs, rule.untilMs]) if (b !== undefined && b > fromMs && b < toMs) bounds.add(b);
  }
  const instants = [...bounds].sort((a, b) => a - b);
  return { instants, window: { from: formatInstant(fromMs), to: formatInstant(toMs) }, endMs: toMs };
}

function validTime(check: Checker, value: unknown, path: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (Number.isNaN(ms)) check.fail(path, `expected a valid Date, got ${describe(value)}`);
  return ms;
}

function checkLicences(records: readonly LicenceRecord[]): Licence[] {
  const check = new Checker('licences', 'E_INPUT');
  const seen = new Map<string, number>();
  return records.map((record, i) => {
    const at = join('', i);
    const id = check.string(record.id, join(at, 'id'));
    const first = seen.get(id);
    if (first !== undefined) check.fail(join(at, 'id'), `${describe(id)} is already the id of [${first}]`);
    seen.set(id, i);
    check.string(record.customer, join(at, 'customer'));
    if (!isCountryCode(record.billingCountry)) {
      const what = describe(record.billingCountry);
      check.fail(join(at, 'billingCountry'), `${what} is not an ISO 3166-1 alpha-2 country code`);
    }
    const expiresMs = check.instant(record.expires, join(at, 'expires'));
    check.integer(record.activations, join(at, 'activations'), { min: 0, max: Number.MAX_SAFE_INTEGER });
    return { record, expiresMs };
  });
}

function concerns(action: Action, licence: Licence, atMs: number): boolean {
  const scope = ACTION_SCOPE[action];
  if (scope === 'always') return true;
  if (atMs >= licence.expiresMs) return false;
  return scope === 'unexpired' || licence.record.activations > 0;
}

function denies(policy: Policy, licence: Licence, where: { action: Action; atMs: number }): PolicyRule | undefined {
  const { record } = licence;
  const rule = ruleInForce(policy, { country: record.billingCountry, ...where });
  return rule === undefined || isExempt(rule, record.customer) ? undefined : rule;
}

function changesFor(
  current: Policy,
  proposed: Policy,
  on: { readonly licence: Licence; readonly action: Action; readonly times: readonly number[] },
): DeniedChange[] {
  const { licence, action } = on;
  const changes: DeniedChange[] = [];
  let open: { rule: PolicyRule; fromMs: number } | undefined;
  const close = (untilMs?: number): void => {
    if (open !== undefined) changes.push(change(action, open, untilMs));
    open = undefined;
  };
  for (const atMs of on.times) {
    const rule = concerns(action, licence, atMs) ? denies(proposed, licence, { action, atMs }) : undefined;
    const newly = rule !== undefined && denies(current, licence, { action, atMs }) === undefined ? rule : undefined;
    if (open !== undefined && open.rule !== newly) close(atMs);
    if (newly !== undefined && open === undefined) open = { rule: newly, fromMs: atMs };
  }
  close();
  return changes;
}

function change(action: Action, open: { rule: PolicyRule; fromMs: number }, untilMs?: number): DeniedChange {
  const { rule, fromMs } = open;
  return {
    action,
    from: formatInstant(fromMs),
    fromMs,
    ...(untilMs === undefined ? {} : { until: formatInstant(untilMs), untilMs }),
    ruleId: rule.id,
    reason: rule.reason,
    existingInstallations: rule.existingInstallations,
  };
}

/** Renders a dry run as plain text for a reviewer: one block per affected licence. */
export function formatDryRun(result: DryRunResult): string {
  const w = result.window;
  const over = 'instants' in w ? `at ${w.instants.length} instants` : `from ${w.from} to ${w.to}`;
  const lines = [
    `Dry run of policy version ${result.proposedVersion} against version ${result.currentVersion}, ${over}: ` +
      `${result.affected.length} of ${result.examined} licences affected.`,
  ];
  for (const { licence, changes } of result.affected) {
    const n = licence.activations;
    lines.push(
      '',
      `${licence.id} (customer ${licence.customer}, billed in ${licence.billingCountry}, ` +
        `expires ${licence.expires}, ${n} activation${n === 1 ? '' : 's'})`,
    );
    for (const c of changes) {
      const period = c.until === undefined ? `from ${c.from}` : `from ${c.from} until ${c.until}`;
      const installed = ACTION_SCOPE[c.action] === 'installed' || c.existingInstallations === 'stop';
      const keep = installed ? `; existing installations ${c.existingInstallations}` : '';
      lines.push(`  ${c.action.padEnd(16)} denied ${period} by ${c.ruleId}: ${c.reason}${keep}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
