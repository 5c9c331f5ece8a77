import { formatFen } from '../../components/States';
import { chinaDay, hourMinute } from '../../lib/time';

/** Integer fen → "1,234.56" as everywhere else in the halls; "-" for an amount not computed yet. */
export const yuan = (fen: number | null | undefined): string =>
  fen === null || fen === undefined ? '-' : formatFen(fen);

export const CLASS_TAGS: Record<string, { text: string; color: string }> = {
  A: { text: '甲类', color: 'green' },
  B: { text: '乙类', color: 'gold' },
  C: { text: '丙类/自费', color: 'red' },
};

export const STATUS_COLORS: Record<string, string> = {
  created: 'default',
  pre_settled: 'processing',
  awaiting_payment: 'processing',
  cash_paid: 'cyan',
  insurance_settled: 'cyan',
  completed: 'success',
  cancelled: 'default',
  refunding: 'warning',
  partially_refunded: 'orange',
  refunded: 'purple',
  failed: 'error',
  abnormal: 'error',
};

export const STATUS_TEXT: Record<string, string> = {
  created: '已上传',
  pre_settled: '待确认',
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

export const LEG_STATUS: Record<string, { text: string; color: string }> = {
  none: { text: '无需退', color: 'default' },
  pending: { text: '处理中', color: 'processing' },
  succeeded: { text: '已退回', color: 'success' },
  failed: { text: '失败', color: 'error' },
};

export const REFUND_KIND: Record<string, string> = {
  full: '全额退款',
  partial: '部分退款（自费）',
  compensation: '自动冲正',
  late_payment: '逾期到账退回',
};

export const MEDICAL_TYPES: Record<string, string> = {
  '11': '普通门诊',
  '14': '门诊慢特病',
  '21': '住院',
  '41': '定点药店购药',
};

export { dateTime } from '../../lib/time';

/** Until when a bill waits for its person, in their words: 「请于 14:05 前确认，逾期自动取消」. */
export function dueText(o: Pick<PaymentOrder, 'status' | 'dueAt'>, now = new Date()): string | undefined {
  if (!o.dueAt) return undefined;
  const due = new Date(o.dueAt);
  const hm = hourMinute(due);
  const day = chinaDay(due);
  const [, m, d] = day.split('-').map(Number);
  const when = day === chinaDay(now) ? hm : `${m}月${d}日 ${hm}`;
  return `请于 ${when} 前${o.status === 'pre_settled' ? '确认' : '完成支付'}，逾期自动取消`;
}

export interface OrderLine {
  lineNo: string;
  code: string;
  name: string;
  itemClass: 'A' | 'B' | 'C';
  quantity: number;
  unitPrice: number;
  amount: number;
  fullySelfPaid: number;
  overPriceCap: number;
  preSelfPay: number;
  inScope: number;
}

export interface PaymentRefund {
  id: string;
  kind: string;
  reason: string;
  status: 'pending' | 'succeeded' | 'failed';
  fundAmount: number;
  accountAmount: number;
  cashAmount: number;
  insuranceStatus: string;
  cashStatus: string;
  createdAt: string;
  finishedAt: string | null;
  requestedBy?: string;
  lastError?: string | null;
}

export interface PaymentOrder {
  id: string;
  status: string;
  statusLabel: string;
  institutionCode: string;
  /** the core zone registry's name at upload; null for older orders or when the registry did not answer */
  institutionName: string | null;
  institutionOrderNo: string;
  medicalType: string;
  lines: OrderLine[];
  total: number;
  useAccount: boolean;
  fundPayment: number | null;
  accountPayment: number | null;
  cashPayment: number | null;
  accountBalanceAfter: number | null;
  refundedFund: number;
  refundedAccount: number;
  refundedCash: number;
  cashierUrl: string | null;
  payExpiresAt: string | null;
  /** when the person's turn runs out (confirm, then pay); null when nothing waits for them */
  dueAt?: string | null;
  provider: string | null;
  settlementId: string | null;
  settledAt: string | null;
  failureCode: string | null;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
  refunds?: PaymentRefund[];
  providerLabel?: string;
}

/** What came back, leg by leg, naming only the legs that did: 「已退：统筹 ¥12.00 · 自费 ¥180.00」; none: undefined. */
export function refundedText(o: Pick<PaymentOrder, 'refundedFund' | 'refundedAccount' | 'refundedCash'>) {
  const legs = [
    ['统筹', o.refundedFund],
    ['个账', o.refundedAccount],
    ['自费', o.refundedCash],
  ] as const;
  const back = legs.filter(([, fen]) => fen > 0).map(([leg, fen]) => `${leg} ¥${yuan(fen)}`);
  return back.length > 0 ? `已退：${back.join(' · ')}` : undefined;
}

/** Who the bill is from, as a patient reads it: the institution's name, else its code. */
export const institutionLabel = (o: Pick<PaymentOrder, 'institutionCode' | 'institutionName'>) =>
  o.institutionName ?? `定点医药机构 ${o.institutionCode}`;
