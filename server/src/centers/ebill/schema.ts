import { z } from 'zod';
import { instant, paging } from '../../platform/schemas.ts';

export const billCodeField = z.string().regex(/^\d{8}$/, '票据代码应为 8 位数字');
export const billNumberField = z.string().regex(/^\d{10}$/, '票据号码应为 10 位数字');
export const checkCodeField = z.string().regex(/^[0-9A-Za-z]{6}$/, '校验码应为 6 位字母或数字');

export const verifyBody = z.strictObject({
  billCode: billCodeField,
  billNumber: billNumberField,
  checkCode: checkCodeField,
  /** Bill total in fen. */
  amount: z.number().int().nonnegative(),
  captchaId: z.string().uuid().optional(),
  captchaAnswer: z.string().max(8).optional(),
});
export type VerifyInput = z.infer<typeof verifyBody>;

export const verifyQrBody = z.strictObject({
  qr: z.string().min(10).max(2000),
  captchaId: z.string().uuid().optional(),
  captchaAnswer: z.string().max(8).optional(),
});

/** The bill APIs a channel can be granted. */
export const CHANNEL_APIS = {
  'bill.query': '按机构查询票据',
  'bill.detail': '票据结构化数据',
  'bill.byOrder': '按订单获取票据',
  'bill.verify': '票据查验',
} as const;
export type ChannelApi = keyof typeof CHANNEL_APIS;
export const channelApiField = z.enum(Object.keys(CHANNEL_APIS) as [ChannelApi, ...ChannelApi[]]);

/** A channel's interfaces with their daily quotas, each interface at most once. */
const channelApisField = z
  .array(
    z.strictObject({
      api: channelApiField,
      enabled: z.boolean(),
      dailyQuota: z.number().int().min(0).max(10_000_000),
    }),
  )
  .max(10)
  .refine((apis) => new Set(apis.map((a) => a.api)).size === apis.length, '同一接口只能出现一次');

export const channelCreateBody = z.strictObject({
  name: z.string().min(2).max(60),
  institutionCode: z
    .string()
    .regex(/^[HP]\d{11}$/, '定点机构编码应为 H/P + 11 位数字')
    .optional(),
  contactName: z.string().min(1).max(30).optional(),
  contactMobile: z
    .string()
    .regex(/^1\d{10}$/, '手机号应为 11 位')
    .optional(),
  callbackUrl: z.string().url().max(300).optional(),
  apis: channelApisField.optional(),
});
export type ChannelCreate = z.infer<typeof channelCreateBody>;

export const channelUpdateBody = z.strictObject({
  name: z.string().min(2).max(60).optional(),
  status: z.enum(['enabled', 'disabled']).optional(),
  contactName: z.string().min(1).max(30).nullable().optional(),
  contactMobile: z
    .string()
    .regex(/^1\d{10}$/, '手机号应为 11 位')
    .nullable()
    .optional(),
  callbackUrl: z.string().url().max(300).nullable().optional(),
});
export type ChannelUpdate = z.infer<typeof channelUpdateBody>;

export const channelApisBody = z.strictObject({
  apis: channelApisField,
});

export const channelQueryData = z.strictObject({
  from: instant.optional(),
  to: instant.optional(),
  page: z.number().int().min(1).max(10_000).default(1),
  pageSize: z.number().int().min(1).max(100).default(20),
});
export const channelDetailData = z.strictObject({ billCode: billCodeField, billNumber: billNumberField });
export const channelByOrderData = z.strictObject({ orderId: z.string().min(1).max(64) });
export const channelVerifyData = z.strictObject({
  billCode: billCodeField,
  billNumber: billNumberField,
  checkCode: checkCodeField,
  amount: z.number().int().nonnegative(),
});

export const staffSearchQuery = z.strictObject({
  purpose: z.string().min(2).max(100),
  billCode: billCodeField.optional(),
  billNumber: billNumberField.optional(),
  orderId: z.string().max(64).optional(),
  institutionCode: z.string().max(32).optional(),
  personId: z.string().max(64).optional(),
  kind: z.enum(['blue', 'red']).optional(),
  from: instant.optional(),
  to: instant.optional(),
  ...paging,
});
export type StaffSearch = z.infer<typeof staffSearchQuery>;

// ------------------------------------------------------------------ channel answers (documented in /docs)

const fen = z.number().int();
const billItem = z.object({
  code: z.string().describe('医保目录编码'),
  name: z.string().describe('项目名称'),
  itemClass: z.string().describe('甲乙丙类'),
  quantity: z.number().describe('数量'),
  amount: fen.describe('金额（分）'),
});
const billHead = {
  billCode: z.string().describe('票据代码'),
  billNumber: z.string().describe('票据号码'),
  checkCode: z.string().describe('校验码'),
  kind: z.enum(['blue', 'red']).describe('blue 正常票据 red 红字票据'),
  status: z.enum(['valid', 'partially_reversed', 'reversed']).describe('票据状态'),
  refundedTotal: fen.describe('已冲红金额（分）'),
  issuedAt: z.string().describe('开票时间'),
  settledAt: z.string().describe('结算时间'),
  orderId: z.string().describe('支付订单号'),
};

/** A bill in the institution's list: what the institution needs, the payer's name masked (no account ids). */
export const channelBillListAnswer = z.object({
  total: z.number().int(),
  items: z.array(
    z.object({
      id: z.string().describe('票据记录号'),
      ...billHead,
      payerName: z.string().describe('交款人（脱敏）'),
      institutionCode: z.string(),
      payeeName: z.string().describe('收款单位'),
      total: fen.describe('合计（分）'),
      fundPayment: fen.describe('统筹基金支付（分）'),
      accountPayment: fen.describe('个人账户支付（分）'),
      cashPayment: fen.describe('个人现金支付（分）'),
      items: z.array(billItem),
    }),
  ),
});

/** A bill's structured data (format yibao.ebill/1), with the issuer's signature and the verification QR text. */
export const channelBillAnswer = z.object({
  format: z.literal('yibao.ebill/1'),
  billType: z.string(),
  ...billHead,
  refundId: z.string().nullable().describe('退款单号（红字票据）'),
  payer: z.object({ name: z.string() }),
  payee: z.object({ institutionCode: z.string(), name: z.string() }),
  amounts: z.object({
    total: fen,
    fundPayment: fen,
    accountPayment: fen,
    cashPayment: fen,
    unit: z.literal('fen'),
  }),
  items: z.array(billItem),
  issuer: z.object({
    name: z.string(),
    sandbox: z.boolean().describe('沙箱开票平台'),
    keyId: z.string(),
    signature: z.string().describe('开票方 SM2 签名（base64）'),
    algorithm: z.literal('SM2-with-SM3'),
  }),
  verification: z.object({ qr: z.string().describe('票据二维码内容（查验链接）') }),
});

/** The answer to a verification: valid or reversed (a bill that does not match is a 404 problem). */
export const channelVerifyAnswer = z.object({
  result: z.enum(['valid', 'reversed']),
  bill: z.object({
    billCode: z.string(),
    billNumber: z.string(),
    kind: z.enum(['blue', 'red']),
    issuedAt: z.string(),
    total: fen,
    refundedTotal: fen,
    payeeName: z.string(),
    signatureValid: z.literal(true),
  }),
});
