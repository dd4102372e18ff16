// Checks of the values handed to the service, from TypeScript callers and from HTTP bodies alike:
// each returns the value with its type or throws an E_INPUT LicenceError naming the field, as in
// `seats: "3" is not a whole number from 1 to 1000000`. What the values mean is service.ts's job.
import { describe } from '../check.js';
import { isCountryCode } from '../countries.js';
import { parseInstant } from '../instant.js';
import { LicenceError } from './errors.js';
import { SERVICE_LIMITS } from './limits.js';

/** A JSON object's fields, once checked to be a plain object. */
export type Fields = Readonly<Record<string, unknown>>;

/** Letters, digits and `._:@+-`, starting with a letter or digit: safe in URLs, logs and SQL. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:@+-]*$/;

/** Throws the E_INPUT error for `field`. */
export function badInput(field: string, problem: string): never {
  throw new LicenceError('E_INPUT', `${field}: ${problem}`, { field });
}

/** A plain object (not an array, not null); `what` names it in the message. */
export function checkObject(value: unknown, what: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LicenceError('E_INPUT', `${what} must be a JSON object, got ${describe(value)}`, { field: what });
  }
  return value as Fields;
}

/** The field `name` of `fields`, which must be present. */
export function required(fields: Fields, name: string, prefix = ''): unknown {
  if (!Object.hasOwn(fields, name) || fields[name] === undefined) badInput(prefix + name, 'missing field');
  return fields[name];
}

/** An identifier: 1 to `maxIdLength` characters of letters, digits and `._:@+-`. */
export function checkId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') badInput(field, `expected a non-empty string, got ${describe(value)}`);
  const max = SERVICE_LIMITS.maxIdLength;
  if (value.length > max) badInput(field, `is ${value.length} characters long, over the limit of ${max}`);
  if (!ID.test(value)) {
    badInput(
      field,
      `${describe(value)} is not an id (letters, digits and . _ : @ + -, starting with a letter or digit)`,
    );
  }
  return value;
}

/** A display name: non-blank, at most `maxNameLength` characters, no control characters. */
export function checkName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    badInput(field, `expected a non-empty string, got ${describe(value)}`);
  }
  const max = SERVICE_LIMITS.maxNameLength;
  if (value.length > max) badInput(field, `is ${value.length} characters long, over the limit of ${max}`);
  if (/[\u0000-\u001f\u007f]/.test(value)) badInput(field, 'contains control characters');
  return value;
}

/** An upper-case ISO 3166-1 alpha-2 country code. */
export function checkCountry(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isCountryCode(value)) {
    badInput(field, `${describe(value)} is not an ISO 3166-1 alpha-2 country code (upper case, e.g. DE)`);
  }
  return value;
}

/** A whole number from 1 to `max`. */
export function checkCount(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    badInput(field, `${describe(value)} is not a whole number from 1 to ${max}`);
  }
  return value;
}

/** A number of seats. */
export function checkSeats(value: unknown, field = 'seats'): number {
  return checkCount(value, field, SERVICE_LIMITS.maxSeats);
}

/** A number of days. */
export function checkDays(value: unknown, field = 'days'): number {
  return checkCount(value, field, SERVICE_LIMITS.maxDays);
}

/** An ISO 8601 instant with a time zone (or a date), as milliseconds since the epoch. */
export function checkInstant(value: unknown, field: string): number {
  const ms = typeof value === 'string' ? parseInstant(value) : undefined;
  if (ms === undefined) badInput(field, `${describe(value)} is not an ISO 8601 instant with a time zone`);
  return ms;
}

/** A valid Date. */
export function checkDate(value: unknown, field: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) badInput(field, 'expected a valid Date');
  return value;
}
