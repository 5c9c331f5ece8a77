/** oidc-provider adapter over the platform database (table oidc_payload); clients come from the channel registry. */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { type Database, sql } from '../../../platform/db/index.ts';
import type { ChannelRegistry, ChannelWithSecret } from '../channel/channels.ts';

export const API_AUDIENCE = 'urn:yibao:api';

/**
 * Models whose upserts may commit asynchronously (see upsert): the login page flow and the browser session. A crash
 * can lose the last few milliseconds of them — the person logs in again. Codes, tokens, grants (and every deletion
 * except of a finished interaction) are durable before the provider answers (see DurableScope).
 */
const ASYNC_COMMIT_KINDS = new Set(['Interaction', 'Session']);

/**
 * One provider request. Its durable writes (codes, tokens, grants, consumption, revocation) commit without waiting
 * for the WAL flush and mark the scope; before the provider answers, `flushDurable` waits once for the WAL to reach
 * disk — which covers every commit before it. So a request that writes a grant, a code and a refresh token pays one
 * disk flush instead of three, and nothing it wrote is answered before it is durable.
 */
export interface DurableScope {
  /** A durable write committed asynchronously and not yet flushed. */
  pending: boolean;
}
export const durableScope = new AsyncLocalStorage<DurableScope>();

/**
 * Waits until every commit so far is on disk, if this request deferred a durable write. A transactional logical
 * message gives the flushing commit a WAL record of its own (a commit without one does not wait for the flush).
 */
export async function flushDurable(db: Database, scope: DurableScope | undefined): Promise<void> {
  if (!scope?.pending) return;
  scope.pending = false;
  await db.q(sql`select pg_logical_emit_message(true, 'yibao.oidc.flush', '')`);
}

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

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const expires = expiresIn ? new Date(Date.now() + expiresIn * 1000).toISOString() : null;
      const noWait = this.noWait(!ASYNC_COMMIT_KINDS.has(this.kind));
      await db.q(sql`insert into oidc_payload(region_code, kind, id, payload, grant_id, user_code, uid, expires_at)
        select ${regionCode}, ${this.kind}, ${id}, ${JSON.stringify(payload)}::jsonb, ${payload.grantId ?? null},
          ${payload.userCode ?? null}, ${payload.uid ?? null}, ${expires}::timestamptz
        from ${noWait ? NO_WAIT : sql`(select 1) as wait`}
        on conflict (region_code, kind, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
          user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.kind === 'Client') {
        const ch = await channels.find(id);
        return ch && ch.status === 'active' ? clientMetadata(ch) : undefined;
      }
      const row = await db.one<{ payload: AdapterPayload; consumed_at: string | null }>(sql`select payload, consumed_at
        from oidc_payload where region_code = ${regionCode} and kind = ${this.kind} and id = ${id}
          and (expires_at is null or expires_at > now())`);
      if (!row) return undefined;
      return row.consumed_at
        ? { ...row.payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) }
        : row.payload;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const row = await db.one<{ payload: AdapterPayload }>(sql`select payload from oidc_payload
        where region_code = ${regionCode} and kind = ${this.kind} and user_code = ${userCode}
          and (expires_at is null or expires_at > now())`);
      return row?.payload;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const row = await db.one<{ payload: AdapterPayload; consumed_at: string | null }>(sql`select payload, consumed_at
        from oidc_payload where region_code = ${regionCode} and kind = ${this.kind} and uid = ${uid}
          and (expires_at is null or expires_at > now())`);
      return row?.payload;
    }

    async consume(id: string): Promise<void> {
      const from = this.noWait(true) ? sql`from ${NO_WAIT}` : sql``;
      await db.q(sql`update oidc_payload set consumed_at = now() ${from}
        where region_code = ${regionCode} and kind = ${this.kind} and id = ${id}`);
    }

    async destroy(id: string): Promise<void> {
      const using = this.noWait(this.kind !== 'Interaction') ? sql`using ${NO_WAIT}` : sql``;
      await db.q(sql`delete from oidc_payload ${using}
        where region_code = ${regionCode} and kind = ${this.kind} and id = ${id}`);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const using = this.noWait(true) ? sql`using ${NO_WAIT}` : sql``;
      await db.q(sql`delete from oidc_payload ${using} where region_code = ${regionCode} and grant_id = ${grantId}`);
    }
  };
}

export async function purgeExpiredPayloads(db: Database): Promise<number> {
  const rows = await db.q(sql`delete from oidc_payload where expires_at < now() - interval '5 minutes' returning id`);
  return rows.length;
}
