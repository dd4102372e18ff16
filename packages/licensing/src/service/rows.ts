// Rows as both stores read them back: column values checked and turned into the store's records.
// The SQL that produces the rows is each store's own (sqlite-store.ts, postgres-transaction.ts).
import { LicenceError } from './errors.js';
import type { AuditAction, AuditEntry, Plan, Product, StoredLicence } from './store.js';

/** A result row by column name. */
export type Row = Readonly<Record<string, unknown>>;

export function text(row: Row, column: string): string {
  const v = row[column];
  if (typeof v !== 'string') throw new LicenceError('E_STORE', `the database has a non-text ${column}`);
  return v;
}

/** An integer column; PostgreSQL's BIGINT arrives as a string of digits, the rest as numbers. */
export function int(row: Row, column: string): number {
  const v = row[column];
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new LicenceError('E_STORE', `the database has a non-integer ${column}`);
  }
  return n;
}

export function toProduct(row: Row): Product {
  return { id: text(row, 'id'), name: text(row, 'name'), createdAt: text(row, 'created_at') };
}

export function toPlan(row: Row): Plan {
  return { product: text(row, 'product'), name: text(row, 'name'), seats: int(row, 'seats'), days: int(row, 'days') };
}

export function toLicence(row: Row): StoredLicence {
  const status = text(row, 'status');
  if (status !== 'active' && status !== 'revoked') throw new LicenceError('E_STORE', `unknown status ${status}`);
  return {
    id: text(row, 'id'),
    product: text(row, 'product'),
    plan: text(row, 'plan'),
    customer: text(row, 'customer'),
    billingCountry: text(row, 'billing_country'),
    seats: int(row, 'seats'),
    issuedAt: text(row, 'issued_at'),
    expiresAt: text(row, 'expires_at'),
    status,
  };
}

export function toAudit(row: Row): AuditEntry {
  const licenceId = row.licence_id;
  return {
    seq: int(row, 'seq'),
    at: text(row, 'at'),
    actor: text(row, 'actor'),
    action: text(row, 'action') as AuditAction,
    ...(typeof licenceId === 'string' ? { licenceId } : {}),
    detail: JSON.parse(text(row, 'detail')) as Record<string, unknown>,
    outcome: text(row, 'outcome') === 'ok' ? 'ok' : 'refused',
  };
}

/** The columns of a licence's changeable fields. */
export const LICENCE_COLUMNS = {
  customer: 'customer',
  billingCountry: 'billing_country',
  expiresAt: 'expires_at',
  status: 'status',
} as const;
