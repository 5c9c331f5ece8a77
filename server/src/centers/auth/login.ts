/**
 * Login protection and records: failed-login state per account (or per unknown login id, so the answers never
 * reveal whether an account exists) with growing delays and a hard lock, per-IP limits, login history, sessions.
 * All state is in the database, so it holds across processes.
 */

import { appendAudit } from '../../platform/audit.ts';
import type { Context } from '../../platform/context.ts';
import { type Executor, notify, prepared, type SQL, sql } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { isoInstant } from '../../platform/time.ts';
import type { AccountKind, AccountRef } from './accounts.ts';
import { hit, type Limit } from './rate-limit.ts';

/** Failures before delays start; each further failure doubles the delay (30 s, 60 s, … capped at 15 min). */
export const SOFT_LOCK_AFTER = 5;
/** Failures (including attempts during a delay) before the account is locked until staff unlock it. */
export const HARD_LOCK_AFTER = 10;
const MAX_DELAY_SECONDS = 900;
/**
 * A failure this long after the last one starts the count again: a person who mistypes once a month is not on the
 * way to a lock. A hard lock stays until staff lift it.
 */
export const FAILURES_FORGOTTEN_AFTER_HOURS = 24;

export const IP_FAILURE_LIMIT: Limit = { bucket: 'login.ip.failures', windowSeconds: 600, max: 60 };

export type LoginMethodCode = 'pwd' | 'sms' | 'passkey' | 'cert' | string;

export const LOGIN_FAILED = () => new AppError(401, 'AUTH_LOGIN_FAILED', '账号或密码错误', '请检查后重试');
export const loginThrottled = (retryAfterSeconds: number) =>
  new AppError(429, 'AUTH_LOGIN_THROTTLED', '登录失败次数过多，请稍后再试', `请在 ${retryAfterSeconds} 秒后重试`, {
    extra: { retryAfterSeconds },
  });
export const ACCOUNT_LOCKED = () =>
  new AppError(
    423,
    'AUTH_ACCOUNT_LOCKED',
    '账号已锁定',
    '连续登录失败次数过多，请联系经办机构解锁或通过短信验证码重置密码',
  );
export const ipThrottled = (retryAfterSeconds: number) =>
  new AppError(
    429,
    'AUTH_LOGIN_IP_THROTTLED',
    '当前网络登录尝试过多，请稍后再试',
    `请在 ${retryAfterSeconds} 秒后重试`,
    {
      extra: { retryAfterSeconds },
    },
  );

export interface LoginContext {
  regionCode: string;
  ip: string;
  userAgent?: string;
  clientId?: string;
}

export interface SessionView {
  sid: string;
  clientId: string | null;
  acr: string;
  amr: string[];
  ip: string | null;
  userAgent: string | null;
  createdAt: string;
  authenticatedAt: string;
  current?: boolean;
}

export interface SessionRecord {
  sid: string;
  account: { kind: AccountKind; id: string; regionCode: string };
  clientId?: string;
  acr: string;
  amr: string[];
  ip?: string;
  userAgent?: string;
}

export interface LoginEventView {
  id: string;
  method: string;
  result: string;
  clientId: string | null;
  ip: string | null;
  userAgent: string | null;
  at: string;
}

/** A short, human name for a browser's user agent ("Android 手机 · Chrome"). */
export function deviceName(ua: string): string {
  const os = /iPhone|iPad/.test(ua)
    ? 'iPhone/iPad'
    : /Android/.test(ua)
      ? 'Android 手机'
      : /Windows/.test(ua)
        ? 'Windows 电脑'
        : /Mac OS X/.test(ua)
          ? 'Mac 电脑'
          : /Linux/.test(ua)
            ? 'Linux 电脑'
            : '未知设备';
  const browser = /MicroMessenger/.test(ua)
    ? '微信'
    : /Edg\//.test(ua)
      ? 'Edge'
      : /Chrome\//.test(ua)
        ? 'Chrome'
        : /Firefox\//.test(ua)
          ? 'Firefox'
          : /Safari\//.test(ua)
            ? 'Safari'
            : ua.slice(0, 20);
  return `${os} · ${browser}`;
}

const REVOKED_CHANNEL = 'auth_session_revoked';

export class LoginGuard {
  private readonly ctx: Context;
  private readonly activeCache = new Map<string, { at: number; active: boolean }>();
  private readonly countOutcome: (labels: { method: string; result: string }) => void;

  constructor(ctx: Context) {
    this.ctx = ctx;
    this.countOutcome = ctx.metrics.counter(
      'auth_login_events_total',
      'Login attempts recorded by this process, by method and result.',
    );
    ctx.metrics.addCollector(() => this.lockedLines());
  }

  /**
   * For alerts at night (with `auth_login_events_total`: failures rising against successes is a credential-stuffing
   * run): locked accounts are people who will call. From the database, so every instance says the same.
   */
  private async lockedLines(): Promise<string[]> {
    const row = await this.ctx.db.one<{ hard: number; delayed: number }>(sql`select
        count(*) filter (where hard_locked and key like 'acct:%')::int as hard,
        count(*) filter (where not hard_locked and locked_until > now() and key like 'acct:%')::int as delayed
      from auth_login_guard where hard_locked or locked_until > now()`);
    return [
      '# HELP auth_accounts_locked Accounts refused at login now: locked until staff unlock, or in a growing delay.',
      '# TYPE auth_accounts_locked gauge',
      `auth_accounts_locked{state="locked"} ${Number(row?.hard ?? 0)}`,
      `auth_accounts_locked{state="delayed"} ${Number(row?.delayed ?? 0)}`,
    ];
  }

  /** The guard key: the account if it exists, else the (blind-indexed) login id. */
  key(kind: AccountKind, account: AccountRef | null, loginId: string): string {
    if (account) return `acct:${kind}:${account.id}`;
    return `login:${kind}:${this.ctx.privacy.blindIndex(loginId.trim().toLowerCase(), 'auth_login_id').slice(0, 40)}`;
  }

  /**
   * Throws when the IP or the key is currently refused; such an attempt counts as a failure.
   * Returns whether a failure record exists (so a success only clears what is there).
   */
  async before(lc: LoginContext, key: string): Promise<boolean> {
    const windowMs = IP_FAILURE_LIMIT.windowSeconds * 1000;
    const windowStart = new Date(Math.floor(Date.now() / windowMs) * windowMs).toISOString();
    const row = await this.ctx.db.one<{
      ip_count: number | null;
      hard_locked: boolean | null;
      locked_until: string | null;
    }>(
      prepared(sql`
      select (select count from auth_rate_counter where region_code = ${lc.regionCode} and bucket = ${IP_FAILURE_LIMIT.bucket}
                and key = ${lc.ip} and window_start = ${windowStart}) as ip_count,
             g.hard_locked, g.locked_until
      from (select 1) one left join auth_login_guard g on g.region_code = ${lc.regionCode} and g.key = ${key}`),
    );
    if (Number(row?.ip_count ?? 0) >= IP_FAILURE_LIMIT.max) throw ipThrottled(IP_FAILURE_LIMIT.windowSeconds);
    if (row?.hard_locked === null || row?.hard_locked === undefined) return false;
    if (row.hard_locked) {
      await this.fail(lc, key);
      throw ACCOUNT_LOCKED();
    }
    if (row.locked_until && new Date(row.locked_until).getTime() > Date.now()) {
      const state = await this.fail(lc, key);
      if (state.hardLocked) throw ACCOUNT_LOCKED();
      throw loginThrottled(Math.ceil((new Date(row.locked_until).getTime() - Date.now()) / 1000));
    }
    return true;
  }

  /** Records a failure; returns the new state. */
  async fail(lc: LoginContext, key: string): Promise<{ failures: number; hardLocked: boolean }> {
    await hit(this.ctx.db, lc.regionCode, IP_FAILURE_LIMIT, lc.ip);
    const row = await this.ctx.db.one<{
      failures: number;
      hard_locked: boolean;
    }>(sql`insert into auth_login_guard(region_code, key, failures, last_failure_at)
      values (${lc.regionCode}, ${key}, 1, now())
      on conflict (region_code, key) do update set last_failure_at = now(),
        failures = case when not auth_login_guard.hard_locked and auth_login_guard.last_failure_at
            < now() - make_interval(hours => ${FAILURES_FORGOTTEN_AFTER_HOURS}) then 1
          else auth_login_guard.failures + 1 end
      returning failures, hard_locked`);
    const failures = Number(row?.failures ?? 1);
    if (failures >= HARD_LOCK_AFTER && !row?.hard_locked) {
      await this.ctx.db.tx(async (tx) => {
        await tx.q(
          sql`update auth_login_guard set hard_locked = true where region_code = ${lc.regionCode} and key = ${key}`,
        );
        await this.alertLocked(tx, lc, key, failures);
      });
      return { failures, hardLocked: true };
    }
    if (failures >= SOFT_LOCK_AFTER) {
      const delay = Math.min(MAX_DELAY_SECONDS, 30 * 2 ** (failures - SOFT_LOCK_AFTER));
      await this.ctx.db.q(sql`update auth_login_guard set locked_until = now() + make_interval(secs => ${delay})
        where region_code = ${lc.regionCode} and key = ${key}`);
    }
    return { failures, hardLocked: Boolean(row?.hard_locked) };
  }

  /**
   * Hourly (auth.purge): failure records that are forgotten anyway (no lock, no delay running, the last failure a day
   * old; a login id typed wrong once would otherwise stay for ever), and login history past its retention (the
   * audit chain keeps its own copy).
   */
  async purge(historyDays: number): Promise<{ guards: number; events: number }> {
    const guards = await this.ctx.db.q(sql`delete from auth_login_guard where not hard_locked
      and (locked_until is null or locked_until < now())
      and last_failure_at < now() - make_interval(hours => ${FAILURES_FORGOTTEN_AFTER_HOURS}) returning key`);
    const events = await this.ctx.db.q(sql`delete from auth_login_event
      where at < now() - make_interval(days => ${historyDays}) returning id`);
    return { guards: guards.length, events: events.length };
  }

  /** Lifts an account's lock and failure count in every region, in the caller's transaction. */
  async forget(ex: Executor, kind: AccountKind, accountId: string): Promise<void> {
    await ex.q(sql`delete from auth_login_guard where key = ${`acct:${kind}:${accountId}`}`);
  }

  async succeed(regionCode: string, key: string): Promise<void> {
    await this.ctx.db.q(sql`delete from auth_login_guard where region_code = ${regionCode} and key = ${key}`);
  }

  async unlock(regionCode: string, kind: AccountKind, accountId: string): Promise<boolean> {
    const rows = await this.ctx.db.q(sql`delete from auth_login_guard where region_code = ${regionCode}
      and key = ${`acct:${kind}:${accountId}`} returning key`);
    return rows.length > 0;
  }

  async lockState(regionCode: string, kind: AccountKind, accountId: string) {
    const row = await this.ctx.db.one<{
      failures: number;
      hard_locked: boolean;
      locked_until: string | null;
    }>(sql`select
      failures, hard_locked, locked_until from auth_login_guard where region_code = ${regionCode}
      and key = ${`acct:${kind}:${accountId}`}`);
    return {
      failures: Number(row?.failures ?? 0),
      locked: Boolean(row?.hard_locked),
      delayedUntil:
        row?.locked_until && new Date(row.locked_until).getTime() > Date.now() ? isoInstant(row.locked_until) : null,
    };
  }

  /**
   * Login history + the tamper-evident audit entry, in one transaction (the history row is written in the audit's
   * statement). `alongside`: further statements of the same login that must commit with its audit entry (e.g. the
   * interaction's result, which is what lets the login go on).
   */
  async record(
    lc: LoginContext,
    e: {
      account: AccountRef | null;
      kind: AccountKind;
      method: string;
      result: 'success' | 'failure' | 'locked' | 'throttled';
    },
    alongside: SQL[] = [],
  ): Promise<void> {
    const history = sql`insert into auth_login_event(region_code, account_kind, account_id, method, result,
        client_id, ip, user_agent)
      values (${e.account?.regionCode ?? lc.regionCode}, ${e.kind}, ${e.account?.id ?? null}, ${e.method}, ${e.result},
        ${lc.clientId ?? null}, ${lc.ip}, ${lc.userAgent?.slice(0, 300) ?? null})`;
    await this.ctx.db.tx(async (tx) => {
      if (e.result === 'success' && e.account) await this.alertNewDevice(tx, lc, e.account);
      await appendAudit(
        tx,
        {
          regionCode: e.account?.regionCode ?? lc.regionCode,
          actorKind: e.account ? e.kind : 'anonymous',
          actorId: e.account?.id ?? 'unknown',
          action: 'auth.login',
          targetType: e.kind,
          targetId: e.account?.id,
          ip: lc.ip,
          userAgent: lc.userAgent?.slice(0, 300),
          result: e.result === 'success' ? 'success' : e.result === 'failure' ? 'failure' : 'denied',
          detail: { method: e.method, outcome: e.result, clientId: lc.clientId },
        },
        { alongside: [history, ...alongside] },
      );
    });
    this.countOutcome({ method: e.method, result: e.result });
  }

  /** The message center, when this deployment has one. */
  private messages() {
    return (this.ctx.services as Record<string, unknown>).message as
      | { send(tx: Executor, m: Record<string, unknown>): Promise<unknown> }
      | undefined;
  }

  /**
   * 账号锁定提醒: the person whose account has just been locked hears it at once — from someone guessing, or their own
   * forgotten password — with the way back; a staff member hears it at the mobile or e-mail address the console
   * keeps for alerts, with theirs (an administrator unlocks). A locked login id without an account has nobody to tell.
   */
  private async alertLocked(tx: Executor, lc: LoginContext, key: string, failures: number): Promise<void> {
    const [scope, kind, id] = key.split(':');
    if (scope !== 'acct') return;
    const account = { kind, id, regionCode: lc.regionCode };
    await this.alert(tx, account, 'account_locked', { failures, ip: lc.ip, at: new Date().toISOString() });
  }

  /** `auth.<what>` to a person (inbox, then WeChat/SMS); `auth.staff_<what>` to a staff member's alert addresses. */
  private async alert(
    tx: Executor,
    account: { kind: string; id: string; regionCode: string },
    what: 'account_locked' | 'new_device_login',
    payload: Record<string, unknown>,
  ): Promise<void> {
    if (account.kind === 'staff') return this.alertStaff(tx, account.id, `auth.staff_${what}`, payload);
    if (account.kind !== 'person') return;
    await this.messages()?.send(tx, {
      type: `auth.${what}`,
      regionCode: account.regionCode,
      to: { personId: account.id },
      payload,
    });
  }

  /** A staff alert goes to the account's own addresses; an account without any is left to 登录监控. */
  private async alertStaff(tx: Executor, staffId: string, type: string, payload: Record<string, unknown>) {
    const users = (this.ctx.services as Record<string, unknown>).user as
      | {
          getStaff(
            id: string,
            ex: Executor,
          ): Promise<{ regionCode: string; username: string; mobile?: string; email?: string }>;
        }
      | undefined;
    // in the login's transaction: PGlite has one connection, which the transaction holds
    const staff = await users?.getStaff(staffId, tx);
    if (!staff || (!staff.mobile && !staff.email)) return;
    await this.messages()?.send(tx, {
      type,
      regionCode: staff.regionCode,
      to: { staffId },
      payload: { username: staff.username, ...payload },
    });
  }

  /**
   * 新设备登录提醒: a successful login from a device (user agent) this account never logged in from — and not its
   * first login ever — is announced through the message center (a person: inbox, then WeChat/SMS; staff: e-mail,
   * else SMS), in the login's transaction.
   */
  private async alertNewDevice(tx: Executor, lc: LoginContext, account: AccountRef): Promise<void> {
    if (!this.messages() || !lc.userAgent || (account.kind !== 'person' && account.kind !== 'staff')) return;
    const seen = await tx.one<{ any_before: boolean; same_device: boolean }>(sql`select
        exists(select 1 from auth_login_event where region_code = ${account.regionCode} and account_id = ${account.id}
          and result = 'success') as any_before,
        exists(select 1 from auth_login_event where region_code = ${account.regionCode} and account_id = ${account.id}
          and result = 'success' and user_agent = ${lc.userAgent.slice(0, 300)}) as same_device`);
    if (!seen?.any_before || seen.same_device) return;
    const payload = { device: deviceName(lc.userAgent), ip: lc.ip, at: new Date().toISOString() };
    await this.alert(tx, account, 'new_device_login', payload);
  }

  async history(regionCode: string, accountId: string, limit = 50): Promise<LoginEventView[]> {
    const rows = await this.ctx.db.q<{
      id: string;
      method: string;
      result: string;
      client_id: string | null;
      ip: string | null;
      user_agent: string | null;
      at: string;
    }>(sql`select id, method, result, client_id, ip, user_agent, at from auth_login_event
      where region_code = ${regionCode} and account_id = ${accountId} order by at desc limit ${limit}`);
    return rows.map((r) => ({
      id: r.id,
      method: r.method,
      result: r.result,
      clientId: r.client_id,
      ip: r.ip,
      userAgent: r.user_agent,
      at: isoInstant(r.at),
    }));
  }

  // ---- sessions ----

  async recordSession(ex: Executor, s: SessionRecord): Promise<void> {
    await ex.q(this.sessionRecordSql(s));
  }

  /** The session log row of a login as one data-modifying statement (the provider writes it with its own rows). */
  sessionRecordSql(s: SessionRecord): SQL {
    const amr = `{${s.amr.map((a) => `"${a}"`).join(',')}}`;
    return sql`insert into auth_session(region_code, sid, account_kind, account_id, client_id, acr, amr, ip, user_agent)
      values (${s.account.regionCode}, ${s.sid}, ${s.account.kind}, ${s.account.id}, ${s.clientId ?? null}, ${s.acr},
        ${amr}::text[], ${s.ip ?? null}, ${s.userAgent?.slice(0, 300) ?? null})
      on conflict (region_code, sid) do update set acr = excluded.acr, amr = excluded.amr, authenticated_at = now(),
        client_id = coalesce(auth_session.client_id, excluded.client_id)`;
  }

  async sessionBySid(sid: string) {
    return this.ctx.db.one<{
      region_code: string;
      account_kind: AccountKind;
      account_id: string;
      acr: string;
      amr: string[];
      revoked_at: string | null;
    }>(
      prepared(
        sql`select region_code, account_kind, account_id, acr, amr, revoked_at from auth_session where sid = ${sid} limit 1`,
      ),
    );
  }

  async sessions(regionCode: string, accountId: string): Promise<SessionView[]> {
    const rows = await this.ctx.db.q<{
      sid: string;
      client_id: string | null;
      acr: string;
      amr: string[];
      ip: string | null;
      user_agent: string | null;
      created_at: string;
      authenticated_at: string;
    }>(sql`select s.sid, s.client_id, s.acr, s.amr, s.ip, s.user_agent, s.created_at, s.authenticated_at
      from auth_session s where s.region_code = ${regionCode} and s.account_id = ${accountId} and s.revoked_at is null
        and exists (select 1 from oidc_payload p where p.kind = 'Session' and p.uid = s.sid
          and (p.expires_at is null or p.expires_at > now()))
      order by s.authenticated_at desc limit 50`);
    return rows.map((r) => ({
      sid: r.sid,
      clientId: r.client_id,
      acr: r.acr,
      amr: r.amr,
      ip: r.ip,
      userAgent: r.user_agent,
      createdAt: isoInstant(r.created_at),
      authenticatedAt: isoInstant(r.authenticated_at),
    }));
  }

  /** Marks the session revoked (its access tokens stop working at once; the provider state is removed by the caller). */
  async revokeSession(
    regionCode: string,
    accountId: string | null,
    sid: string,
    by: string,
    ex: Executor = this.ctx.db,
  ): Promise<boolean> {
    const rows = await ex.q<{ sid: string }>(sql`update auth_session set revoked_at = now(), revoked_by = ${by}
      where region_code = ${regionCode} and sid = ${sid} and revoked_at is null
        and (${accountId}::text is null or account_id = ${accountId}) returning sid`);
    this.activeCache.delete(sid);
    await this.announceRevoked(
      ex,
      rows.map((r) => r.sid),
    );
    return rows.length > 0;
  }

  /** Marks every live session of the account revoked but `keep` (in `regionCode` if given); answers their ids. */
  async revokeSessionsOf(
    ex: Executor,
    account: Pick<AccountRef, 'kind' | 'id'>,
    by: string,
    keep?: string,
    regionCode?: string,
  ): Promise<string[]> {
    const rows = await ex.q<{ sid: string }>(sql`update auth_session set revoked_at = now(), revoked_by = ${by}
      where account_kind = ${account.kind} and account_id = ${account.id} and revoked_at is null
        and sid <> ${keep ?? ''} and (${regionCode ?? null}::text is null or region_code = ${regionCode ?? null})
      returning sid`);
    for (const r of rows) this.activeCache.delete(r.sid);
    await this.announceRevoked(
      ex,
      rows.map((r) => r.sid),
    );
    return rows.map((r) => r.sid);
  }

  /**
   * Tells every process (this one too) to forget what it cached about these sessions. The notice leaves when the
   * revoking transaction commits, so no process keeps a revoked session usable for the cache's 3 s, and none re-caches
   * it as active from a read made before the commit.
   */
  private async announceRevoked(ex: Executor, sids: string[]): Promise<void> {
    for (let i = 0; i < sids.length; i += 100) await notify(ex, REVOKED_CHANNEL, sids.slice(i, i + 100).join(','));
  }

  /** Follows the revocation notices of every process; answers how to stop. */
  followRevocations(): Promise<() => Promise<void>> {
    return this.ctx.db
      .listen(REVOKED_CHANNEL, (payload) => {
        for (const sid of payload.split(',')) this.activeCache.delete(sid);
      })
      .catch((err) => {
        this.ctx.log.warn({ err }, '会话撤销通知不可用：其他进程最多 3 秒后才拒绝已撤销的会话');
        return async () => {};
      });
  }

  /** For ctx.sessionActive: false only for a session we know was revoked (cached a few seconds per process). */
  async isActive(sid: string, regionCode: string): Promise<boolean> {
    const hitCache = this.activeCache.get(sid);
    if (hitCache && Date.now() - hitCache.at < 3_000) return hitCache.active;
    const row = await this.ctx.db.one<{ revoked_at: string | null }>(sql`select revoked_at from auth_session
      where region_code = ${regionCode} and sid = ${sid}`);
    const active = !row?.revoked_at;
    if (this.activeCache.size > 50_000) this.activeCache.clear();
    this.activeCache.set(sid, { at: Date.now(), active });
    return active;
  }
}
