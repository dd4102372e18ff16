// One transaction's reads and writes on PostgreSQL, on the pooled client that ran BEGIN. Two things
// make it safe with several service processes on one database: `getLicence` takes the licence's
// row lock (SELECT … FOR UPDATE), so seat checks on one licence run one after another; and
// `appendAudit` takes a transaction-scoped advisory lock and numbers the entry after the highest
// committed one, so numbers follow commit order. BEGIN, COMMIT, ROLLBACK and retries are
// postgres-store.ts's job.
import type pg from 'pg';
import { LicenceError, storeError } from './errors.js';
import { SERVICE_LIMITS } from './limits.js';
import { AUDIT_LOCK, LOCK_NAMESPACE } from './pg-schema.js';
import { int, LICENCE_COLUMNS, type Row, text, toAudit, toLicence, toPlan, toProduct } from './rows.js';
import type {
  Activation,
  AuditEntry,
  AuditQuery,
  LicenceChanges,
  NewAuditEntry,
  Plan,
  Product,
  StoredLicence,
  StoreTransaction,
} from './store.js';

/** A transaction on one pooled client; unusable once it has ended. */
export class PostgresTransaction implements StoreTransaction {
  /**
   * The first statement that failed. PostgreSQL aborts the whole transaction then (later
   * statements fail, COMMIT rolls back), so the store must not report success even when `fn`
   * caught the error.
   */
  failure: unknown;
  private ended = false;
  private auditLocked = false;
  /** The last statement started: statements run one after another, as a connection requires. */
  private tail: Promise<unknown> = Promise.resolve();

  /** @param where the database, without its password, for messages. */
  constructor(
    private readonly client: pg.PoolClient,
    private readonly where: string,
  ) {}

  /** Refuses further statements; resolves once those already started have finished. */
  async end(): Promise<void> {
    this.ended = true;
    await this.tail;
  }

  private query(sql: string, params: unknown[], writes: boolean): Promise<pg.QueryResult<Row>> {
    const what = `Cannot ${writes ? 'write' : 'read'} the licence database ${this.where}`;
    if (this.ended) return Promise.reject(new LicenceError('E_STORE', `${what}: the transaction has ended`));
    const result = this.tail.then(async () => {
      if (this.failure !== undefined) {
        throw storeError(`${what}: an earlier statement of the transaction failed`, this.failure);
      }
      try {
        return await this.client.query<Row>(sql, params);
      } catch (e) {
        this.failure ??= e;
        throw storeError(what, e);
      }
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async rows(sql: string, params: unknown[]): Promise<Row[]> {
    return (await this.query(sql, params, false)).rows;
  }

  /** Runs a write; returns how many rows it changed. */
  private async run(sql: string, params: unknown[]): Promise<number> {
    return (await this.query(sql, params, true)).rowCount ?? 0;
  }

  async getProduct(id: string): Promise<Product | undefined> {
    const [row] = await this.rows('SELECT id, name, created_at FROM products WHERE id = $1', [id]);
    return row && toProduct(row);
  }

  async insertProduct(p: Product): Promise<void> {
    await this.run('INSERT INTO products (id, name, created_at) VALUES ($1, $2, $3)', [p.id, p.name, p.createdAt]);
  }

  async getPlan(product: string, name: string): Promise<Plan | undefined> {
    const sql = 'SELECT product, name, seats, days FROM plans WHERE product = $1 AND name = $2';
    const [row] = await this.rows(sql, [product, name]);
    return row && toPlan(row);
  }

  async insertPlan(p: Plan): Promise<void> {
    const sql = 'INSERT INTO plans (product, name, seats, days) VALUES ($1, $2, $3, $4)';
    await this.run(sql, [p.product, p.name, p.seats, p.days]);
  }

  /** Reads the licence and holds its row lock until the transaction ends. */
  async getLicence(id: string): Promise<StoredLicence | undefined> {
    const [row] = await this.rows('SELECT * FROM licences WHERE id = $1 FOR UPDATE', [id]);
    return row && toLicence(row);
  }

  async insertLicence(l: StoredLicence): Promise<void> {
    await this.run(
      `INSERT INTO licences (id, product, plan, customer, billing_country, seats, issued_at, expires_at, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [l.id, l.product, l.plan, l.customer, l.billingCountry, l.seats, l.issuedAt, l.expiresAt, l.status],
    );
  }

  async updateLicence(id: string, changes: LicenceChanges): Promise<void> {
    const set = (Object.keys(LICENCE_COLUMNS) as (keyof LicenceChanges)[]).filter((k) => changes[k] !== undefined);
    if (set.length === 0) return;
    const assignments = set.map((k, i) => `${LICENCE_COLUMNS[k]} = $${i + 1}`).join(', ');
    const sql = `UPDATE licences SET ${assignments} WHERE id = $${set.length + 1}`;
    if ((await this.run(sql, [...set.map((k) => changes[k] as string), id])) !== 1) {
      throw new LicenceError('E_STORE', `licence ${id} vanished during its update`);
    }
  }

  async listActivations(licenceId: string): Promise<Activation[]> {
    // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
    const sql = `SELECT machine_id, activated_at FROM activations WHERE licence_id = $1
                 ORDER BY activated_at COLLATE "C", machine_id COLLATE "C"`;
    return (await this.rows(sql, [licenceId])).map((row) => ({
      licenceId,
      machineId: text(row, 'machine_id'),
      activatedAt: text(row, 'activated_at'),
    }));
  }

  async addActivation(a: Activation): Promise<void> {
    const sql = 'INSERT INTO activations (licence_id, machine_id, activated_at) VALUES ($1, $2, $3)';
    await this.run(sql, [a.licenceId, a.machineId, a.activatedAt]);
  }

  async removeActivation(licenceId: string, machineId: string): Promise<boolean> {
    const sql = 'DELETE FROM activations WHERE licence_id = $1 AND machine_id = $2';
    return (await this.run(sql, [licenceId, machineId])) > 0;
  }

  async clearActivations(licenceId: string): Promise<number> {
    return this.run('DELETE FROM activations WHERE licence_id = $1', [licenceId]);
  }

  /**
   * Numbers the entry one past the highest committed number. The advisory lock, held until the
   * transaction ends, makes every other appender wait for this commit (or rollback): a reader
   * that has seen number n has seen every number below it, so paging with `afterSeq` never
   * skips an entry that commits later.
   */
  async appendAudit(e: NewAuditEntry): Promise<AuditEntry> {
    if (!this.auditLocked) {
      await this.run(`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}, ${AUDIT_LOCK})`, []);
      this.auditLocked = true;
    }
    const sql = `INSERT INTO audit (seq, at, actor, action, licence_id, detail, outcome)
                 SELECT COALESCE(MAX(seq), 0) + 1, $1::text, $2::text, $3::text, $4::text, $5::text, $6::text
                 FROM audit RETURNING seq`;
    const params = [e.at, e.actor, e.action, e.licenceId ?? null, JSON.stringify(e.detail), e.outcome];
    const { rows } = await this.query(sql, params, true);
    return { ...e, seq: int(rows[0] ?? {}, 'seq') };
  }

  async listAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const limit = Math.min(query.limit ?? SERVICE_LIMITS.maxAuditPage, SERVICE_LIMITS.maxAuditPage);
    const params: unknown[] = [query.afterSeq ?? 0, limit];
    let where = 'seq > $1';
    if (query.licenceId !== undefined) {
      where += ' AND licence_id = $3';
      params.push(query.licenceId);
    }
    return (await this.rows(`SELECT * FROM audit WHERE ${where} ORDER BY seq LIMIT $2`, params)).map(toAudit);
  }
}
