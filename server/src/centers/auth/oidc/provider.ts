/**
 * The OIDC provider (oidc-provider v9): issuer = the platform's public URL, endpoints under /oidc, discovery at
 * /.well-known/openid-configuration, keys = the platform's signing keys (rebuilt when they rotate), state in the
 * database (oidc_payload), clients = registered channels.
 */
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  hash,
  type KeyObject,
  sign as signWithKey,
  timingSafeEqual,
} from 'node:crypto';
import Provider, { ExternalSigningKey, errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { Context } from '../../../platform/context.ts';
import { sql } from '../../../platform/db/index.ts';
import { outboundPolicy, postOutbound } from '../../../platform/outbound.ts';
import { ACCESS_TOKEN_AUDIENCE, type SigningKey } from '../../../platform/tokens.ts';
import { accountClaims } from '../accounts.ts';
import type { ChannelWithSecret } from '../channel/channels.ts';
import type { AuthService } from '../service.ts';
import {
  AlreadyConsumed,
  createAdapterFactory,
  type DurableScope,
  durableScope,
  flushDurable,
  requestMemo,
  revokeGrantsOf,
  sessionLogMemoKey,
} from './adapter.ts';
import {
  CLIENT_CREDENTIALS_TTL,
  type FastGrant,
  type FastGrantDeps,
  fastClientCredentials,
  type ProviderClient,
} from './client-credentials.ts';
import { htmlPage } from './pages.ts';

export const OIDC_PREFIX = '/oidc';
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'phone', 'api'];
export const ACR_VALUES = ['pwd', 'sms', 'mfa', 'passkey', 'cert'];
const ACR_LEVEL: Record<string, number> = { pwd: 1, sms: 1, mfa: 2, passkey: 2, cert: 2 };

/** What the interaction pages put into the result beside `login`, read back when the session is saved. */
export interface YibaoLoginResult {
  kind: 'person' | 'staff';
  accountId: string;
  regionCode: string;
  acr: string;
  amr: string[];
  ip: string;
  userAgent?: string;
}

/**
 * A platform signing key (ES256) for the provider, signing with node:crypto on a KeyObject imported once: the
 * provider would otherwise sign every token through jose and WebCrypto from the JWK (an asynchronous crypto job
 * per signature).
 */
export class PlatformSigningKey extends ExternalSigningKey {
  readonly #private: KeyObject;
  readonly #public: KeyObject;

  constructor(jwk: Record<string, unknown>) {
    super();
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw new Error('platform signing keys are ES256 (EC P-256)');
    this.#private = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
    this.#public = createPublicKey(this.#private);
    this.kid = String(jwk.kid);
    this.alg = 'ES256';
  }

  override keyObject(): KeyObject {
    return this.#public;
  }

  override async sign(data: Buffer): Promise<Buffer> {
    // The bare KeyObject with the default DER encoding, converted here: node:crypto's option-object form with
    // dsaEncoding 'ieee-p1363' costs about twice the CPU of the signature itself (Node 24: ~52 µs against ~25 µs).
    return derToJoseSignature(signWithKey('sha256', data, this.#private), 32);
  }
}

/**
 * An ECDSA signature from DER (SEQUENCE { INTEGER r, INTEGER s }) to the JOSE form r ‖ s, each left-padded to
 * `size` bytes (RFC 7518 §3.4). Throws on anything that is not such a DER structure.
 */
export function derToJoseSignature(der: Buffer, size: number): Buffer {
  const bad = () => new Error('not a DER ECDSA signature');
  if (der[0] !== 0x30) throw bad();
  let at = 2;
  if (der[1]! & 0x80) {
    if (der[1] !== 0x81) throw bad(); // P-256..P-521 signatures are below 2^16 bytes; 0x81 covers up to 255
    at = 3;
  }
  const out = Buffer.alloc(size * 2);
  for (let k = 0; k < 2; k++) {
    if (der[at] !== 0x02) throw bad();
    const len = der[at + 1]!;
    let start = at + 2;
    const end = start + len;
    if (len === 0 || end > der.length) throw bad();
    while (end - start > size && der[start] === 0) start++;
    if (end - start > size) throw bad();
    der.copy(out, (k + 1) * size - (end - start), start, end);
    at = end;
  }
  if (at !== der.length) throw bad();
  return out;
}

export class OidcProvider {
  private readonly ctx: Context;
  private readonly auth: AuthService;
  private current?: { kids: string; keys: SigningKey[]; provider: Provider; fastGrant: FastGrantDeps };
  private building?: Promise<Provider>;

  constructor(ctx: Context, auth: AuthService) {
    this.ctx = ctx;
    this.auth = auth;
  }

  /** The provider for the current signing keys (rebuilt after ctx.keys.rotate()). */
  async provider(): Promise<Provider> {
    // The key store hands out the same array until it reloads (every 10 s, or at once after a rotation in this
    // process): only then are the key ids compared.
    const keys = await this.ctx.keys.keys();
    const current = this.current;
    if (current?.keys === keys) return current.provider;
    const active = keys.filter((k) => !k.retiredAt);
    const kids = active.map((k) => k.kid).join(',');
    if (current?.kids === kids) {
      current.keys = keys;
      return current.provider;
    }
    this.building ??= Promise.resolve().then(() => {
      const signing = active.map((k) => new PlatformSigningKey(k.privateJwk as Record<string, unknown>));
      const provider = this.build(signing);
      this.current = { kids, keys, provider, fastGrant: this.fastGrantDeps(provider, signing) };
      this.building = undefined;
      return provider;
    });
    return this.building;
  }

  /**
   * A plain client-credentials grant of a channel back-end, answered without the provider's middleware stack
   * (client-credentials.ts); undefined: the provider must handle the request (including every error).
   */
  async clientCredentials(provider: Provider, authorization: string, body: string): Promise<FastGrant | undefined> {
    const current = this.current;
    if (current?.provider !== provider) return undefined;
    return fastClientCredentials(current.fastGrant, authorization, body);
  }

  /** What the fast client-credentials path takes from this provider: its client model, claims, key and issuer. */
  private fastGrantDeps(provider: Provider, signing: PlatformSigningKey[]): FastGrantDeps {
    const { ctx, auth } = this;
    const first = signing[0];
    if (!first) throw new Error('no active signing key');
    // The provider's client object per channel object: the registry hands out a new channel object when it reloads
    // the row (≤ CHANNEL_CACHE_MS), so this never outlives the channel state — status, secret — it was built from.
    const clients = new WeakMap<ChannelWithSecret, ProviderClient>();
    return {
      findClient: async (clientId) => {
        const ch = await auth.channels.find(clientId);
        if (ch?.status !== 'active') return undefined;
        const hit = clients.get(ch);
        if (hit) return hit;
        const client = (await provider.Client.find(clientId)) as ProviderClient | undefined;
        if (client && (await auth.channels.find(clientId)) === ch) clients.set(ch, client);
        return client;
      },
      extraClaims: (clientId) => channelTokenClaims(auth, ctx, clientId),
      resourceScope: async (clientId) => apiResourceServer(await auth.channels.find(clientId)).scope,
      signingKey: () => first,
      issuer: provider.issuer,
    };
  }

  private build(signing: PlatformSigningKey[]): Provider {
    const { ctx, auth } = this;
    const secure = ctx.publicUrl.startsWith('https:');
    const cookieKey = createHmac('sha256', Buffer.from(ctx.config.BLIND_INDEX_KEY, 'hex'))
      .update('oidc-cookie-keys')
      .digest('base64url');
    const Adapter = createAdapterFactory(ctx.db, ctx.config.DEFAULT_REGION, auth.channels);
    const sessionRow = (sid: string) => requestMemo(sessionLogMemoKey(sid), () => auth.guard.sessionBySid(sid));

    const policy = interactionPolicy.base();
    const login = policy.get('login');
    login.checks.add(
      new interactionPolicy.Check(
        'acr_step_up',
        '请求的认证等级高于当前会话',
        'login_required',
        (c: KoaContextWithOIDC) => {
          const wanted = String(c.oidc.params.acr_values ?? '')
            .split(' ')
            .filter(Boolean);
          if (wanted.length === 0) return false;
          const need = Math.min(...wanted.map((a) => ACR_LEVEL[a] ?? 2));
          return (ACR_LEVEL[c.oidc.session?.acr ?? ''] ?? 0) < need;
        },
      ),
    );

    const provider = new Provider(ctx.publicUrl, {
      adapter: Adapter,
      jwks: { keys: signing },
      cookies: {
        // a KeyObject: every signed cookie read or written is an HMAC, and a string key is re-imported each time
        keys: [createSecretKey(Buffer.from(cookieKey))],
        names: { session: 'yb_oidc_session', interaction: 'yb_oidc_interaction', resume: 'yb_oidc_resume' },
        long: { signed: true, secure, sameSite: 'lax', httpOnly: true },
        short: { signed: true, secure, sameSite: 'lax', httpOnly: true },
      },
      claims: {
        openid: ['sub'],
        profile: ['name', 'preferred_username', 'kind', 'region'],
        phone: ['phone_number'],
      },
      scopes: OIDC_SCOPES,
      acrValues: ACR_VALUES,
      extraParams: ['region', 'step_up_for'],
      conformIdTokenClaims: false,
      clientDefaults: {
        id_token_signed_response_alg: 'ES256',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      pkce: { required: () => true },
      // oidc-provider refuses private/loopback addresses on outgoing calls (SSRF guard). In a bureau's intranet the
      // back-channel logout endpoints of registered channels are private addresses; those (and only those, as staff
      // registered them) are reached under the platform's outbound policy (platform/outbound.ts).
      fetch: async (url: URL | string, options: RequestInit & { dispatcher?: unknown }) => {
        const href = String(url);
        const registered = await ctx.db.one(sql`select 1 from auth_channel where backchannel_logout_uri = ${href}
          and status = 'active' limit 1`);
        if (!registered) return globalThis.fetch(href, options);
        const answer = await postOutbound(
          new URL(href),
          {
            headers: Object.fromEntries(new Headers(options.headers).entries()),
            body: String(options.body ?? ''),
            timeoutMs: 10_000,
          },
          outboundPolicy(ctx.config),
        );
        const empty = answer.status === 204 || answer.status === 205 || answer.status === 304;
        return new Response(empty ? null : answer.text, { status: answer.status });
      },
      // Browsers may call the token/userinfo endpoints cross-origin only from the client's own registered origins.
      clientBasedCORS: (_c: KoaContextWithOIDC, origin: string, client: { redirectUris?: string[] }) =>
        origin === new URL(ctx.publicUrl).origin ||
        (client.redirectUris ?? []).some((u) => {
          try {
            return new URL(u).origin === origin;
          } catch {
            return false;
          }
        }),
      features: {
        devInteractions: { enabled: false },
        externalSigningSupport: { enabled: true, ack: 'experimental-01' },
        clientCredentials: { enabled: true },
        // A client may introspect and revoke only its own tokens.
        introspection: { enabled: true, allowedPolicy: ownTokensOnly },
        revocation: { enabled: true, allowedPolicy: ownTokensOnly },
        backchannelLogout: { enabled: true },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: async (c: KoaContextWithOIDC, form: string) => {
            c.type = 'html';
            c.body = htmlPage(
              '退出登录',
              `${form}<p>确定要退出统一身份认证吗？</p>
              <button class="primary" type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>退出登录</button>
              <button type="submit" form="op.logoutForm">取消</button>`,
            );
          },
          postLogoutSuccessSource: async (c: KoaContextWithOIDC) => {
            c.type = 'html';
            c.body = htmlPage('已退出', '<p>您已安全退出。</p><p><a href="/">返回首页</a></p>');
          },
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: async (c: KoaContextWithOIDC, _client: unknown, oneOf?: string | string[]) => {
            if (oneOf) return oneOf;
            return c.oidc.params?.grant_type === 'client_credentials' ? ACCESS_TOKEN_AUDIENCE : undefined;
          },
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_c: KoaContextWithOIDC, resource: string, client: { clientId: string }) => {
            if (resource !== ACCESS_TOKEN_AUDIENCE) throw new errors.InvalidTarget('未知的资源');
            return apiResourceServer(await auth.channels.find(client.clientId));
          },
        },
      },
      ttl: {
        AccessToken: 900,
        AuthorizationCode: 60,
        ClientCredentials: CLIENT_CREDENTIALS_TTL,
        IdToken: 900,
        Interaction: 1800,
        Session: 12 * 3600,
        Grant: 30 * 86_400,
        RefreshToken: 7 * 86_400,
      },
      rotateRefreshToken: true,
      issueRefreshToken: async (_c: KoaContextWithOIDC, client: { grantTypeAllowed(g: string): boolean }) =>
        client.grantTypeAllowed('refresh_token'),
      // Registered channels are first-party (staff registered them): the grant is given without a consent page.
      loadExistingGrant: async (c: KoaContextWithOIDC) => {
        const grantId = c.oidc.result?.consent?.grantId || c.oidc.session.grantIdFor(c.oidc.client.clientId);
        if (grantId) {
          const existing = await c.oidc.provider.Grant.find(grantId);
          if (existing) return existing;
        }
        if (!c.oidc.session.accountId) return undefined;
        const grant = new c.oidc.provider.Grant({
          accountId: c.oidc.session.accountId,
          clientId: c.oidc.client.clientId,
        });
        grant.addOIDCScope('openid profile phone offline_access');
        grant.addOIDCClaims(['name', 'preferred_username', 'phone_number', 'kind', 'region']);
        grant.addResourceScope(ACCESS_TOKEN_AUDIENCE, 'api');
        await grant.save();
        return grant;
      },
      interactions: {
        url: async (_c: KoaContextWithOIDC, interaction: { uid: string }) =>
          `${OIDC_PREFIX}/interaction/${interaction.uid}`,
        policy,
      },
      findAccount: async (c: KoaContextWithOIDC, sub: string, token?: { sessionUid?: string }) => {
        // While a login resumes, the interaction result says who it is; later our session log does — the row of the
        // token's own session when there is one (read once per request: its claims need it too), else the latest.
        const y = (c.oidc?.result as { yibao?: YibaoLoginResult } | undefined)?.yibao;
        const s = y?.accountId !== sub && token?.sessionUid ? await sessionRow(token.sessionUid) : undefined;
        const account =
          y?.accountId === sub
            ? await auth.accounts().get(y.kind, y.regionCode, sub)
            : s?.account_id === sub
              ? await auth.accounts().get(s.account_kind, s.region_code, sub)
              : await auth.findAccountById(sub);
        if (account?.status !== 'active') return undefined;
        return {
          accountId: sub,
          claims: async () => ({ sub, ...accountClaims(account) }),
        };
      },
      extraTokenClaims: async (
        _c: KoaContextWithOIDC,
        token: { kind: string; clientId: string; sessionUid?: string; accountId?: string },
      ) => {
        if (token.kind === 'ClientCredentials') return channelTokenClaims(auth, ctx, token.clientId);
        const s = token.sessionUid ? await sessionRow(token.sessionUid) : undefined;
        if (!s) return undefined;
        return { kind: s.account_kind, region: s.region_code, acr: s.acr, amr: s.amr, sid: token.sessionUid };
      },
      renderError: async (c: KoaContextWithOIDC, out: Record<string, string>) => {
        c.type = 'html';
        c.body = htmlPage(
          '认证出错',
          `<p class="error">请求无法完成：${escapeHtml(errorText(out.error))}</p>
          <p class="muted">${escapeHtml(out.error ?? '')} ${escapeHtml(out.error_description ?? '')}</p><p><a href="/">返回首页</a></p>`,
        );
      },
      routes: {
        authorization: `${OIDC_PREFIX}/auth`,
        backchannel_authentication: `${OIDC_PREFIX}/backchannel`,
        code_verification: `${OIDC_PREFIX}/device`,
        device_authorization: `${OIDC_PREFIX}/device/auth`,
        end_session: `${OIDC_PREFIX}/session/end`,
        introspection: `${OIDC_PREFIX}/token/introspection`,
        jwks: `${OIDC_PREFIX}/jwks`,
        pushed_authorization_request: `${OIDC_PREFIX}/request`,
        registration: `${OIDC_PREFIX}/reg`,
        revocation: `${OIDC_PREFIX}/token/revocation`,
        token: `${OIDC_PREFIX}/token`,
        userinfo: `${OIDC_PREFIX}/me`,
        challenge: `${OIDC_PREFIX}/challenge`,
        credential: `${OIDC_PREFIX}/credential`,
      },
    });
    provider.proxy = true;
    verifySecretsByDigest(provider);

    // After a login interaction resumes, the provider session exists: record it (sid = session uid) for the
    // session list, remote sign-out and the acr/amr/kind/region claims of its tokens.
    // Every provider request runs in a durable scope: its codes, tokens and grants are flushed to disk once, before
    // it answers (adapter.ts DurableScope).
    provider.use(async (c: KoaContextWithOIDC, next: () => Promise<void>) => {
      const scope: DurableScope = { pending: false };
      try {
        await durableScope.run(scope, next);
        await afterRequest(c, scope);
      } finally {
        await flushDurable(ctx.db, scope).catch(async (err) => {
          if (!(err instanceof AlreadyConsumed)) throw err;
          // the same code or refresh token redeemed concurrently: this request issues nothing, the grant is revoked
          await revokeGrantsOf(ctx.db, err.rows);
          c.status = 400;
          c.set('cache-control', 'no-store');
          c.body = { error: 'invalid_grant', error_description: 'grant request is invalid' };
        });
      }
    });
    const afterRequest = async (c: KoaContextWithOIDC, scope: DurableScope) => {
      const endingSid =
        c.oidc?.route === 'end_session_confirm' ? (c.oidc.entities?.Session?.uid as string | undefined) : undefined;
      if (endingSid && c.status === 303) {
        // RP-initiated logout: the session's access tokens stop working too.
        const s = await auth.guard.sessionBySid(endingSid);
        if (s) await auth.guard.revokeSession(s.region_code, s.account_id, endingSid, 'logout');
        return;
      }
      if (c.oidc?.route !== 'resume') return;
      const result = c.oidc.result as { yibao?: YibaoLoginResult } | undefined;
      const session = c.oidc.session;
      if (!result?.yibao || !session?.uid || session.accountId !== result.yibao.accountId) return;
      const y = result.yibao;
      // written with the request's held rows (grant, code, session), in the same statement, durably
      scope.also ??= [];
      scope.also.push(
        auth.guard.sessionRecordSql({
          sid: session.uid,
          account: { kind: y.kind, id: y.accountId, regionCode: y.regionCode },
          clientId: c.oidc.client?.clientId,
          acr: y.acr,
          amr: y.amr,
          ip: y.ip,
          userAgent: y.userAgent,
        }),
      );
      scope.pending = true;
    };
    provider.on('backchannel.error', (_c: unknown, err: Error, client: { clientId: string }) => {
      ctx.log.warn({ err, clientId: client.clientId }, '后台注销通知发送失败');
    });
    provider.on('server_error', (_c: unknown, err: Error) => ctx.log.error({ err }, 'oidc provider error'));
    return provider;
  }
}

/** The claims of a channel's client-credentials access token beside the standard ones (revocation: sid ch:<appId>). */
async function channelTokenClaims(auth: AuthService, ctx: Context, clientId: string) {
  const ch = await auth.channels.find(clientId);
  return { kind: 'channel', region: ch?.regionCode ?? ctx.config.DEFAULT_REGION, sid: `ch:${clientId}` };
}

/** What the API resource server grants a channel (frozen: shared by every request while the channel is cached). */
interface ApiResourceServer {
  readonly scope: string;
  readonly audience: string;
  readonly accessTokenTTL: number;
  readonly accessTokenFormat: 'jwt';
  readonly jwt: { readonly sign: { readonly alg: 'ES256' } };
}

/**
 * Per channel object: the registry replaces the object when it reloads the row (at most 5 s after a change in another
 * process, at once in this one), so an entry never outlives the channel state it was computed from.
 */
const apiResourceServers = new WeakMap<ChannelWithSecret, ApiResourceServer>();

export function apiResourceServer(ch: ChannelWithSecret | null): ApiResourceServer {
  const hit = ch && apiResourceServers.get(ch);
  if (hit) return hit;
  const scope = ['api', ...(ch?.scopes ?? [])].filter((s) => !OIDC_SCOPES.includes(s) || s === 'api');
  const info: ApiResourceServer = Object.freeze({
    scope: [...new Set(scope)].join(' '),
    audience: ACCESS_TOKEN_AUDIENCE,
    accessTokenTTL: 900,
    accessTokenFormat: 'jwt' as const,
    jwt: Object.freeze({ sign: Object.freeze({ alg: 'ES256' as const }) }),
  });
  if (ch) apiResourceServers.set(ch, info);
  return info;
}

/**
 * Client secrets are compared as SHA-256 digests in constant time, the registered secret's digest computed once per
 * client instance (the provider builds a new instance whenever the channel's metadata — its secret included —
 * changes). The presented secret is still checked on every request; the provider's own comparison pads both sides
 * to 1000 bytes to hide the length, which fixed-size digests hide as well.
 */
function verifySecretsByDigest(provider: Provider): void {
  const digests = new WeakMap<object, Buffer>();
  const sha256 = (s: string) => hash('sha256', s, 'buffer');
  provider.Client.prototype.compareClientSecret = function compareClientSecret(
    this: { clientSecret?: unknown },
    actual: unknown,
  ): boolean {
    if (typeof this.clientSecret !== 'string' || typeof actual !== 'string') {
      throw new TypeError('arguments must be strings');
    }
    let expected = digests.get(this);
    if (!expected) {
      expected = sha256(this.clientSecret);
      digests.set(this, expected);
    }
    return timingSafeEqual(expected, sha256(actual));
  };
}

async function ownTokensOnly(
  _c: unknown,
  client: { clientId: string },
  token: { clientId?: string },
): Promise<boolean> {
  return token.clientId === client.clientId;
}

const ERROR_TEXT: Record<string, string> = {
  invalid_request: '请求参数无效',
  invalid_client: '应用（渠道）无效',
  invalid_redirect_uri: '回调地址未登记',
  access_denied: '已拒绝授权',
  login_required: '需要登录',
  invalid_target: '未知的资源',
  server_error: '服务器内部错误',
  session_not_found: '会话已失效，请重新登录',
};
function errorText(code: string | undefined): string {
  return (code && ERROR_TEXT[code]) || '请求无效';
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
