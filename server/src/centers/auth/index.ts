/** 统一认证中心 — channels and their signature hook, SMS codes, the OIDC provider and login pages. */
import type { Center } from '../../platform/center.ts';
import { enqueue } from '../../platform/jobs.ts';
import { authRoutes } from './routes.ts';
import { DEMO_PARTNER_APP_ID, DEMO_PARTNER_SECRET, PORTAL_CLIENTS, seedAuth } from './seed.ts';
import { AuthService } from './service.ts';

/** Signing keys rotate on this period (the previous key keeps verifying until retired). */
export const KEY_ROTATION_DAYS = 30;
const hourKey = (hoursAhead: number) => new Date(Date.now() + hoursAhead * 3600_000).toISOString().slice(0, 13);

export type { AccountDirectory, AccountKind, AccountRef } from './accounts.ts';
export {
  CHANNEL_TYPE_LABELS,
  CHANNEL_TYPES,
  type Channel,
  type ChannelType,
  type RegisterChannelInput,
  type RegisteredChannel,
} from './channel/channels.ts';
export {
  CHANNEL_WINDOW_SECONDS,
  type ChannelAuthOptions,
  type ChannelEnvelopeBody,
  type ChannelInfo,
  channelEnvelopeFor,
  channelEnvelopeSchema,
  parseChannelData,
} from './channel/hook.ts';
export type { LoginMethod, LoginMethodResult } from './login-methods.ts';
export { OTP_PURPOSES, type OtpPurpose, type SendOtpInput, type VerifyOtpInput } from './otp.ts';
export { AuthService } from './service.ts';

declare module '../../platform/context.ts' {
  interface Services {
    auth: AuthService;
  }
}

export const AUTH_PERMISSIONS = [
  { code: 'auth:channel', name: '管理渠道' },
  { code: 'auth:sms', name: '查看沙箱短信' },
  { code: 'auth:keys', name: '管理签名密钥' },
  { code: 'auth:session', name: '管理登录会话与锁定' },
];

export const authCenter: Center = {
  name: 'auth',
  description: '统一认证中心：渠道签名、短信验证码、OIDC 认证与登录',
  async init(ctx) {
    const auth = new AuthService(ctx);
    ctx.services.auth = auth;
    ctx.sessionActive = (sid, regionCode) => auth.sessionActive(sid, regionCode);
    ctx.privacy.registerEncryptedColumn({
      table: 'auth_channel',
      column: 'app_secret_enc',
      key: ['region_code', 'app_id'],
    });
    ctx.privacy.registerEncryptedColumn({ table: 'auth_sms_outbox', column: 'mobile_enc', key: ['region_code', 'id'] });
    const user = (ctx.services as Record<string, unknown>).user as
      | { declarePermissions?: (p: typeof AUTH_PERMISSIONS, center: string) => Promise<void> }
      | undefined;
    await user?.declarePermissions?.(AUTH_PERMISSIONS, 'auth');
    ctx.jobs.register(
      'auth.purge',
      async () => {
        await auth.purgeExpired();
        await enqueue(
          ctx.db,
          'auth.purge',
          {},
          { runAt: new Date(Date.now() + 3600_000), dedupeKey: `auth.purge:${hourKey(1)}` },
        );
      },
      '清理过期的登录会话、短信验证码与通行密钥挑战',
    );
    ctx.jobs.register(
      'auth.keys.rotate',
      async () => {
        const kid = await ctx.keys.rotate();
        ctx.log.info({ kid }, '签名密钥已轮换');
        await enqueue(
          ctx.db,
          'auth.keys.rotate',
          {},
          {
            runAt: new Date(Date.now() + KEY_ROTATION_DAYS * 86_400_000),
            dedupeKey: `auth.keys.rotate:${hourKey(KEY_ROTATION_DAYS * 24)}`,
          },
        );
      },
      '统一认证签名密钥轮换',
    );
  },
  async routes(app, ctx) {
    await authRoutes(app, ctx);
    const unfollow = await ctx.services.auth!.guard.followRevocations();
    app.addHook('onClose', unfollow);
    // Schedule the periodic jobs once (dedupe keys make this idempotent across restarts and processes).
    await enqueue(
      ctx.db,
      'auth.purge',
      {},
      { runAt: new Date(Date.now() + 3600_000), dedupeKey: `auth.purge:${hourKey(1)}` },
    );
    await enqueue(
      ctx.db,
      'auth.keys.rotate',
      {},
      {
        runAt: new Date(Date.now() + KEY_ROTATION_DAYS * 86_400_000),
        dedupeKey: 'auth.keys.rotate:first',
      },
    );
  },
  seed: seedAuth,
  demoAccounts: (ctx) => [
    {
      who: '门户 OIDC 客户端（公开客户端，PKCE）',
      where: `${ctx.publicUrl}/.well-known/openid-configuration`,
      login: PORTAL_CLIENTS.map((p) => p.appId).join(' / '),
    },
    {
      who: '演示合作方（client credentials、SM2 渠道签名）',
      where: `${ctx.publicUrl}/oidc/token`,
      login: `${DEMO_PARTNER_APP_ID} / ${DEMO_PARTNER_SECRET}`,
    },
  ],
};
