/**
 * The e-voucher's answer to an institution's online verification, shaped after the national ec.query answer (DOMAIN.md
 * §4): the ecToken the institution then settles with (1101, mdtrt_cert_type 01) and insuOrg, the insurance region.
 * The e-voucher center builds it; the schema documents it in /docs and serialises it.
 */
import { z } from 'zod';

/** The insurance summary shown to institutions and authorised channels. */
export const insuranceSummary = z.object({
  regionCode: z.string().describe('参保地统筹区'),
  personType: z.string().describe('人员类别'),
  insurances: z.array(
    z.object({
      insuranceType: z.string().describe('险种类型 310 职工 390 城乡居民'),
      insuranceTypeName: z.string(),
      status: z.string().describe('参保状态 active suspended terminated'),
    }),
  ),
});

export const maskedPerson = {
  name: z.string().describe('姓名（脱敏）'),
  residentId: z.string().describe('证件号码（脱敏）'),
};

export const verifyAnswer = z.object({
  useId: z.string().describe('用码记录号'),
  businessType: z.string().describe('用码业务类型（请求中的 businessType）'),
  businessTypeName: z.string(),
  person: z.object({ ...maskedPerson, idType: z.literal('01').describe('证件类型 01 居民身份证') }),
  insurance: insuranceSummary,
  ecToken: z.string().describe('电子凭证令牌：结算（1101，mdtrt_cert_type 01）时作为就诊凭证编号，30 分钟内有效'),
  ecTokenExpiresAt: z.string().describe('电子凭证令牌失效时间'),
  insuOrg: z.string().describe('参保地统筹区'),
});
export type VerifyResult = z.infer<typeof verifyAnswer>;
