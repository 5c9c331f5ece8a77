import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyRequest } from 'fastify';
import pino from 'pino';
import { centers as allCenters } from './centers/index.ts';
import { denyAllPermissions, ownsAuthentication, type Principal } from './platform/auth.ts';
import type { Center } from './platform/center.ts';
import { type Config, publicUrl } from './platform/config.ts';
import type { Context } from './platform/context.ts';
import { type Database, openDatabase } from './platform/db/index.ts';
import { migrate } from './platform/db/migrate.ts';
import { AppError } from './platform/errors.ts';
import { EventBus } from './platform/events.ts';
import { type App, createHttp } from './platform/http.ts';
import { idempotencyHooks } from './platform/idempotency.ts';
import { JobRunner } from './platform/jobs.ts';
import { Metrics } from './platform/metrics.ts';
import { createPrivacy, reencryptBatch } from './platform/privacy/index.ts';
import { RegionService } from './platform/region.ts';
import { platformRoutes } from './platform/routes.ts';
import { AccessTokens, KeyStore } from './platform/tokens.ts';

export interface Platform {
  app: App;
  ctx: Context;
  centers: Center[];
  /** Migrates, seeds demo data when asked, starts job workers. */
  start(opts?: { seed?: boolean }): Promise<void>;
  listen(): Promise<string>;
  close(): Promise<void>;
}

const WEB_ROUTES = ['/personal', '/unit', '/console', '/institution', '/grassroots', '/public', '/h5', '/login'];

export async function buildPlatform(
  config: Config,
  opts: { db?: Database; centers?: Center[]; migrate?: boolean } = {},
): Promise<Platform> {
  const log = pino({ level: config.LOG_LEVEL });
  const db = opts.db ?? (await openDatabase({ url: config.DATABASE_URL, dataDir: join(config.DATA_DIR, 'pglite') }));
  if (opts.migrate !== false) await migrate(db);
  const centers = opts.centers ?? allCenters;
  const privacy = createPrivacy(config.DATA_KEYS, config.BLIND_INDEX_KEY);
  const metrics = new Metrics();
  const url = publicUrl(config);
  const keys = new KeyStore(db, privacy.cipher);
  const jobs = new JobRunner(db, {
    pollMs: config.JOB_POLL_MS,
    log: (msg, o) => log.warn(o, msg),
    note: (msg, o) => log.info(o, msg),
  });
  const ctx: Context = {
    config,
    db,
    log,
    regions: new RegionService(db),
    privacy,
    jobs,
    events: new EventBus(jobs),
    metrics,
    keys,
    tokens: new AccessTokens(keys, url),
    publicUrl: url,
    permissions: denyAllPermissions,
    services: {},
  };
  registerPlatformJobs(ctx);
  metrics.addCollector(() => jobMetrics(ctx));

  const app = await createHttp({
    bodyLimit: config.BODY_LIMIT,
    logLevel: config.LOG_LEVEL,
    publicUrl: url,
    metrics,
    tags: [
      { name: 'platform', description: '平台: 健康检查、统筹区、任务队列、审计' },
      ...centers.map((c) => ({ name: c.name, description: c.description })),
    ],
  });
  app.addHook('onRequest', (req, _reply, done) => {
    const pending = authenticate(req, ctx);
    if (pending) pending.then(() => done(), done);
    else done();
  });
  // Idempotency hooks only on routes that declare `config.idempotent`, after the route's own guards (which may set
  // the channel principal the key is scoped to).
  const idem = idempotencyHooks(db);
  app.addHook('onRoute', (route) => {
    if (!route.config?.idempotent) return;
    route.preHandler = [...asArray(route.preHandler), idem.preHandler];
    route.onSend = [...asArray(route.onSend), idem.onSend];
    route.onResponse = [...asArray(route.onResponse), idem.onResponse];
  });

  for (const center of centers) await center.init?.(ctx);
  platformRoutes(app, ctx);
  for (const center of centers) await center.routes?.(app, ctx);
  await serveWeb(app, config);

  return {
    app,
    ctx,
    centers,
    async start(startOpts = {}) {
      if (startOpts.seed ?? config.DEMO_SEED) for (const center of centers) await center.seed?.(ctx);
      if (config.JOB_WORKERS) await ctx.jobs.start();
    },
    async listen() {
      return app.listen({ port: config.PORT, host: config.HOST });
    },
    async close() {
      await ctx.jobs.stop();
      await app.close();
      await db.close();
    },
  };
}

/**
 * Bearer token → principal; then the request's region (principal's, or X-Region-Code for staff and the public).
 * Routes that authenticate their callers themselves (the OIDC provider under /oidc/, routes declaring
 * `config.ownAuthentication`) keep their Authorization header to themselves and get the default region.
 */
function authenticate(req: FastifyRequest, ctx: Context): Promise<void> | undefined {
  const header = req.headers.authorization;
  if ((!header && req.headers['x-region-code'] === undefined) || (header && ownsAuthentication(req))) {
    req.regionCode = ctx.config.DEFAULT_REGION; // the anonymous fast path: no promise, no lookup
    return undefined;
  }
  return authenticateSlow(req, ctx, header);
}

async function authenticateSlow(req: FastifyRequest, ctx: Context, header: string | undefined): Promise<void> {
  if (header?.startsWith('Bearer ')) req.principal = await principalFromToken(header.slice(7), req, ctx);
  const asked = req.headers['x-region-code'];
  const p = req.principal;
  if (p && p.kind !== 'staff') {
    req.regionCode = p.regionCode;
  } else if (typeof asked === 'string' && asked !== '') {
    req.regionCode = (await ctx.regions.require(asked, 'X-Region-Code')).code;
  } else {
    req.regionCode = p?.regionCode ?? ctx.config.DEFAULT_REGION;
  }
}

async function principalFromToken(token: string, req: FastifyRequest, ctx: Context): Promise<Principal> {
  let claims: Awaited<ReturnType<Context['tokens']['verify']>>;
  try {
    claims = await ctx.tokens.verify(token);
  } catch {
    throw new AppError(401, 'TOKEN_INVALID', '登录已失效，请重新登录');
  }
  if (claims.sid && ctx.sessionActive && !(await ctx.sessionActive(claims.sid, claims.region))) {
    throw new AppError(401, 'SESSION_REVOKED', '会话已退出，请重新登录');
  }
  // the request's own pino child takes the subject: no second child logger per request
  (req.log as typeof req.log & Pick<pino.Logger, 'setBindings'>).setBindings({ sub: claims.sub });
  return {
    kind: claims.kind as Principal['kind'],
    subject: claims.sub,
    regionCode: claims.region,
    acr: claims.acr,
    amr: claims.amr,
    sessionId: claims.sid,
    scopes: claims.scope?.split(' '),
    unitId: typeof claims.unit === 'string' ? claims.unit : undefined,
  };
}

function registerPlatformJobs(ctx: Context): void {
  ctx.jobs.register(
    'privacy.reencrypt',
    async (_job, db) => {
      while ((await reencryptBatch(db, ctx.privacy)) > 0);
    },
    '个人数据换新密钥重新加密',
  );
}

async function jobMetrics(ctx: Context): Promise<string[]> {
  const lines = ['# HELP job_queue_jobs Jobs by queue and state.', '# TYPE job_queue_jobs gauge'];
  const stats = await ctx.jobs.stats();
  for (const s of stats) lines.push(`job_queue_jobs{queue="${s.queue}",state="${s.state}"} ${s.count}`);
  lines.push(
    '# HELP job_queue_wait_seconds How long the oldest due job of a queue has waited.',
    '# TYPE job_queue_wait_seconds gauge',
  );
  for (const s of stats)
    if (s.state === 'queued') lines.push(`job_queue_wait_seconds{queue="${s.queue}"} ${s.waitSeconds}`);
  lines.push('# HELP job_failures_total Failed job attempts in this process.', '# TYPE job_failures_total counter');
  for (const [queue, n] of ctx.jobs.failures) lines.push(`job_failures_total{queue="${queue}"} ${n}`);
  lines.push('# HELP job_completed_total Completed jobs in this process.', '# TYPE job_completed_total counter');
  for (const [queue, n] of ctx.jobs.completed) lines.push(`job_completed_total{queue="${queue}"} ${n}`);
  return lines;
}

/** Serves the built web app; portal paths fall back to index.html (client-side routing). */
async function serveWeb(app: App, config: Config): Promise<void> {
  const root = config.WEB_DIST ?? new URL('../../web/dist/', import.meta.url).pathname;
  if (!existsSync(join(root, 'index.html'))) {
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply
        .type('text/html')
        .send(
          '<meta charset="utf-8"><p>前端尚未构建：请运行 <code>npm run build -w web</code>。API 文档见 <a href="/docs">/docs</a>。</p>',
        ),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root,
    index: ['index.html'],
    // the build writes .br and .gz beside every asset: a phone on a mobile network gets a fifth of the bytes
    preCompressed: true,
    // hashed file names change with their content, so they may be kept for good; index.html must be asked anew
    setHeaders: (reply, path) => {
      reply.header('x-content-type-options', 'nosniff');
      if (path.includes('/assets/')) {
        reply.header('cache-control', 'public, max-age=31536000, immutable');
        return;
      }
      reply.header('cache-control', 'no-cache');
      if (/\.html(\.br|\.gz)?$/.test(path)) {
        reply.header('content-security-policy', pageSecurityPolicy(reply.request.url));
        reply.header('referrer-policy', 'strict-origin-when-cross-origin');
      }
    },
  });
  const spa = async (_req: FastifyRequest, reply: import('fastify').FastifyReply) => reply.sendFile('index.html');
  for (const prefix of WEB_ROUTES) {
    app.get(prefix, { schema: { hide: true } }, spa);
    app.get(`${prefix}/*`, { schema: { hide: true } }, spa);
  }
}

/**
 * What a page of the web app may load and who may frame it: scripts only from here (no inline script, no eval), styles
 * inline too (antd writes its own), images also from https (a region's logo) and data/blob (QR codes, camera frames).
 * The portals may not be framed by other sites (clickjacking); the H5 pages exist to be shown inside channel apps.
 */
function pageSecurityPolicy(url: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: https:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    ...(url.startsWith('/h5/') ? [] : ["frame-ancestors 'self'"]),
  ].join('; ');
}

function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
