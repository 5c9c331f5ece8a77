/** Channel registry (渠道): who may call the platform system-to-system, with which key, scopes and login methods. */
import { randomBytes } from 'node:crypto';
import type { Context } from '../../../platform/context.ts';
import { sm2GenerateKeyPair, sm2GetPublicKey, sm2PrecomputePublicKey } from '../../../platform/crypto/index.ts';
import { type Executor, sql, textArray } from '../../../platform/db/index.ts';
import { AppError, badRequest, notFound } from '../../../platform/errors.ts';
import { checkOutboundUrl, outboundPolicy } from '../../../platform/outbound.ts';
import { isoInstant } from '../../../platform/time.ts';

export const CHANNEL_TYPES = ['web', 'app', 'miniprogram', 'institution', 'partner'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export const CHANNEL_TYPE_LABELS: Record<ChannelType, string> = {
  web: '网上服务大厅',
  app: '移动应用',
  miniprogram: '小程序',
  institution: '定点医药机构系统',
  partner: '合作方系统',
};

export interface RegisterChannelInput {
  regionCode: string;
  name: string;
  type: ChannelType;
  scopes: string[];
  institutionCode?: string;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  loginMethods?: string[];
  /** OAuth grants this channel may use as an OIDC client. Default: code + refresh (public clients), plus client_credentials for confidential back-ends. */
  grantTypes?: string[];
  /** A browser/app client without a secret (PKCE only). */
  publicClient?: boolean;
  backchannelLogoutUri?: string;
  /** Register a key the channel generated itself (its private key never leaves it). */
  publicKeyHex?: string;
  /** Fixed id (demo data); default a random `ch<region><hex>`. */
  appId?: string;
  /** Fixed secret (demo data only). */
  appSecret?: string;
  createdBy?: string;
}

export interface RegisteredChannel {
  appId: string;
  appSecret: string;
  /** Present when the server generated the key pair (shown once; not stored). */
  privateKeyHex: string;
  publicKeyHex: string;
}

export interface Channel {
  regionCode: string;
  appId: string;
  name: string;
  type: ChannelType;
  institutionCode: string | null;
  scopes: string[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  loginMethods: string[];
  grantTypes: string[];
  publicClient: boolean;
  backchannelLogoutUri: string | null;
  publicKeyHex: string;
  status: 'active' | 'disabled';
  createdAt: string;
  updatedAt: string;
}

/** A channel with its decrypted secret, for verification and the OIDC client adapter. */
export interface ChannelWithSecret extends Channel {
  appSecret: string;
}

interface ChannelRow {
  region_code: string;
  app_id: string;
  name: string;
  type: ChannelType;
  institution_code: string | null;
  scopes: string[];
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  login_methods: string[];
  grant_types: string[];
  public_client: boolean;
  backchannel_logout_uri: string | null;
  public_key_hex: string;
  app_secret_enc: string;
  status: 'active' | 'disabled';
  created_at: Date | string;
  updated_at: Date | string;
}

function toChannel(r: ChannelRow): Channel {
  return {
    regionCode: r.region_code,
    appId: r.app_id,
    name: r.name,
    type: r.type,
    institutionCode: r.institution_code,
    scopes: r.scopes,
    redirectUris: r.redirect_uris,
    postLogoutRedirectUris: r.post_logout_redirect_uris,
    loginMethods: r.login_methods,
    grantTypes: r.grant_types,
    publicClient: r.public_client,
    backchannelLogoutUri: r.backchannel_logout_uri,
    publicKeyHex: r.public_key_hex,
    status: r.status,
    createdAt: isoInstant(r.created_at),
    updatedAt: isoInstant(r.updated_at),
  };
}

export function normalisePublicKey(hex: string): string {
  const key = hex.trim().toLowerCase();
  if (!/^04[0-9a-f]{128}$/.test(key)) {
    throw badRequest('AUTH_CHANNEL_KEY_INVALID', 'SM2 公钥格式无效', '应为 04 开头的 130 位十六进制（未压缩点）');
  }
  try {
    sm2PrecomputePublicKey(key);
  } catch {
    throw badRequest('AUTH_CHANNEL_KEY_INVALID', 'SM2 公钥格式无效', '该点不在 SM2 曲线上');
  }
  return key;
}

/**
 * How long a channel look-up is reused: a channel disabled, re-keyed or given a new secret by another process is
 * refused here (signature hook, client credentials, channel tokens) at most this long after the change; a change made
 * through this process's registry applies at once.
 */
export const CHANNEL_CACHE_MS = 5_000;

export class ChannelRegistry {
  private readonly ctx: Context;
  private readonly cache = new Map<string, { at: number; channel: ChannelWithSecret | null }>();

  constructor(ctx: Context) {
    this.ctx = ctx;
  }

  async register(input: RegisterChannelInput, ex: Executor = this.ctx.db): Promise<RegisteredChannel> {
    if (input.backchannelLogoutUri)
      checkOutboundUrl(input.backchannelLogoutUri, outboundPolicy(this.ctx.config), 'backchannelLogoutUri');
    // Through the caller's executor: inside a transaction PGlite has only that one connection.
    const region = await ex.one(sql`select code from region where code = ${input.regionCode}`);
    if (!region) throw badRequest('AUTH_CHANNEL_REGION_UNKNOWN', '统筹区不存在', input.regionCode);
    let privateKeyHex = '';
    let publicKeyHex: string;
    if (input.publicKeyHex) {
      publicKeyHex = normalisePublicKey(input.publicKeyHex);
    } else {
      const pair = sm2GenerateKeyPair();
      privateKeyHex = pair.privateKey;
      publicKeyHex = sm2GetPublicKey(pair.privateKey).toLowerCase();
    }
    const appId = input.appId ?? `ch${input.regionCode}${randomBytes(6).toString('hex')}`;
    const appSecret = input.appSecret ?? randomBytes(24).toString('base64url');
    const publicClient = input.publicClient ?? false;
    const grantTypes =
      input.grantTypes ??
      (publicClient
        ? ['authorization_code', 'refresh_token']
        : ['authorization_code', 'refresh_token', 'client_credentials']);
    const enc = this.ctx.privacy.cipher.encrypt(appSecret);
    const inserted = await ex.q(sql`insert into auth_channel(region_code, app_id, name, type, institution_code, scopes,
        redirect_uris, post_logout_redirect_uris, login_methods, grant_types, public_client, backchannel_logout_uri,
        public_key_hex, app_secret_enc, created_by)
      values (${input.regionCode}, ${appId}, ${input.name}, ${input.type}, ${input.institutionCode ?? null},
        ${textArray(input.scopes)}, ${textArray(input.redirectUris ?? [])}, ${textArray(input.postLogoutRedirectUris ?? [])},
        ${textArray(input.loginMethods ?? ['pwd', 'sms', 'passkey'])}, ${textArray(grantTypes)}, ${publicClient},
        ${input.backchannelLogoutUri ?? null}, ${publicKeyHex}, ${enc}, ${input.createdBy ?? null})
      on conflict do nothing returning app_id`);
    if (inserted.length === 0) throw new AppError(409, 'AUTH_CHANNEL_EXISTS', '渠道编号已存在', appId);
    this.cache.delete(appId);
    return { appId, appSecret, privateKeyHex, publicKeyHex };
  }

  /** Looks a channel up by appId (any region), cached for a few seconds; null when unknown. */
  async find(appId: string): Promise<ChannelWithSecret | null> {
    const hit = this.cache.get(appId);
    if (hit && Date.now() - hit.at < CHANNEL_CACHE_MS) return hit.channel;
    const row = await this.ctx.db.one<ChannelRow>(sql`select * from auth_channel where app_id = ${appId} limit 1`);
    let channel: ChannelWithSecret | null = null;
    if (row) {
      channel = {
        ...toChannel(row),
        appSecret: this.ctx.privacy.cipher.decrypt(row.app_secret_enc),
      };
      sm2PrecomputePublicKey(channel.publicKeyHex);
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(appId, { at: Date.now(), channel });
    return channel;
  }

  async list(regionCode: string): Promise<Channel[]> {
    const rows = await this.ctx.db.q<ChannelRow>(
      sql`select * from auth_channel where region_code = ${regionCode} order by created_at desc, app_id`,
    );
    return rows.map(toChannel);
  }

  async get(regionCode: string, appId: string, ex: Executor = this.ctx.db): Promise<Channel> {
    const row = await ex.one<ChannelRow>(
      sql`select * from auth_channel where region_code = ${regionCode} and app_id = ${appId}`,
    );
    if (!row) throw notFound('AUTH_CHANNEL_NOT_FOUND', '渠道不存在', appId);
    return toChannel(row);
  }

  async update(
    regionCode: string,
    appId: string,
    patch: {
      name?: string;
      scopes?: string[];
      redirectUris?: string[];
      postLogoutRedirectUris?: string[];
      loginMethods?: string[];
      status?: 'active' | 'disabled';
      publicKeyHex?: string;
    },
    ex: Executor = this.ctx.db,
  ): Promise<Channel> {
    const current = await this.get(regionCode, appId, ex);
    const key = patch.publicKeyHex ? normalisePublicKey(patch.publicKeyHex) : current.publicKeyHex;
    await ex.q(sql`update auth_channel set
        name = ${patch.name ?? current.name},
        scopes = ${textArray(patch.scopes ?? current.scopes)},
        redirect_uris = ${textArray(patch.redirectUris ?? current.redirectUris)},
        post_logout_redirect_uris = ${textArray(patch.postLogoutRedirectUris ?? current.postLogoutRedirectUris)},
        login_methods = ${textArray(patch.loginMethods ?? current.loginMethods)},
        status = ${patch.status ?? current.status},
        public_key_hex = ${key},
        updated_at = now()
      where region_code = ${regionCode} and app_id = ${appId}`);
    this.cache.delete(appId);
    return this.get(regionCode, appId, ex);
  }

  /** Issues a new app secret (shown once). */
  async resetSecret(regionCode: string, appId: string, ex: Executor = this.ctx.db): Promise<string> {
    await this.get(regionCode, appId, ex);
    const appSecret = randomBytes(24).toString('base64url');
    const enc = this.ctx.privacy.cipher.encrypt(appSecret);
    await ex.q(sql`update auth_channel set app_secret_enc = ${enc}, updated_at = now()
      where region_code = ${regionCode} and app_id = ${appId}`);
    this.cache.delete(appId);
    return appSecret;
  }

  forget(appId: string): void {
    this.cache.delete(appId);
  }
}
