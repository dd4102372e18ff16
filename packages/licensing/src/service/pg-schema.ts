// The PostgreSQL schema of the licence store: the same tables and version as the SQLite schema
// (schema.ts), in PostgreSQL's dialect, plus the table that carries the version, the columns
// every table must have (what `open` checks before using a database it did not create) and the
// advisory lock keys. Creating, checking and locking are postgres-store.ts's job.
import { SCHEMA_VERSION } from './schema.js';

/** The table holding the schema version: its presence marks a schema as Vigil's. */
export const VERSION_TABLE = 'vigil_licensing_schema';

/**
 * Advisory lock keys (pg_advisory_xact_lock takes two int4). The first names Vigil's licensing
 * store ("VgLc"), so that other applications' advisory locks in the same database do not collide.
 */
export const LOCK_NAMESPACE = 0x56674c63;
/** Held while the schema is inspected and created: two processes starting at once create it once. */
export const SCHEMA_LOCK = 1;
/** Held from an audit append to the commit: audit numbers then follow commit order. */
export const AUDIT_LOCK = 2;

/** The columns each table of the schema has, in order; `open` refuses a database that differs. */
export const EXPECTED_COLUMNS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  [VERSION_TABLE]: ['version'],
  products: ['id', 'name', 'created_at'],
  plans: ['product', 'name', 'seats', 'days'],
  licences: ['id', 'product', 'plan', 'customer', 'billing_country', 'seats', 'issued_at', 'expires_at', 'status'],
  activations: ['licence_id', 'machine_id', 'activated_at'],
  audit: ['seq', 'at', 'actor', 'action', 'licence_id', 'detail', 'outcome'],
});

/**
 * Creates the tables in the current schema. Instants stay ISO text and `detail` stays JSON text,
 * as in SQLite, so that both stores give back exactly what was written. `seq` is not a sequence:
 * the store numbers audit entries itself under AUDIT_LOCK (a sequence would hand out numbers in
 * the order transactions ask, not the order they commit, and leave gaps on rollback).
 */
export const PG_SCHEMA = `
CREATE TABLE ${VERSION_TABLE} (version INTEGER NOT NULL);
INSERT INTO ${VERSION_TABLE} (version) VALUES (${SCHEMA_VERSION});
CREATE TABLE products (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE plans (
  product TEXT NOT NULL REFERENCES products (id),
  name TEXT NOT NULL,
  seats INTEGER NOT NULL CHECK (seats > 0),
  days INTEGER NOT NULL CHECK (days > 0),
  PRIMARY KEY (product, name)
);
CREATE TABLE licences (
  id TEXT PRIMARY KEY,
  product TEXT NOT NULL,
  plan TEXT NOT NULL,
  customer TEXT NOT NULL,
  billing_country TEXT NOT NULL,
  seats INTEGER NOT NULL CHECK (seats > 0),
  issued_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
  FOREIGN KEY (product, plan) REFERENCES plans (product, name)
);
CREATE TABLE activations (
  licence_id TEXT NOT NULL REFERENCES licences (id),
  machine_id TEXT NOT NULL,
  activated_at TEXT NOT NULL,
  UNIQUE (licence_id, machine_id)
);
CREATE TABLE audit (
  seq BIGINT PRIMARY KEY CHECK (seq > 0),
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  licence_id TEXT,
  detail TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'refused'))
);
CREATE INDEX audit_by_licence ON audit (licence_id, seq);
CREATE FUNCTION vigil_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only';
END
$$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION vigil_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION vigil_audit_append_only();
`;
