/** Security pages' APIs: a person's (or staff member's) own sessions, login history and passkeys; staff tools. */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { appendAudit } from '../../platform/audit.ts';
import { requirePrincipal, staffPermission } from '../../platform/auth.ts';
import { type Context, service } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import type { App } from '../../platform/http.ts';
import type { AccountKind } from './accounts.ts';
import { loginOverviewSchema } from './monitor.ts';

const sessionView = z.object({
  sid: z.string(),
  clientId: z.string().nullable(),
  acr: z.string(),
  amr: z.array(z.string()),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  createdAt: z.string(),
  authenticatedAt: z.string(),
  current: z.boolean().optional(),
});

export function selfServiceRoutes(app: App, ctx: Context): void {
  const auth = () => service(ctx, 'auth');
  const me = (req: Parameters<typeof requirePrincipal>[0]) => {
    const p = requirePrincipal(req, 'person', 'staff');
    return { kind: p.kind as AccountKind, id: p.subject, regionCode: p.regionCode, sid: p.sessionId, acr: p.acr };
  };
  const tags = ['auth'];
  /** Ends `account`'s sessions (but `keep`; only `regionCode`'s when given) and audits who asked and how many. */
  const endSessionsAudited = (
    req: FastifyRequest,
    actor: { kind: AccountKind; id: string },
    account: { kind: AccountKind; id: string },
    action: string,
    opts: { keep?: string; regionCode?: string },
  ) =>
    ctx.db.tx(async (tx) => {
      const ended = await auth().endSessions(tx, account, `${actor.kind}:${actor.id}`, opts.keep, opts.regionCode);
      await appendAudit(tx, {
        regionCode: req.regionCode,
        actorKind: actor.kind,
        actorId: actor.id,
        action,
        targetType: account.kind,
        targetId: account.id,
        ip: req.ip,
        result: 'success',
        detail: { ended },
      });
      return { ended };
    });

  app.get(
    '/api/auth/me/sessions',
    { schema: { tags, summary: '我的登录会话', response: { 200: z.array(sessionView) } } },
    async (req) => {
      const m = me(req);
      const list = await auth().sessions(m.regionCode, m.id);
      return list.map((s) => ({ ...s, current: s.sid === m.sid }));
    },
  );

  app.delete(
    '/api/auth/me/sessions/:sid',
    { schema: { tags, summary: '远程退出某个会话', params: z.strictObject({ sid: z.string().min(8).max(64) }) } },
    async (req, reply) => {
      const m = me(req);
      const ok = await auth().revokeSession(m.regionCode, m.id, req.params.sid, `${m.kind}:${m.id}`);
      if (!ok) throw new AppError(404, 'AUTH_SESSION_NOT_FOUND', '会话不存在或已退出');
      await ctx.db.tx((tx) =>
        appendAudit(tx, {
          regionCode: m.regionCode,
          actorKind: m.kind,
          actorId: m.id,
          action: 'auth.session.revoke',
          targetType: 'session',
          targetId: req.params.sid,
          ip: req.ip,
          result: 'success',
        }),
      );
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/auth/me/sessions/end-others',
    { schema: { tags, summary: '让其他所有设备退出登录（本设备保持登录）' } },
    async (req) => {
      const m = me(req);
      return endSessionsAudited(req, m, m, 'auth.session.end_others', { keep: m.sid });
    },
  );

  app.get(
    '/api/auth/me/logins',
    {
      schema: {
        tags,
        summary: '我的登录记录',
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      },
    },
    async (req) => {
      const m = me(req);
      return auth().loginHistory(m.regionCode, m.id, req.query.limit);
    },
  );

  // ---- passkeys ----
  app.get('/api/auth/me/passkeys', { schema: { tags, summary: '我的通行密钥' } }, async (req) => {
    const m = me(req);
    return auth().passkeys.list(m.regionCode, m.id);
  });

  app.post(
    '/api/auth/me/passkeys/options',
    {
      schema: {
        tags,
        summary: '开始添加通行密钥（以单因素登录的，需同时提交登录密码；没有密码的账号先二次验证）',
        body: z.strictObject({ password: z.string().max(128).optional() }).optional(),
      },
    },
    async (req, reply) => {
      const m = me(req);
      // a passkey outlives this session: a borrowed or stolen one must not be able to add its own
      const account =
        (await auth().confirmOwner(req, reply, req.body?.password)) ??
        (await auth().accounts().get(m.kind, m.regionCode, m.id));
      if (!account) throw new AppError(404, 'AUTH_ACCOUNT_NOT_FOUND', '账号不存在');
      return auth().passkeys.registrationOptions(account);
    },
  );

  app.post(
    '/api/auth/me/passkeys',
    {
      schema: {
        tags,
        summary: '完成添加通行密钥',
        body: z.strictObject({
          name: z.string().trim().min(1).max(40),
          response: z.record(z.string(), z.unknown()),
        }),
      },
    },
    async (req, reply) => {
      const m = me(req);
      const created = await auth().passkeys.register(m, req.body.name, req.body.response);
      await ctx.db.tx((tx) =>
        appendAudit(tx, {
          regionCode: m.regionCode,
          actorKind: m.kind,
          actorId: m.id,
          action: 'auth.passkey.add',
          targetType: 'passkey',
          targetId: created.id,
          ip: req.ip,
          result: 'success',
        }),
      );
      return reply.status(201).send(created);
    },
  );

  app.patch(
    '/api/auth/me/passkeys/:id',
    {
      schema: {
        tags,
        summary: '重命名通行密钥',
        params: z.strictObject({ id: z.string().max(512) }),
        body: z.strictObject({ name: z.string().trim().min(1).max(40) }),
      },
    },
    async (req, reply) => {
      const m = me(req);
      await auth().passkeys.rename(m.regionCode, m.id, req.params.id, req.body.name);
      return reply.status(204).send();
    },
  );

  app.delete(
    '/api/auth/me/passkeys/:id',
    { schema: { tags, summary: '删除通行密钥', params: z.strictObject({ id: z.string().max(512) }) } },
    async (req, reply) => {
      const m = me(req);
      await auth().passkeys.remove(m.regionCode, m.id, req.params.id);
      await ctx.db.tx((tx) =>
        appendAudit(tx, {
          regionCode: m.regionCode,
          actorKind: m.kind,
          actorId: m.id,
          action: 'auth.passkey.remove',
          targetType: 'passkey',
          targetId: req.params.id,
          ip: req.ip,
          result: 'success',
        }),
      );
      return reply.status(204).send();
    },
  );

  // ---- staff tools ----
  const perm = (p: string) => staffPermission(() => ctx.permissions, p);
  const accountParams = z.strictObject({ kind: z.enum(['person', 'staff']), id: z.uuid() });

  app.get(
    '/api/auth/logins/overview',
    {
      schema: {
        tags,
        summary: '登录监控：本统筹区最近若干小时的登录（按小时、按方式）、失败最多的来源 IP 与锁定中的账号',
        querystring: z.strictObject({ hours: z.coerce.number().int().min(1).max(168).default(24) }),
        response: { 200: loginOverviewSchema },
      },
      preHandler: perm('auth:session'),
    },
    async (req) => auth().loginOverview(req.regionCode, req.query.hours),
  );

  app.get(
    '/api/auth/accounts/:kind/:id/lock',
    { schema: { tags, summary: '账号登录锁定状态', params: accountParams }, preHandler: perm('auth:session') },
    async (req) => auth().lockState(req.regionCode, req.params.kind, req.params.id),
  );

  app.post(
    '/api/auth/accounts/:kind/:id/unlock',
    { schema: { tags, summary: '解除登录锁定', params: accountParams }, preHandler: perm('auth:session') },
    async (req) => {
      const p = requirePrincipal(req, 'staff');
      const unlocked = await auth().unlockAccount({
        regionCode: req.regionCode,
        kind: req.params.kind,
        subjectId: req.params.id,
        actor: p.subject,
      });
      await ctx.db.tx((tx) =>
        appendAudit(tx, {
          regionCode: req.regionCode,
          actorKind: 'staff',
          actorId: p.subject,
          action: 'auth.account.unlock',
          targetType: req.params.kind,
          targetId: req.params.id,
          ip: req.ip,
          result: 'success',
          detail: { wasLocked: unlocked },
        }),
      );
      return { unlocked };
    },
  );

  app.get(
    '/api/auth/accounts/:kind/:id/sessions',
    { schema: { tags, summary: '账号的登录会话', params: accountParams }, preHandler: perm('auth:session') },
    async (req) => auth().sessions(req.regionCode, req.params.id),
  );

  app.post(
    '/api/auth/accounts/:kind/:id/sessions/end',
    {
      schema: { tags, summary: '让账号在所有设备退出登录（留痕审计）', params: accountParams },
      preHandler: perm('auth:session'),
    },
    async (req) => {
      const staff = { kind: 'staff' as const, id: requirePrincipal(req, 'staff').subject };
      return endSessionsAudited(req, staff, req.params, 'auth.session.end_all', { regionCode: req.regionCode });
    },
  );

  app.get(
    '/api/auth/accounts/:kind/:id/logins',
    { schema: { tags, summary: '账号的登录记录', params: accountParams }, preHandler: perm('auth:session') },
    async (req) => auth().loginHistory(req.regionCode, req.params.id, 100),
  );

  app.get(
    '/api/auth/keys',
    { schema: { tags, summary: '签名密钥（公钥）' }, preHandler: perm('auth:keys') },
    async () =>
      (await ctx.keys.keys()).map((k) => ({
        kid: k.kid,
        alg: k.publicJwk.alg,
        createdAt: k.createdAt.toISOString(),
        retiredAt: k.retiredAt?.toISOString() ?? null,
        publicJwk: k.publicJwk,
      })),
  );

  app.post(
    '/api/auth/keys/rotate',
    { schema: { tags, summary: '轮换签名密钥' }, preHandler: perm('auth:keys') },
    async (req) => {
      const p = requirePrincipal(req, 'staff');
      const kid = await ctx.keys.rotate();
      await ctx.db.tx((tx) =>
        appendAudit(tx, {
          regionCode: req.regionCode,
          actorKind: 'staff',
          actorId: p.subject,
          action: 'auth.keys.rotate',
          targetType: 'signing_key',
          targetId: kid,
          ip: req.ip,
          result: 'success',
        }),
      );
      return { kid };
    },
  );

  // ---- trusted CAs for certificate login ----
  app.get(
    '/api/auth/cas',
    { schema: { tags, summary: '证书登录信任的 CA' }, preHandler: perm('auth:keys') },
    async (req) =>
      ctx.db.q(sql`select id, name, crl_updated_at as "crlUpdatedAt", created_at as "createdAt" from auth_trusted_ca
      where region_code = ${req.regionCode} order by created_at`),
  );

  app.post(
    '/api/auth/cas',
    {
      schema: {
        tags,
        summary: '添加信任的 CA（证书登录）',
        body: z.strictObject({ name: z.string().trim().min(2).max(60), certPem: z.string().max(20_000) }),
      },
      preHandler: perm('auth:keys'),
    },
    async (req, reply) => {
      const p = requirePrincipal(req, 'staff');
      const id = await auth().certs.addCa(req.regionCode, req.body.name, req.body.certPem);
      await ctx.db.tx((tx) =>
        appendAudit(tx, {
          regionCode: req.regionCode,
          actorKind: 'staff',
          actorId: p.subject,
          action: 'auth.ca.add',
          targetType: 'ca',
          targetId: id,
          ip: req.ip,
          result: 'success',
        }),
      );
      return reply.status(201).send({ id });
    },
  );

  app.put(
    '/api/auth/cas/:id/crl',
    {
      schema: {
        tags,
        summary: '更新 CA 的证书吊销列表 (CRL)',
        params: z.strictObject({ id: z.string().max(64) }),
        body: z.strictObject({ crlPem: z.string().max(2_000_000) }),
      },
      preHandler: perm('auth:keys'),
    },
    async (req, reply) => {
      await auth().certs.setCrl(req.regionCode, req.params.id, req.body.crlPem);
      return reply.status(204).send();
    },
  );

  app.get('/api/auth/login-methods', { schema: { tags, summary: '可用的登录方式' } }, async () => [
    { amr: 'pwd', label: '密码', acr: 'pwd' },
    { amr: 'sms', label: '短信验证码', acr: 'sms' },
    { amr: 'passkey', label: '通行密钥', acr: 'passkey' },
    { amr: 'cert', label: '数字证书', acr: 'cert' },
    ...auth()
      .loginMethods.all()
      .map((m) => ({ amr: m.amr, label: m.label, acr: m.acr })),
  ]);
}
