// The licence store on PostgreSQL (the `pg` client), for several service processes sharing one
// database. Opening creates the schema when the database has none of its tables, in one
// transaction under an advisory lock (two processes starting at once create it once), and refuses
// a database whose tables are not this schema or version. Each transaction is BEGIN … COMMIT on
// one pooled client, rolled back when its function rejects and run again, a bounded number of
// times, after a serialization failure or a deadlock. Row and audit locking is in
// postgres-transaction.ts; the tables are in pg-schema.ts.
import type pg from 'pg';
import { LicenceError, storeError } from './errors.js';
import { SERVICE_LIMITS } from './limits.js';
import { EXPECTED_COLUMNS, LOCK_NAMESPACE, PG_SCHEMA, SCHEMA_LOCK, VERSION_TABLE } from './pg-schema.js';
import { PostgresTransaction } from './postgres-transaction.js';
import { SCHEMA_VERSION } from './schema.js';
import type { LicenceStore, StoreTransaction } from './store.js';

/** SQLSTATEs after which a transaction may simply be run again: serialization failure, deadlock. */
const RETRYABLE = new Set(['40001', '40P01']);

/** True when `db` names a PostgreSQL database (`postgres://…` or `postgresql://…`), not a file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** The connection string without its password (or anything but user, host, port, database). */
export function describeDatabase(connectionString: string): string {
  let url: URL;
  let host: string | undefined;
  try {
    url = new URL(connectionString);
  } catch {
    // `postgres://user@/db?host=/socket/dir`: a user and no host is not a WHATWG URL.
    try {
      url = new URL(connectionString.replace('@/', '@placeholder/'));
      host = '';
    } catch {
      return 'the PostgreSQL database (its connection string is not a URL)';
    }
  }
  const user = url.username === '' ? '' : `${url.username}@`;
  const socket = url.searchParams.get('host');
  const where = `${url.protocol}//${user}${host ?? url.host}${url.pathname}`;
  return socket === null ? where : `${where} (socket ${socket})`;
}

type Pg = typeof pg;
let pgModule: Promise<Pg> | undefined;

/** Loads `pg` on first use, so that the SQLite path never pays for it. */
function loadPg(): Promise<Pg> {
  pgModule ??= import('pg').then(
    (m) => m.default,
    (e: unknown) => {
      pgModule = undefined;
      throw storeError('Cannot load pg, the PostgreSQL client', e);
    },
  );
  return pgModule;
}

/** The SQLSTATE of the database error in `e` or its causes. */
function sqlState(e: unknown, DatabaseError: Pg['DatabaseError']): string | undefined {
  for (let c = e; c instanceof Error; c = c.cause) {
    if (c instanceof DatabaseError) return c.code;
  }
  return undefined;
}

const ignore = (): void => undefined;

/** What is wrong with the tables found, or undefined when they are this schema and version. */
async function schemaProblem(client: pg.PoolClient, found: Map<string, string[]>): Promise<string | undefined> {
  if (!found.has(VERSION_TABLE)) {
    const names = [...found.keys()].join(', ');
    return `it has tables named ${names} that are not a Vigil licence schema (there is no ${VERSION_TABLE} table)`;
  }
  for (const [table, columns] of Object.entries(EXPECTED_COLUMNS)) {
    const have = found.get(table);
    if (have === undefined) return `its Vigil licence schema has no ${table} table`;
    if (have.join() !== columns.join()) {
      return `its table ${table} has the columns (${have.join(', ')}), not (${columns.join(', ')})`;
    }
  }
  const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${VERSION_TABLE}`);
  const versions = rows.map((r) => r.version);
  if (versions.length !== 1 || versions[0] !== SCHEMA_VERSION) {
    return `its schema version (${versions.join(', ') || 'none'}) is not ${SCHEMA_VERSION}, the one this program knows`;
  }
  return undefined;
}

/** Creates the schema in an empty database, or checks the one there; throws what is wrong. */
async function prepareSchema(client: pg.PoolClient): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}, ${SCHEMA_LOCK})`);
    const schema = await client.query<{ s: string | null }>('SELECT current_schema() AS s');
    if (schema.rows[0]?.s == null) throw new Error('no schema of its search_path exists to hold the tables');
    const { rows } = await client.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = ANY($1::text[])
       ORDER BY table_name, ordinal_position`,
      [Object.keys(EXPECTED_COLUMNS)],
    );
    const found = new Map<string, string[]>();
    for (const r of rows) found.set(r.table_name, [...(found.get(r.table_name) ?? []), r.column_name]);
    if (found.size === 0) await client.query(PG_SCHEMA);
    else {
      const problem = await schemaProblem(client, found);
      if (problem !== undefined) throw new Error(problem);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(ignore);
    throw e;
  }
}

/** Options of `PostgresLicenceStore.open`. */
export interface PostgresStoreOptions {
  /** Transactions that may wait or run before new ones are refused with E_BUSY (default 1000). */
  readonly maxQueued?: number;
  /** Connections the pool opens at most (default 10). */
  readonly maxConnections?: number;
  /** Milliseconds to wait for a connection, new or from the pool, before E_STORE (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Runs again after a serialization failure or deadlock (default 3). */
  readonly maxRetries?: number;
}

/** One run of a transaction: its value, or a failure worth running it again for. */
type Attempt<T> = { readonly done: true; readonly value: T } | { readonly done: false; readonly error: unknown };

/** The licence store on a PostgreSQL database. Open it with `PostgresLicenceStore.open`. */
export class PostgresLicenceStore implements LicenceStore {
  private running = 0;
  private closing: Promise<void> | undefined;
  private idle: (() => void)[] = [];

  private constructor(
    private readonly pg: Pg,
    private readonly pool: pg.Pool,
    /** The database, without its password. */
    readonly database: string,
    private readonly limits: { readonly maxQueued: number; readonly maxRetries: number },
  ) {}

  /**
   * Connects to the database `connectionString` names (`postgres://user@host:port/db`, or with
   * `?host=/socket/dir`; libpq's PG* environment variables and ~/.pgpass fill in the rest),
   * creates the schema when none of its tables exist, and checks it otherwise. E_STORE when the
   * database cannot be reached or holds tables that are not this schema and version.
   */
  static async open(connectionString: string, options: PostgresStoreOptions = {}): Promise<PostgresLicenceStore> {
    const database = describeDatabase(connectionString);
    const pg = await loadPg();
    const pool = new pg.Pool({
      connectionString,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      application_name: 'vigil-licensing',
    });
    // An idle connection that drops is only logged by pg: the next transaction opens a new one.
    pool.on('error', ignore);
    try {
      const client = await pool.connect();
      try {
        await prepareSchema(client);
      } finally {
        client.release();
      }
    } catch (e) {
      await pool.end().catch(ignore);
      throw storeError(`Cannot open the licence database ${database}`, e);
    }
    const limits = {
      maxQueued: options.maxQueued ?? SERVICE_LIMITS.maxQueued,
      maxRetries: options.maxRetries ?? SERVICE_LIMITS.maxStoreRetries,
    };
    return new PostgresLicenceStore(pg, pool, database, limits);
  }

  /**
   * Runs `fn` in a READ COMMITTED transaction of its own connection. Unlike SQLite's, transactions
   * run side by side: those on one licence wait for its row lock, audit appends wait for one
   * another. `fn` may run again (at most `maxRetries` times) after a serialization failure or a
   * deadlock, so it must do nothing but read and write through `tx`.
   */
  async transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    if (this.closing !== undefined) throw new LicenceError('E_STORE', `${this.database}: the store is closed`);
    if (this.running >= this.limits.maxQueued) {
      throw new LicenceError('E_BUSY', `${this.running} operations are already waiting; try again`);
    }
    this.running++;
    try {
      for (let attempt = 0; ; attempt++) {
        const result = await this.attempt(fn);
        if (result.done) return result.value;
        if (attempt >= this.limits.maxRetries) throw result.error;
        await new Promise((r) => setTimeout(r, (attempt + 1) * (5 + Math.random() * 20)));
      }
    } finally {
      this.running--;
      if (this.running === 0) for (const wake of this.idle.splice(0)) wake();
    }
  }

  private async attempt<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<Attempt<T>> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw storeError(`Cannot connect to the licence database ${this.database}`, e);
    }
    // A connection that drops mid-transaction also fails the pending query, which reports it.
    client.on('error', ignore);
    let broken = false;
    try {
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED').catch((e: unknown) => {
        broken = true;
        throw storeError(`Cannot begin a transaction on the licence database ${this.database}`, e);
      });
      const tx = new PostgresTransaction(client, this.database);
      let outcome: { readonly value: T } | { readonly error: unknown };
      try {
        outcome = { value: await fn(tx) };
      } catch (error) {
        outcome = { error };
      }
      // Statements `fn` started without waiting for them finish before COMMIT or ROLLBACK.
      await tx.end();
      if ('error' in outcome || tx.failure !== undefined) {
        broken = !(await client.query('ROLLBACK').then(
          () => true,
          () => false,
        ));
        return this.failed(tx.failure, 'error' in outcome ? outcome : undefined);
      }
      const committed = await client.query('COMMIT').then(
        // A transaction the database had already aborted answers COMMIT with ROLLBACK, not an error.
        (r) => (r.command === 'COMMIT' ? undefined : new Error(`the database answered COMMIT with ${r.command}`)),
        (e: unknown) => {
          broken = !(e instanceof this.pg.DatabaseError);
          return e;
        },
      );
      if (committed === undefined) return { done: true, value: outcome.value };
      return this.failed(committed, undefined, 'Cannot commit a transaction on the licence database');
    } finally {
      client.removeListener('error', ignore);
      client.release(broken);
    }
  }

  /**
   * A rolled-back attempt: retried when the database failure is a serialization failure or a
   * deadlock; else what `fn` threw, or the database failure it swallowed, is thrown.
   */
  private failed(failure: unknown, thrown: { readonly error: unknown } | undefined, what?: string): Attempt<never> {
    const error =
      thrown !== undefined
        ? thrown.error
        : storeError(
            what === undefined
              ? `A statement failed on the licence database ${this.database}, so the transaction was rolled back`
              : `${what} ${this.database}`,
            failure,
          );
    if (RETRYABLE.has(sqlState(failure, this.pg.DatabaseError) ?? '')) return { done: false, error };
    throw error;
  }

  /** Waits for the running transactions (new ones are refused), then closes every connection. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.running > 0) await new Promise<void>((wake) => this.idle.push(wake));
      await this.pool.end();
    })();
    return this.closing;
  }
}
