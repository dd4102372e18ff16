// The SQLite schema of the licence store, version 1. The audit table is append-only (triggers
// refuse updates and deletes); `PRAGMA user_version` carries the version, checked on open. A
// later version adds a migration from this one instead of editing it.

/** The schema version this program reads and writes. */
export const SCHEMA_VERSION = 1;

/** Creates the tables of an empty database. */
export const SCHEMA = `
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
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  licence_id TEXT,
  detail TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'refused'))
);
CREATE INDEX audit_by_licence ON audit (licence_id, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
PRAGMA user_version = ${SCHEMA_VERSION};
`;
