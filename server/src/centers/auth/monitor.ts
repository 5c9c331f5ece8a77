/**
 * 登录监控: how a region's logins went over the last hours, for the operator who must tell a forgotten password
 * from a credential-stuffing run — per hour and per method, the addresses that fail most, and who is locked now.
 */

import { z } from 'zod';
import type { Executor } from '../../platform/db/index.ts';
import { sql } from '../../platform/db/index.ts';
import { maskName } from '../../platform/privacy/index.ts';
import { isoInstant } from '../../platform/time.ts';
import type { AccountDirectory, AccountKind } from './accounts.ts';

/** Failures from one address in the window before it is listed as suspicious. */
export const SUSPICIOUS_IP_FAILURES = 5;

const resultCounts = {
  success: z.number().int().describe('成功'),
  failure: z.number().int().describe('失败（账号、密码或验证码错误）'),
  refused: z.number().int().describe('拒绝：锁定或限流，未校验密码'),
};
export type ResultCounts = { [K in keyof typeof resultCounts]: number };

const lockedAccount = z.object({
  kind: z.enum(['person', 'staff']),
  id: z.string(),
  name: z.string().describe('个人脱敏姓名，工作人员显示名；账号已不存在时为空'),
  failures: z.number().int(),
  hardLocked: z.boolean().describe('true：需人工解锁；false：增长的延迟中'),
  lockedUntil: z.string().nullable(),
  lastFailureAt: z.string().nullable(),
});
export type LockedAccount = z.infer<typeof lockedAccount>;

/** The answer of `GET /api/auth/logins/overview` (serialised and documented by it). */
export const loginOverviewSchema = z.object({
  from: z.string(),
  to: z.string(),
  totals: z.object(resultCounts),
  hourly: z.array(z.object({ hour: z.string(), ...resultCounts })).describe('每小时一项，由早到晚，无登录的小时为 0'),
  byMethod: z.array(z.object({ method: z.string(), ...resultCounts })),
  byClient: z
    .array(z.object({ clientId: z.string().nullable(), ...resultCounts }))
    .describe('按登录的应用（个人网厅、单位网厅、管理后台、机构工作台、渠道），null 为未知'),
  suspiciousIps: z
    .array(
      z.object({
        ip: z.string(),
        failures: z.number().int().describe('失败或拒绝'),
        successes: z.number().int(),
        accounts: z.number().int().describe('涉及的（存在的）账号数'),
        lastAt: z.string(),
      }),
    )
    .describe(`窗口内失败 ${SUSPICIOUS_IP_FAILURES} 次及以上的来源地址，最多 10 个`),
  locked: z.array(lockedAccount),
  lockedUnknownLoginIds: z.number().int().describe('因反复失败而锁定、却没有对应账号的登录名个数（有人在猜账号）'),
});
export type LoginOverview = z.infer<typeof loginOverviewSchema>;

const HOUR_MS = 3_600_000;
const zero = (): ResultCounts => ({ success: 0, failure: 0, refused: 0 });
const bucketOf = (result: string): keyof ResultCounts =>
  result === 'success' ? 'success' : result === 'failure' ? 'failure' : 'refused';

export async function loginOverview(
  db: Executor,
  accounts: AccountDirectory,
  regionCode: string,
  hours: number,
  now = Date.now(),
): Promise<LoginOverview> {
  const firstHour = Math.floor(now / HOUR_MS) - hours + 1;
  const from = new Date(firstHour * HOUR_MS).toISOString();
  const [counts, ips, guards] = await Promise.all([
    db.q<{ hour: number; method: string; client_id: string | null; result: string; n: number }>(sql`
      select floor(extract(epoch from at) / 3600)::int as hour, method, client_id, result, count(*)::int as n
      from auth_login_event where region_code = ${regionCode} and at >= ${from}
      group by 1, 2, 3, 4`),
    db.q<{ ip: string; failures: number; successes: number; accounts: number; last_at: string }>(sql`
      select ip, count(*) filter (where result <> 'success')::int as failures,
        count(*) filter (where result = 'success')::int as successes,
        count(distinct account_id)::int as accounts, max(at) as last_at
      from auth_login_event where region_code = ${regionCode} and at >= ${from} and ip is not null
      group by ip having count(*) filter (where result <> 'success') >= ${SUSPICIOUS_IP_FAILURES}
      order by failures desc, last_at desc limit 10`),
    db.q<{
      key: string;
      failures: number;
      hard_locked: boolean;
      locked_until: string | null;
      last_failure_at: string | null;
    }>(sql`
      select key, failures, hard_locked, locked_until, last_failure_at from auth_login_guard
      where region_code = ${regionCode} and (hard_locked or locked_until > now())
      order by last_failure_at desc nulls last limit 200`),
  ]);

  const hourly = Array.from({ length: hours }, (_, i) => ({
    hour: new Date((firstHour + i) * HOUR_MS).toISOString(),
    ...zero(),
  }));
  const totals = zero();
  const methods = new Map<string, ResultCounts>();
  const clients = new Map<string | null, ResultCounts>();
  const add = <K>(to: Map<K, ResultCounts>, key: K, b: keyof ResultCounts, n: number) => {
    const c = to.get(key) ?? zero();
    c[b] += n;
    to.set(key, c);
  };
  for (const c of counts) {
    const b = bucketOf(c.result);
    const n = Number(c.n);
    const slot = hourly[Number(c.hour) - firstHour];
    if (slot) slot[b] += n;
    totals[b] += n;
    add(methods, c.method, b, n);
    add(clients, c.client_id, b, n);
  }

  const accountKeys = guards.filter((g) => g.key.startsWith('acct:'));
  const locked = await Promise.all(
    accountKeys.map(async (g): Promise<LockedAccount> => {
      const [, kind, id] = g.key.split(':') as [string, AccountKind, string];
      const account = await accounts.get(kind, regionCode, id).catch(() => null);
      return {
        kind,
        id,
        name: !account ? '' : kind === 'person' ? maskName(account.name) : account.name,
        failures: Number(g.failures),
        hardLocked: g.hard_locked,
        lockedUntil: g.locked_until ? isoInstant(g.locked_until) : null,
        lastFailureAt: g.last_failure_at ? isoInstant(g.last_failure_at) : null,
      };
    }),
  );

  return {
    from,
    to: new Date(now).toISOString(),
    totals,
    hourly,
    byMethod: [...methods].map(([method, c]) => ({ method, ...c })).sort((a, b) => total(b) - total(a)),
    byClient: [...clients].map(([clientId, c]) => ({ clientId, ...c })).sort((a, b) => total(b) - total(a)),
    suspiciousIps: ips.map((r) => ({
      ip: r.ip,
      failures: Number(r.failures),
      successes: Number(r.successes),
      accounts: Number(r.accounts),
      lastAt: isoInstant(r.last_at),
    })),
    locked,
    lockedUnknownLoginIds: guards.length - accountKeys.length,
  };
}

const total = (c: ResultCounts) => c.success + c.failure + c.refused;
