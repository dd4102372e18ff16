// Shared pieces of the line parsers: a field with its column, the error a field raises, and the
// small number and flevel readers every format uses.
import type { DiagnosticCode } from '../diagnostics.js';
import { ENGINE_FLEVEL, type FlevelRange } from '../types.js';

/** One field of a line and where it starts (1-based column). */
export interface Field {
  readonly text: string;
  readonly column: number;
}

/** A problem with one field of one line; the file parser turns it into a Diagnostic. */
export class FieldError extends Error {
  constructor(
    readonly code: DiagnosticCode,
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

/** Thrown for a line whose functionality-level window excludes this engine: skipped, not an error. */
export class SkipLine extends Error {}

/** Throws SkipLine unless this engine is inside the window. */
export function requireFlevel(range: FlevelRange | undefined): void {
  if (range !== undefined && (range.min > ENGINE_FLEVEL || (range.max !== undefined && range.max < ENGINE_FLEVEL))) {
    throw new SkipLine();
  }
}

/** Splits `text` (starting at `column`) at every `sep`. */
export function splitFields(text: string, sep: string, column = 1): Field[] {
  const out: Field[] = [];
  let start = 0;
  for (;;) {
    const i = text.indexOf(sep, start);
    const end = i < 0 ? text.length : i;
    out.push({ text: text.slice(start, end), column: column + start });
    if (i < 0) return out;
    start = i + sep.length;
  }
}

const DECIMAL = /^\d+$/;

/** A non-negative decimal integer, or a FieldError naming `what`. */
export function decimal(f: Field, what: string, code: DiagnosticCode): number {
  if (!DECIMAL.test(f.text)) throw new FieldError(code, `${what} must be a decimal number, not '${f.text}'`, f.column);
  const n = Number(f.text);
  if (!Number.isSafeInteger(n)) throw new FieldError(code, `${what} is too large: ${f.text}`, f.column);
  return n;
}

/** The optional `:MinFL[:MaxFL]` fields at `at` and `at + 1`; empty fields mean no bound. */
export function flevelFields(fields: readonly Field[], at: number): FlevelRange | undefined {
  const min = fields[at];
  const max = fields[at + 1];
  if (min === undefined || min.text === '') {
    if (max !== undefined && max.text !== '')
      return { min: 0, max: decimal(max, 'maximum functionality level', 'S007') };
    return undefined;
  }
  const lo = decimal(min, 'minimum functionality level', 'S007');
  if (max === undefined || max.text === '') return { min: lo };
  const hi = decimal(max, 'maximum functionality level', 'S007');
  if (hi < lo) throw new FieldError('S007', `functionality level range ${lo}-${hi} is empty`, min.column);
  return { min: lo, max: hi };
}

/** Fails unless the name is non-empty. */
export function signatureName(f: Field | undefined, lineColumn = 1): string {
  if (f === undefined || f.text === '')
    throw new FieldError('S012', 'the signature name is empty', f?.column ?? lineColumn);
  return f.text;
}

/** Fails unless the line has between `min` and `max` fields. */
export function fieldCount(fields: readonly Field[], min: number, max: number, shape: string): void {
  if (fields.length < min || fields.length > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw new FieldError('S001', `expected ${want} fields (${shape}), found ${fields.length}`, 0);
  }
}
