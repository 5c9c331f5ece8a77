/**
 * Payment-provider port (third-party cash leg: WeChat Pay / Alipay / UnionPay style). The platform depends on this
 * interface only; `sandbox/` is a provider that speaks the same protocol against a local counterpart (沙箱).
 *
 * Protocol (shared by the sandbox server and its client):
 *  - every request to the provider and every notification from it carries `x-pay-timestamp`, `x-pay-nonce` and
 *    `x-pay-signature` = hex HMAC-SM3(merchant secret, `${timestamp}\n${nonce}\n${method} ${path}\n${body}`);
 *  - merchant order number (outTradeNo) = our order id, refund number (outRefundNo) = our refund id: the provider
 *    deduplicates on them, which makes every mutating call idempotent;
 *  - notifications carry a per-order sequence number so a stale one can be recognised when delivered out of order.
 */
import { signedHttpHeaders, verifySignedHttp } from '../../../platform/crypto/index.ts';

export type ProviderOrderStatus = 'NOTPAY' | 'USERPAYING' | 'SUCCESS' | 'CLOSED' | 'PAYERROR' | 'NOTFOUND';

export interface PrepayRequest {
  outTradeNo: string;
  amount: number;
  description: string;
  notifyUrl: string;
  expiresAt: Date;
}

export interface PrepayResult {
  prepayId: string;
  cashierUrl: string;
}

export interface ProviderOrder {
  outTradeNo: string;
  status: ProviderOrderStatus;
  amount: number;
  transactionId?: string;
  paidAt?: string;
  refunded: number;
  seq: number;
}

export type ProviderRefundStatus = 'SUCCESS' | 'PROCESSING' | 'FAILED' | 'NOTFOUND';

export interface RefundRequest {
  outTradeNo: string;
  outRefundNo: string;
  amount: number;
  reason: string;
}

export interface ProviderRefund {
  outRefundNo: string;
  status: ProviderRefundStatus;
  amount: number;
  refundId?: string;
}

export interface StatementLine {
  type: 'PAY' | 'REFUND';
  outTradeNo: string;
  outRefundNo?: string;
  transactionId: string;
  amount: number;
  at: string;
}

export interface ProviderNotification {
  id: string;
  eventType: 'TRANSACTION.SUCCESS' | 'TRANSACTION.USERPAYING' | 'TRANSACTION.FAIL' | 'REFUND.SUCCESS';
  outTradeNo: string;
  seq: number;
  amount: number;
  transactionId?: string;
  outRefundNo?: string;
  at: string;
}

export interface PaymentProvider {
  /** e.g. "sandbox"; stored on each order. */
  readonly name: string;
  /** Chinese label shown in UI and logs; a sandbox says 沙箱. */
  readonly label: string;
  readonly sandbox: boolean;
  createPrepay(req: PrepayRequest): Promise<PrepayResult>;
  queryOrder(outTradeNo: string): Promise<ProviderOrder>;
  /** Closes an unpaid order; `ORDERPAID` when the person paid in the meantime. */
  closeOrder(outTradeNo: string): Promise<{ result: 'CLOSED' | 'ORDERPAID' | 'NOTFOUND' }>;
  refund(req: RefundRequest): Promise<ProviderRefund>;
  queryRefund(outRefundNo: string): Promise<ProviderRefund>;
  /** The provider's statement (对账单) for a business date (yyyy-mm-dd, China time). */
  statement(date: string): Promise<StatementLine[]>;
  /** Verifies a notification's signature and parses it; throws ProviderSignatureError. */
  verifyNotification(headers: Record<string, string | string[] | undefined>, rawBody: string): ProviderNotification;
}

/** The provider did not answer (timeout, connection refused, 5xx): the outcome of a mutating call is unknown. */
export class ProviderUnavailableError extends Error {
  override readonly name = 'ProviderUnavailableError';
}
/** The provider answered with a definite refusal. */
export class ProviderRejectedError extends Error {
  override readonly name = 'ProviderRejectedError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
export class ProviderSignatureError extends Error {
  override readonly name = 'ProviderSignatureError';
}

/** Provider calls and notifications are signed HTTP with the `x-pay-` headers (platform/crypto/signed-http.ts). */
export const signedHeaders = (secret: string, method: string, path: string, body: string) =>
  signedHttpHeaders('x-pay', secret, method, path, body);

export const verifySigned = (
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  method: string,
  path: string,
  body: string,
  now = Date.now(),
) => verifySignedHttp('x-pay', secret, headers, method, path, body, now);

export { businessDate } from '../../../platform/time.ts';
