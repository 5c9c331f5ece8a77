/** oidc-provider adapter over the platform database (table oidc_payload); clients come from the channel registry. */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { type Database, prepared, type SQL, sql } from '../../../platform/db/index.ts';
import type { ChannelRegistry, ChannelWithSecret } from '../channel/channels.ts';

/** Ids arrive from requests (client_id, codes, cookies); one with U+0000 was never stored and cannot be looked up. */
const unstorable = (id: string) => id.includes('\u0000');

export const API_AUDIENCE = 'urn:yibao:api';

/**
 * Models whose upserts may commit asynchronously (see upsert): the login page flow and the browser session. A crash
 * can lose the last few milliseconds of them — the person logs in again. Codes, tokens, grants (and every deletion
 * except of a finished interaction) are durable before the provider answers (see DurableScope).
 */
const ASYNC_COMMIT_KINDS = new Set(['Interaction', 'Session']);

/**
 * One provider request. Its writes are held back (write-behind) and go to the database together in ONE statement
 * before the provider answers (`flushDurable`, called by the provider's outermost middleware — also when the request
 * failed): the provider writes one model after another (interaction, grant, code, session; a consumed code and a new
 * refresh token), each of which used to be a round trip of its own. Reads in the request see its held writes
 * (read-your-writes by kind and id); the rare operations that select by something else first write what is held.
 * Durable models (codes, tokens, grants, consumption, revocation) make that statement commit synchronously — it is on
 * disk before the answer — and so does a durable write that had to go out early (flagged `pending`); a request with
 * page-flow state only (Interaction, Session) does not wait for the disk.
 */
export interface DurableScope {
  /** A durable write is held or was committed asynchronously, and is not yet on disk. */
  pending: boolean;
  /** Held writes by `${kind} ${id}` (the last operation on a row wins, so no row is written twice). */
  writes?: Map<string, HeldWrite>;
  /** Further data-modifying statements for the same final statement (e.g. the session log row of a login). */
  also?: SQL[];
  /** Look-ups several hooks of the request make (see requestMemo). */
  memo?: Map<string, Promise<unknown>>;
  /**
   * Rows read together with a code or refresh token (its grant, its session), by `${kind} ${id}` or
   * `Session uid ${uid}`: the provider asks for each of them next. Dropped whenever the request writes.
   */
  prefetched?: Map<string, AdapterPayload | undefined>;
}
export const durableScope = new AsyncLocalStorage<DurableScope>();

/** The requestMemo key of a session's log row (auth_session, as LoginGuard.sessionBySid reads it). */
export const sessionLogMemoKey = (sid: string) => `auth_session ${sid}`;

/** Models whose look-up in a provider request also reads the grant, session and session log row they point to. */
const SOURCE_KINDS = new Set(['AuthorizationCode', 'RefreshToken']);

type HeldWrite =
  | {
      op: 'upsert';
      kind: string;
      id: string;
      payload: AdapterPayload;
      expires: string | null;
      /** consumed in the same request */
      consume: boolean;
      /** destroyed earlier in the same request: the row starts anew (not consumed) */
      fresh: boolean;
    }
  | { op: 'destroy'; kind: string; id: string }
  | { op: 'consume'; kind: string; id: string };

const writeKey = (kind: string, id: string) => `${kind} ${id}`;

/** One held write as a data-modifying statement for a WITH clause. */
function heldWriteSql(regionCode: string, w: HeldWrite): SQL {
  if (w.op === 'destroy') {
    return sql`delete from oidc_payload where region_code = ${regionCode} and kind = ${w.kind} and id = ${w.id}`;
  }
  if (w.op === 'consume') {
    // single use: a row a concurrent request consumed first is not counted (see the guard in flushDurable)
    return sql`update oidc_payload set consumed_at = now()
      where region_code = ${regionCode} and kind = ${w.kind} and id = ${w.id} and consumed_at is null returning 1`;
  }
  const p = w.payload;
  const consumed = w.consume ? sql`, consumed_at = now()` : w.fresh ? sql`, consumed_at = null` : sql``;
  return sql`insert into oidc_payload(region_code, kind, id, payload, grant_id, user_code, uid, expires_at, consumed_at)
    values (${regionCode}, ${w.kind}, ${w.id}, ${JSON.stringify(p)}::jsonb, ${p.grantId ?? null}, ${p.userCode ?? null},
      ${p.uid ?? null}, ${w.expires}::timestamptz, ${w.consume ? sql`now()` : sql`null`})
    on conflict (region_code, kind, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
      user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at${consumed}`;
}

/**
 * Writes what the request holds, in one statement (synchronous commit when a durable write is among them or still
 * pending — which also puts every earlier asynchronous commit on disk); with nothing held but a pending durable write,
 * waits for the WAL flush (a transactional logical message gives the flushing commit a WAL record of its own).
 */
export async function flushDurable(db: Database, scope: DurableScope | undefined): Promise<void> {
  if (!scope) return;
  const writes = scope.writes ? [...scope.writes.values()] : [];
  const also = scope.also ?? [];
  scope.writes?.clear();
  scope.also = undefined;
  const durable = scope.pending;
  scope.pending = false;
  scope.prefetched = undefined;
  if (writes.length === 0 && also.length === 0) {
    if (durable) await db.q(sql`select pg_logical_emit_message(true, 'yibao.oidc.flush', '')`);
    return;
  }
  const ctes = [...writes.map((w) => heldWriteSql(heldRegion.get(w) ?? '', w)), ...also].map(
    (statement, i) => sql`${sql.raw(`w${i}`)} as (${statement})`,
  );
  const consumed = writes.flatMap((w, i) =>
    w.op === 'consume' ? [sql`(select count(*) from ${sql.raw(`w${i}`)})`] : [],
  );
  // a code or refresh token consumed concurrently fails the whole statement: nothing issued for it is written
  const guard = consumed.length
    ? sql`, oidc_assert_single_use(${sql.join(consumed, sql` + `)}, ${consumed.length}) as single_use`
    : sql``;
  const tail = durable
    ? sql`select 1 as done${guard}`
    : sql`select set_config('synchronous_commit', 'off', true) as done${guard}`;
  try {
    await db.q(prepared(sql`with ${sql.join(ctes, sql`, `)} ${tail}`));
  } catch (err) {
    if ((err as { code?: string }).code !== 'YB001') throw err;
    throw new AlreadyConsumed(
      writes.flatMap((w) =>
        w.op === 'consume' ? [{ regionCode: heldRegion.get(w) ?? '', kind: w.kind, id: w.id }] : [],
      ),
    );
  }
}

/** A provider request lost the race for a single-use row (code, refresh token) to a concurrent request. */
export class AlreadyConsumed extends Error {
  readonly rows: Array<{ regionCode: string; kind: string; id: string }>;
  constructor(rows: Array<{ regionCode: string; kind: string; id: string }>) {
    super('oidc payload already consumed');
    this.rows = rows;
  }
}

/** Revokes what was issued under the grants of the given rows (a replayed code or refresh token, RFC 6749 §4.1.2). */
export async function revokeGrantsOf(db: Database, rows: AlreadyConsumed['rows']): Promise<void> {
  for (const r of rows) {
    await db.q(sql`delete from oidc_payload where region_code = ${r.regionCode} and grant_id = (select grant_id
      from oidc_payload where region_code = ${r.regionCode} and kind = ${r.kind} and id = ${r.id})`);
  }
}

/**
 * A look-up made once per provider request (several of the provider's hooks ask for the same row — e.g. the session
 * log row of the token's session for its account and for its claims); outside a request, made every time.
 */
export function requestMemo<T>(key: string, load: () => Promise<T>): Promise<T> {
  const scope = durableScope.getStore();
  if (!scope) return load();
  scope.memo ??= new Map();
  let hit = scope.memo.get(key) as Promise<T> | undefined;
  if (!hit) {
    hit = load();
    scope.memo.set(key, hit);
    hit.catch(() => scope.memo?.delete(key));
  }
  return hit;
}

/**
 * Runs `fn` (provider calls outside a provider request, e.g. saving an interaction's result) holding its adapter writes,
 * and returns them as data-modifying statements for the caller to run in its own transaction or statement — so they
 * commit together with, say, the login's audit entry. fn must only write through the adapter (no reads of what it
 * wrote outside read-your-writes by id).
 */
export async function heldWrites(fn: () => Promise<unknown>): Promise<SQL[]> {
  const scope: DurableScope = { pending: false };
  await durableScope.run(scope, fn);
  if (scope.also?.length) throw new Error('heldWrites: unexpected further statements');
  return [...(scope.writes?.values() ?? [])].map((w) => heldWriteSql(heldRegion.get(w) ?? '', w));
}

/** The region of each held write (adapters of several regions may share a request). */
const heldRegion = new WeakMap<HeldWrite, string>();

/**
 * Runs one statement with synchronous_commit = off for its own (implicit) transaction, in one round trip: the
 * set_config(…, true) in the FROM clause is evaluated before the write and lasts until its commit.
 */
const NO_WAIT = sql`(select set_config('synchronous_commit', 'off', true)) as no_wait`;

/** Client metadata for oidc-provider, built from a registered channel. */
export function clientMetadata(ch: ChannelWithSecret): AdapterPayload {
  const grants = ch.grantTypes;
  return {
    client_id: ch.appId,
    client_name: ch.name,
    ...(ch.publicClient ? { token_endpoint_auth_method: 'none' } : { client_secret: ch.appSecret }),
    redirect_uris: ch.redirectUris,
    post_logout_redirect_uris: ch.postLogoutRedirectUris,
    grant_types: grants,
    response_types: grants.includes('authorization_code') ? ['code'] : [],
    id_token_signed_response_alg: 'ES256',
    ...(ch.backchannelLogoutUri
      ? { backchannel_logout_uri: ch.backchannelLogoutUri, backchannel_logout_session_required: true }
      : {}),
  } as AdapterPayload;
}

export function createAdapterFactory(db: Database, regionCode: string, channels: ChannelRegistry) {
  return class SqlAdapter implements Adapter {
    private readonly kind: string;

    constructor(name: string) {
      this.kind = name;
    }

    /**
     * Page-flow state (Interaction, Session) never waits for the WAL flush: a crash may lose its last few ms (the
     * person simply logs in again). Durable models wait — or, inside a provider request, defer the wait to its end.
     */
    private noWait(durable: boolean): boolean {
      if (!durable) return true;
      const scope = durableScope.getStore();
      if (!scope) return false;
      scope.pending = true;
      return true;
    }

    /** Inside a provider request: holds the write for the request's final statement (see DurableScope). */
    private hold(write: HeldWrite): boolean {
      const scope = durableScope.getStore();
      if (!scope) return false;
      scope.writes ??= new Map();
      const writes = scope.writes;
      const key = writeKey(write.kind, write.id);
      const prior = writes.get(key);
      let next = write;
      if (write.op === 'consume' && prior?.op === 'upsert') next = { ...prior, consume: true };
      else if (write.op === 'consume' && prior?.op === 'destroy')
        next = prior; // consuming a deleted row: no-op
      else if (write.op === 'upsert' && prior?.op === 'consume') next = { ...write, consume: true };
      else if (write.op === 'upsert' && prior?.op === 'upsert')
        next = { ...write, consume: prior.consume, fresh: prior.fresh };
      else if (write.op === 'upsert' && prior?.op === 'destroy') next = { ...write, fresh: true };
      scope.prefetched = undefined; // the request writes: what it read ahead may be out of date
      writes.delete(key); // re-inserted last: held writes keep the order of their last operation
      writes.set(key, next);
      heldRegion.set(next, regionCode);
      // the same durability classes as the immediate writes below
      const durable =
        write.op === 'consume' ||
        (write.op === 'destroy' ? this.kind !== 'Interaction' : !ASYNC_COMMIT_KINDS.has(this.kind));
      if (durable) scope.pending = true;
      return true;
    }

    /** The held write of this row in the current request, if any. */
    private held(id: string): HeldWrite | undefined {
      return durableScope.getStore()?.writes?.get(writeKey(this.kind, id));
    }

    /** Writes what the request holds before an operation that selects rows by something other than kind and id. */
    private async writeHeld(): Promise<void> {
      const scope = durableScope.getStore();
      if (scope?.writes?.size || scope?.also?.length) await flushDurable(db, scope);
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const expires = expiresIn ? new Date(Date.now() + expiresIn * 1000).toISOString() : null;
      if (this.hold({ op: 'upsert', kind: this.kind, id, payload, expires, consume: false, fresh: false })) return;
      const noWait = this.noWait(!ASYNC_COMMIT_KINDS.has(this.kind));
      await db.q(sql`insert into oidc_payload(region_code, kind, id, payload, grant_id, user_code, uid, expires_at)
        select ${regionCode}, ${this.kind}, ${id}, ${JSON.stringify(payload)}::jsonb, ${payload.grantId ?? null},
          ${payload.userCode ?? null}, ${payload.uid ?? null}, ${expires}::timestamptz
        from ${noWait ? NO_WAIT : sql`(select 1) as wait`}
        on conflict (region_code, kind, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
          user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (unstorable(id)) return undefined;
      if (this.kind === 'Client') {
        const ch = await channels.find(id);
        return ch && ch.status === 'active' ? clientMetadata(ch) : undefined;
      }
      const held = this.held(id);
      if (held?.op === 'destroy') return undefined;
      if (held?.op === 'upsert') {
        // what the row will hold (the provider never reads a row it wrote with an expiry already past)
        return held.consume ? { ...held.payload, consumed: Math.floor(Date.now() / 1000) } : held.payload;
      }
      const scope = durableScope.getStore();
      const prefetchKey = writeKey(this.kind, id);
      if (scope?.prefetched?.has(prefetchKey)) return scope.prefetched.get(prefetchKey);
      const row =
        scope && SOURCE_KINDS.has(this.kind)
          ? await this.findSource(scope, id)
          : await db.one<{ payload: AdapterPayload; consumed_at: string | null }>(
              prepared(sql`select payload, consumed_at from oidc_payload
                where region_code = ${regionCode} and kind = ${this.kind} and id = ${id}
                  and (expires_at is null or expires_at > now())`),
            );
      if (!row) return undefined;
      if (held?.op === 'consume' && !row.consumed_at)
        return { ...row.payload, consumed: Math.floor(Date.now() / 1000) };
      return row.consumed_at
        ? { ...row.payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) }
        : row.payload;
    }

    /**
     * A code or refresh token together with what the provider looks up right after it (the grant, the session it is
     * bound to, and our log row of that session), in one round trip; those are kept for this request (see
     * DurableScope.prefetched) — rows it has not written, read a moment before the provider asks for them.
     */
    private async findSource(scope: DurableScope, id: string) {
      const row = await db.one<{
        payload: AdapterPayload;
        consumed_at: string | null;
        grant_payload: AdapterPayload | null;
        session_payload: AdapterPayload | null;
        session_log: Record<string, unknown> | null;
      }>(
        prepared(sql`select t.payload, t.consumed_at, g.payload as grant_payload, s.payload as session_payload,
            (select to_jsonb(a) from (select region_code, account_kind, account_id, acr, amr, revoked_at
              from auth_session where sid = t.payload->>'sessionUid' limit 1) a) as session_log
          from oidc_payload t
          left join oidc_payload g on g.region_code = t.region_code and g.kind = 'Grant' and g.id = t.grant_id
            and (g.expires_at is null or g.expires_at > now())
          left join oidc_payload s on s.region_code = t.region_code and s.kind = 'Session'
            and s.uid = t.payload->>'sessionUid' and (s.expires_at is null or s.expires_at > now())
          where t.region_code = ${regionCode} and t.kind = ${this.kind} and t.id = ${id}
            and (t.expires_at is null or t.expires_at > now())`),
      );
      if (!row) return undefined;
      const grantId = row.payload.grantId;
      const sessionUid = row.payload.sessionUid;
      // only when nothing is held: what the request wrote must win (held() is asked first anyway)
      if (!scope.writes?.size) {
        scope.prefetched ??= new Map();
        if (typeof grantId === 'string')
          scope.prefetched.set(writeKey('Grant', grantId), row.grant_payload ?? undefined);
        if (typeof sessionUid === 'string') {
          scope.prefetched.set(`Session uid ${sessionUid}`, row.session_payload ?? undefined);
          scope.memo ??= new Map();
          if (!scope.memo.has(sessionLogMemoKey(sessionUid))) {
            scope.memo.set(sessionLogMemoKey(sessionUid), Promise.resolve(row.session_log ?? undefined));
          }
        }
      }
      return row;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      if (unstorable(userCode)) return undefined;
      await this.writeHeld();
      const row = await db.one<{ payload: AdapterPayload }>(sql`select payload from oidc_payload
        where region_code = ${regionCode} and kind = ${this.kind} and user_code = ${userCode}
          and (expires_at is null or expires_at > now())`);
      return row?.payload;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      if (unstorable(uid)) return undefined;
      await this.writeHeld();
      const prefetched = durableScope.getStore()?.prefetched;
      if (this.kind === 'Session' && prefetched?.has(`Session uid ${uid}`)) return prefetched.get(`Session uid ${uid}`);
      const row = await db.one<{ payload: AdapterPayload; consumed_at: string | null }>(
        prepared(sql`select payload,
          consumed_at from oidc_payload where region_code = ${regionCode} and kind = ${this.kind} and uid = ${uid}
          and (expires_at is null or expires_at > now())`),
      );
      return row?.payload;
    }

    async consume(id: string): Promise<void> {
      if (this.hold({ op: 'consume', kind: this.kind, id })) return;
      const from = this.noWait(true) ? sql`from ${NO_WAIT}` : sql``;
      await db.q(sql`update oidc_payload set consumed_at = now() ${from}
        where region_code = ${regionCode} and kind = ${this.kind} and id = ${id} and consumed_at is null`);
    }

    async destroy(id: string): Promise<void> {
      if (this.hold({ op: 'destroy', kind: this.kind, id })) return;
      const using = this.noWait(this.kind !== 'Interaction') ? sql`using ${NO_WAIT}` : sql``;
      await db.q(sql`delete from oidc_payload ${using}
        where region_code = ${regionCode} and kind = ${this.kind} and id = ${id}`);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await this.writeHeld();
      const scope = durableScope.getStore();
      if (scope) scope.prefetched = undefined;
      const using = this.noWait(true) ? sql`using ${NO_WAIT}` : sql``;
      await db.q(sql`delete from oidc_payload ${using} where region_code = ${regionCode} and grant_id = ${grantId}`);
    }
  };
}

export async function purgeExpiredPayloads(db: Database): Promise<number> {
  const rows = await db.q(sql`delete from oidc_payload where expires_at < now() - interval '5 minutes' returning id`);
  return rows.length;
}
