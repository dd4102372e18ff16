// The requests the licensing service takes and the answers it gives, as plain data: the same
// shapes go out as JSON from the HTTP API. Every answer carries the policy notices due for the
// licence's customer, so that a client can show them ahead of a rule taking effect.
import type { Notice } from '../decide.js';
import type { ExistingInstallations } from '../policy.js';
import type { Licence } from './licence-file.js';
import type { Activation, StoredLicence } from './store.js';

/** Who asks and when: every operation takes one. */
export interface RequestContext {
  /** The instant of the request: expiry and the regional policy are checked at it. */
  readonly now: Date;
  /** Who asks, for the audit trail: `admin`, `machine:<id>`… (default `system`). */
  readonly actor?: string;
  /** The country of the request's IP address: recorded in the audit as a signal, never decided on. */
  readonly ipCountry?: string;
}

/** A new sale: a licence on a product's plan, with the plan's seats and days unless given. */
export interface IssueRequest {
  readonly product: string;
  readonly plan: string;
  readonly customer: string;
  /** ISO 3166-1 alpha-2: the jurisdiction of the regional policy. */
  readonly billingCountry: string;
  readonly seats?: number;
  readonly days?: number;
}

/** A licence changing hands: the new customer and their billing country. */
export interface TransferRequest {
  readonly toCustomer: string;
  readonly billingCountry: string;
}

/** A licence with its freshly signed offline licence file. */
export interface SignedLicence {
  readonly licence: Licence;
  /** The text of the licence file, to hand to the customer as is. */
  readonly file: string;
  readonly notices: readonly Notice[];
}

/** A licence as the service sees it now. */
export interface LicenceView {
  readonly licence: StoredLicence;
  readonly activations: readonly Activation[];
  readonly seatsUsed: number;
  readonly expired: boolean;
  readonly notices: readonly Notice[];
}

/** The answer to an activation. */
export interface ActivationResult {
  readonly licenceId: string;
  readonly machineId: string;
  /** When the machine took its seat (the first time, when it was already active). */
  readonly activatedAt: string;
  /** True when the machine was already active: it took no second seat. */
  readonly alreadyActive: boolean;
  readonly seats: number;
  readonly seatsUsed: number;
  readonly expiresAt: string;
  readonly notices: readonly Notice[];
}

/** The answer to a deactivation. */
export interface DeactivationResult {
  readonly licenceId: string;
  readonly machineId: string;
  /** False when the machine was not active: nothing changed. */
  readonly wasActive: boolean;
  readonly seatsUsed: number;
  readonly notices: readonly Notice[];
}

/** The answer to a renewal: the licence with its new expiry and a new licence file. */
export interface RenewalResult extends SignedLicence {
  readonly previousExpiresAt: string;
}

/** The answer to a transfer: the licence under its new customer and a new licence file. */
export interface TransferResult extends SignedLicence {
  readonly from: { readonly customer: string; readonly billingCountry: string };
  /** The machines that were activated, now deactivated: the new customer activates their own. */
  readonly clearedActivations: readonly string[];
}

/** Whether one installation may receive signature updates now. */
export interface UpdatesAnswer {
  readonly licenceId: string;
  readonly machineId: string;
  readonly allowed: boolean;
  /**
   * What the installation does when updates are denied: `keep-working` means it keeps scanning
   * with its last signature database; `stop` means the law requires it to stop.
   */
  readonly existingInstallations: ExistingInstallations;
  /** The denying rule and its reason, when denied. */
  readonly ruleId?: string;
  readonly reason?: string;
  readonly expiresAt: string;
  readonly notices: readonly Notice[];
}
