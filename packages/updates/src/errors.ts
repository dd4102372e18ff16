// The updates package's one error class: a stable code to branch on, and a message that says what
// was refused and why.
export type UpdateErrorCode =
  /** A proof that cannot be made or does not verify. */
  | 'E_PROOF'
  /** A note, checkpoint, key or request that does not parse. */
  | 'E_FORMAT'
  /** A signature missing, from an unknown key, or not verifying. */
  | 'E_SIGNATURE'
  /** A checkpoint inconsistent with one seen before: a forked (split) view of the log. */
  | 'E_SPLIT_VIEW'
  /** Fewer witness cosignatures than the policy asks for. */
  | 'E_QUORUM'
  /** The update service refused this installation (its licence, or the regional policy). */
  | 'E_DENIED'
  /** State that cannot be read or written. */
  | 'E_IO';

export class UpdateError extends Error {
  override readonly name = 'UpdateError';
  constructor(
    readonly code: UpdateErrorCode,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
  }
}
