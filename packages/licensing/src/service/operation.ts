// The steps every operation of the service shares: checking its context (the instant, the actor,
// the IP country), asking the regional policy (or allowing everything when there is none), and
// recording the outcome in the audit trail, inside the operation's own transaction. The
// operations themselves are in service.ts.
import { type Decision, decide } from '../decide.js';
import type { Action, Policy } from '../policy.js';
import type { RequestContext } from './answers.js';
import { LicenceError } from './errors.js';
import type { AuditAction, StoreTransaction } from './store.js';
import { checkCountry, checkDate, checkName } from './validate.js';

/** A request context once checked, with the actor filled in. */
export interface Context {
  readonly now: Date;
  readonly at: string;
  readonly actor: string;
  readonly ipCountry?: string;
}

/** Who a decision is about: a customer and the billing country that is their jurisdiction. */
export interface Owner {
  readonly customer: string;
  readonly billingCountry: string;
}

/** Checks a request context: a valid `now`, a printable actor, an ISO country code for the IP. */
export function checkContext(ctx: RequestContext): Context {
  const now = checkDate(ctx?.now, 'now');
  return {
    now,
    at: now.toISOString(),
    actor: ctx.actor === undefined ? 'system' : checkName(ctx.actor, 'actor'),
    ...(ctx.ipCountry === undefined ? {} : { ipCountry: checkCountry(ctx.ipCountry, 'ipCountry') }),
  };
}

/** Asks `policy` whether `owner` may do `action` now; without a policy everything is allowed. */
export function judge(policy: Policy | undefined, action: Action, owner: Owner, ctx: Context): Decision {
  const customer = {
    id: owner.customer,
    billingCountry: owner.billingCountry,
    ...(ctx.ipCountry === undefined ? {} : { ipCountry: ctx.ipCountry }),
  };
  if (policy !== undefined) return decide(policy, { action, at: ctx.now, customer });
  const ip = ctx.ipCountry;
  return {
    allowed: true,
    action,
    jurisdiction: owner.billingCountry,
    at: ctx.at,
    existingInstallations: 'keep-working',
    notices: [],
    signals: { ipCountryDiffers: ip !== undefined && ip !== owner.billingCountry, ...(ip ? { ipCountry: ip } : {}) },
  };
}

/** What the audit trail keeps of a decision, including the IP country signal. */
export function policyRecord(d: Decision): Record<string, unknown> {
  return {
    action: d.action,
    jurisdiction: d.jurisdiction,
    allowed: d.allowed,
    ...(d.rule === undefined ? {} : { ruleId: d.rule.id, reason: d.reason }),
    ...(d.exemptFrom === undefined ? {} : { exemptFrom: d.exemptFrom.id }),
    ...(d.signals.ipCountry === undefined ? {} : { ipCountry: d.signals.ipCountry }),
    ipCountryDiffers: d.signals.ipCountryDiffers,
  };
}

/** The E_DENIED_BY_POLICY error for a denying decision; `what` says what could not be done. */
export function denied(d: Decision, what: string, licenceId?: string): LicenceError {
  const rule = d.rule;
  if (rule === undefined) throw new LicenceError('E_INTERNAL', `denied() called on an allowed ${d.action}`);
  const message = `Cannot ${what}: ${d.action} is denied in ${d.jurisdiction} from ${rule.effective} (rule ${rule.id}): ${rule.reason}`;
  return new LicenceError('E_DENIED_BY_POLICY', message, {
    ...(licenceId === undefined ? {} : { licenceId }),
    policy: {
      action: d.action,
      jurisdiction: d.jurisdiction,
      ruleId: rule.id,
      reason: rule.reason,
      existingInstallations: d.existingInstallations,
      notices: d.notices,
    },
  });
}

/**
 * The audit record of one operation, built up as it goes (what was asked, the policy decisions)
 * and written once, as `ok` or `refused`, in the operation's transaction.
 */
export class Recorder {
  private readonly detail: Record<string, unknown>;
  private readonly decisions: Record<string, unknown>[] = [];

  constructor(
    private readonly tx: StoreTransaction,
    private readonly ctx: Context,
    private readonly what: { readonly action: AuditAction; licenceId?: string; readonly detail: object },
  ) {
    this.detail = { ...what.detail };
  }

  /** Sets the licence the record is about, once it is known (a new licence's id). */
  set licenceId(id: string) {
    this.what.licenceId = id;
  }

  /** Adds a policy decision to the record, and returns it. */
  decision(d: Decision): Decision {
    this.decisions.push(policyRecord(d));
    return d;
  }

  private async write(outcome: 'ok' | 'refused', extra: object): Promise<void> {
    const policy = this.decisions.length === 0 ? {} : { policy: this.decisions };
    await this.tx.appendAudit({
      at: this.ctx.at,
      actor: this.ctx.actor,
      action: this.what.action,
      ...(this.what.licenceId === undefined ? {} : { licenceId: this.what.licenceId }),
      detail: { ...this.detail, ...extra, ...policy },
      outcome,
    });
  }

  /** Records success, with `extra` facts (what changed). */
  ok(extra: object = {}): Promise<void> {
    return this.write('ok', extra);
  }

  /** Records a refusal that is an answer, not an error (e.g. updates denied by policy). */
  async deny(extra: object = {}): Promise<void> {
    await this.write('refused', extra);
  }

  /** Records `error` as a refusal and returns it: the service throws it once the record is committed. */
  async refuse(error: LicenceError): Promise<LicenceError> {
    await this.write('refused', { code: error.code, message: error.message });
    return error;
  }
}
