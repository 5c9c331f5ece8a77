/** Fixed-window counters in the database, so limits hold across every process of the deployment. */

import type { Executor } from '../../platform/db/index.ts';
import { sql } from '../../platform/db/index.ts';

export interface Limit {
  bucket: string;
  /** Window length in seconds. */
  windowSeconds: number;
  /** Allowed hits per window. */
  max: number;
}

/** Counts one hit; returns the count in the current window and when it resets. */
export async function hit(
  ex: Executor,
  regionCode: string,
  limit: Limit,
  key: string,
  now = Date.now(),
): Promise<{ count: number; allowed: boolean; retryAfterSeconds: number }> {
  const windowMs = limit.windowSeconds * 1000;
  const start = Math.floor(now / windowMs) * windowMs;
  const row = await ex.one<{
    count: number;
  }>(sql`insert into auth_rate_counter(region_code, bucket, key, window_start, count, expires_at)
    values (${regionCode}, ${limit.bucket}, ${key}, ${new Date(start).toISOString()}, 1, ${new Date(start + windowMs).toISOString()})
    on conflict (region_code, bucket, key, window_start) do update set count = auth_rate_counter.count + 1
    returning count`);
  const count = Number(row?.count ?? 1);
  return {
    count,
    allowed: count <= limit.max,
    retryAfterSeconds: Math.max(1, Math.ceil((start + windowMs - now) / 1000)),
  };
}

/** Current count without counting. */
export async function peek(
  ex: Executor,
  regionCode: string,
  limit: Limit,
  key: string,
  now = Date.now(),
): Promise<number> {
  const windowMs = limit.windowSeconds * 1000;
  const start = Math.floor(now / windowMs) * windowMs;
  const row = await ex.one<{ count: number }>(sql`select count from auth_rate_counter where region_code = ${regionCode}
    and bucket = ${limit.bucket} and key = ${key} and window_start = ${new Date(start).toISOString()}`);
  return Number(row?.count ?? 0);
}

export async function purgeCounters(ex: Executor): Promise<void> {
  await ex.q(sql`delete from auth_rate_counter where expires_at < now()`);
}
