/**
 * Typed client of the payment center's channel API (医保移动支付, shaped after the national 6201–6401), for hospital
 * and pharmacy systems. Every call is signed as a channel envelope (SM2 over SM3, optional SM4 body) by
 * createChannelClient; mutating calls take an idempotency key (a repeat returns the first answer). Money in fen.
 */
import { type ChannelCallOptions, type ChannelClientOptions, createCenterClient } from '../channel-client.ts';

export type OrderStatus =
  | 'created'
  | 'pre_settled'
  | 'awaiting_payment'
  | 'cash_paid'
  | 'insurance_settled'
  | 'completed'
  | 'cancelled'
  | 'refunding'
  | 'partially_refunded'
  | 'refunded'
  | 'failed'
  | 'abnormal';

export interface FeeDetail {
  /** the institution's line number */
  feedetlSn: string;
  /** insurance catalogue code */
  medListCodg: string;
  cnt: number;
  /** unit price, fen */
  pric: number;
}

export interface Upload6201 {
  /** H/P + 11 digits */
  orgCodg: string;
  /** the institution's business serial: a repeat upload returns the same order */
  orgBizSer: string;
  /** 01 e-voucher (ecToken), 02 resident ID, 03 person number */
  mdtrtCertType: '01' | '02' | '03';
  mdtrtCertNo: string;
  medType: '11' | '14' | '21' | '41';
  feedetail: FeeDetail[];
}

export interface OrderResult {
  payOrdId: string;
  orgBizSer: string;
  ordStas: OrderStatus;
  ordStasName: string;
  feeSumamt: number;
  fundPay: number;
  psnAcctPay: number;
  ownPayAmt: number;
  /** personal-account balance after this payment (pre-settled) */
  balc: number | null;
  setlId: string | null;
  setlTime: string | null;
  /** the provider's cashier page for the person (awaiting payment) */
  cashierUrl: string | null;
  expireTime: string | null;
  refdFundAmt: number;
  refdAcctAmt: number;
  refdCashAmt: number;
  failCode: string | null;
  failReason: string | null;
}

/** A fee line as the platform priced it (6201 and 6301 answers). */
export interface PricedFeeDetail {
  feedetlSn: string;
  medListCodg: string;
  medListName: string;
  /** A 甲 / B 乙 / C 丙 */
  chrgitmLv: 'A' | 'B' | 'C';
  cnt: number;
  pric: number;
  detItemFeeSumamt: number;
  fulamtOwnpayAmt: number;
  overlmtSelfpay: number;
  preselfpayAmt: number;
  inscpScpAmt: number;
}

export interface Upload6201Result extends OrderResult {
  payToken: string;
  feedetail: PricedFeeDetail[];
}

export interface OrderRef {
  payOrdId: string;
  payToken: string;
}

export interface Refund6203 extends OrderRef {
  /** the application's refund serial (idempotent) */
  appRefdSn: string;
  /** ALL: fund + account + cash; CASH: part of the cash leg only (where the region's policy allows) */
  refdType: 'ALL' | 'CASH';
  cashRefdAmt?: number;
  expContent: string;
}

export interface RefundResult {
  payOrdId: string;
  appRefdSn: string;
  refdId: string;
  refdStas: 'pending' | 'succeeded' | 'failed';
  totlRefdAmt: number;
  fundRefdAmt: number;
  psnAcctRefdAmt: number;
  cashRefdAmt: number;
  fundRefdStas: 'none' | 'pending' | 'succeeded' | 'failed';
  cashRefdStas: 'none' | 'pending' | 'succeeded' | 'failed';
}

export interface PaymentClient {
  upload6201(data: Upload6201, options?: ChannelCallOptions): Promise<Upload6201Result>;
  place6202(data: OrderRef, options?: ChannelCallOptions): Promise<OrderResult>;
  refund6203(data: Refund6203, options?: ChannelCallOptions): Promise<RefundResult>;
  query6301(
    data: { payOrdId: string },
    options?: ChannelCallOptions,
  ): Promise<OrderResult & { feedetail: PricedFeeDetail[]; refdList: RefundResult[] }>;
  cancel6401(data: OrderRef & { expContent?: string }, options?: ChannelCallOptions): Promise<OrderResult>;
}

/** `baseUrl` is the platform's origin, e.g. "https://yibao.example". */
export function createPaymentClient(options: ChannelClientOptions): PaymentClient {
  const client = createCenterClient('payment', options);
  return {
    upload6201: (data, o) => client.call('6201', '6201', data, o),
    place6202: (data, o) => client.call('6202', '6202', data, o),
    refund6203: (data, o) => client.call('6203', '6203', data, o),
    query6301: (data, o) => client.call('6301', '6301', data, o),
    cancel6401: (data, o) => client.call('6401', '6401', data, o),
  };
}
