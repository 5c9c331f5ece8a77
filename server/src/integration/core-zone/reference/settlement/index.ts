/** Public API of the reference core zone's pure settlement engine. */

export { DEMO_POLICIES } from './demo-policies.ts';
export type {
  Accumulators,
  FeeLine,
  ItemClass,
  LineSplit,
  ReversalResult,
  SettlementInput,
  SettlementSplit,
} from './engine.ts';
export { ITEM_CLASSES, MAX_QUANTITY, reverse, settle, splitLine } from './engine.ts';
export type { SettlementErrorCode } from './errors.ts';
export {
  EmptyFeeListError,
  InvalidAgeError,
  InvalidAmountError,
  InvalidDateError,
  InvalidPolicyError,
  InvalidQuantityError,
  InvalidRatioError,
  NoPolicyInForceError,
  NoPolicyRuleError,
  ReversalMismatchError,
  SettlementError,
  SettlementInvariantError,
  UnknownItemClassError,
} from './errors.ts';
export { BP_SCALE, MAX_FEN, mulBpFloor, mulBpRoundHalfUp } from './money.ts';
export type {
  AgeBand,
  InstitutionLevel,
  InsuranceType,
  MedicalType,
  Policy,
  PolicyRule,
  ResolvedRule,
  RuleKey,
} from './policy.ts';
export {
  ageBandFor,
  findRule,
  INSTITUTION_LEVELS,
  INSURANCE_TYPES,
  MAX_AGE,
  MEDICAL_TYPES,
  parsePolicies,
  parsePolicy,
  policySchema,
  selectPolicy,
} from './policy.ts';
