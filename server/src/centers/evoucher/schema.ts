/** Shared shapes of the e-voucher center (tables are plain SQL in migrations/0300_evoucher_center.sql). */
import { z } from 'zod';
import { insuranceSummary, maskedPerson } from '../../integration/national/evoucher-channel.ts';

/** 用码业务类型 (DOMAIN §4). */
export const BUSINESS_TYPES = {
  '01101': '挂号',
  '01301': '结算',
  '01302': '取药',
  '02121': '药店购药',
  '03131': '线上身份核验',
} as const;
export type BusinessType = keyof typeof BUSINESS_TYPES;
export const businessTypeSchema = z
  .enum(Object.keys(BUSINESS_TYPES) as [BusinessType, ...BusinessType[]])
  .describe('用码业务类型: 01101 挂号, 01301 结算, 01302 取药, 02121 药店购药, 03131 线上身份核验');

/** Scopes a person can grant a channel. */
export const AUTH_SCOPES = {
  identity: '身份信息（脱敏姓名、证件号）',
  insurance: '参保信息（险种、参保状态）',
  payment: '医保移动支付（查询授权码）',
} as const;
export type AuthScope = keyof typeof AUTH_SCOPES;
export const authScopeSchema = z.enum(Object.keys(AUTH_SCOPES) as [AuthScope, ...AuthScope[]]);

export const deviceSchema = z.strictObject({
  id: z.string().min(1).max(128).describe('设备标识'),
  model: z.string().max(128).optional().describe('设备型号'),
  os: z.string().max(64).optional(),
});
export type Device = z.infer<typeof deviceSchema>;

export const evidenceSchema = z.strictObject({
  result: z.string().min(1).max(8192),
  signature: z.string().min(1).max(512),
});

export const voucherStatusLabel = { active: '正常', suspended: '已挂失/暂停' } as const;

// ------------------------------------------------------------------ channel answers (documented in /docs)

/** The answer to a channel exchanging a one-time authorisation code. */
export const tokenAnswer = z.object({
  accessToken: z.string().describe('渠道访问令牌（服务端保存，查询授权范围内的信息）'),
  expiresAt: z.string().describe('失效时间'),
  scopes: z.array(authScopeSchema).describe('授权范围'),
});

/** What a channel reads with its token: only the granted scopes' parts. */
export const channelPersonAnswer = z.object({
  scopes: z.array(authScopeSchema).describe('授权范围'),
  person: z.object(maskedPerson).optional().describe('身份信息（identity 授权时）'),
  insurance: insuranceSummary.optional().describe('参保信息（insurance 授权时）'),
});

/** 核验被拒 (用码统计): refused online verifications by China-time day and reason, and the institutions refused most. */
export const refusalsAnswer = z.object({
  daily: z.array(
    z.object({
      day: z.string().describe('日期 YYYY-MM-DD（北京时间）'),
      code: z.string().describe('被拒原因（错误码，如 EVOUCHER_TOKEN_REPLAYED 重复扫码）'),
      count: z.number().int(),
    }),
  ),
  institutions: z
    .array(z.object({ code: z.string(), name: z.string().nullable(), count: z.number().int() }))
    .describe('被拒最多的机构，最多 10 个'),
});
export type Refusals = z.infer<typeof refusalsAnswer>;
