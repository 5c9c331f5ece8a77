import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Database, sql } from './db/index.ts';
import { AppError } from './errors.ts';

export interface RateLimit {
  /** What is limited, e.g. `evoucher.login-ticket`. */
  bucket: string;
  /** Requests allowed per key in one window. */
  limit: number;
  windowSeconds?: number;
  /** Whom the limit counts; the client address by default. */
  key?: (req: FastifyRequest) => string;
}

/**
 * A preHandler that counts requests per key in fixed windows, in the database so that every process shares the
 * count, and answers 429 RATE_LIMITED with Retry-After once the window's limit is spent.
 */
export function rateLimit(db: Database, opts: RateLimit) {
  const windowMs = (opts.windowSeconds ?? 60) * 1000;
  let lastSweep = 0;
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const now = Date.now();
    const start = new Date(now - (now % windowMs));
    const key = opts.key?.(req) ?? req.ip;
    const [row] = await db.q<{
      hits: number;
    }>(sql`insert into rate_limit_window(region_code, bucket, key, window_start, hits)
      values (${req.regionCode}, ${opts.bucket}, ${key}, ${start.toISOString()}, 1)
      on conflict (region_code, bucket, key, window_start) do update set hits = rate_limit_window.hits + 1
      returning hits`);
    if (now - lastSweep > windowMs) {
      lastSweep = now;
      await db.q(sql`delete from rate_limit_window where window_start < ${new Date(now - 5 * windowMs).toISOString()}`);
    }
    if (row.hits > opts.limit) {
      const retryAfter = Math.ceil((start.getTime() + windowMs - now) / 1000);
      reply.header('retry-after', String(retryAfter));
      throw new AppError(429, 'RATE_LIMITED', '请求过于频繁，请稍后再试', undefined, {
        extra: { retryAfterSeconds: retryAfter },
      });
    }
  };
}

/**
 * Checks of a signed-in account's own password (password change, contact change, deactivation, adding a passkey):
 * a session must not become a way to guess it. One budget per account across all of them: 10 a quarter hour.
 */
export const passwordChecks = (db: Database) =>
  rateLimit(db, {
    bucket: 'user.password-check',
    limit: 10,
    windowSeconds: 900,
    key: (req) => req.principal?.subject ?? req.ip,
  });
