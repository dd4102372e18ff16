// Where licences live: the records (products, plans, licences, activations, audit entries) and
// the `LicenceStore` interface the service talks to. The embedded implementation is SQLite
// (sqlite-store.ts); PostgreSQL (postgres-store.ts) serves several service processes sharing one
// database. The service owns the rules (seats, expiry, policy); a store only keeps records, and
// runs each transaction isolated and all or nothing.
//
// SQLite runs transactions one at a time through an in-process queue. PostgreSQL runs them side
// by side: `transaction` is BEGIN … COMMIT, `getLicence` takes the licence's row lock (SELECT …
// FOR UPDATE) so that seat checks on one licence serialise across processes, and audit numbers
// follow commit order. Both pass one conformance suite (store-conformance.ts).
import type { Licence } from './licence-file.js';

/** A product licences are sold for. */
export interface Product {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
}

/** A plan of a product: the seats and the days a licence issued on it gets by default. */
export interface Plan {
  readonly product: string;
  readonly name: string;
  readonly seats: number;
  readonly days: number;
}

/** `active`, or `revoked` (set by hand or by a later revocation operation; then refused). */
export type LicenceStatus = 'active' | 'revoked';

/** A licence as stored, with its status. */
export interface StoredLicence extends Licence {
  readonly status: LicenceStatus;
}

/** The fields of a stored licence that can change. */
export interface LicenceChanges {
  readonly customer?: string;
  readonly billingCountry?: string;
  readonly expiresAt?: string;
  readonly status?: LicenceStatus;
}

/** One machine holding one seat of a licence. */
export interface Activation {
  readonly licenceId: string;
  readonly machineId: string;
  readonly activatedAt: string;
}

/** The operations the audit trail records. */
export type AuditAction =
  | 'create-product'
  | 'create-plan'
  | 'issue'
  | 'activate'
  | 'deactivate'
  | 'renew'
  | 'transfer'
  | 'check-updates';

/** An audit record before the store numbers it. */
export interface NewAuditEntry {
  /** When the operation was asked for (the service's `now`), as an ISO instant. */
  readonly at: string;
  /** Who asked: `admin`, `machine:<id>`, or what the caller passed. */
  readonly actor: string;
  readonly action: AuditAction;
  readonly licenceId?: string;
  /** What was asked and decided, including the policy decision and the IP country signal. */
  readonly detail: Readonly<Record<string, unknown>>;
  readonly outcome: 'ok' | 'refused';
}

/** An audit record, numbered in the order it was written. */
export interface AuditEntry extends NewAuditEntry {
  readonly seq: number;
}

/** Which audit records to list: of one licence, after a sequence number, at most `limit`. */
export interface AuditQuery {
  readonly licenceId?: string;
  readonly afterSeq?: number;
  readonly limit?: number;
}

/** The reads and writes of one transaction. */
export interface StoreTransaction {
  getProduct(id: string): Promise<Product | undefined>;
  insertProduct(product: Product): Promise<void>;
  getPlan(product: string, name: string): Promise<Plan | undefined>;
  insertPlan(plan: Plan): Promise<void>;
  getLicence(id: string): Promise<StoredLicence | undefined>;
  insertLicence(licence: StoredLicence): Promise<void>;
  updateLicence(id: string, changes: LicenceChanges): Promise<void>;
  listActivations(licenceId: string): Promise<Activation[]>;
  addActivation(activation: Activation): Promise<void>;
  /** Removes one activation; false when there was none. */
  removeActivation(licenceId: string, machineId: string): Promise<boolean>;
  /** Removes every activation of a licence; returns how many there were. */
  clearActivations(licenceId: string): Promise<number>;
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Audit records in the order written. */
  listAudit(query: AuditQuery): Promise<AuditEntry[]>;
}

/** Licence storage: transactions that run isolated (one at a time on a licence), all or nothing. */
export interface LicenceStore {
  /**
   * Runs `fn` as one transaction, isolated from every other (SQLite: after those queued before
   * it; PostgreSQL: after those holding the rows it locks): committed (and durable) when it
   * resolves, rolled back when it rejects. `fn` must act only through `tx`: PostgreSQL may run it
   * again after a deadlock. Rejects with E_STORE when the database fails, E_BUSY when too many
   * transactions wait.
   */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /** Waits for queued transactions, then releases the database. */
  close(): Promise<void>;
}
