import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { verifyAnswer } from '../../integration/national/evoucher-channel.ts';
import { authenticated, requireAcr, requirePrincipal, staffPermission } from '../../platform/auth.ts';
import type { Context } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import type { App } from '../../platform/http.ts';
import { rateLimit } from '../../platform/rate-limit.ts';
import { instant, residentId } from '../../platform/schemas.ts';
import { channelEnvelopeFor, parseChannelData } from '../auth/index.ts';
import { authSlice } from './deps.ts';
import {
  AUTH_SCOPES,
  authScopeSchema,
  BUSINESS_TYPES,
  businessTypeSchema,
  channelPersonAnswer,
  deviceSchema,
  evidenceSchema,
  refusalsAnswer,
  tokenAnswer,
} from './schema.ts';
import type { Actor, EvoucherService } from './service.ts';

/** Per client address (an office behind one NAT shares it), and per ticket for the browser's polling. */
const LOGIN_TICKETS_PER_MINUTE = 60;
const LOGIN_POLLS_PER_MINUTE = 120;

const tags = ['evoucher'];
const uuid = z.uuid();

const actorOf = (req: FastifyRequest): Actor => {
  const p = requirePrincipal(req);
  return { kind: p.kind, id: p.subject, ip: req.ip, userAgent: req.headers['user-agent'] };
};

interface ChannelOnRequest {
  channel?: { appId: string; regionCode: string; name: string; institutionCode?: string };
}

const parseData = parseChannelData;

export const verifyDataSchema = z.strictObject({
  qrCode: z.string().min(1).max(512).describe('扫码得到的电子凭证码'),
  businessType: businessTypeSchema,
  operatorId: z.string().max(64).optional().describe('操作员编号'),
  operatorName: z
    .string()
    .trim()
    .max(40)
    .optional()
    .describe('操作员姓名或窗口（如“门诊收费 5 号窗”），参保人在用码记录中看到'),
  deviceId: z.string().max(128).optional().describe('扫码终端'),
  scanTime: z.number().int().positive().optional().describe('终端扫码时间（毫秒时间戳），用于时钟偏差检查'),
});

/** data of /api/evoucher/channel/token: the person's one-time authorisation code */
export const exchangeDataSchema = z.strictObject({ authCode: z.string().regex(/^[0-9a-f]{32}$/) });
/** data of /api/evoucher/channel/person: the token the code was exchanged for */
export const personDataSchema = z.strictObject({ accessToken: z.string().regex(/^evt_[0-9a-f]{48}$/) });

/** The console's charts: the last 1–90 days. */
const statsDays = z.strictObject({ days: z.coerce.number().int().min(1).max(90).default(30) });

export function evoucherRoutes(app: App, ctx: Context, svc: EvoucherService): void {
  const person = { preHandler: authenticated('person') };
  const staff = (perm: string) => ({ preHandler: staffPermission(() => ctx.permissions, perm) });
  const auth = authSlice(ctx);
  const channelGuard = auth
    ? auth.channelAuth({ scope: 'evoucher' })
    : async () => {
        throw new AppError(503, 'EVOUCHER_CHANNEL_AUTH_UNAVAILABLE', '渠道认证服务暂不可用');
      };
  const channelOf = (req: FastifyRequest) => {
    const ch = (req as FastifyRequest & ChannelOnRequest).channel;
    if (!ch || req.principal?.kind !== 'channel') throw new AppError(401, 'CHANNEL_SIGNATURE_REQUIRED', '需要渠道签名');
    return ch;
  };

  // ---------------------------------------------------------------- public
  app.get(
    '/api/evoucher/keys',
    {
      schema: {
        tags,
        summary: '下载电子凭证码验签公钥（离线核验用）',
        querystring: z.strictObject({
          region: z
            .string()
            .regex(/^\d{6}$/)
            .optional(),
        }),
      },
    },
    async (req, reply) => {
      const region = req.query.region ? (await ctx.regions.require(req.query.region, 'region')).code : undefined;
      const keys = await svc.publicKeys(region);
      const ttl: Record<string, number> = {};
      for (const r of new Set(keys.map((k) => k.region))) ttl[r] = (await svc.settings(r)).qrTtlSeconds;
      reply.header('cache-control', 'public, max-age=300');
      return { keys, ttl };
    },
  );

  app.get('/api/evoucher/business-types', { schema: { tags, summary: '用码业务类型' } }, async () =>
    Object.entries(BUSINESS_TYPES).map(([code, name]) => ({ code, name })),
  );
  app.get('/api/evoucher/scopes', { schema: { tags, summary: '可授权给渠道的范围' } }, async () =>
    Object.entries(AUTH_SCOPES).map(([code, name]) => ({ code, name })),
  );

  // Sandbox counterpart of the real-person provider (沙箱).
  app.post(
    '/api/evoucher/sandbox/liveness',
    {
      bodyLimit: 4 * 1024 * 1024,
      schema: {
        tags,
        summary: '【沙箱】实人认证：提交活体采集画面，返回沙箱签名的结果',
        body: z.strictObject({
          sessionId: uuid,
          challenge: z.string().regex(/^\d{6}$/),
          mode: z.enum(['camera', 'photo']),
          frames: z.array(z.string().max(1_400_000)).min(1).max(3),
          simulate: z.literal('fail').optional(),
        }),
      },
    },
    async (req) => ({ sandbox: true, ...(await svc.sandbox.assess(req.regionCode, req.body)) }),
  );

  // ---------------------------------------------------------------- person
  app.get('/api/evoucher/me', { ...person, schema: { tags, summary: '我的医保电子凭证' } }, async (req) =>
    svc.mine(req.regionCode, requirePrincipal(req).subject),
  );
  app.post(
    '/api/evoucher/me/liveness',
    { ...person, schema: { tags, summary: '开始实人认证（返回挑战码与采集地址）' } },
    async (req) => svc.startLiveness(req.regionCode, requirePrincipal(req).subject),
  );
  app.post(
    '/api/evoucher/me/activate',
    {
      ...person,
      config: { idempotent: true },
      schema: {
        tags,
        summary: '激活医保电子凭证（实人认证通过后）',
        body: z.strictObject({ evidence: evidenceSchema, device: deviceSchema }),
      },
    },
    async (req) => svc.activate(req.regionCode, requirePrincipal(req).subject, req.body, actorOf(req)),
  );
  app.post(
    '/api/evoucher/me/suspend',
    {
      ...person,
      schema: { tags, summary: '挂失/暂停电子凭证', body: z.strictObject({ reason: z.string().max(200).optional() }) },
    },
    async (req) =>
      svc.setStatus(
        req.regionCode,
        { personId: requirePrincipal(req).subject },
        'suspended',
        actorOf(req),
        req.body.reason ?? '本人挂失',
      ),
  );
  app.post(
    '/api/evoucher/me/resume',
    { ...person, schema: { tags, summary: '恢复电子凭证（需二次验证；或通过实人认证重新激活）' } },
    async (req) => {
      // Whoever holds a lost phone's session must not undo the owner's suspension with it.
      requireAcr(req, 'mfa');
      return svc.setStatus(
        req.regionCode,
        { personId: requirePrincipal(req).subject },
        'active',
        actorOf(req),
        '本人恢复',
      );
    },
  );
  app.post(
    '/api/evoucher/me/codes',
    { ...person, schema: { tags, summary: '获取动态电子凭证码（一次性，默认 60 秒有效）' } },
    async (req) => svc.issueCode(req.regionCode, requirePrincipal(req).subject),
  );
  app.get(
    '/api/evoucher/me/uses',
    {
      ...person,
      schema: {
        tags,
        summary: '用码记录（since: 只要此刻之后的，出示码的页面据此提示“已扫码”）',
        querystring: z.strictObject({ since: instant.optional() }),
      },
    },
    async (req) => svc.myUses(req.regionCode, requirePrincipal(req).subject, req.query.since),
  );
  app.get('/api/evoucher/me/authorizations', { ...person, schema: { tags, summary: '我的渠道授权' } }, async (req) =>
    svc.authorizations(req.regionCode, requirePrincipal(req).subject),
  );
  app.get('/api/evoucher/me/channels', { ...person, schema: { tags, summary: '可授权的渠道' } }, async (req) => {
    const list = auth?.listChannels ? await auth.listChannels(req.regionCode) : [];
    return list.filter((c) => c.status === 'active').map((c) => ({ appId: c.appId, name: c.name, type: c.type }));
  });
  app.post(
    '/api/evoucher/me/authorizations',
    {
      ...person,
      config: { idempotent: true },
      schema: {
        tags,
        summary: '授权渠道（返回一次性授权码，交给渠道换取令牌；以单因素登录的，需同时提交登录密码）',
        body: z.strictObject({
          appId: z.string().min(1).max(64),
          scopes: z.array(authScopeSchema).min(1).max(3),
          days: z.number().int().min(1).max(365),
          password: z.string().max(128).optional(),
        }),
      },
    },
    async (req, reply) => {
      // the channel keeps its access after this session ends: the owner, not only a session, must grant it
      if (auth?.confirmOwner) await auth.confirmOwner(req, reply, req.body.password);
      else requireAcr(req, 'mfa');
      const { password: _, ...grant } = req.body;
      const channels = auth?.listChannels ? await auth.listChannels(req.regionCode) : undefined;
      const channel = channels?.find((c) => c.appId === grant.appId && c.status === 'active');
      if (channels && !channel) throw new AppError(404, 'EVOUCHER_CHANNEL_NOT_FOUND', '渠道不存在或已停用');
      return svc.authorize(
        req.regionCode,
        requirePrincipal(req).subject,
        { ...grant, channelName: channel?.name ?? grant.appId },
        actorOf(req),
      );
    },
  );
  app.delete(
    '/api/evoucher/me/authorizations/:id',
    { ...person, schema: { tags, summary: '撤销渠道授权', params: z.strictObject({ id: uuid }) } },
    async (req, reply) => {
      await svc.revoke(req.regionCode, requirePrincipal(req).subject, req.params.id, actorOf(req));
      return reply.status(204).send();
    },
  );

  // ---------------------------------------------------------------- QR login (anonymous: limited per client address)
  app.post(
    '/api/evoucher/login-tickets',
    {
      preHandler: rateLimit(ctx.db, { bucket: 'evoucher.login-ticket', limit: LOGIN_TICKETS_PER_MINUTE }),
      schema: { tags, summary: '创建扫码登录二维码（网厅登录页，每个地址每分钟限量）' },
    },
    async (req) => svc.createLoginTicket(req.regionCode),
  );
  app.get(
    '/api/evoucher/login-tickets/:id/status',
    {
      preHandler: rateLimit(ctx.db, {
        bucket: 'evoucher.login-ticket.poll',
        limit: LOGIN_POLLS_PER_MINUTE,
        key: (req) => (req.params as { id: string }).id,
      }),
      schema: {
        tags,
        summary: '查询扫码登录状态（浏览器轮询）',
        params: z.strictObject({ id: z.string().max(64) }),
        querystring: z.strictObject({ secret: z.string().regex(/^[0-9a-f]{32}$/) }),
      },
    },
    async (req) => svc.pollLoginTicket(req.regionCode, req.params.id, req.query.secret),
  );
  app.post(
    '/api/evoucher/login-tickets/:id/scan',
    {
      ...person,
      schema: { tags, summary: '手机扫码（已登录的个人网厅）', params: z.strictObject({ id: z.string().max(64) }) },
    },
    async (req) => svc.scanLoginTicket(req.regionCode, req.params.id, requirePrincipal(req).subject),
  );
  app.post(
    '/api/evoucher/login-tickets/:id/confirm',
    { ...person, schema: { tags, summary: '手机确认登录', params: z.strictObject({ id: z.string().max(64) }) } },
    async (req, reply) => {
      await svc.confirmLoginTicket(req.regionCode, req.params.id, requirePrincipal(req).subject, actorOf(req));
      return reply.status(204).send();
    },
  );

  // ---------------------------------------------------------------- channels (signed envelopes)
  app.post(
    '/api/evoucher/channel/verify',
    {
      preHandler: channelGuard,
      config: { idempotent: true },
      schema: {
        tags,
        summary: '医药机构核验电子凭证码（渠道签名）',
        body: channelEnvelopeFor(verifyDataSchema),
        response: { 200: verifyAnswer },
      },
    },
    async (req) => {
      const ch = channelOf(req);
      const data = parseData(verifyDataSchema, req.body);
      if (!ch.institutionCode) throw new AppError(403, 'EVOUCHER_NOT_INSTITUTION', '仅定点医药机构可核验电子凭证');
      return svc.verify(
        ch.regionCode,
        {
          token: data.qrCode,
          businessType: data.businessType,
          institutionCode: ch.institutionCode,
          appId: ch.appId,
          operator: data.operatorId,
          operatorName: data.operatorName || undefined,
          device: data.deviceId,
          scanTime: data.scanTime,
        },
        { kind: 'channel', id: ch.appId },
      );
    },
  );
  app.post(
    '/api/evoucher/channel/token',
    {
      preHandler: channelGuard,
      schema: {
        tags,
        summary: '渠道用一次性授权码换取令牌（渠道签名）',
        body: channelEnvelopeFor(exchangeDataSchema),
        response: { 200: tokenAnswer },
      },
    },
    async (req) => {
      const ch = channelOf(req);
      const data = parseData(exchangeDataSchema, req.body);
      return svc.exchangeCode(ch.regionCode, ch.appId, data.authCode);
    },
  );
  app.post(
    '/api/evoucher/channel/person',
    {
      preHandler: channelGuard,
      schema: {
        tags,
        summary: '渠道凭令牌查询授权范围内的信息（渠道签名）',
        body: channelEnvelopeFor(personDataSchema),
        response: { 200: channelPersonAnswer },
      },
    },
    async (req) => {
      const ch = channelOf(req);
      const data = parseData(personDataSchema, req.body);
      return svc.channelPerson(ch.regionCode, ch.appId, data.accessToken);
    },
  );

  // ---------------------------------------------------------------- console
  app.get(
    '/api/evoucher/admin/vouchers',
    {
      ...staff('evoucher:read'),
      schema: {
        tags,
        summary: '查询电子凭证（留痕）',
        querystring: z
          .strictObject({
            residentId: residentId.optional(),
            voucherId: uuid.optional(),
            purpose: z.string().min(2).max(100).describe('查询事由（记入审计）'),
          })
          .refine((q) => q.residentId || q.voucherId, { message: '需要身份证号或凭证编号', path: ['residentId'] }),
      },
    },
    async (req) => svc.lookup(req.regionCode, req.query, req.query.purpose, actorOf(req)),
  );
  for (const [action, to] of [
    ['suspend', 'suspended'],
    ['resume', 'active'],
  ] as const) {
    app.post(
      `/api/evoucher/admin/vouchers/:id/${action}`,
      {
        ...staff('evoucher:manage'),
        schema: {
          tags,
          summary: action === 'suspend' ? '暂停电子凭证（经办）' : '恢复电子凭证（经办）',
          params: z.strictObject({ id: uuid }),
          body: z.strictObject({ reason: z.string().min(2).max(200) }),
        },
      },
      async (req) => svc.setStatus(req.regionCode, { voucherId: req.params.id }, to, actorOf(req), req.body.reason),
    );
  }
  app.get(
    '/api/evoucher/admin/keys',
    { ...staff('evoucher:keys'), schema: { tags, summary: '签名密钥' } },
    async (req) => svc.listKeys(req.regionCode),
  );
  app.post(
    '/api/evoucher/admin/keys',
    {
      ...staff('evoucher:keys'),
      schema: {
        tags,
        summary: '轮换签名密钥',
        body: z.strictObject({ alg: z.enum(['SM2', 'Ed25519']).default('SM2') }),
      },
    },
    async (req) => ({ kid: await svc.rotateKey(req.regionCode, req.body.alg, actorOf(req)) }),
  );
  app.post(
    '/api/evoucher/admin/keys/:kid/retire',
    {
      ...staff('evoucher:keys'),
      schema: {
        tags,
        summary: '停用旧密钥',
        params: z.strictObject({ kid: z.coerce.number().int().min(1).max(65535) }),
      },
    },
    async (req, reply) => {
      await svc.retireKey(req.regionCode, req.params.kid, actorOf(req));
      return reply.status(204).send();
    },
  );
  app.get(
    '/api/evoucher/admin/stats/daily',
    {
      ...staff('evoucher:read'),
      schema: {
        tags,
        summary: '每日用码量（按业务类型）',
        querystring: statsDays,
      },
    },
    async (req) => svc.dailyScans(req.regionCode, req.query.days),
  );
  app.get(
    '/api/evoucher/admin/stats/refusals',
    {
      ...staff('evoucher:read'),
      schema: {
        tags,
        summary: '核验被拒（按日、按原因，及被拒最多的机构）',
        querystring: statsDays,
        response: { 200: refusalsAnswer },
      },
    },
    async (req) => svc.dailyRefusals(req.regionCode, req.query.days),
  );
}
