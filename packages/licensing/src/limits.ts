// The caps of the policy parser: a policy is small, hand-written data, so anything far past these
// is a mistake or hostile. Hitting one is an E_POLICY error naming the place and the cap.

/** Caps applied by `parsePolicy` and `validatePolicy`. */
export const POLICY_LIMITS = Object.freeze({
  /** Characters of policy JSON text. */
  maxTextLength: 1024 * 1024,
  /** Rules in one jurisdiction. */
  maxRulesPerJurisdiction: 256,
  /** Characters in a reason, a notice text or a rule id. */
  maxStringLength: 2000,
  /** Customer ids in one rule's exemption list. */
  maxExemptCustomers: 10_000,
  /** How many days ahead a notice may be shown. */
  maxLeadDays: 3650,
});
