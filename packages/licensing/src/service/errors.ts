// The licensing service's one error class: a stable code to branch on (and to map to an HTTP
// status), a message that says what was refused and why, and the structured facts behind it
// (the field, the licence, the expiry, the policy rule and its notices). A refusal the service
// has recorded in its audit trail is thrown as one of these after the record is committed.
import type { Notice } from '../decide.js';
import type { Action, ExistingInstallations } from '../policy.js';

/** Every code a LicenceError can carry. */
export type LicenceErrorCode =
  /** A request with a missing or invalid field (see `field`), or a malformed licence file. */
  | 'E_INPUT'
  /** No such product, plan or licence. */
  | 'E_NOT_FOUND'
  /** The product or plan already exists. */
  | 'E_CONFLICT'
  /** Every seat of the licence is taken by another machine. */
  | 'E_SEATS'
  /** The licence (or licence file) has expired (see `expiresAt`). */
  | 'E_EXPIRED'
  /** The machine asking is not activated on the licence. */
  | 'E_NOT_ACTIVATED'
  /** The licence's status is not `active`. */
  | 'E_REVOKED'
  /** The regional availability policy denies the action (see `policy`). */
  | 'E_DENIED_BY_POLICY'
  /** A licence file whose signature does not verify. */
  | 'E_SIGNATURE'
  /** A licence file signed by a key that is not trusted (see `keyId`). */
  | 'E_UNKNOWN_KEY'
  /** The database could not be opened, read or written. */
  | 'E_STORE'
  /** Too many operations are waiting for the store. */
  | 'E_BUSY'
  /** HTTP: no admin token was given. */
  | 'E_UNAUTHENTICATED'
  /** HTTP: the admin token given is wrong. */
  | 'E_FORBIDDEN'
  /** HTTP: the request body is over the size cap. */
  | 'E_TOO_LARGE'
  /** HTTP: the route exists but not with this method. */
  | 'E_METHOD'
  /** A bug: an error the service did not expect. */
  | 'E_INTERNAL';

/** What a regional policy denial says: the rule, its reason, and what installations do. */
export interface PolicyRefusal {
  readonly action: Action;
  /** The country whose rules applied: the billing country. */
  readonly jurisdiction: string;
  readonly ruleId: string;
  readonly reason: string;
  readonly existingInstallations: ExistingInstallations;
  /** Notices of upcoming rules due for the customer. */
  readonly notices: readonly Notice[];
}

/** Structured facts about a LicenceError; which ones are set depends on the code. */
export interface LicenceErrorDetails {
  /** E_INPUT: the field that is missing or wrong, e.g. `seats` or `licence.expiresAt`. */
  readonly field?: string;
  readonly licenceId?: string;
  /** E_EXPIRED: when the licence expired (an ISO instant). */
  readonly expiresAt?: string;
  /** E_SEATS: the licence's seat count. */
  readonly seats?: number;
  /** E_UNKNOWN_KEY, E_SIGNATURE: the key id named by the licence file. */
  readonly keyId?: string;
  /** E_DENIED_BY_POLICY: the denying rule. */
  readonly policy?: PolicyRefusal;
}

/** The error of the licensing service, with a stable code and structured details. */
export class LicenceError extends Error {
  override readonly name = 'LicenceError';
  /** What went wrong, to branch on. */
  readonly code: LicenceErrorCode;
  readonly details: LicenceErrorDetails;

  constructor(
    code: LicenceErrorCode,
    message: string,
    options: LicenceErrorDetails & { readonly cause?: unknown } = {},
  ) {
    const { cause, ...details } = options;
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }
}

/** True when `e` is a LicenceError, optionally of the given code. */
export function isLicenceError(e: unknown, code?: LicenceErrorCode): e is LicenceError {
  return e instanceof LicenceError && (code === undefined || e.code === code);
}

/** Wraps a failure of the database layer (anything not already a LicenceError) as E_STORE. */
export function storeError(what: string, e: unknown): LicenceError {
  if (e instanceof LicenceError) return e;
  const why = e instanceof Error ? e.message : String(e);
  return new LicenceError('E_STORE', `${what}: ${why}`, { cause: e });
}
