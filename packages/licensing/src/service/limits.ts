// The caps of the licensing service: identifiers, seats, durations, request bodies, licence files,
// audit pages, the store's waiting line and its retries. Anything past them is a mistake or
// hostile; hitting one is an E_INPUT (or E_TOO_LARGE, E_BUSY) error naming the field and the cap.

/** Caps applied by the licence file parser, the service and its HTTP API. */
export const SERVICE_LIMITS = Object.freeze({
  /** Characters in an id: licence, product, plan, customer, machine. */
  maxIdLength: 128,
  /** Characters in a product's display name. */
  maxNameLength: 200,
  /** Seats of one licence or plan. */
  maxSeats: 1_000_000,
  /** Days of one plan, issue or renewal (about a hundred years). */
  maxDays: 36_500,
  /** Bytes of a licence file's text. */
  maxLicenceFileBytes: 64 * 1024,
  /** Bytes of an HTTP request body. */
  maxBodyBytes: 64 * 1024,
  /** Audit entries in one answer. */
  maxAuditPage: 1000,
  /** Operations waiting for the store before new ones are refused with E_BUSY. */
  maxQueued: 1000,
  /** Times a PostgreSQL transaction is run again after a serialization failure or a deadlock. */
  maxStoreRetries: 3,
  /** Milliseconds a client has to send a whole request. */
  requestTimeoutMs: 10_000,
  /** The latest expiry a licence may have: the end of year 9999, the last ISO 8601 year. */
  maxExpiryMs: Date.UTC(10_000, 0, 1) - 1,
});
