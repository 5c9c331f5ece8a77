/** 统一认证中心 — channels and their signature hook, SMS codes, the OIDC provider and login pages. */
import type { Center } from '../../platform/center.ts';
import { authRoutes } from './routes.ts';
import { seedAuth } from './seed.ts';
import { AuthService } from './service.ts';

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
  init(ctx) {
    ctx.services.auth = new AuthService(ctx);
    ctx.privacy.registerEncryptedColumn({
      table: 'auth_channel',
      column: 'app_secret_enc',
      key: ['region_code', 'app_id'],
    });
    ctx.privacy.registerEncryptedColumn({ table: 'auth_sms_outbox', column: 'mobile_enc', key: ['region_code', 'id'] });
    ctx.jobs.register('auth.purge', async () => {
      await ctx.services.auth?.purgeExpired();
    });
  },
  routes: authRoutes,
  seed: seedAuth,
};
