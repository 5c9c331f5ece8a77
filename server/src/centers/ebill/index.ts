import { DEMO_INSTITUTIONS, DEMO_PERSONS } from '../../integration/core-zone/index.ts';
import { SandboxNationalPlatform } from '../../integration/national/port.ts';
import type { Center } from '../../platform/center.ts';
import type { Context } from '../../platform/context.ts';
import type { PaymentEvent } from '../payment/index.ts';
import { CALLBACK_QUEUE } from './callbacks.ts';
import { SandboxFiscalIssuer } from './issuer/sandbox.ts';
import { ebillRoutes } from './routes.ts';
import { EbillService, NATIONAL_QUEUE } from './service.ts';

export type { FiscalIssuer, IssuedBill, IssueRequest } from './issuer/port.ts';
export type { BillView, EbillService, VerifyAnswer } from './service.ts';

declare module '../../platform/context.ts' {
  interface Services {
    ebill: EbillService;
  }
}

/** Permissions of the e-bill center (declared with the user center's RBAC when it is present). */
export const EBILL_PERMISSIONS = [
  { code: 'ebill:read', name: '查询电子票据' },
  { code: 'ebill:manage', name: '管理票据接入渠道与接口' },
];

export const ebillCenter: Center = {
  name: 'ebill',
  description: '电子票据中心: 医疗收费电子票据开具、冲红、查询、下载、查验、渠道接口管理与国家平台上报',
  async init(ctx) {
    const service = new EbillService(ctx, new SandboxFiscalIssuer(ctx.privacy.cipher), new SandboxNationalPlatform());
    ctx.services.ebill = service;
    ctx.privacy.registerEncryptedColumn({ table: 'ebill_bill', column: 'payer_name_enc', key: ['region_code', 'id'] });
    ctx.privacy.registerEncryptedColumn({
      table: 'ebill_issuer_key',
      column: 'private_key_enc',
      key: ['region_code', 'key_id'],
    });
    ctx.privacy.registerEncryptedColumn({
      table: 'ebill_channel',
      column: 'app_secret_enc',
      key: ['region_code', 'app_id'],
    });
    ctx.privacy.registerEncryptedColumn({
      table: 'ebill_channel',
      column: 'contact_mobile_enc',
      key: ['region_code', 'app_id'],
    });
    ctx.events.subscribe(
      'payment.completed',
      'ebill',
      (job) => service.onPaymentCompleted(job),
      '支付完成 → 开具电子票据',
    );
    ctx.events.subscribe('payment.refunded', 'ebill', (job) => service.onPaymentRefunded(job), '退款 → 开具红字票据');
    ctx.jobs.register(NATIONAL_QUEUE, (job) => service.reportToNational(job), '电子票据上报国家平台');
    ctx.jobs.register(CALLBACK_QUEUE, (job) => service.callbacks.deliver(job), '电子票据回调接入渠道');
    const user = (ctx.services as { user?: { declarePermissions?: (p: unknown, center?: string) => Promise<void> } })
      .user;
    await user?.declarePermissions?.(EBILL_PERMISSIONS, 'ebill');
  },
  routes: ebillRoutes,
  seed: seedDemoBills,
};

/**
 * Demo: two bills (one later partly refunded) for the user center's demo person 张伟 (the core zone's DEMO_PERSONS.zhangWei) in 东湖市, issued by the sandbox
 * issuer exactly as a payment event would; skipped when the user center or the person is absent, or already done.
 */
async function seedDemoBills(ctx: Context): Promise<void> {
  const users = (
    ctx.services as { user?: { findPersonByResidentId(r: string, id: string): Promise<{ id: string } | undefined> } }
  ).user;
  const region = '990100';
  const person = await users?.findPersonByResidentId(region, DEMO_PERSONS.zhangWei.residentId);
  if (!person) return;
  const service = ctx.services.ebill!;
  const lines: PaymentEvent['lines'] = [
    { code: 'XJ01CRA019A001010100507', name: '阿莫西林胶囊（演示）', itemClass: 'A', quantity: 2, amount: 3_260 },
    { code: '001102000010000', name: '门诊诊查费（演示）', itemClass: 'A', quantity: 1, amount: 1_500 },
    { code: '250101015000000', name: '血常规（演示）', itemClass: 'B', quantity: 1, amount: 2_000 },
    { code: 'C0202020010100504254', name: '一次性输液器（演示）', itemClass: 'C', quantity: 1, amount: 640 },
  ];
  const base = {
    regionCode: region,
    personId: person.id,
    institutionCode: DEMO_INSTITUTIONS['990100'].level3,
    institutionName: '东湖市第一人民医院（演示）',
    settledAt: new Date().toISOString(),
  };
  await service.issueBlue({
    ...base,
    orderId: 'DEMO-EBILL-0001',
    lines,
    total: 7_400,
    fundPayment: 4_200,
    accountPayment: 1_800,
    cashPayment: 1_400,
  });
  await service.issueBlue({
    ...base,
    orderId: 'DEMO-EBILL-0002',
    lines: lines.slice(0, 2),
    total: 4_760,
    fundPayment: 2_000,
    accountPayment: 760,
    cashPayment: 2_000,
  });
  await service.issueRed({
    ...base,
    orderId: 'DEMO-EBILL-0002',
    lines: lines.slice(0, 2),
    total: 4_760,
    fundPayment: 2_000,
    accountPayment: 760,
    cashPayment: 2_000,
    refundId: 'DEMO-REFUND-0001',
    fundRefund: 0,
    accountRefund: 0,
    cashRefund: 1_630,
  });
}
