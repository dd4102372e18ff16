// The licence store on embedded SQLite (sql.js: SQLite compiled to WebAssembly), persisted to one
// file. sql.js keeps the database in memory: after each transaction that wrote, the whole database
// is exported and written over the file atomically, and when that write fails the in-memory copy
// goes back to what the file holds, so memory and disk never disagree. Transactions run one at a
// time through a promise queue; a lock file keeps a second process off the same database.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import { LicenceError, storeError } from './errors.js';
import { acquireLock, writeFileAtomically } from './files.js';
import { SERVICE_LIMITS } from './limits.js';
import { SerialQueue } from './queue.js';
import { int, LICENCE_COLUMNS, type Row, text, toAudit, toLicence, toPlan, toProduct } from './rows.js';
import { SCHEMA, SCHEMA_VERSION } from './schema.js';
import type {
  Activation,
  AuditEntry,
  AuditQuery,
  LicenceChanges,
  LicenceStore,
  NewAuditEntry,
  Plan,
  Product,
  StoredLicence,
  StoreTransaction,
} from './store.js';

let sqlJs: Promise<SqlJsStatic> | undefined;

/** Loads the SQLite WebAssembly module once (sql.js finds its .wasm beside its script). */
function loadSqlJs(): Promise<SqlJsStatic> {
  sqlJs ??= import('sql.js').then(
    (m) => m.default(),
    (e: unknown) => {
      sqlJs = undefined;
      throw storeError('Cannot load sql.js', e);
    },
  );
  return sqlJs;
}

/** One transaction's reads and writes on the in-memory database; unusable once it has ended. */
class SqliteTransaction implements StoreTransaction {
  /** True once a statement changed something: the database must then be written out. */
  wrote = false;
  private ended = false;

  constructor(private readonly db: Database) {}

  end(): void {
    this.ended = true;
  }

  private rows(sql: string, params: SqlValue[]): Row[] {
    if (this.ended) throw new LicenceError('E_STORE', 'the transaction has ended');
    try {
      const stmt = this.db.prepare(sql, params);
      try {
        const out: Row[] = [];
        while (stmt.step()) out.push(stmt.getAsObject());
        return out;
      } finally {
        stmt.free();
      }
    } catch (e) {
      throw storeError('Cannot read the licence database', e);
    }
  }

  private run(sql: string, params: SqlValue[]): number {
    if (this.ended) throw new LicenceError('E_STORE', 'the transaction has ended');
    try {
      this.db.run(sql, params);
      const changed = this.db.getRowsModified();
      if (changed > 0) this.wrote = true;
      return changed;
    } catch (e) {
      throw storeError('Cannot write the licence database', e);
    }
  }

  async getProduct(id: string): Promise<Product | undefined> {
    const [row] = this.rows('SELECT id, name, created_at FROM products WHERE id = ?', [id]);
    return row && toProduct(row);
  }

  async insertProduct(p: Product): Promise<void> {
    this.run('INSERT INTO products (id, name, created_at) VALUES (?, ?, ?)', [p.id, p.name, p.createdAt]);
  }

  async getPlan(product: string, name: string): Promise<Plan | undefined> {
    const sql = 'SELECT product, name, seats, days FROM plans WHERE product = ? AND name = ?';
    const [row] = this.rows(sql, [product, name]);
    return row && toPlan(row);
  }

  async insertPlan(p: Plan): Promise<void> {
    this.run('INSERT INTO plans (product, name, seats, days) VALUES (?, ?, ?, ?)', [
      p.product,
      p.name,
      p.seats,
      p.days,
    ]);
  }

  async getLicence(id: string): Promise<StoredLicence | undefined> {
    const [row] = this.rows('SELECT * FROM licences WHERE id = ?', [id]);
    return row && toLicence(row);
  }

  async insertLicence(l: StoredLicence): Promise<void> {
    this.run(
      `INSERT INTO licences (id, product, plan, customer, billing_country, seats, issued_at, expires_at, status)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [l.id, l.product, l.plan, l.customer, l.billingCountry, l.seats, l.issuedAt, l.expiresAt, l.status],
    );
  }

  async updateLicence(id: string, changes: LicenceChanges): Promise<void> {
    const set = (Object.keys(LICENCE_COLUMNS) as (keyof LicenceChanges)[]).filter((k) => changes[k] !== undefined);
    if (set.length === 0) return;
    const sql = `UPDATE licences SET ${set.map((k) => `${LICENCE_COLUMNS[k]} = ?`).join(', ')} WHERE id = ?`;
    if (this.run(sql, [...set.map((k) => changes[k] as string), id]) !== 1) {
      throw new LicenceError('E_STORE', `licence ${id} vanished during its update`);
    }
  }

  async listActivations(licenceId: string): Promise<Activation[]> {
    const sql =
      'SELECT machine_id, activated_at FROM activations WHERE licence_id = ? ORDER BY activated_at, machine_id';
    return this.rows(sql, [licenceId]).map((row) => ({
      licenceId,
      machineId: text(row, 'machine_id'),
      activatedAt: text(row, 'activated_at'),
    }));
  }

  async addActivation(a: Activation): Promise<void> {
    const sql = 'INSERT INTO activations (licence_id, machine_id, activated_at) VALUES (?, ?, ?)';
    this.run(sql, [a.licenceId, a.machineId, a.activatedAt]);
  }

  async removeActivation(licenceId: string, machineId: string): Promise<boolean> {
    return this.run('DELETE FROM activations WHERE licence_id = ? AND machine_id = ?', [licenceId, machineId]) > 0;
  }

  async clearActivations(licenceId: string): Promise<number> {
    return this.run('DELETE FROM activations WHERE licence_id = ?', [licenceId]);
  }

  async appendAudit(e: NewAuditEntry): Promise<AuditEntry> {
    this.run('INSERT INTO audit (at, actor, action, licence_id, detail, outcome) VALUES (?, ?, ?, ?, ?, ?)', [
      e.at,
      e.actor,
      e.action,
      e.licenceId ?? null,
      JSON.stringify(e.detail),
      e.outcome,
    ]);
    const [row] = this.rows('SELECT last_insert_rowid() AS seq', []);
    return { ...e, seq: int(row ?? {}, 'seq') };
  }

  async listAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const limit = Math.min(query.limit ?? SERVICE_LIMITS.maxAuditPage, SERVICE_LIMITS.maxAuditPage);
    const where = query.licenceId === undefined ? 'seq > ?' : 'seq > ? AND licence_id = ?';
    const params: SqlValue[] = [
      query.afterSeq ?? 0,
      ...(query.licenceId === undefined ? [] : [query.licenceId]),
      limit,
    ];
    return this.rows(`SELECT * FROM audit WHERE ${where} ORDER BY seq LIMIT ?`, params).map(toAudit);
  }
}

/** Opens `bytes` (or a new database) and brings it to the current schema; E_STORE when it cannot. */
function openDatabase(SQL: SqlJsStatic, bytes: Uint8Array | undefined, path: string): Database {
  const db = new SQL.Database(bytes);
  try {
    const version = Number(db.exec('PRAGMA user_version')[0]?.values[0]?.[0]);
    if (version === 0) {
      const tables = db.exec("SELECT name FROM sqlite_master WHERE type = 'table'");
      if (tables.length > 0) throw new Error('it is not a Vigil licence database (it has other tables)');
      db.exec(SCHEMA);
    } else if (version !== SCHEMA_VERSION) {
      throw new Error(`its schema version ${version} is not ${SCHEMA_VERSION}, the one this program knows`);
    }
    const check = db.exec('PRAGMA quick_check')[0]?.values[0]?.[0];
    if (check !== 'ok') throw new Error(`it is damaged (${String(check)})`);
    db.exec('PRAGMA foreign_keys = ON');
    return db;
  } catch (e) {
    db.close();
    throw storeError(`Cannot open the licence database ${path}`, e);
  }
}

/** Options of `SqliteLicenceStore.open`. */
export interface SqliteStoreOptions {
  /** Permissions of the database file (default 0o600: it holds customer data). */
  readonly mode?: number;
  /** Transactions that may wait before new ones are refused with E_BUSY. */
  readonly maxQueued?: number;
}

/** The licence store on one SQLite file. Open it with `SqliteLicenceStore.open`. */
export class SqliteLicenceStore implements LicenceStore {
  private readonly queue: SerialQueue;
  private closed = false;

  private constructor(
    private readonly SQL: SqlJsStatic,
    private db: Database,
    /** The bytes the file holds: what memory goes back to when writing the file fails. */
    private snapshot: Uint8Array,
    private readonly file: { readonly path: string; readonly mode: number; readonly release: () => Promise<void> },
    maxQueued: number,
  ) {
    this.queue = new SerialQueue(maxQueued);
  }

  /**
   * Opens the database at `path`, creating it (and its schema) when the file does not exist.
   * E_STORE when the file is not a licence database, is damaged, or is in use by another process.
   */
  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteLicenceStore> {
    const full = resolve(path);
    const SQL = await loadSqlJs();
    const release = await acquireLock(`${full}.lock`);
    try {
      const existing = await readFile(full).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        throw storeError(`Cannot read the licence database ${full}`, e);
      });
      const db = openDatabase(SQL, existing, full);
      const file = { path: full, mode: options.mode ?? 0o600, release };
      const store = new SqliteLicenceStore(
        SQL,
        db,
        existing ?? new Uint8Array(),
        file,
        options.maxQueued ?? SERVICE_LIMITS.maxQueued,
      );
      if (existing === undefined || existing.length === 0) await store.persist();
      return store;
    } catch (e) {
      await release();
      throw e;
    }
  }

  /** The database file's path. */
  get path(): string {
    return this.file.path;
  }

  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new LicenceError('E_STORE', `${this.file.path}: the store is closed`));
    return this.queue.run(() => this.runTransaction(fn));
  }

  private async runTransaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    const tx = new SqliteTransaction(this.db);
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (e) {
      throw storeError('Cannot begin a transaction', e);
    }
    let result: T;
    try {
      result = await fn(tx);
      this.db.exec('COMMIT');
    } catch (e) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // A failed COMMIT may already have rolled back; there is nothing left to undo.
      }
      throw e;
    } finally {
      tx.end();
    }
    if (tx.wrote) await this.persist();
    return result;
  }

  /** Writes the database to its file; on failure, memory goes back to the file's contents. */
  private async persist(): Promise<void> {
    let bytes: Uint8Array;
    try {
      // export() closes and reopens the connection, which resets its pragmas.
      bytes = this.db.export();
      this.db.exec('PRAGMA foreign_keys = ON');
      await writeFileAtomically(this.file.path, bytes, this.file.mode);
    } catch (e) {
      this.db.close();
      this.db = openDatabase(this.SQL, this.snapshot.length === 0 ? undefined : this.snapshot, this.file.path);
      throw storeError(`Cannot write the licence database ${this.file.path}; the change was undone`, e);
    }
    this.snapshot = bytes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.drain();
    this.db.close();
    await this.file.release();
  }
}
