// A small validator for JSON values: each check either returns the value with its TypeScript
// type or throws a LicensingError whose message names the document and the place, as
// in `policy.json: jurisdictions[0].rules[2].effective: "2024-13-01" is not a date`. What the
// fields mean is policy.ts's business; this file only knows shapes.
import { LicensingError, type LicensingErrorCode } from './errors.js';
import { parseInstant } from './instant.js';
import { POLICY_LIMITS } from './limits.js';

/** A JSON object's fields, once checked to be a plain object. */
export type Fields = Readonly<Record<string, unknown>>;

/** Describes a JSON value for a message: strings quoted (and shortened), containers by kind. */
export function describe(value: unknown): string {
  if (typeof value === 'string') {
    const quoted = JSON.stringify(value);
    return quoted.length > 60 ? `${quoted.slice(0, 56)}…"` : quoted;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** Joins a path and a field or index: `join('a', 'b')` is `a.b`, `join('a', 2)` is `a[2]`. */
export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Checks the values of one document, whose name (e.g. `policy.json`) prefixes every message;
 * failures carry `code` (E_POLICY unless told otherwise).
 */
export class Checker {
  constructor(
    readonly source: string,
    readonly code: LicensingErrorCode = 'E_POLICY',
  ) {}

  /** Throws the error for `problem` at `path`. */
  fail(path: string, problem: string): never {
    const place = path === '' ? this.source : `${this.source}: ${path}`;
    throw new LicensingError(this.code, `${place}: ${problem}`, { source: this.source, path });
  }

  /** A plain object with only the `allowed` fields and every one of `required`. */
  object(value: unknown, path: string, shape: { allowed: readonly string[]; required: readonly string[] }): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, `expected an object, got ${describe(value)}`);
    }
    const fields = value as Fields;
    for (const key of Object.keys(fields)) {
      if (!shape.allowed.includes(key)) {
        this.fail(path, `unknown field ${describe(key)} (fields: ${shape.allowed.join(', ')})`);
      }
    }
    for (const key of shape.required) {
      if (!Object.hasOwn(fields, key)) this.fail(path, `missing field ${describe(key)}`);
    }
    return fields;
  }

  /** An array of at most `max` elements. */
  array(value: unknown, path: string, max: number): readonly unknown[] {
    if (!Array.isArray(value)) this.fail(path, `expected an array, got ${describe(value)}`);
    if (value.length > max) this.fail(path, `has ${value.length} elements, over the limit of ${max}`);
    return value;
  }

  /** A non-empty string of at most `POLICY_LIMITS.maxStringLength` characters. */
  string(value: unknown, path: string): string {
    if (typeof value !== 'string' || value.trim() === '') {
      this.fail(path, `expected a non-empty string, got ${describe(value)}`);
    }
    const max = POLICY_LIMITS.maxStringLength;
    if (value.length > max) this.fail(path, `is ${value.length} characters long, over the limit of ${max}`);
    return value;
  }

  /** An integer from `min` to `max`, both included. */
  integer(value: unknown, path: string, range: { min: number; max: number }): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
      const wanted =
        range.max >= Number.MAX_SAFE_INTEGER
          ? `an integer of at least ${range.min}`
          : `an integer from ${range.min} to ${range.max}`;
      this.fail(path, `${describe(value)} is not ${wanted}`);
    }
    return value;
  }

  /** One of the strings in `options`. */
  oneOf<T extends string>(value: unknown, path: string, options: readonly T[]): T {
    if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) {
      this.fail(path, `${describe(value)} is not one of ${options.join(', ')}`);
    }
    return value as T;
  }

  /** A date or instant string (see `parseInstant`), returned as milliseconds since the epoch. */
  instant(value: unknown, path: string): number {
    if (typeof value !== 'string') this.fail(path, `expected a date string, got ${describe(value)}`);
    const ms = parseInstant(value);
    if (ms === undefined) {
      this.fail(path, `${describe(value)} is not a date (YYYY-MM-DD, or an ISO 8601 instant with a time zone)`);
    }
    return ms;
  }
}
