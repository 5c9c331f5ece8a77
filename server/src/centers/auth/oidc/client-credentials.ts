/**
 * The client-credentials grant of a channel back-end, answered without the provider's Koa middleware stack.
 *
 * Only the one request shape channel back-ends send is answered here: POST /oidc/token, form body with exactly
 * `grant_type=client_credentials` and optionally `scope` and `resource=urn:yibao:api` (each once), the client
 * authenticated by `Authorization: Basic`, no DPoP / attestation / CORS headers. Everything else — and EVERY failure
 * (unknown or disabled channel, wrong secret, a grant the client may not use, malformed input) — goes to the provider
 * unchanged, so errors, their codes and their events are the provider's own.
 *
 * What is checked here is what the provider checks for that shape, with the provider's own client model: the client
 * is `provider.Client.find` (our adapter: an active, registered channel, at most 5 s stale; the provider validates
 * its metadata), its auth method must be a client secret, `grantTypeAllowed('client_credentials')`, and the presented
 * secret is compared on every request (`compareClientSecret`). The token is the provider's: the same claims
 * (`channelTokenClaims`, `apiResourceServer`), TTL, issuer, header and signing key; not stored (JWT), revoked by
 * channel (sid `ch:<appId>`). A test issues the same grants through both paths and compares them.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { ACCESS_TOKEN_AUDIENCE } from '../../../platform/tokens.ts';

/** The largest form body read here (a client-credentials form is under 100 bytes); larger ones go to the provider. */
export const FAST_GRANT_MAX_BODY = 1024;
/** ttl.ClientCredentials of the provider configuration: the lifetime of a client-credentials access token. */
export const CLIENT_CREDENTIALS_TTL = 600;

/** The provider's client model, as far as used here. */
export interface ProviderClient {
  clientId: string;
  clientAuthMethod: string;
  scope?: string;
  grantTypeAllowed(grantType: string): boolean;
  compareClientSecret(secret: string): boolean;
  checkClientSecretExpiration(message: string): void;
}

export interface FastGrantDeps {
  /** `provider.Client.find` */
  findClient(clientId: string): Promise<ProviderClient | undefined>;
  /** The claims the provider adds to a client-credentials token (extraTokenClaims). */
  extraClaims(clientId: string): Promise<Record<string, unknown>>;
  /** The API resource server's scope for this client (getResourceServerInfo). */
  resourceScope(clientId: string): Promise<string>;
  /** The provider's current signing key (the first of its key set). */
  signingKey(): { kid?: string; sign(data: Buffer): Promise<Buffer> };
  issuer: string;
}

export interface FastGrant {
  /** The JSON body of a 200 answer. */
  body: string;
}

/** Headers that make a request one for the provider: sender-constrained tokens, attestation, CORS. */
const PROVIDER_HEADERS = ['dpop', 'oauth-client-attestation', 'oauth-client-attestation-pop', 'origin'];
const FORM = /^application\/x-www-form-urlencoded\s*(?:;\s*charset="?utf-8"?\s*)?$/i;
/** RFC 6749 scope syntax (the provider's is_valid_scope). */
const SCOPE_SYNTAX = /^[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*$/;
/** Client id and secret must be VSCHARs (RFC 6749 appendix A; the provider's noVSCHAR). */
const NO_VSCHAR = /[^\x20-\x7E]/;
const ALLOWED_PARAMS = new Set(['grant_type', 'scope', 'resource']);

/**
 * Whether the request may be a plain client-credentials grant, from its method, URL and headers alone: only then is
 * its body read here. Its body length is known and small (no chunked bodies).
 */
export function fastGrantCandidate(method: string | undefined, url: string | undefined, h: IncomingHttpHeaders) {
  if (method !== 'POST' || url !== '/oidc/token') return false;
  if (typeof h.authorization !== 'string' || !h.authorization.startsWith('Basic ')) return false;
  if (typeof h['content-type'] !== 'string' || !FORM.test(h['content-type'])) return false;
  if (h['transfer-encoding'] !== undefined) return false;
  const length = Number(h['content-length']);
  if (!Number.isInteger(length) || length <= 0 || length > FAST_GRANT_MAX_BODY) return false;
  return PROVIDER_HEADERS.every((name) => h[name] === undefined);
}

/** The provider's Basic credential check (client_auth.js isValidBase64). */
function isValidBase64(input: string): boolean {
  const match = /^([A-Za-z0-9+/]*)(={0,2})$/.exec(input);
  if (!match?.[1]) return false;
  const remainder = match[1].length % 4;
  if (!match[2]) return remainder !== 1;
  return (match[1].length + match[2].length) % 4 === 0 && match[2].length === 4 - remainder;
}

/** The provider's decoding of a Basic credential half; undefined where the provider would refuse it. */
function decodeAuthToken(token: string): string | undefined {
  try {
    const decoded = decodeURIComponent(token.replace(/\+/g, '%20'));
    return NO_VSCHAR.test(decoded) ? undefined : decoded;
  } catch {
    return undefined;
  }
}

function basicCredentials(header: string): { clientId: string; secret: string } | undefined {
  const parts = header.split(' ');
  if (parts.length !== 2 || parts[0]!.toLowerCase() !== 'basic' || !isValidBase64(parts[1]!)) return undefined;
  const basic = Buffer.from(parts[1]!, 'base64').toString('utf8');
  const i = basic.indexOf(':');
  if (i === -1) return undefined;
  const clientId = decodeAuthToken(basic.slice(0, i));
  const secret = decodeAuthToken(basic.slice(i + 1));
  if (!clientId || !secret) return undefined;
  return { clientId, secret };
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');

/**
 * Issues the token for a plain client-credentials grant, or answers undefined: then the provider handles the request
 * (and gives any error).
 */
export async function fastClientCredentials(
  deps: FastGrantDeps,
  authorization: string,
  body: string,
): Promise<FastGrant | undefined> {
  const params = parseQuery(body);
  for (const [name, value] of Object.entries(params)) {
    if (!ALLOWED_PARAMS.has(name) || typeof value !== 'string') return undefined; // other params, duplicates
  }
  const { scope, resource } = params as { scope?: string; resource?: string };
  if (params.grant_type !== 'client_credentials') return undefined;
  if (scope !== undefined && !SCOPE_SYNTAX.test(scope)) return undefined;
  if (resource !== undefined && resource !== ACCESS_TOKEN_AUDIENCE) return undefined;

  const credentials = basicCredentials(authorization);
  if (!credentials) return undefined;
  let client: ProviderClient | undefined;
  try {
    client = await deps.findClient(credentials.clientId);
    if (!client || client.scope !== undefined) return undefined;
    if (client.clientAuthMethod !== 'client_secret_basic' && client.clientAuthMethod !== 'client_secret_post') {
      return undefined;
    }
    client.checkClientSecretExpiration('invalid secret provided');
    if (!client.compareClientSecret(credentials.secret)) return undefined;
    if (!client.grantTypeAllowed('client_credentials')) return undefined;
  } catch {
    return undefined;
  }

  const granted = new Set((await deps.resourceScope(client.clientId)).split(' '));
  const tokenScope = [...new Set(scope?.split(' '))].filter((s) => granted.has(s)).join(' ') || undefined;
  const iat = Math.floor(Date.now() / 1000);
  const payload = {
    ...(await deps.extraClaims(client.clientId)),
    jti: randomUUID(), // node keeps a pool of random bytes for these; randomBytes(16) costs a call into OpenSSL each
    sub: client.clientId,
    iat,
    exp: iat + CLIENT_CREDENTIALS_TTL,
    scope: tokenScope,
    client_id: client.clientId,
    iss: deps.issuer,
    aud: ACCESS_TOKEN_AUDIENCE,
  };
  const key = deps.signingKey();
  const signingInput = `${b64(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: key.kid }))}.${b64(JSON.stringify(payload))}`;
  const signature = await key.sign(Buffer.from(signingInput));
  return {
    body: JSON.stringify({
      access_token: `${signingInput}.${signature.toString('base64url')}`,
      expires_in: CLIENT_CREDENTIALS_TTL,
      scope: tokenScope,
      token_type: 'Bearer',
    }),
  };
}
