import { z } from 'zod';
import { appendAudit } from '../../platform/audit.ts';
import { requirePrincipal, staffPermission } from '../../platform/auth.ts';
import { type Context, service } from '../../platform/context.ts';
import type { App } from '../../platform/http.ts';
import { CHANNEL_TYPES } from './channel/channels.ts';
import { channelEnvelopeFor, parseChannelData } from './channel/hook.ts';
import { mountOidc } from './oidc/interaction.ts';
import { OTP_PURPOSE_INPUTS } from './otp.ts';
import { selfServiceRoutes } from './self-routes.ts';

const scopeList = z.array(z.string().regex(/^[\w:.-]{1,64}$/)).max(50);
const uriList = z.array(z.url().max(500)).max(20);
const loginMethodList = z.array(z.string().regex(/^[a-z][a-z0-9_]{1,31}$/)).max(20);

const channelView = z.object({
  regionCode: z.string(),
  appId: z.string(),
  name: z.string(),
  type: z.enum(CHANNEL_TYPES),
  institutionCode: z.string().nullable(),
  scopes: z.array(z.string()),
  redirectUris: z.array(z.string()),
  postLogoutRedirectUris: z.array(z.string()),
  loginMethods: z.array(z.string()),
  grantTypes: z.array(z.string()),
  publicClient: z.boolean(),
  backchannelLogoutUri: z.string().nullable(),
  publicKeyHex: z.string(),
  status: z.enum(['active', 'disabled']),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** data of the channel self-test: anything, with an optional text echoed back */
export const pingDataSchema = z.object({ echo: z.string().max(200).optional() }).passthrough();

export async function authRoutes(app: App, ctx: Context): Promise<void> {
  const auth = () => service(ctx, 'auth');
  const perm = (p: string) => staffPermission(() => ctx.permissions, p);

  // ---- channels (console) ----
  app.get(
    '/api/auth/channels',
    {
      schema: { tags: ['auth'], summary: '渠道列表', response: { 200: z.array(channelView) } },
      preHandler: perm('auth:channel'),
    },
    async (req) => auth().listChannels(req.regionCode),
  );

  app.post(
    '/api/auth/channels',
    {
      schema: {
        tags: ['auth'],
        summary: '注册渠道（返回一次性展示的 appSecret 与私钥）',
        body: z.strictObject({
          name: z.string().trim().min(2).max(60),
          type: z.enum(CHANNEL_TYPES),
          scopes: scopeList,
          institutionCode: z
            .string()
            .regex(/^[A-Z0-9]{6,20}$/)
            .optional(),
          redirectUris: uriList.optional(),
          postLogoutRedirectUris: uriList.optional(),
          loginMethods: loginMethodList.optional(),
          publicClient: z.boolean().optional(),
          grantTypes: z.array(z.enum(['authorization_code', 'refresh_token', 'client_credentials'])).optional(),
          backchannelLogoutUri: z.url().optional(),
          publicKeyHex: z.string().max(200).optional(),
        }),
      },
      preHandler: perm('auth:channel'),
      config: { idempotent: true },
    },
    async (req, reply) => {
      const p = requirePrincipal(req, 'staff');
      const reg = await ctx.db.tx(async (tx) => {
        const r = await auth().registerChannel({ ...req.body, regionCode: req.regionCode, createdBy: p.subject }, tx);
        await appendAudit(tx, {
          regionCode: req.regionCode,
          actorKind: 'staff',
          actorId: p.subject,
          action: 'auth.channel.register',
          targetType: 'channel',
          targetId: r.appId,
          ip: req.ip,
          result: 'success',
          detail: { name: req.body.name, type: req.body.type, scopes: req.body.scopes },
        });
        return r;
      });
      return reply.status(201).send(reg);
    },
  );

  app.patch(
    '/api/auth/channels/:appId',
    {
      schema: {
        tags: ['auth'],
        summary: '修改渠道（权限范围、回调地址、登录方式、启用/停用、公钥）',
        params: z.strictObject({ appId: z.string().max(64) }),
        body: z.strictObject({
          name: z.string().trim().min(2).max(60).optional(),
          scopes: scopeList.optional(),
          redirectUris: uriList.optional(),
          postLogoutRedirectUris: uriList.optional(),
          loginMethods: loginMethodList.optional(),
          status: z.enum(['active', 'disabled']).optional(),
          publicKeyHex: z.string().max(200).optional(),
        }),
        response: { 200: channelView },
      },
      preHandler: perm('auth:channel'),
    },
    async (req) => {
      const p = requirePrincipal(req, 'staff');
      return ctx.db.tx(async (tx) => {
        const updated = await auth().channels.update(req.regionCode, req.params.appId, req.body, tx);
        await appendAudit(tx, {
          regionCode: req.regionCode,
          actorKind: 'staff',
          actorId: p.subject,
          action: 'auth.channel.update',
          targetType: 'channel',
          targetId: req.params.appId,
          ip: req.ip,
          result: 'success',
          detail: { fields: Object.keys(req.body), status: req.body.status },
        });
        return updated;
      });
    },
  );

  app.post(
    '/api/auth/channels/:appId/secret',
    {
      schema: {
        tags: ['auth'],
        summary: '重置渠道 appSecret（仅展示一次）',
        params: z.strictObject({ appId: z.string().max(64) }),
        response: { 200: z.object({ appId: z.string(), appSecret: z.string() }) },
      },
      preHandler: perm('auth:channel'),
    },
    async (req) => {
      const p = requirePrincipal(req, 'staff');
      return ctx.db.tx(async (tx) => {
        const appSecret = await auth().channels.resetSecret(req.regionCode, req.params.appId, tx);
        await appendAudit(tx, {
          regionCode: req.regionCode,
          actorKind: 'staff',
          actorId: p.subject,
          action: 'auth.channel.secret_reset',
          targetType: 'channel',
          targetId: req.params.appId,
          ip: req.ip,
          result: 'success',
        });
        return { appId: req.params.appId, appSecret };
      });
    },
  );

  // ---- a channel's own connectivity check (signed envelope) ----
  app.post(
    '/api/auth/channel/ping',
    {
      schema: {
        tags: ['auth'],
        summary: '渠道连通性与签名自检（签名信封）',
        body: channelEnvelopeFor(pingDataSchema),
        response: {
          200: z.object({
            appId: z.string(),
            regionCode: z.string().describe('渠道所属统筹区'),
            transType: z.string().describe('信封中的交易类型'),
            scopes: z.array(z.string()).describe('渠道的授权范围'),
            echo: z.string().nullable().describe('原样返回的 data.echo'),
            serverTime: z.string().describe('服务器时间（校准签名时间戳用）'),
          }),
        },
        security: [{ channelSignature: [] }],
      },
      preHandler: auth().channelAuth(),
    },
    async (req) => {
      const data = parseChannelData(pingDataSchema, req.body);
      return {
        appId: req.channel!.appId,
        regionCode: req.channel!.regionCode,
        transType: req.channel!.transType,
        scopes: req.channel!.scopes,
        echo: data.echo ?? null,
        serverTime: new Date().toISOString(),
      };
    },
  );

  // ---- SMS one-time codes ----
  app.post(
    '/api/auth/otp',
    {
      schema: {
        tags: ['auth'],
        summary: '发送短信验证码',
        body: z.strictObject({
          mobile: z.string().max(20),
          purpose: z
            .enum(OTP_PURPOSE_INPUTS.filter((x) => x !== 'step_up') as [string, ...string[]])
            .describe('register | login | reset | change_mobile | deactivate（兼容 reset-password、change-mobile）'),
        }),
      },
    },
    async (req, reply) => {
      const result = await auth().sendOtp({
        regionCode: req.regionCode,
        mobile: req.body.mobile,
        purpose: req.body.purpose,
        ip: req.ip,
      });
      return reply.status(202).send(result);
    },
  );

  app.get(
    '/api/auth/sms-outbox',
    {
      schema: {
        tags: ['auth'],
        summary: '沙箱短信发件箱',
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
      },
      preHandler: perm('auth:sms'),
    },
    async (req) => ({ sandbox: true, messages: await auth().otp.outbox(req.regionCode, req.query.limit) }),
  );

  await mountOidc(app, ctx, auth());
  selfServiceRoutes(app, ctx);
}
