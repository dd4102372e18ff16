// The licensing package: the regional availability policy (policy.ts), the decision on one
// request (decide.ts) and the dry run of a proposed policy over licences (dryrun.ts). Licence
// storage, the HTTP service and policy signing live elsewhere and come later.
export { COUNTRY_CODES, isCountryCode } from './countries.js';
export {
  type Customer,
  type DecideRequest,
  type Decision,
  decide,
  inForce,
  isExempt,
  type Notice,
  noticesDue,
  ruleInForce,
  type Signals,
} from './decide.js';
export {
  ACTION_SCOPE,
  type AffectedLicence,
  type DeniedChange,
  type DryRunResult,
  type DryRunWindow,
  dryRun,
  formatDryRun,
  type LicenceRecord,
} from './dryrun.js';
export { isLicensingError, LicensingError, type LicensingErrorCode } from './errors.js';
export { DAY_MS, formatInstant, parseInstant } from './instant.js';
export { POLICY_LIMITS } from './limits.js';
export {
  ACTIONS,
  type Action,
  type ExistingInstallations,
  type Jurisdiction,
  type Policy,
  type PolicyRule,
  parsePolicy,
  type RuleNotice,
  rulesOf,
  validatePolicy,
} from './policy.js';
