import { z } from 'zod';
import type { Center } from '../platform/center.ts';
import { sql } from '../platform/db/index.ts';
import { AppError } from '../platform/errors.ts';
import { enqueue } from '../platform/jobs.ts';

/**
 * A center that exists only in tests: an idempotent counter route and a job queue that records which process ran
 * each job, so tests can prove "exactly once" across processes.
 */
const PROBE_DDL_LOCK = 7_310_099;

export const probeCenter: Center = {
  name: 'probe',
  description: '测试探针',
  async init(ctx) {
    // two processes start at once: CREATE TABLE IF NOT EXISTS is not safe against a concurrent twin in PostgreSQL
    await ctx.db.withLock(PROBE_DDL_LOCK, () =>
      ctx.db.exec(`create table if not exists probe_counter (region_code char(6) primary key, n int not null);
        create table if not exists probe_run (region_code char(6), job_key text, pid int, primary key (region_code, job_key, pid))`),
    );
    ctx.jobs.register('probe.work', async (job, db) => {
      await db.q(
        sql`insert into probe_run(region_code, job_key, pid) values ('990100', ${job.payload.key}, ${process.pid})`,
      );
    });
  },
  routes(app, ctx) {
    app.post(
      '/api/probe/increment',
      {
        config: { idempotent: true },
        schema: { tags: ['probe'], body: z.strictObject({ by: z.number().int().min(1).max(100) }) },
      },
      async (req) => {
        if (req.body.by === 13) throw new AppError(422, 'PROBE_UNLUCKY', '不吉利的数字');
        // answers that say "not yet" (authenticate further; wait) until the caller shows x-probe-ready
        if (req.body.by === 42 && req.headers['x-probe-ready'] !== 'yes')
          throw new AppError(401, 'STEP_UP_REQUIRED', '此操作需要更高等级的身份认证');
        if (req.body.by === 43 && req.headers['x-probe-ready'] !== 'yes')
          throw new AppError(429, 'RATE_LIMITED', '请求过于频繁，请稍后再试');
        const [row] = await ctx.db.q<{
          n: number;
        }>(sql`insert into probe_counter values (${req.regionCode}, ${req.body.by})
          on conflict (region_code) do update set n = probe_counter.n + excluded.n returning n`);
        return { n: row.n, pid: process.pid };
      },
    );
    app.post(
      '/api/probe/jobs',
      { schema: { tags: ['probe'], body: z.strictObject({ keys: z.array(z.string()).max(1000) }) } },
      async (req) => {
        await ctx.db.tx(async (tx) => {
          for (const key of req.body.keys) await enqueue(tx, 'probe.work', { key });
        });
        return { enqueued: req.body.keys.length };
      },
    );
  },
};
