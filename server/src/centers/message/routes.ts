import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authenticated, requirePrincipal, staffPermission } from '../../platform/auth.ts';
import { type Context, service } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import type { App } from '../../platform/http.ts';
import {
  announcementBody,
  channelPatch,
  channelSchema,
  deliveryQuery,
  idParams,
  inboxQuery,
  messageStatusAnswer,
  preferencesBody,
  previewBody,
  ruleBody,
  sendAnswer,
  sendBody,
  settingsBody,
  statusBody,
  templateBody,
  typeCodeParams,
} from './schema.ts';
import { type InboxHub, issueTicket, TICKET_TTL_SECONDS, verifyTicket } from './stream.ts';
import { CATEGORIES } from './types.ts';

const tags = ['message'];
const bearer = [{ bearer: [] }];

export async function messageRoutes(app: App, ctx: Context, hub: InboxHub): Promise<void> {
  const messages = () => service(ctx, 'message');
  const perm = (p: string) => staffPermission(() => ctx.permissions, p);
  const person = authenticated('person');
  const staffId = (req: FastifyRequest) => requirePrincipal(req, 'staff').subject;

  // ───────── personal hall: inbox, live stream, preferences, announcements ─────────

  app.get(
    '/api/message/inbox',
    { schema: { tags, summary: '我的站内信', querystring: inboxQuery, security: bearer }, preHandler: person },
    async (req) =>
      messages().inbox(req.regionCode, req.principal!.subject, {
        page: req.query.page,
        size: req.query.size,
        unreadOnly: req.query.unread === 'true',
      }),
  );

  app.get(
    '/api/message/inbox/unread-count',
    { schema: { tags, summary: '未读站内信数', security: bearer }, preHandler: person },
    async (req) => ({ unread: await messages().unreadCount(req.regionCode, req.principal!.subject) }),
  );

  app.post(
    '/api/message/inbox/:id/read',
    { schema: { tags, summary: '标记已读', params: idParams, security: bearer }, preHandler: person },
    async (req) => ({ updated: await messages().markRead(req.regionCode, req.principal!.subject, req.params.id) }),
  );

  app.post(
    '/api/message/inbox/read-all',
    { schema: { tags, summary: '全部标记已读', security: bearer }, preHandler: person },
    async (req) => ({ updated: await messages().markRead(req.regionCode, req.principal!.subject) }),
  );

  app.delete(
    '/api/message/inbox/:id',
    { schema: { tags, summary: '删除站内信', params: idParams, security: bearer }, preHandler: person },
    async (req, reply) => {
      await messages().deleteInbox(req.regionCode, req.principal!.subject, req.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/message/inbox/stream-ticket',
    { schema: { tags, summary: '获取实时消息凭证 (EventSource 用，60 秒有效)', security: bearer }, preHandler: person },
    async (req) => ({
      ticket: issueTicket(ctx, req.regionCode, req.principal!.subject),
      expiresIn: TICKET_TTL_SECONDS,
    }),
  );

  app.get(
    '/api/message/inbox/stream',
    {
      schema: {
        tags,
        summary: '站内信实时推送 (Server-Sent Events)',
        querystring: z.strictObject({ ticket: z.string().min(10).max(1000) }),
      },
    },
    async (req, reply) => {
      const { regionCode, personId } = verifyTicket(ctx, req.query.ticket);
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      reply.raw.write('retry: 3000\n\n');
      await hub.open(reply.raw, regionCode, personId);
    },
  );

  app.get(
    '/api/message/preferences',
    { schema: { tags, summary: '我的通知偏好', security: bearer }, preHandler: person },
    async (req) => messages().preferences(req.regionCode, req.principal!.subject),
  );

  app.put(
    '/api/message/preferences',
    { schema: { tags, summary: '修改通知偏好', body: preferencesBody, security: bearer }, preHandler: person },
    async (req) => messages().setPreferences(req.regionCode, req.principal!.subject, req.body.items),
  );

  app.get(
    '/api/message/wechat/binding',
    { schema: { tags, summary: '微信公众号绑定状态', security: bearer }, preHandler: person },
    async (req) => {
      const openid = await messages().wechatBinding(req.regionCode, req.principal!.subject);
      return { bound: Boolean(openid), sandbox: messages().providers.wechat.sandbox };
    },
  );

  app.post(
    '/api/message/wechat/binding',
    { schema: { tags, summary: '绑定微信公众号（沙箱：签发测试 openid）', security: bearer }, preHandler: person },
    async (req) => {
      await messages().bindWechat(req.regionCode, req.principal!.subject);
      return { bound: true, sandbox: messages().providers.wechat.sandbox };
    },
  );

  app.get(
    '/api/message/announcements',
    {
      schema: {
        tags,
        summary: '网厅公告（当前统筹区）',
        querystring: z.strictObject({ hall: z.enum(['personal', 'unit']).default('personal') }),
      },
    },
    async (req) =>
      messages().liveAnnouncements(
        req.regionCode,
        req.query.hall,
        req.principal?.kind === 'person'
          ? { personId: req.principal.subject, unitId: req.principal.unitId }
          : undefined,
      ),
  );

  // ───────── console ─────────

  app.get(
    '/api/message/types',
    { schema: { tags, summary: '消息类型', security: bearer }, preHandler: perm('message:read') },
    async (req) => {
      const svc = messages();
      return Promise.all(
        svc.types().map(async (t) => ({
          code: t.code,
          name: t.name,
          category: t.category,
          categoryName: CATEGORIES[t.category] ?? t.category,
          priority: t.priority,
          mandatory: t.mandatory,
          variables: t.variables,
          sample: t.sample,
          channels: Object.keys(t.defaultTemplates),
          rule: await svc.rule(ctx.db, req.regionCode, t.code),
        })),
      );
    },
  );

  app.get(
    '/api/message/types/:code/templates',
    {
      schema: { tags, summary: '模板及历史版本', params: typeCodeParams, security: bearer },
      preHandler: perm('message:read'),
    },
    async (req) => messages().templateVersions(req.regionCode, req.params.code),
  );

  app.post(
    '/api/message/types/:code/templates',
    {
      schema: {
        tags,
        summary: '保存模板（生成新版本；变量须在消息数据中定义）',
        params: typeCodeParams,
        body: templateBody,
        security: bearer,
      },
      preHandler: perm('message:manage'),
    },
    async (req, reply) => {
      const { channel, ...text } = req.body;
      const saved = await messages().saveTemplate(req.regionCode, req.params.code, channel, text, staffId(req));
      return reply.status(201).send(saved);
    },
  );

  app.post(
    '/api/message/types/:code/preview',
    {
      schema: { tags, summary: '用示例数据预览模板', params: typeCodeParams, body: previewBody, security: bearer },
      preHandler: perm('message:read'),
    },
    async (req) => {
      const { channel, title, body, payload } = req.body;
      return messages().preview(
        req.regionCode,
        req.params.code,
        channel,
        body !== undefined ? { title, body } : undefined,
        payload,
      );
    },
  );

  app.get(
    '/api/message/types/:code/rule',
    {
      schema: { tags, summary: '推送规则', params: typeCodeParams, security: bearer },
      preHandler: perm('message:read'),
    },
    async (req) => messages().rule(ctx.db, req.regionCode, req.params.code),
  );

  app.put(
    '/api/message/types/:code/rule',
    {
      schema: { tags, summary: '修改推送规则', params: typeCodeParams, body: ruleBody, security: bearer },
      preHandler: perm('message:manage'),
    },
    async (req) => messages().saveRule(req.regionCode, { typeCode: req.params.code, ...req.body }, staffId(req)),
  );

  app.get(
    '/api/message/channels',
    { schema: { tags, summary: '渠道配置（含沙箱标识）', security: bearer }, preHandler: perm('message:read') },
    async (req) => ({
      channels: await messages().channelConfigs(ctx.db, req.regionCode),
      settings: await messages().settings(ctx.db, req.regionCode),
    }),
  );

  app.put(
    '/api/message/channels/:channel',
    {
      schema: {
        tags,
        summary: '启停渠道、限流、沙箱故障注入',
        params: z.strictObject({ channel: channelSchema }),
        body: channelPatch,
        security: bearer,
      },
      preHandler: perm('message:manage'),
    },
    async (req) => messages().setChannel(req.regionCode, req.params.channel, req.body, staffId(req)),
  );

  app.put(
    '/api/message/settings',
    {
      schema: { tags, summary: '免打扰时段（北京时间）', body: settingsBody, security: bearer },
      preHandler: perm('message:manage'),
    },
    async (req) => messages().saveSettings(req.regionCode, req.body, staffId(req)),
  );

  app.get(
    '/api/message/deliveries',
    {
      schema: { tags, summary: '投递记录', querystring: deliveryQuery, security: bearer },
      preHandler: perm('message:read'),
    },
    async (req) => messages().deliveryLog(req.regionCode, req.query),
  );

  app.post(
    '/api/message/deliveries/:id/resend',
    {
      schema: { tags, summary: '重发失败/死信投递', params: idParams, security: bearer },
      preHandler: perm('message:manage'),
    },
    async (req) => messages().resend(req.regionCode, req.params.id, staffId(req)),
  );

  app.get(
    '/api/message/messages/:id',
    {
      schema: {
        tags,
        summary: '消息及其投递状态',
        params: idParams,
        response: { 200: messageStatusAnswer },
        security: bearer,
      },
      preHandler: perm('message:read'),
    },
    async (req) => messages().messageStatus(req.regionCode, req.params.id),
  );

  app.get(
    '/api/message/stats',
    {
      schema: {
        tags,
        summary: '各渠道每日发送量与失败率',
        querystring: z.strictObject({ days: z.coerce.number().int().min(1).max(90).default(14) }),
        security: bearer,
      },
      preHandler: perm('message:read'),
    },
    async (req) => messages().stats(req.regionCode, req.query.days),
  );

  app.get(
    '/api/message/sandbox',
    {
      schema: {
        tags,
        summary: '沙箱网关记录（短信、微信、未配置 SMTP 时的邮件）',
        querystring: z.strictObject({
          channel: z.enum(['sms', 'wechat', 'email']).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        security: bearer,
      },
      preHandler: perm('message:read'),
    },
    async (req) => messages().sandboxOutbox(req.regionCode, req.query.channel, req.query.limit),
  );

  app.get(
    '/api/message/broadcasts',
    { schema: { tags, summary: '公告与群发', security: bearer }, preHandler: perm('message:read') },
    async (req) => messages().announcements(req.regionCode),
  );

  app.post(
    '/api/message/broadcasts',
    {
      schema: { tags, summary: '发布公告（可定时、可推送站内信）', body: announcementBody, security: bearer },
      preHandler: perm('message:manage'),
      config: { idempotent: true },
    },
    async (req, reply) =>
      reply.status(201).send(await messages().createAnnouncement(req.regionCode, req.body, staffId(req))),
  );

  app.post(
    '/api/message/broadcasts/:id/withdraw',
    {
      schema: { tags, summary: '撤回公告', params: idParams, security: bearer },
      preHandler: perm('message:manage'),
    },
    async (req) => {
      await messages().withdrawAnnouncement(req.regionCode, req.params.id, staffId(req));
      return { withdrawn: true };
    },
  );

  // ───────── channel API (signed envelopes through the auth center, when it is part of this deployment) ─────────
  if (ctx.services.auth) await channelRoutes(app, ctx);
}

/** Channel API: partner systems send typed messages to persons of their region and query delivery status. */
async function channelRoutes(app: App, ctx: Context): Promise<void> {
  // Loaded only when the auth center is part of this deployment (the message center does not need it otherwise).
  const { channelEnvelopeFor, parseChannelData } = await import('../auth/index.ts');
  const messages = () => service(ctx, 'message');
  const guard = service(ctx, 'auth').channelAuth({ scope: 'message' });
  const source = (req: FastifyRequest) => `channel:${req.principal!.subject}`;

  app.post(
    '/api/message/channel/send',
    {
      schema: {
        tags,
        summary: '渠道发送消息（SM2 签名信封，scope message）',
        body: channelEnvelopeFor(sendBody),
        response: { 202: sendAnswer },
      },
      preHandler: guard,
      config: { idempotent: true },
    },
    async (req, reply) => {
      const body = parseChannelData(sendBody, req.body);
      if (body.type.startsWith('auth.'))
        throw new AppError(403, 'MESSAGE_TYPE_FORBIDDEN', '渠道不能发送此类消息', '验证码等安全消息只能由认证中心发送');
      if (body.to.personId) await requirePerson(ctx, req.regionCode, body.to.personId);
      const result = await ctx.db.tx((tx) =>
        messages().send(tx, { ...body, regionCode: req.regionCode, source: source(req) }),
      );
      return reply.status(202).send(result);
    },
  );

  app.post(
    '/api/message/channel/status',
    {
      schema: {
        tags,
        summary: '渠道查询消息投递状态（仅本渠道发送的消息）',
        body: channelEnvelopeFor(statusBody),
        response: { 200: messageStatusAnswer },
      },
      preHandler: guard,
    },
    async (req) => {
      const body = parseChannelData(statusBody, req.body);
      return messages().messageStatus(req.regionCode, body.messageId, { source: source(req) });
    },
  );
}

/** A message to an unknown person is refused up front when the caller waits for an answer (404). */
export async function requirePerson(ctx: Context, regionCode: string, personId: string): Promise<void> {
  const users = (ctx.services as Record<string, unknown>).user as
    | { getPerson(r: string, id: string): Promise<unknown> }
    | undefined;
  if (!users) return;
  const found = await users.getPerson(regionCode, personId).catch((err) => {
    if (err instanceof AppError && err.status === 404) return undefined;
    throw err;
  });
  if (!found) throw new AppError(404, 'MESSAGE_RECIPIENT_UNKNOWN', '收件人不存在', `统筹区 ${regionCode} 中没有该个人`);
}
