/** E-voucher center (电子凭证中心): activation, dynamic QR, institution verification, channel authorisation, QR login. */
import type { Center } from '../../platform/center.ts';
import type { Context } from '../../platform/context.ts';
import { seedDemoVoucher } from './demo.ts';
import { authSlice, type LoginMethodSlot } from './deps.ts';
import { QR_LOGIN_AMR, qrLoginMethod } from './login.ts';
import { evoucherRoutes } from './routes.ts';
import { EVOUCHER_SETTINGS, EvoucherService } from './service.ts';

export { BUSINESS_TYPES, type BusinessType } from './schema.ts';
export type { EvoucherService, VerifyResult } from './service.ts';
export type { LivenessEvidence, LivenessResult, RealPersonVerifier } from './verification/port.ts';

declare module '../../platform/context.ts' {
  interface Services {
    evoucher: EvoucherService;
  }
}

export const PERMISSIONS = [
  { code: 'evoucher:read', name: '查询医保电子凭证' },
  { code: 'evoucher:manage', name: '暂停/恢复医保电子凭证' },
  { code: 'evoucher:keys', name: '管理电子凭证签名密钥' },
];

/** Installs the ecToken resolver in the core zone (mdtrt_cert_type 01) once the port is there. */
function wireCoreZone(ctx: Context, svc: EvoucherService): void {
  const core = (ctx.services as Record<string, unknown>).coreZone as
    | { useEcTokenResolver?: (r: EvoucherService['resolveEcToken']) => void }
    | undefined;
  core?.useEcTokenResolver?.(svc.resolveEcToken);
}

export const evoucherCenter: Center = {
  name: 'evoucher',
  description: '电子凭证中心: 激活（实人认证）、动态码、机构核验、渠道授权、扫码登录',
  async init(ctx) {
    const svc = new EvoucherService(ctx);
    ctx.services.evoucher = svc;
    if (svc.verifier.sandbox) {
      const level = ctx.config.NODE_ENV === 'production' ? 'warn' : 'info';
      ctx.log[level]({ sandbox: true }, '【沙箱】电子凭证实人认证使用沙箱提供方（不做真实人脸比对）');
    }
    const user = (ctx.services as Record<string, unknown>).user as
      | { declarePermissions?: (p: typeof PERMISSIONS, center: string) => Promise<void> }
      | undefined;
    await user?.declarePermissions?.(PERMISSIONS, 'evoucher');
    wireCoreZone(ctx, svc);
    ctx.regions.declareSettings('evoucher', EVOUCHER_SETTINGS);
    await ctx.jobs.registerDaily(
      'evoucher.purge',
      '清理过期的电子凭证授权码、令牌、扫码登录与实人认证记录',
      () => svc.purgeExpired(),
      3600_000,
    );
    const auth = authSlice(ctx);
    auth?.registerLoginMethod?.(qrLoginMethod(svc) satisfies LoginMethodSlot);
  },
  /** Demo: offers the e-voucher QR login on the personal hall's login page (the channel's login methods), and 张伟's voucher. */
  async seed(ctx) {
    await seedDemoVoucher(ctx, ctx.services.evoucher!).catch((err) =>
      ctx.log.warn({ err }, '电子凭证中心：演示电子凭证未生成'),
    );
    const auth = (ctx.services as Record<string, unknown>).auth as
      | {
          channels?: {
            get(regionCode: string, appId: string): Promise<{ loginMethods: string[] }>;
            update(regionCode: string, appId: string, patch: { loginMethods: string[] }): Promise<unknown>;
          };
        }
      | undefined;
    const region = ctx.config.DEFAULT_REGION;
    const channel = await auth?.channels?.get(region, 'portal-personal').catch(() => undefined);
    if (auth?.channels && channel && !channel.loginMethods.includes(QR_LOGIN_AMR)) {
      await auth.channels.update(region, 'portal-personal', { loginMethods: [...channel.loginMethods, QR_LOGIN_AMR] });
    }
  },
  routes(app, ctx) {
    const svc = ctx.services.evoucher!;
    wireCoreZone(ctx, svc); // a core zone registered after our init
    evoucherRoutes(app, ctx, svc);
  },
};
