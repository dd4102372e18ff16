// The project's one error class. Detections are results, not errors; this is for operational
// failures (a database that cannot be loaded, an option out of range). Check `code`, not messages.

/** Every code a VigilError can carry. */
export type VigilErrorCode =
  | 'E_SIGNATURE' // a signature file has bad lines (see `diagnostics`)
  | 'E_DATABASE_FORMAT' // a compiled database is corrupt, truncated or of another version
  | 'E_CVD' // a .cvd/.cld/.cud container is malformed or its signature does not verify
  | 'E_OPTION' // an option has an invalid value
  | 'E_IO' // a file could not be read
  | 'E_LIMIT' // a configured limit stopped the work
  | 'E_INTERNAL'; // a bug: an invariant did not hold

/** The base error of Vigil, with a stable code and structured details. */
export class VigilError extends Error {
  readonly code: VigilErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: VigilErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VigilError';
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

/** True when `e` is a VigilError, optionally of the given code. */
export function isVigilError(e: unknown, code?: VigilErrorCode): e is VigilError {
  return e instanceof VigilError && (code === undefined || e.code === code);
}
