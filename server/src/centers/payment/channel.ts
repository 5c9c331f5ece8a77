/**
 * The institution channel boundary of the payment center, shaped after the national mobile-payment interfaces
 * 6201 (fee upload), 6202 (place order), 6203 (refund), 6301 (result query) and 6401 (cancel upload). The national
 * field names live in this file only; everything past it uses the English names of DOMAIN.md's glossary.
 * Money at this boundary is integer fen, like everywhere in the platform.
 */
import { z } from 'zod';
import type { Order, Refund } from './service.ts';
import { STATUS_LABELS } from './state-machine.ts';

const fen = z.number().int().min(0).max(9_000_000_000_000);
const orderRef = {
  payOrdId: z.string().min(10).max(40).describe('支付订单号 (6201 返回)'),
  payToken: z.string().min(16).max(64).describe('支付令牌 (6201 返回)'),
};

export const upload6201 = z.strictObject({
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
});

export const place6202 = z.strictObject({ ...orderRef });

export const refund6203 = z.strictObject({
  ...orderRef,
  appRefdSn: z.string().min(1).max(64).describe('应用退款流水号（幂等）'),
  refdType: z.enum(['ALL', 'CASH']).describe('ALL 全额退款（统筹、个账、自费） CASH 仅退自费部分'),
  cashRefdAmt: fen.optional().describe('CASH 时的退款金额（分）'),
  expContent: z.string().min(1).max(200).describe('退款原因'),
});

export const query6301 = z.strictObject({ payOrdId: orderRef.payOrdId });

export const cancel6401 = z.strictObject({
  ...orderRef,
  expContent: z.string().max(200).optional().describe('撤销原因'),
});

export function orderOut(o: Order) {
  return {
    payOrdId: o.id,
    orgBizSer: o.institutionOrderNo,
    ordStas: o.status,
    ordStasName: STATUS_LABELS[o.status],
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

export function upload6201Out(o: Order) {
  return {
    ...orderOut(o),
    payToken: o.payToken,
    feedetail: o.lines.map((l) => ({
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
    })),
  };
}

export function refundOut(r: Refund) {
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
