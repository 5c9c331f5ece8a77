import { SandboxNationalPlatform } from '../../integration/national/port.ts';
import type { Center } from '../../platform/center.ts';
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
    ctx.events.subscribe('payment.completed', 'ebill', (job) => service.onPaymentCompleted(job));
    ctx.events.subscribe('payment.refunded', 'ebill', (job) => service.onPaymentRefunded(job));
    ctx.jobs.register(NATIONAL_QUEUE, (job) => service.reportToNational(job));
    const user = (ctx.services as { user?: { declarePermissions?: (p: unknown, center?: string) => Promise<void> } })
      .user;
    await user?.declarePermissions?.(EBILL_PERMISSIONS, 'ebill');
  },
  routes: ebillRoutes,
};
