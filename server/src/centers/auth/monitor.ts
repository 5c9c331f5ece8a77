/**
 * 登录监控: how a region's logins went over the last hours, for the operator who must tell a forgotten password
 * from a credential-stuffing run — per hour and per method, the addresses that fail most, and who is locked now.
 */
import type { Executor } from '../../platform/db/index.ts';
import { sql } from '../../platform/db/index.ts';
import { maskName } from '../../platform/privacy/index.ts';
import type { AccountDirectory, AccountKind } from './accounts.ts';

/** Failures from one address in the window before it is listed as suspicious. */
export const SUSPICIOUS_IP_FAILURES = 5;

export interface ResultCounts {
  success: number;
  failure: number;
  /** Refused before the password was checked: locked or throttled. */
  refused: number;
}

export interface LockedAccount {
  kind: AccountKind;
  id: string;
  /** Masked for persons; staff by display name. Empty when the account no longer resolves. */
  name: string;
  failures: number;
  hardLocked: boolean;
  lockedUntil: string | null;
  lastFailureAt: string | null;
}

export interface LoginOverview {
  from: string;
  to: string;
  totals: ResultCounts;
  /** One entry per hour of the window, oldest first; hours without logins are zeros. */
  hourly: Array<ResultCounts & { hour: string }>;
  byMethod: Array<ResultCounts & { method: string }>;
  suspiciousIps: Array<{ ip: string; failures: number; successes: number; accounts: number; lastAt: string }>;
  locked: LockedAccount[];
  /** Login ids with no account, locked now (guessing at names: the answers never tell, the guard counts anyway). */
  lockedUnknownLoginIds: number;
}

const HOUR_MS = 3_600_000;
const zero = (): ResultCounts => ({ success: 0, failure: 0, refused: 0 });
const bucketOf = (result: string): keyof ResultCounts =>
  result === 'success' ? 'success' : result === 'failure' ? 'failure' : 'refused';
const iso = (v: string | Date) => new Date(v).toISOString();

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
    db.q<{ hour: number; method: string; result: string; n: number }>(sql`
      select floor(extract(epoch from at) / 3600)::int as hour, method, result, count(*)::int as n
      from auth_login_event where region_code = ${regionCode} and at >= ${from}
      group by 1, 2, 3`),
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
  for (const c of counts) {
    const b = bucketOf(c.result);
    const slot = hourly[Number(c.hour) - firstHour];
    if (slot) slot[b] += Number(c.n);
    totals[b] += Number(c.n);
    const m = methods.get(c.method) ?? zero();
    m[b] += Number(c.n);
    methods.set(c.method, m);
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
        lockedUntil: g.locked_until ? iso(g.locked_until) : null,
        lastFailureAt: g.last_failure_at ? iso(g.last_failure_at) : null,
      };
    }),
  );

  return {
    from,
    to: new Date(now).toISOString(),
    totals,
    hourly,
    byMethod: [...methods].map(([method, c]) => ({ method, ...c })).sort((a, b) => total(b) - total(a)),
    suspiciousIps: ips.map((r) => ({
      ip: r.ip,
      failures: Number(r.failures),
      successes: Number(r.successes),
      accounts: Number(r.accounts),
      lastAt: iso(r.last_at),
    })),
    locked,
    lockedUnknownLoginIds: guards.length - accountKeys.length,
  };
}

const total = (c: ResultCounts) => c.success + c.failure + c.refused;
