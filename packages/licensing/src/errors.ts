// The licensing package's one error class: a stable code to branch on, the place in the input
// that is wrong, and a message that says what was refused and why. A denied action is not an
// error: `decide` returns it as a decision.

/** Every code a LicensingError can carry. */
export type LicensingErrorCode =
  /** A policy document that does not parse or does not validate (see `source` and `path`). */
  | 'E_POLICY'
  /** A request or licence record handed to the engine with an invalid value. */
  | 'E_INPUT';

/** The error of the licensing package, with a stable code and the place of the problem. */
export class LicensingError extends Error {
  override readonly name = 'LicensingError';
  /** What went wrong, to branch on. */
  readonly code: LicensingErrorCode;
  /** The document or input the problem is in, e.g. `policy.json`. */
  readonly source: string;
  /** Where in it, e.g. `jurisdictions[0].rules[2].effective`; empty for the whole document. */
  readonly path: string;

  constructor(
    code: LicensingErrorCode,
    message: string,
    options: { readonly source: string; readonly path: string; readonly cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.source = options.source;
    this.path = options.path;
  }
}

/** True when `e` is a LicensingError, optionally of the given code. */
export function isLicensingError(e: unknown, code?: LicensingErrorCode): e is LicensingError {
  return e instanceof LicensingError && (code === undefined || e.code === code);
}
