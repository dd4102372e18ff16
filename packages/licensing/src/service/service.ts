// The licensing service: products and plans, issuing licences (a new sale), activating and
// deactivating machines, renewing, transferring, and answering whether an installation may get
// signature updates. Each operation runs as one store transaction, checks the regional policy
// with the licence's billing country at the request's `now`, and writes what it did or refused to
// the audit trail in that same transaction; a refusal is thrown once its record is committed.
// Transport (HTTP, authentication) is http.ts's job.
import { type KeyObject, randomBytes } from 'node:crypto';
import { type Notice, noticesDue } from '../decide.js';
import { DAY_MS } from '../instant.js';
import { type Policy, rulesOf } from '../policy.js';
import type {
  ActivationResult,
  DeactivationResult,
  IssueRequest,
  LicenceView,
  RenewalResult,
  RequestContext,
  SignedLicence,
  TransferRequest,
  TransferResult,
  UpdatesAnswer,
} from './answers.js';
import { LicenceError } from './errors.js';
import { issueLicenceFile, type Licence, privateKeyFrom } from './licence-file.js';
import { SERVICE_LIMITS } from './limits.js';
import { type Context, checkContext, denied, judge, type Owner, Recorder } from './operation.js';
import type { AuditEntry, AuditQuery, LicenceStore, Plan, Product, StoredLicence, StoreTransaction } from './store.js';
import { badInput, checkCount, checkCountry, checkDays, checkId, checkName, checkSeats } from './validate.js';

/** What a LicensingService is built from. */
export interface LicensingServiceOptions {
  readonly store: LicenceStore;
  /** The Ed25519 private key (object or PKCS #8 PEM) that signs licence files. */
  readonly signingKey: KeyObject | string;
  /** The regional availability policy; without one, no action is denied by region. */
  readonly policy?: Policy;
  /** Makes a new licence id (default `L-` and 32 random hex digits: the id is what a client presents). */
  readonly newLicenceId?: () => string;
}

const randomLicenceId = (): string => `L-${randomBytes(16).toString('hex')}`;

/** `ms` as an ISO instant, refused (naming `field`) past the year 9999. */
function expiry(ms: number, field: string): string {
  if (ms > SERVICE_LIMITS.maxExpiryMs) badInput(field, 'the licence would expire after the year 9999');
  return new Date(ms).toISOString();
}

function isExpired(licence: Licence, ctx: Context): boolean {
  return ctx.now.getTime() >= Date.parse(licence.expiresAt);
}

/** The licensing operations over a store, a signing key and an optional regional policy. */
export class LicensingService {
  private readonly store: LicenceStore;
  private readonly key: KeyObject;
  private readonly policy: Policy | undefined;
  private readonly newLicenceId: () => string;

  constructor(options: LicensingServiceOptions) {
    this.store = options.store;
    this.key = privateKeyFrom(options.signingKey);
    this.policy = options.policy;
    this.newLicenceId = options.newLicenceId ?? randomLicenceId;
  }

  /** Runs `fn` in a transaction; a LicenceError it returns (after recording it) is thrown. */
  private async run<T>(fn: (tx: StoreTransaction) => Promise<T | LicenceError>): Promise<T> {
    const result = await this.store.transaction(fn);
    if (result instanceof LicenceError) throw result;
    return result as T;
  }

  private notices(owner: Owner, ctx: Context): Notice[] {
    if (this.policy === undefined) return [];
    return noticesDue(rulesOf(this.policy, owner.billingCountry), ctx.now.getTime(), owner.customer);
  }

  /**
   * The licence `id` if it exists, is active and (unless `expiredToo`) has not expired; else the
   * recorded refusal. `verb` says what could not be done, as in `Cannot activate licence L-1`.
   */
  private async usable(
    tx: StoreTransaction,
    rec: Recorder,
    where: { readonly id: string; readonly verb: string; readonly ctx: Context; readonly expiredToo?: boolean },
  ): Promise<StoredLicence | LicenceError> {
    const { id, verb } = where;
    const licence = await tx.getLicence(id);
    if (licence === undefined) {
      return rec.refuse(
        new LicenceError('E_NOT_FOUND', `Cannot ${verb} licence ${id}: no such licence`, { licenceId: id }),
      );
    }
    if (licence.status !== 'active') {
      const message = `Cannot ${verb} licence ${id}: it is ${licence.status}`;
      return rec.refuse(new LicenceError('E_REVOKED', message, { licenceId: id }));
    }
    if (where.expiredToo !== true && isExpired(licence, where.ctx)) {
      const when = new Date(licence.expiresAt).toISOString();
      const message = `Cannot ${verb} licence ${id}: it expired on ${when}`;
      return rec.refuse(new LicenceError('E_EXPIRED', message, { licenceId: id, expiresAt: when }));
    }
    return licence;
  }

  /** Creates a product; E_CONFLICT when its id is taken. */
  async createProduct(product: { readonly id: string; readonly name: string }, ctx: RequestContext): Promise<Product> {
    const c = checkContext(ctx);
    const p: Product = { id: checkId(product?.id, 'id'), name: checkName(product.name, 'name'), createdAt: c.at };
    return this.run(async (tx) => {
      const rec = new Recorder(tx, c, { action: 'create-product', detail: { product: p.id, name: p.name } });
      if ((await tx.getProduct(p.id)) !== undefined) {
        return rec.refuse(new LicenceError('E_CONFLICT', `Cannot create product ${p.id}: it exists`));
      }
      await tx.insertProduct(p);
      await rec.ok();
      return p;
    });
  }

  /** Creates a plan of an existing product; E_NOT_FOUND without the product, E_CONFLICT when it exists. */
  async createPlan(plan: Plan, ctx: RequestContext): Promise<Plan> {
    const c = checkContext(ctx);
    const p: Plan = {
      product: checkId(plan?.product, 'product'),
      name: checkId(plan.name, 'name'),
      seats: checkSeats(plan.seats),
      days: checkDays(plan.days),
    };
    return this.run(async (tx) => {
      const rec = new Recorder(tx, c, { action: 'create-plan', detail: { ...p } });
      const what = `Cannot create plan ${p.name} of product ${p.product}`;
      if ((await tx.getProduct(p.product)) === undefined) {
        return rec.refuse(new LicenceError('E_NOT_FOUND', `${what}: no such product`));
      }
      if ((await tx.getPlan(p.product, p.name)) !== undefined) {
        return rec.refuse(new LicenceError('E_CONFLICT', `${what}: it exists`));
      }
      await tx.insertPlan(p);
      await rec.ok();
      return p;
    });
  }

  /** Issues a licence (a new sale, checked as `new-sale`) and its signed licence file. */
  async issue(request: IssueRequest, ctx: RequestContext): Promise<SignedLicence> {
    const c = checkContext(ctx);
    const owner: Owner = {
      customer: checkId(request?.customer, 'customer'),
      billingCountry: checkCountry(request.billingCountry, 'billingCountry'),
    };
    const product = checkId(request.product, 'product');
    const planName = checkId(request.plan, 'plan');
    const seats = request.seats === undefined ? undefined : checkSeats(request.seats);
    const days = request.days === undefined ? undefined : checkDays(request.days);
    return this.run(async (tx) => {
      const rec = new Recorder(tx, c, { action: 'issue', detail: { product, plan: planName, ...owner } });
      const plan = await tx.getPlan(product, planName);
      if (plan === undefined) {
        const message = `Cannot issue a licence: product ${product} has no plan ${planName}`;
        return rec.refuse(new LicenceError('E_NOT_FOUND', message));
      }
      const d = rec.decision(judge(this.policy, 'new-sale', owner, c));
      if (!d.allowed) return rec.refuse(denied(d, `issue a licence to customer ${owner.customer}`));
      const id = checkId(this.newLicenceId(), 'licence id');
      if ((await tx.getLicence(id)) !== undefined) {
        return rec.refuse(new LicenceError('E_CONFLICT', `Cannot issue licence ${id}: the id is taken`));
      }
      rec.licenceId = id;
      const licence: Licence = {
        id,
        product,
        plan: planName,
        ...owner,
        seats: seats ?? plan.seats,
        issuedAt: c.at,
        expiresAt: expiry(c.now.getTime() + (days ?? plan.days) * DAY_MS, 'days'),
      };
      await tx.insertLicence({ ...licence, status: 'active' });
      const file = issueLicenceFile(licence, this.key);
      await rec.ok({ seats: licence.seats, expiresAt: licence.expiresAt });
      return { licence, file, notices: d.notices };
    });
  }

  /** The licence `id` with its activations and the notices due for its customer; E_NOT_FOUND. */
  async getLicence(id: string, ctx: RequestContext): Promise<LicenceView> {
    const licenceId = checkId(id, 'licenceId');
    const c = checkContext(ctx);
    return this.store.transaction(async (tx) => {
      const licence = await tx.getLicence(licenceId);
      if (licence === undefined) {
        throw new LicenceError('E_NOT_FOUND', `No licence ${licenceId}`, { licenceId });
      }
      const activations = await tx.listActivations(licenceId);
      const expired = isExpired(licence, c);
      return { licence, activations, seatsUsed: activations.length, expired, notices: this.notices(licence, c) };
    });
  }

  /**
   * Activates `machineId` on the licence (checked as `activation`): refused when the licence is
   * unknown, revoked or expired, when the policy denies it, or when every seat is taken by other
   * machines (E_SEATS). A machine already active is answered again and takes no second seat.
   */
  async activate(licenceId: string, machineId: string, ctx: RequestContext): Promise<ActivationResult> {
    const id = checkId(licenceId, 'licenceId');
    const machine = checkId(machineId, 'machineId');
    const c = checkContext(ctx);
    return this.run(async (tx) => {
      const rec = new Recorder(tx, c, { action: 'activate', licenceId: id, detail: { machineId: machine } });
      const licence = await this.usable(tx, rec, { id, verb: 'activate', ctx: c });
      if (licence instanceof LicenceError) return licence;
      const d = rec.decision(judge(this.policy, 'activation', licence, c));
      if (!d.allowed) return rec.refuse(denied(d, `activate licence ${id}`, id));
      const activations = await tx.listActivations(id);
      const answer = (activatedAt: string, alreadyActive: boolean, seatsUsed: number): ActivationResult => ({
        licenceId: id,
        machineId: machine,
        activatedAt,
        alreadyActive,
        seats: licence.seats,
        seatsUsed,
        expiresAt: licence.expiresAt,
        notices: d.notices,
      });
      const existing = activations.find((a) => a.machineId === machine);
      if (existing !== undefined) {
        await rec.ok({ alreadyActive: true });
        return answer(existing.activatedAt, true, activations.length);
      }
      if (activations.length >= licence.seats) {
        const message = `Cannot activate licence ${id} on ${machine}: all ${licence.seats} seats are taken`;
        return rec.refuse(new LicenceError('E_SEATS', message, { licenceId: id, seats: licence.seats }));
      }
      await tx.addActivation({ licenceId: id, machineId: machine, activatedAt: c.at });
      await rec.ok({ alreadyActive: false, seatsUsed: activations.length + 1 });
      return answer(c.at, false, activations.length + 1);
    });
  }

  /** Frees the seat `machineId` holds; a machine that was not active is answered `wasActive: false`. */
  async deactivate(licenceId: string, machineId: string, ctx: RequestContext): Promise<DeactivationResult> {
    const id = checkId(licenceId, 'licenceId');
    const machine = checkId(machineId, 'machineId');
    const c = checkContext(ctx);
    return this.run(async (tx) => {
      const rec = new Recorder(tx, c, { action: 'deactivate', licenceId: id, detail: { machineId: machine } });
      const licence = await tx.getLicence(id);
      if (licence === undefined) {
        const message = `Cannot deactivate licence ${id}: no such licence`;
        return rec.refuse(new LicenceError('E_NOT_FOUND', message, { licenceId: id }));
      }
      const wasActive = await tx.removeActivation(id, machine);
      const seatsUsed = (await tx.listActivations(id)).length;
      await rec.ok({ wasActive, seatsUsed });
      return { licenceId: id, machineId: machine, wasActive, seatsUsed, notices: this.notices(licence, c) };
    });
  }

  /** Extends the licence by `days` from the later of now and its expiry (checked as `renewal`). */
  async renew(licenceId: string, days: number, ctx: RequestContext): Promise<RenewalResult> {
    const id = checkId(licenceId, 'licenceId');
    const n = checkDays(days);
    const c = checkContext(ctx);
    return this.run(async (tx) => {
      const rec = new Recorder(tx, c, { action: 'renew', licenceId: id, detail: { days: n } });
      const licence = await this.usable(tx, rec, { id, verb: 'renew', ctx: c, expiredToo: true });
      if (licence instanceof LicenceError) return licence;
      const d = rec.decision(judge(this.policy, 'renewal', licence, c));
      if (!d.allowed) return rec.refuse(denied(d, `renew licence ${id}`, id));
      const from = Math.max(c.now.getTime(), Date.parse(licence.expiresAt));
      const expiresAt = expiry(from + n * DAY_MS, 'days');
      await tx.updateLicence(id, { expiresAt });
      await rec.ok({ previousExpiresAt: licence.expiresAt, expiresAt });
      const { status: _, ...rest } = licence;
      const renewed: Licence = { ...rest, expiresAt };
      const file = issueLicenceFile(renewed, this.key);
      return { licence: renewed, file, previousExpiresAt: licence.expiresAt, notices: d.notices };
    });
  }

  /**
   * Moves the licence to another customer: checked as `transfer` for its current owner's
   * country and as `resale` for the new one's. Its activations are cleared; the audit record keeps
   * both owners and the machines that were deactivated.
   */
  async transfer(licenceId: string, request: TransferRequest, ctx: RequestContext): Promise<TransferResult> {
    const id = checkId(licenceId, 'licenceId');
    const to: Owner = {
      customer: checkId(request?.toCustomer, 'toCustomer'),
      billingCountry: checkCountry(request.billingCountry, 'billingCountry'),
    };
    const c = checkContext(ctx);
    return this.run(async (tx) => {
      const rec = new Recorder(tx, c, { action: 'transfer', licenceId: id, detail: { to } });
      const licence = await this.usable(tx, rec, { id, verb: 'transfer', ctx: c });
      if (licence instanceof LicenceError) return licence;
      const from = { customer: licence.customer, billingCountry: licence.billingCountry };
      if (from.customer === to.customer && from.billingCountry === to.billingCountry) {
        const message = `Cannot transfer licence ${id}: it already belongs to ${to.customer} in ${to.billingCountry}`;
        return rec.refuse(new LicenceError('E_INPUT', message, { field: 'toCustomer', licenceId: id }));
      }
      const out = rec.decision(judge(this.policy, 'transfer', from, c));
      if (!out.allowed) return rec.refuse(denied(out, `transfer licence ${id} from ${from.customer}`, id));
      const into = rec.decision(judge(this.policy, 'resale', to, c));
      if (!into.allowed) return rec.refuse(denied(into, `transfer licence ${id} to ${to.customer}`, id));
      const cleared = (await tx.listActivations(id)).map((a) => a.machineId);
      await tx.clearActivations(id);
      await tx.updateLicence(id, to);
      await rec.ok({ from, clearedActivations: cleared });
      const { status: _, ...rest } = licence;
      const moved: Licence = { ...rest, ...to };
      const file = issueLicenceFile(moved, this.key);
      return { licence: moved, file, from, clearedActivations: cleared, notices: into.notices };
    });
  }

  /**
   * Whether `machineId`, active on the licence, may receive signature updates now (checked as
   * `signature-update`). A denial is an answer, recorded in the audit, with `existingInstallations`
   * telling the client to keep its last database (`keep-working`) or to stop. Unknown, revoked
   * and expired licences and machines not activated are refused as errors.
   */
  async checkUpdates(licenceId: string, machineId: string, ctx: RequestContext): Promise<UpdatesAnswer> {
    const id = checkId(licenceId, 'licenceId');
    const machine = checkId(machineId, 'machine');
    const c = checkContext(ctx);
    return this.run(async (tx) => {
      const rec = new Recorder(tx, c, { action: 'check-updates', licenceId: id, detail: { machineId: machine } });
      const licence = await this.usable(tx, rec, { id, verb: 'update under', ctx: c });
      if (licence instanceof LicenceError) return licence;
      const active = (await tx.listActivations(id)).some((a) => a.machineId === machine);
      if (!active) {
        const message = `Cannot update under licence ${id}: machine ${machine} is not activated on it`;
        return rec.refuse(new LicenceError('E_NOT_ACTIVATED', message, { licenceId: id }));
      }
      const d = rec.decision(judge(this.policy, 'signature-update', licence, c));
      // Allowed checks are not recorded: clients ask often, and nothing changes.
      if (!d.allowed) await rec.deny({ existingInstallations: d.existingInstallations });
      return {
        licenceId: id,
        machineId: machine,
        allowed: d.allowed,
        existingInstallations: d.existingInstallations,
        ...(d.rule === undefined ? {} : { ruleId: d.rule.id, reason: d.rule.reason }),
        expiresAt: licence.expiresAt,
        notices: d.notices,
      };
    });
  }

  /** Audit records in the order written: of one licence, after a sequence number, a page at most. */
  async audit(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const max = SERVICE_LIMITS.maxAuditPage;
    const q: AuditQuery = {
      ...(query.licenceId === undefined ? {} : { licenceId: checkId(query.licenceId, 'licence') }),
      ...(query.afterSeq === undefined ? {} : { afterSeq: checkCountOrZero(query.afterSeq, 'after') }),
      limit: query.limit === undefined ? max : checkCount(query.limit, 'limit', max),
    };
    return this.store.transaction((tx) => tx.listAudit(q));
  }
}

function checkCountOrZero(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    badInput(field, `${String(value)} is not a whole number`);
  }
  return value;
}
