/**
 * Errors of the reference settlement engine.
 *
 * Each class carries a stable UPPER_SNAKE `code`, an HTTP-ish `status` and a Chinese `title`, the same shape as the
 * platform's `AppError(status, code, chineseTitle, detail?)`, so the HTTP layer can render them as problem+json
 * without a lookup table.
 */

export type SettlementErrorCode =
  | 'CORE_INVALID_AMOUNT'
  | 'CORE_INVALID_QUANTITY'
  | 'CORE_INVALID_RATIO'
  | 'CORE_INVALID_AGE'
  | 'CORE_INVALID_DATE'
  | 'CORE_UNKNOWN_ITEM_CLASS'
  | 'CORE_EMPTY_FEE_LIST'
  | 'CORE_INVALID_POLICY'
  | 'CORE_NO_POLICY_RULE'
  | 'CORE_NO_POLICY_IN_FORCE'
  | 'CORE_REVERSAL_MISMATCH'
  | 'CORE_SETTLEMENT_INVARIANT';

export class SettlementError extends Error {
  readonly status: number;
  readonly code: SettlementErrorCode;
  readonly title: string;
  readonly detail: string | undefined;

  constructor(status: number, code: SettlementErrorCode, title: string, detail?: string) {
    super(detail === undefined ? `${code}: ${title}` : `${code}: ${detail}`);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
  }
}

/** Negative, non-integer, non-finite or too large money amount (fen). */
export class InvalidAmountError extends SettlementError {
  constructor(detail: string) {
    super(422, 'CORE_INVALID_AMOUNT', '金额无效', detail);
  }
}

export class InvalidQuantityError extends SettlementError {
  constructor(detail: string) {
    super(422, 'CORE_INVALID_QUANTITY', '数量无效', detail);
  }
}

/** A ratio that is not an integer number of basis points in 0..10000. */
export class InvalidRatioError extends SettlementError {
  constructor(detail: string) {
    super(422, 'CORE_INVALID_RATIO', '比例无效', detail);
  }
}

export class InvalidAgeError extends SettlementError {
  constructor(detail: string) {
    super(422, 'CORE_INVALID_AGE', '年龄无效', detail);
  }
}

export class InvalidDateError extends SettlementError {
  constructor(detail: string) {
    super(422, 'CORE_INVALID_DATE', '日期无效', detail);
  }
}

export class UnknownItemClassError extends SettlementError {
  constructor(detail: string) {
    super(422, 'CORE_UNKNOWN_ITEM_CLASS', '未知收费项目等级', detail);
  }
}

export class EmptyFeeListError extends SettlementError {
  constructor() {
    super(422, 'CORE_EMPTY_FEE_LIST', '费用明细为空', 'a settlement needs at least one fee line');
  }
}

/** The policy data failed validation; `issues` lists every problem found (path + message). */
export class InvalidPolicyError extends SettlementError {
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super(422, 'CORE_INVALID_POLICY', '待遇政策无效', issues.join('; '));
    this.issues = issues;
  }
}

export class NoPolicyRuleError extends SettlementError {
  constructor(detail: string) {
    super(422, 'CORE_NO_POLICY_RULE', '无匹配的待遇政策规则', detail);
  }
}

export class NoPolicyInForceError extends SettlementError {
  constructor(detail: string) {
    super(422, 'CORE_NO_POLICY_IN_FORCE', '无生效的待遇政策', detail);
  }
}

/** A reversal that would drive an accumulator or the account below zero, or a split that does not balance. */
export class ReversalMismatchError extends SettlementError {
  constructor(detail: string) {
    super(409, 'CORE_REVERSAL_MISMATCH', '冲正数据不一致', detail);
  }
}

/** Internal: the computed split does not add up. Never expected; signals a bug, not bad input. */
export class SettlementInvariantError extends SettlementError {
  constructor(detail: string) {
    super(500, 'CORE_SETTLEMENT_INVARIANT', '结算金额不平衡', detail);
  }
}
