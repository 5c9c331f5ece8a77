/** oidc-provider adapter over the platform database (table oidc_payload); clients come from the channel registry. */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { type Database, sql } from '../../../platform/db/index.ts';
import type { ChannelRegistry, ChannelWithSecret } from '../channel/channels.ts';

export const API_AUDIENCE = 'urn:yibao:api';

/**
 * Models whose upserts may commit asynchronously (see upsert): the login page flow and the browser session. A crash
 * can lose the last few milliseconds of them — the person logs in again. Codes, tokens, grants (and every deletion
 * except of a finished interaction) are written synchronously.
 */
const ASYNC_COMMIT_KINDS = new Set(['Interaction', 'Session']);

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

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const expires = expiresIn ? new Date(Date.now() + expiresIn * 1000).toISOString() : null;
      const query = sql`insert into oidc_payload(region_code, kind, id, payload, grant_id, user_code, uid, expires_at)
        values (${regionCode}, ${this.kind}, ${id}, ${JSON.stringify(payload)}::jsonb, ${payload.grantId ?? null},
          ${payload.userCode ?? null}, ${payload.uid ?? null}, ${expires})
        on conflict (region_code, kind, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
          user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`;
      if (!ASYNC_COMMIT_KINDS.has(this.kind)) {
        await db.q(query);
        return;
      }
      // Pure page-flow state: a crash may lose the last few ms of it (the person simply logs in again), so it
      // skips waiting for the WAL flush. Tokens, codes, grants and every deletion stay synchronous.
      await db.tx(async (tx) => {
        await tx.q(sql`set local synchronous_commit = off`);
        await tx.q(query);
      });
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
      await db.q(sql`update oidc_payload set consumed_at = now()
        where region_code = ${regionCode} and kind = ${this.kind} and id = ${id}`);
    }

    async destroy(id: string): Promise<void> {
      const query = sql`delete from oidc_payload where region_code = ${regionCode} and kind = ${this.kind} and id = ${id}`;
      if (this.kind !== 'Interaction') {
        await db.q(query);
        return;
      }
      await db.tx(async (tx) => {
        await tx.q(sql`set local synchronous_commit = off`);
        await tx.q(query);
      });
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.q(sql`delete from oidc_payload where region_code = ${regionCode} and grant_id = ${grantId}`);
    }
  };
}

export async function purgeExpiredPayloads(db: Database): Promise<number> {
  const rows = await db.q(sql`delete from oidc_payload where expires_at < now() - interval '5 minutes' returning id`);
  return rows.length;
}
