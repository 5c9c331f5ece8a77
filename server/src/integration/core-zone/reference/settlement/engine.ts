/**
 * Pure settlement engine of the reference core zone: fee lines + region policy + year-to-date state → the split of
 * a national 2207 result. No I/O. All money integer fen, all ratios integer basis points (see money.ts for the
 * rounding rules and safe-integer bounds).
 *
 * Order of computation
 *  1. per line: amount = unitPrice × quantity; over price cap = max(0, unitPrice − cap) × quantity;
 *     C → fully self-paid = amount (a cap on a C line is ignored); B → pre-self-pay = roundHalfUp((amount − over cap)
 *     × ratio); in scope = amount − over cap − fully self-paid − pre-self-pay.
 *  2. deductible applied = min(in scope, max(0, deductible − deductible paid YTD)).
 *  3. fund = min(floor((in scope − deductible applied) × reimbursement ratio), max(0, ceiling − fund paid YTD)).
 *  4. in-scope self part = in scope − fund; out-of-scope = fully self-paid + over cap + pre-self-pay.
 *  5. account (if useAccount and the rule allows), up to the balance: first the in-scope self part, then (if allowed)
 *     the out-of-scope part. Cash = the rest.
 */

import {
  EmptyFeeListError,
  InvalidQuantityError,
  InvalidRatioError,
  ReversalMismatchError,
  SettlementInvariantError,
  UnknownItemClassError,
} from './errors.ts';
import { assertBasisPoints, assertFen, BP_SCALE, mulBpFloor, mulBpRoundHalfUp } from './money.ts';
import type { InstitutionLevel, InsuranceType, MedicalType, Policy, ResolvedRule } from './policy.ts';
import { findRule } from './policy.ts';

/** A 甲类, fully in scope; B 乙类, in scope after the pre-self-pay share; C 丙类/自费, out of scope. */
export type ItemClass = 'A' | 'B' | 'C';
export const ITEM_CLASSES: readonly ItemClass[] = ['A', 'B', 'C'];
export const MAX_QUANTITY = 1_000_000;

export type FeeLine = {
  code: string;
  name: string;
  itemClass: ItemClass;
  /** fen per unit */
  unitPriceFen: number;
  /** whole units, 1..MAX_QUANTITY */
  quantity: number;
  /** B only: pre-self-pay ratio from the catalogue (bp); defaults to the policy's. A may say 0, C may say 10000. */
  selfPayRatioBp?: number;
  /** Price cap per unit (fen); the part of the unit price above it is self-paid. */
  priceCapFen?: number;
};

/** Year-to-date state of one insured person × year × insurance type × accumulator group. */
export type Accumulators = {
  deductiblePaidYtd: number;
  fundPaidYtd: number;
};

export type SettlementInput = {
  policy: Policy;
  insuranceType: InsuranceType;
  medicalType: MedicalType;
  institutionLevel: InstitutionLevel;
  /** whole years at the date of treatment */
  age: number;
  lines: readonly FeeLine[];
  accumulators: Accumulators;
  accountBalance: number;
  useAccount: boolean;
};

export type LineSplit = {
  code: string;
  name: string;
  itemClass: ItemClass;
  amount: number;
  overPriceCap: number;
  fullySelfPaid: number;
  preSelfPay: number;
  inScope: number;
  /** ratio actually used for the pre-self-pay (0 for A, 10000 for C) */
  selfPayRatioBp: number;
};

/** Amount fields of the split (all fen); used by line sums and the invariant check. */
type Parts = Pick<LineSplit, 'amount' | 'overPriceCap' | 'fullySelfPaid' | 'preSelfPay' | 'inScope'>;

export type SettlementSplit = {
  regionCode: string;
  policyVersion: string;
  policyEffectiveFrom: string;
  insuranceType: InsuranceType;
  medicalType: MedicalType;
  institutionLevel: InstitutionLevel;
  age: number;
  ageBand: string;
  accumulatorGroup: string;
  /** the policy terms that were applied */
  deductibleFen: number;
  reimbursementRatioBp: number;
  annualCeilingFen: number;

  total: number;
  fullySelfPaid: number;
  overPriceCap: number;
  preSelfPay: number;
  inScope: number;
  deductibleApplied: number;
  fundPayment: number;
  /** in scope − fund: deductible + co-pay */
  inScopeSelfPart: number;
  /** fully self-paid + over price cap + pre-self-pay */
  outOfScope: number;
  accountPayment: number;
  accountPaymentInScope: number;
  accountPaymentOutOfScope: number;
  cashPayment: number;
  accountBalanceBefore: number;
  accountBalanceAfter: number;
  accumulatorsBefore: Accumulators;
  accumulatorsAfter: Accumulators;
  lines: LineSplit[];
};

export type ReversalResult = {
  accumulators: Accumulators;
  accountBalance: number;
};

// ---------------------------------------------------------------------------------------------------- per line

function assertItemClass(value: unknown, code: string): ItemClass {
  if (!ITEM_CLASSES.includes(value as ItemClass)) {
    throw new UnknownItemClassError(`line ${code}: item class must be A, B or C, got ${String(value)}`);
  }
  return value as ItemClass;
}

function assertQuantity(value: unknown, code: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_QUANTITY) {
    throw new InvalidQuantityError(`line ${code}: quantity must be an integer in 1..${MAX_QUANTITY}, got ${value}`);
  }
  return value;
}

/** B: the line's ratio or the policy default; A/C: fixed 0/10000, and a contradicting ratio is rejected. */
function selfPayRatioFor(line: FeeLine, itemClass: ItemClass, defaultBp: number): number {
  const given = line.selfPayRatioBp;
  if (given !== undefined) assertBasisPoints(given, `line ${line.code}: selfPayRatioBp`);
  if (itemClass === 'B') return given ?? defaultBp;
  const fixed = itemClass === 'A' ? 0 : BP_SCALE;
  if (given !== undefined && given !== fixed) {
    throw new InvalidRatioError(`line ${line.code}: class ${itemClass} has self-pay ratio ${fixed}, got ${given}`);
  }
  return fixed;
}

/** unitPrice × quantity, rejecting products beyond MAX_FEN (a float product above 2^53 is still > MAX_FEN). */
function lineAmount(unitPrice: number, quantity: number, code: string): number {
  const amount = unitPrice * quantity;
  return assertFen(amount, `line ${code}: unitPriceFen × quantity`);
}

export function splitLine(line: FeeLine, defaultSelfPayRatioBp: number): LineSplit {
  const itemClass = assertItemClass(line.itemClass, line.code);
  const unitPrice = assertFen(line.unitPriceFen, `line ${line.code}: unitPriceFen`);
  const quantity = assertQuantity(line.quantity, line.code);
  const cap =
    line.priceCapFen === undefined ? undefined : assertFen(line.priceCapFen, `line ${line.code}: priceCapFen`);
  const selfPayRatioBp = selfPayRatioFor(line, itemClass, defaultSelfPayRatioBp);
  const amount = lineAmount(unitPrice, quantity, line.code);
  const base = { code: line.code, name: line.name, itemClass, amount, selfPayRatioBp };
  if (itemClass === 'C') {
    return { ...base, overPriceCap: 0, fullySelfPaid: amount, preSelfPay: 0, inScope: 0 };
  }
  const overPriceCap = cap === undefined || unitPrice <= cap ? 0 : (unitPrice - cap) * quantity;
  const preSelfPay = itemClass === 'B' ? mulBpRoundHalfUp(amount - overPriceCap, selfPayRatioBp) : 0;
  const inScope = amount - overPriceCap - preSelfPay;
  return { ...base, overPriceCap, fullySelfPaid: 0, preSelfPay, inScope };
}

function sumParts(lines: readonly LineSplit[]): Parts {
  const sum: Parts = { amount: 0, overPriceCap: 0, fullySelfPaid: 0, preSelfPay: 0, inScope: 0 };
  for (const line of lines) {
    sum.amount += line.amount;
    sum.overPriceCap += line.overPriceCap;
    sum.fullySelfPaid += line.fullySelfPaid;
    sum.preSelfPay += line.preSelfPay;
    sum.inScope += line.inScope;
    assertFen(sum.amount, 'total of all lines');
  }
  return sum;
}

// ------------------------------------------------------------------------------------------------ whole visit

function deductibleToApply(inScope: number, rule: ResolvedRule, ytd: Accumulators): number {
  const remaining = Math.max(0, rule.deductibleFen - ytd.deductiblePaidYtd);
  return Math.min(inScope, remaining);
}

function fundToPay(inScope: number, deductibleApplied: number, rule: ResolvedRule, ytd: Accumulators): number {
  const headroom = Math.max(0, rule.annualCeilingFen - ytd.fundPaidYtd);
  return Math.min(mulBpFloor(inScope - deductibleApplied, rule.reimbursementRatioBp), headroom);
}

type AccountShare = { inScope: number; outOfScope: number };

function accountShare(
  inScopeSelfPart: number,
  outOfScope: number,
  balance: number,
  useAccount: boolean,
  rule: ResolvedRule,
): AccountShare {
  if (!useAccount) return { inScope: 0, outOfScope: 0 };
  const inScope = rule.accountPaysInScopeSelfPart ? Math.min(balance, inScopeSelfPart) : 0;
  const out = rule.accountPaysOutOfScope ? Math.min(balance - inScope, outOfScope) : 0;
  return { inScope, outOfScope: out };
}

function validateState(input: SettlementInput): void {
  assertFen(input.accountBalance, 'accountBalance');
  assertFen(input.accumulators.deductiblePaidYtd, 'accumulators.deductiblePaidYtd');
  assertFen(input.accumulators.fundPaidYtd, 'accumulators.fundPaidYtd');
  if (input.lines.length === 0) throw new EmptyFeeListError();
}

/** Throws SettlementInvariantError unless every part is a non-negative safe integer and the sums close. */
function assertBalanced(s: SettlementSplit): void {
  const parts: Record<string, number> = {
    total: s.total,
    fullySelfPaid: s.fullySelfPaid,
    overPriceCap: s.overPriceCap,
    preSelfPay: s.preSelfPay,
    inScope: s.inScope,
    deductibleApplied: s.deductibleApplied,
    fundPayment: s.fundPayment,
    accountPayment: s.accountPayment,
    cashPayment: s.cashPayment,
    accountBalanceAfter: s.accountBalanceAfter,
  };
  const bad = Object.entries(parts).filter(([, v]) => !Number.isSafeInteger(v) || v < 0);
  const checks: [string, boolean][] = [
    ['parts are non-negative integers', bad.length === 0],
    ['fund + account + cash = total', s.fundPayment + s.accountPayment + s.cashPayment === s.total],
    ['scope parts = total', s.inScope + s.outOfScope === s.total],
    ['out of scope parts', s.fullySelfPaid + s.overPriceCap + s.preSelfPay === s.outOfScope],
    ['deductible within in scope', s.deductibleApplied + s.fundPayment <= s.inScope],
    ['account within balance', s.accountBalanceAfter === s.accountBalanceBefore - s.accountPayment],
  ];
  const failed = checks.filter(([, ok]) => !ok).map(([what]) => what);
  if (failed.length > 0) {
    throw new SettlementInvariantError(`${failed.join(', ')} ${bad.map(([k, v]) => `${k}=${v}`).join(' ')}`.trim());
  }
}

/** Settles one visit. Trusts the policy's values (validate with parsePolicy when loading); validates everything else. */
export function settle(input: SettlementInput): SettlementSplit {
  validateState(input);
  const { policy, accumulators: ytd } = input;
  const rule = findRule(policy, input);
  const lines = input.lines.map((line) => splitLine(line, policy.bClassSelfPayRatioBp));
  const sum = sumParts(lines);
  const deductibleApplied = deductibleToApply(sum.inScope, rule, ytd);
  const fundPayment = fundToPay(sum.inScope, deductibleApplied, rule, ytd);
  const inScopeSelfPart = sum.inScope - fundPayment;
  const outOfScope = sum.fullySelfPaid + sum.overPriceCap + sum.preSelfPay;
  const account = accountShare(inScopeSelfPart, outOfScope, input.accountBalance, input.useAccount, rule);
  const accountPayment = account.inScope + account.outOfScope;
  // computed from its own parts, not as total − fund − account, so that assertBalanced really checks something
  const cashPayment = inScopeSelfPart - account.inScope + (outOfScope - account.outOfScope);
  const split: SettlementSplit = {
    regionCode: policy.regionCode,
    policyVersion: policy.version,
    policyEffectiveFrom: policy.effectiveFrom,
    insuranceType: input.insuranceType,
    medicalType: input.medicalType,
    institutionLevel: input.institutionLevel,
    age: input.age,
    ageBand: rule.ageBand,
    accumulatorGroup: rule.accumulatorGroup,
    deductibleFen: rule.deductibleFen,
    reimbursementRatioBp: rule.reimbursementRatioBp,
    annualCeilingFen: rule.annualCeilingFen,
    total: sum.amount,
    fullySelfPaid: sum.fullySelfPaid,
    overPriceCap: sum.overPriceCap,
    preSelfPay: sum.preSelfPay,
    inScope: sum.inScope,
    deductibleApplied,
    fundPayment,
    inScopeSelfPart,
    outOfScope,
    accountPayment,
    accountPaymentInScope: account.inScope,
    accountPaymentOutOfScope: account.outOfScope,
    cashPayment,
    accountBalanceBefore: input.accountBalance,
    accountBalanceAfter: input.accountBalance - accountPayment,
    accumulatorsBefore: { ...ytd },
    accumulatorsAfter: {
      deductiblePaidYtd: ytd.deductiblePaidYtd + deductibleApplied,
      fundPaidYtd: ytd.fundPaidYtd + fundPayment,
    },
    lines,
  };
  assertBalanced(split);
  return split;
}

// -------------------------------------------------------------------------------------------------- reversal

function subtract(now: number, amount: number, what: string): number {
  if (now < amount) throw new ReversalMismatchError(`${what} is ${now}, cannot take back ${amount}`);
  return now - amount;
}

/**
 * Undoes a settlement (2208 冲正) against the current state: the accumulators give back exactly the deductible and
 * fund the settlement added, the account gets back exactly what it paid. If nothing happened in between, the result
 * equals the settlement's `accumulatorsBefore` / `accountBalanceBefore`. Later settlements are not recomputed.
 */
export function reverse(split: SettlementSplit, accumulatorsNow: Accumulators, balanceNow: number): ReversalResult {
  assertFen(balanceNow, 'balanceNow');
  assertFen(accumulatorsNow.deductiblePaidYtd, 'accumulatorsNow.deductiblePaidYtd');
  assertFen(accumulatorsNow.fundPaidYtd, 'accumulatorsNow.fundPaidYtd');
  if (split.fundPayment + split.accountPayment + split.cashPayment !== split.total) {
    throw new ReversalMismatchError('the settlement to reverse does not balance');
  }
  const accountBalance = balanceNow + split.accountPayment;
  assertFen(accountBalance, 'restored account balance');
  return {
    accumulators: {
      deductiblePaidYtd: subtract(accumulatorsNow.deductiblePaidYtd, split.deductibleApplied, 'deductiblePaidYtd'),
      fundPaidYtd: subtract(accumulatorsNow.fundPaidYtd, split.fundPayment, 'fundPaidYtd'),
    },
    accountBalance,
  };
}
