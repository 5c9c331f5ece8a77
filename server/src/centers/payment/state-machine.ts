/**
 * Payment order state machine. Every move is checked here and stored as a row of payment_order_transition by the
 * service, under optimistic locking (the order's version column), so two callers can never both move one order.
 */
import { AppError } from '../../platform/errors.ts';

export const ORDER_STATUSES = [
  'created',
  'pre_settled',
  'awaiting_payment',
  'cash_paid',
  'insurance_settled',
  'completed',
  'cancelled',
  'refunding',
  'partially_refunded',
  'refunded',
  'failed',
  'abnormal',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const STATUS_LABELS: Record<OrderStatus, string> = {
  created: '已上传',
  pre_settled: '已预结算',
  awaiting_payment: '待支付',
  cash_paid: '自费已支付',
  insurance_settled: '医保已结算',
  completed: '已完成',
  cancelled: '已撤销',
  refunding: '退款中',
  partially_refunded: '部分退款',
  refunded: '已退款',
  failed: '支付失败',
  abnormal: '异常',
};

/** from → allowed targets. `refunding → failed` is the saga's compensation (冲正) of a cash leg. */
const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  created: ['pre_settled', 'cancelled', 'failed'],
  pre_settled: ['pre_settled', 'awaiting_payment', 'cash_paid', 'cancelled', 'failed'],
  awaiting_payment: ['cash_paid', 'cancelled', 'failed', 'abnormal'],
  cash_paid: ['insurance_settled', 'refunding', 'abnormal'],
  insurance_settled: ['completed'],
  completed: ['refunding'],
  partially_refunded: ['refunding'],
  refunding: ['refunded', 'partially_refunded', 'failed', 'abnormal'],
  refunded: [],
  cancelled: [],
  failed: [],
  abnormal: ['cash_paid', 'refunding', 'completed', 'failed', 'cancelled'],
};

export const FINAL_STATUSES: readonly OrderStatus[] = [
  'completed',
  'refunded',
  'partially_refunded',
  'cancelled',
  'failed',
];

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from]?.includes(to) ?? false;
}

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) {
    throw new AppError(
      409,
      'PAYMENT_ILLEGAL_TRANSITION',
      '订单状态不允许此操作',
      `订单当前为「${STATUS_LABELS[from] ?? from}」，不能变为「${STATUS_LABELS[to] ?? to}」`,
      { extra: { from, to } },
    );
  }
}

export function allowedTargets(from: OrderStatus): readonly OrderStatus[] {
  return TRANSITIONS[from];
}
