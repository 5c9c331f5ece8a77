import { z } from 'zod';
import { verifyAuditChain } from './audit.ts';
import { staffPermission } from './auth.ts';
import type { Context } from './context.ts';
import { sql } from './db/index.ts';
import { pendingMigrations } from './db/migrate.ts';
import { AppError } from './errors.ts';
import type { App } from './http.ts';
import { enqueue, retryDeadJob } from './jobs.ts';
import { keyRotationStatus } from './privacy/index.ts';
import { rateLimit } from './rate-limit.ts';

const regionParams = z.strictObject({ code: z.string().regex(/^\d{6}$/, '应为 6 位数字') });

const regionConfigFields = {
  displayName: z.string().min(2).max(40).optional(),
  brandColor: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/)
    .optional(),
  logoUrl: z.string().max(500).nullable().optional(),
  enabledServices: z
    .array(z.string().regex(/^[a-z]+$/))
    .max(30)
    .optional(),
};

/** Liveness, readiness, metrics, regions and the operator's job view. */
export function platformRoutes(app: App, ctx: Context): void {
  const perm = (p: string) => staffPermission(() => ctx.permissions, p);
  // the centers have declared their settings by now (routes are registered after every init)
  const regionConfigBody = z.strictObject({
    ...regionConfigFields,
    settings: ctx.regions.settingsSchema().optional().describe('各中心的统筹区参数'),
  });

  app.get('/healthz', { schema: { tags: ['platform'], summary: '进程存活' } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    { schema: { tags: ['platform'], summary: '就绪检查: 数据库可达且迁移已执行' } },
    async (_req, reply) => {
      try {
        await ctx.db.q(sql`select 1`);
        const pending = await pendingMigrations(ctx.db);
        if (pending.length > 0) return reply.status(503).send({ status: 'migrations pending', pending });
        return { status: 'ready', database: ctx.db.kind };
      } catch (err) {
        return reply.status(503).send({ status: 'database unreachable', error: (err as Error).message });
      }
    },
  );

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/plain; version=0.0.4').send(await ctx.metrics.render()),
  );

  app.get('/api/regions', { schema: { tags: ['platform'], summary: '统筹区列表' } }, async () => ctx.regions.all());

  app.get(
    '/api/regions/:code/config',
    { schema: { tags: ['platform'], summary: '统筹区配置 (名称、品牌色、启用服务)', params: regionParams } },
    async (req) => ctx.regions.config(req.params.code),
  );

  app.put(
    '/api/regions/:code/config',
    {
      schema: {
        tags: ['platform'],
        summary: '修改统筹区配置',
        params: regionParams,
        body: regionConfigBody,
        security: [{ bearer: [] }],
      },
      preHandler: perm('region:manage'),
    },
    async (req) => {
      if (req.params.code !== req.regionCode) {
        throw new AppError(403, 'REGION_FORBIDDEN', '只能修改当前统筹区的配置');
      }
      return ctx.regions.updateConfig(req.params.code, req.body);
    },
  );

  app.get(
    '/api/platform/jobs',
    {
      schema: { tags: ['platform'], summary: '任务队列概况与死信任务', security: [{ bearer: [] }] },
      preHandler: perm('ops:read'),
    },
    // the region acted in, and platform-wide jobs (no region); /metrics counts every region for the operators
    async (req) => ({
      stats: await ctx.jobs.stats(req.regionCode),
      titles: Object.fromEntries(ctx.jobs.titles),
      dead: await ctx.db.q(sql`select id, queue, region_code, attempts, last_error, finished_at from job
        where state = 'dead' and (region_code = ${req.regionCode} or region_code is null)
        order by finished_at desc limit 100`),
    }),
  );

  app.post(
    '/api/platform/jobs/:id/retry',
    {
      schema: {
        tags: ['platform'],
        summary: '重试死信任务',
        params: z.strictObject({ id: z.coerce.number().int().positive() }),
        security: [{ bearer: [] }],
      },
      preHandler: perm('ops:manage'),
    },
    async (req) => {
      if (!(await retryDeadJob(ctx.db, req.params.id, req.regionCode)))
        throw new AppError(404, 'JOB_NOT_DEAD', '任务不存在或不在死信状态');
      return { retried: true };
    },
  );

  app.get(
    '/api/platform/audit/verify',
    {
      schema: { tags: ['platform'], summary: '校验审计日志哈希链', security: [{ bearer: [] }] },
      preHandler: perm('audit:read'),
    },
    async (req) => verifyAuditChain(ctx.db, req.regionCode),
  );

  app.get(
    '/api/platform/privacy/keys',
    {
      schema: { tags: ['platform'], summary: '个人数据加密密钥轮换进度', security: [{ bearer: [] }] },
      preHandler: perm('ops:read'),
    },
    async () => ({
      currentKeyId: ctx.privacy.cipher.currentKeyId,
      columns: await keyRotationStatus(ctx.db, ctx.privacy),
    }),
  );

  app.post(
    '/api/platform/privacy/reencrypt',
    {
      schema: { tags: ['platform'], summary: '启动个人数据重新加密 (密钥轮换)', security: [{ bearer: [] }] },
      preHandler: perm('ops:manage'),
    },
    async () => {
      await enqueue(
        ctx.db,
        'privacy.reencrypt',
        {},
        { dedupeKey: `reencrypt-${ctx.privacy.cipher.currentKeyId}-${Date.now()}` },
      );
      return { started: true };
    },
  );

  clientErrorRoute(app, ctx);
}

/** A page sends at most this many reports a minute per address (a crash loop must not flood the log). */
const CLIENT_ERRORS_PER_MINUTE = 20;

const clientErrorBody = z.strictObject({
  kind: z.enum(['chunk', 'render']).describe('chunk: 页面代码未能下载（网络或版本更新）; render: 页面渲染出错'),
  path: z
    .string()
    .max(300)
    .regex(/^\/[^?#]*$/, '应为页面路径（不含查询串）')
    .describe('出错页面的路径'),
  message: z.string().max(500).describe('浏览器报告的错误信息'),
});

/**
 * Pages that failed in a browser report here, so that an operator sees a broken release or a failing asset host in
 * the log and in /metrics (`web_client_errors_total`) before citizens phone the hotline.
 */
function clientErrorRoute(app: App, ctx: Context): void {
  const count = ctx.metrics.counter(
    'web_client_errors_total',
    'Pages that failed in a browser, by kind (chunk: code not loaded; render: error).',
  );
  app.post(
    '/api/client-errors',
    {
      preHandler: rateLimit(ctx.db, { bucket: 'platform.client-errors', limit: CLIENT_ERRORS_PER_MINUTE }),
      schema: {
        tags: ['platform'],
        summary: '网页出错上报（页面未能加载或渲染出错；每个地址每分钟限量）',
        body: clientErrorBody,
      },
    },
    async (req, reply) => {
      count({ kind: req.body.kind });
      req.log.warn({ clientError: req.body }, 'a page failed in a browser');
      return reply.status(204).send();
    },
  );
}
