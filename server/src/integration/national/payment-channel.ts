/**
 * The national mobile-payment interfaces (医保移动支付) the payment center's institution channel speaks: 6201 fee
 * upload, 6202 place order, 6203 refund, 6301 result query, 6401 cancel upload. The national field names live here
 * only (house style: under `integration/`): the request schemas parse a channel's `data` and translate it into the
 * payment center's glossary names, and the `…ToNational` functions translate the center's answers back.
 * Money at this boundary is integer fen, like everywhere in the platform.
 *
 * The shapes this file reads are structural (below), so `integration/` does not depend on the payment center.
 */
import { z } from 'zod';
import type { CredentialType, MedicalType } from '../core-zone/port.ts';

// ------------------------------------------------------------------------------- the center's side (glossary)

export type ChannelRefundKind = 'full' | 'partial';

/** 6201 translated: what the payment center's `upload` takes (besides region, channel and actor). */
export interface FeeUploadRequest {
  institutionCode: string;
  institutionOrderNo: string;
  credential: { type: CredentialType; value: string };
  medicalType: MedicalType;
  lines: Array<{ lineNo: string; code: string; quantity: number; unitPrice: number }>;
}

export interface OrderReference {
  orderId: string;
  payToken: string;
}

export interface RefundRequest extends OrderReference {
  appRefundSn: string;
  kind: ChannelRefundKind;
  /** the cash to refund (partial refunds only) */
  cashAmount?: number;
  reason: string;
}

export interface CancelRequest extends OrderReference {
  reason?: string;
}

/** What the translation reads of an order (the payment center's `Order` has these fields). */
export interface ChannelOrder {
  id: string;
  payToken: string;
  institutionOrderNo: string;
  status: string;
  total: number;
  fundPayment: number | null;
  accountPayment: number | null;
  cashPayment: number | null;
  accountBalanceAfter: number | null;
  settlementId: string | null;
  settledAt: string | null;
  cashierUrl: string | null;
  payExpiresAt: string | null;
  refundedFund: number;
  refundedAccount: number;
  refundedCash: number;
  failureCode: string | null;
  failureReason: string | null;
  lines: Array<{
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
  }>;
}

/** What the translation reads of a refund (the payment center's `Refund` has these fields). */
export interface ChannelRefund {
  id: string;
  orderId: string;
  appRefundSn: string;
  status: string;
  fundAmount: number;
  accountAmount: number;
  cashAmount: number;
  insuranceStatus: string;
  cashStatus: string;
}

// ------------------------------------------------------------------------------------- requests (national)

const fen = z.number().int().min(0).max(9_000_000_000_000);
const orderRef = {
  payOrdId: z.string().min(10).max(40).describe('支付订单号 (6201 返回)'),
  payToken: z.string().min(16).max(64).describe('支付令牌 (6201 返回)'),
};
const toReference = (d: { payOrdId: string; payToken: string }): OrderReference => ({
  orderId: d.payOrdId,
  payToken: d.payToken,
});

export const upload6201 = z
  .strictObject({
    orgCodg: z
      .string()
      .regex(/^[HP]\d{11}$/, '应为 H/P 加 11 位数字')
      .describe('定点医药机构编号'),
    orgBizSer: z.string().min(1).max(64).describe('机构业务流水号（同一渠道内唯一，重复上传返回同一订单）'),
    mdtrtCertType: z.enum(['01', '02', '03']).describe('就诊凭证类型 01 电子凭证 02 身份证 03 社保卡'),
    mdtrtCertNo: z.string().min(1).max(64).describe('就诊凭证编号 (ecToken / 身份证号 / 人员编号)'),
    medType: z.enum(['11', '14', '21', '41']).describe('医疗类别'),
    feedetail: z
      .array(
        z.strictObject({
          feedetlSn: z.string().min(1).max(30).describe('费用明细流水号'),
          medListCodg: z.string().min(1).max(30).describe('医保目录编码'),
          cnt: z.number().int().min(1).max(1_000_000).describe('数量'),
          pric: fen.describe('单价（分）'),
        }),
      )
      .min(1)
      .max(500)
      .describe('费用明细'),
  })
  .transform(
    (d): FeeUploadRequest => ({
      institutionCode: d.orgCodg,
      institutionOrderNo: d.orgBizSer,
      credential: { type: d.mdtrtCertType, value: d.mdtrtCertNo },
      medicalType: d.medType,
      lines: d.feedetail.map((l) => ({ lineNo: l.feedetlSn, code: l.medListCodg, quantity: l.cnt, unitPrice: l.pric })),
    }),
  );

export const place6202 = z.strictObject({ ...orderRef }).transform(toReference);

export const refund6203 = z
  .strictObject({
    ...orderRef,
    appRefdSn: z.string().min(1).max(64).describe('应用退款流水号（幂等）'),
    refdType: z.enum(['ALL', 'CASH']).describe('ALL 全额退款（统筹、个账、自费） CASH 仅退自费部分'),
    cashRefdAmt: fen.optional().describe('CASH 时的退款金额（分）'),
    expContent: z.string().min(1).max(200).describe('退款原因'),
  })
  .superRefine((d, c) => {
    if (d.refdType === 'CASH' && d.cashRefdAmt === undefined)
      c.addIssue({ code: 'custom', path: ['cashRefdAmt'], message: '仅退自费时必填' });
  })
  .transform(
    (d): RefundRequest => ({
      ...toReference(d),
      appRefundSn: d.appRefdSn,
      kind: d.refdType === 'ALL' ? 'full' : 'partial',
      cashAmount: d.cashRefdAmt,
      reason: d.expContent,
    }),
  );

export const query6301 = z.strictObject({ payOrdId: orderRef.payOrdId }).transform((d) => ({ orderId: d.payOrdId }));

export const cancel6401 = z
  .strictObject({
    ...orderRef,
    expContent: z.string().max(200).optional().describe('撤销原因'),
  })
  .transform((d): CancelRequest => ({ ...toReference(d), reason: d.expContent }));

// -------------------------------------------------------------------------------------- answers (national)
// Schemas as well as functions: the routes declare them as their 200 answers, so /docs shows an integrator every
// field, and the functions' return types are checked against them.

const amount = z.number().int();
const text = z.string().nullable();

/** An order as 6202/6401 answer it (and 6201/6301 with more). */
export const orderAnswer = z.object({
  payOrdId: z.string().describe('支付订单号'),
  orgBizSer: z.string().describe('机构业务流水号'),
  ordStas: z
    .string()
    .describe(
      '订单状态（created pre_settled awaiting_payment cash_paid insurance_settled completed cancelled refunding partially_refunded refunded failed abnormal）',
    ),
  ordStasName: z.string().describe('订单状态名称'),
  feeSumamt: amount.describe('费用总额（分）'),
  fundPay: amount.describe('统筹基金支付（分）'),
  psnAcctPay: amount.describe('个人账户支付（分）'),
  ownPayAmt: amount.describe('个人现金支付（分）'),
  balc: amount.nullable().describe('支付后个人账户余额（分）'),
  setlId: text.describe('核心区结算流水号'),
  setlTime: text.describe('结算时间'),
  cashierUrl: text.describe('收银台地址（待支付时）'),
  expireTime: text.describe('支付截止时间'),
  refdFundAmt: amount.describe('已退统筹（分）'),
  refdAcctAmt: amount.describe('已退个人账户（分）'),
  refdCashAmt: amount.describe('已退现金（分）'),
  failCode: text.describe('失败代码'),
  failReason: text.describe('失败原因'),
});

/** A priced fee line as 6201 and 6301 answer it. */
export const feedetailAnswer = z.object({
  feedetlSn: z.string().describe('费用明细流水号'),
  medListCodg: z.string().describe('医保目录编码'),
  medListName: z.string().describe('目录名称'),
  chrgitmLv: z.enum(['A', 'B', 'C']).describe('收费项目等级 A 甲类 B 乙类 C 丙类'),
  cnt: z.number().int().describe('数量'),
  pric: amount.describe('单价（分）'),
  detItemFeeSumamt: amount.describe('明细金额（分）'),
  fulamtOwnpayAmt: amount.describe('全自费金额（分）'),
  overlmtSelfpay: amount.describe('超限价自付（分）'),
  preselfpayAmt: amount.describe('先行自付（分）'),
  inscpScpAmt: amount.describe('符合政策范围金额（分）'),
});

/** A refund as 6203 (and 6301's refdList) answer it. */
export const refundAnswer = z.object({
  payOrdId: z.string().describe('支付订单号'),
  appRefdSn: z.string().describe('应用退款流水号'),
  refdId: z.string().describe('退款单号'),
  refdStas: z.string().describe('退款状态 pending succeeded failed'),
  totlRefdAmt: amount.describe('退款总额（分）'),
  fundRefdAmt: amount.describe('统筹退款（分）'),
  psnAcctRefdAmt: amount.describe('个人账户退款（分）'),
  cashRefdAmt: amount.describe('现金退款（分）'),
  fundRefdStas: z.string().describe('医保部分（统筹、个账）退款状态'),
  cashRefdStas: z.string().describe('现金部分退款状态'),
});

export const upload6201Answer = orderAnswer.extend({
  payToken: z.string().describe('支付令牌（6202/6203/6401 携带）'),
  feedetail: z.array(feedetailAnswer).describe('预结算后的费用明细'),
});

export const query6301Answer = orderAnswer.extend({
  feedetail: z.array(feedetailAnswer).describe('费用明细'),
  refdList: z.array(refundAnswer).describe('退款记录'),
});

/** An order as 6202/6301/6401 answer it; `statusLabel` is the center's Chinese name of the status. */
export function orderToNational(o: ChannelOrder, statusLabel: string): z.infer<typeof orderAnswer> {
  return {
    payOrdId: o.id,
    orgBizSer: o.institutionOrderNo,
    ordStas: o.status,
    ordStasName: statusLabel,
    feeSumamt: o.total,
    fundPay: o.fundPayment ?? 0,
    psnAcctPay: o.accountPayment ?? 0,
    ownPayAmt: o.cashPayment ?? 0,
    balc: o.accountBalanceAfter,
    setlId: o.settlementId,
    setlTime: o.settledAt,
    cashierUrl: o.cashierUrl,
    expireTime: o.payExpiresAt,
    refdFundAmt: o.refundedFund,
    refdAcctAmt: o.refundedAccount,
    refdCashAmt: o.refundedCash,
    failCode: o.failureCode,
    failReason: o.failureReason,
  };
}

/** The order's fee lines as 6201 and 6301 answer them. */
function feedetailOf(o: ChannelOrder): Array<z.infer<typeof feedetailAnswer>> {
  return o.lines.map((l) => ({
    feedetlSn: l.lineNo,
    medListCodg: l.code,
    medListName: l.name,
    chrgitmLv: l.itemClass,
    cnt: l.quantity,
    pric: l.unitPrice,
    detItemFeeSumamt: l.amount,
    fulamtOwnpayAmt: l.fullySelfPaid,
    overlmtSelfpay: l.overPriceCap,
    preselfpayAmt: l.preSelfPay,
    inscpScpAmt: l.inScope,
  }));
}

/** The 6201 answer: the order, its pay token and the pre-settled fee lines. */
export function uploadToNational(o: ChannelOrder, statusLabel: string): z.infer<typeof upload6201Answer> {
  return { ...orderToNational(o, statusLabel), payToken: o.payToken, feedetail: feedetailOf(o) };
}

/** A refund as 6203 (and 6301's `refdList`) answer it. */
export function refundToNational(r: ChannelRefund): z.infer<typeof refundAnswer> {
  return {
    payOrdId: r.orderId,
    appRefdSn: r.appRefundSn,
    refdId: r.id,
    refdStas: r.status,
    totlRefdAmt: r.fundAmount + r.accountAmount + r.cashAmount,
    fundRefdAmt: r.fundAmount,
    psnAcctRefdAmt: r.accountAmount,
    cashRefdAmt: r.cashAmount,
    fundRefdStas: r.insuranceStatus,
    cashRefdStas: r.cashStatus,
  };
}

/** The 6301 answer: the order and its refunds. */
export function queryToNational(
  o: ChannelOrder,
  statusLabel: string,
  refunds: ChannelRefund[],
): z.infer<typeof query6301Answer> {
  return { ...orderToNational(o, statusLabel), feedetail: feedetailOf(o), refdList: refunds.map(refundToNational) };
}
