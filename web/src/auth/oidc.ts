/**
 * The portals as OIDC clients of the unified authentication center: authorization code + PKCE (S256),
 * tokens at /oidc/token, refresh before expiry, logout through end_session.
 */
import { getSession, type Session, setSession } from '../lib/session';
import { joinTabs, refreshAcrossTabs } from './tabs';

export const API_RESOURCE = 'urn:yibao:api';

/** Portal → registered client id (the seed registers these; see the README). */
export const PORTAL_CLIENTS: Record<string, string> = {
  personal: 'portal-personal',
  unit: 'portal-unit',
  console: 'portal-console',
  institution: 'portal-institution',
};

const PENDING_KEY = 'yibao.oidc.pending';

interface Pending {
  state: string;
  verifier: string;
  nonce: string;
  portal: string;
  returnTo: string;
}

interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
  token_type: string;
  scope?: string;
}

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

function random(bytes = 32): string {
  return b64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return b64url(new Uint8Array(digest));
}

export function clientIdFor(portal: string): string {
  return PORTAL_CLIENTS[portal] ?? PORTAL_CLIENTS.personal!;
}

const redirectUri = () => `${location.origin}/login/callback`;

/** Decodes a JWT's payload (the token came straight from our token endpoint; the server verifies on use). */
export function jwtClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  const json = decodeURIComponent(
    atob(part.replace(/-/g, '+').replace(/_/g, '/'))
      .split('')
      .map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
      .join(''),
  );
  return JSON.parse(json) as Record<string, unknown>;
}

let leaving: Promise<void> | undefined;

/**
 * Goes to the unified login (authorization code + PKCE). Once per page: several calls refused at once (a revoked
 * sign-in) each ask for a login, and a second start would overwrite the first one's state while the browser may still
 * follow the first, so the login would come back with a state it no longer knows. A page still here after a few
 * seconds (the navigation was stopped) may start again.
 */
export function startLogin(
  portal: string,
  returnTo: string = location.pathname + location.search,
  opts: LoginOptions = {},
): Promise<void> {
  leaving ??= goToLogin(portal, returnTo, opts).finally(() =>
    setTimeout(() => {
      leaving = undefined;
    }, 5_000),
  );
  return leaving;
}

/** `stepUpFor`: what a step-up (`acr: 'mfa'`) is for, said on its page (unmask, pay, passkey, grant). */
interface LoginOptions {
  acr?: 'mfa';
  stepUpFor?: string;
  region?: string;
  prompt?: 'login';
}

async function goToLogin(portal: string, returnTo: string, opts: LoginOptions): Promise<void> {
  const pending: Pending = { state: random(16), verifier: random(32), nonce: random(16), portal, returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const params = new URLSearchParams({
    client_id: clientIdFor(portal),
    response_type: 'code',
    redirect_uri: redirectUri(),
    scope: 'openid profile phone offline_access',
    resource: API_RESOURCE,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await challengeOf(pending.verifier),
    code_challenge_method: 'S256',
  });
  const region = opts.region ?? localStorage.getItem('yibao.region') ?? undefined;
  if (region) params.set('region', region);
  if (opts.acr) params.set('acr_values', opts.acr);
  if (opts.stepUpFor) params.set('step_up_for', opts.stepUpFor);
  if (opts.prompt) params.set('prompt', opts.prompt);
  location.assign(`/oidc/auth?${params}`);
}

/** Step-up (e.g. after a STEP_UP_REQUIRED answer): re-authenticate with a second factor, then come back here. */
export function stepUp(portal: string, stepUpFor?: string): Promise<void> {
  return startLogin(portal, location.pathname + location.search, { acr: 'mfa', stepUpFor });
}

/** The token endpoint refused the request (4xx: e.g. the refresh token is spent or the sign-in was ended). */
class TokenRefused extends Error {}

async function tokenRequest(body: Record<string, string>): Promise<TokenResponse> {
  const res = await fetch('/oidc/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(body),
  });
  const data = (await res.json().catch(() => ({}))) as TokenResponse & { error?: string; error_description?: string };
  if (res.ok) return data;
  const message = data.error_description || data.error || `HTTP ${res.status}`;
  throw res.status < 500 ? new TokenRefused(message) : new Error(message);
}

function sessionFrom(tokens: TokenResponse, portal: string, previous?: Session): Session {
  const at = jwtClaims(tokens.access_token);
  const id = tokens.id_token ? jwtClaims(tokens.id_token) : {};
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? previous?.refreshToken,
    idToken: tokens.id_token ?? previous?.idToken,
    expiresAt: Date.now() + (tokens.expires_in ?? 900) * 1000,
    kind: String(at.kind ?? id.kind ?? previous?.kind ?? 'person'),
    subject: String(at.sub ?? id.sub),
    name: typeof id.name === 'string' ? id.name : previous?.name,
    regionCode: String(at.region ?? id.region ?? previous?.regionCode ?? '990100'),
    portal,
  };
}

/** Completes the login on /login/callback; returns where to go next. */
export async function completeLogin(search: string): Promise<string> {
  const params = new URLSearchParams(search);
  const raw = sessionStorage.getItem(PENDING_KEY);
  const pending = raw ? (JSON.parse(raw) as Pending) : undefined;
  sessionStorage.removeItem(PENDING_KEY);
  if (params.get('error')) {
    throw new Error(
      params.get('error') === 'access_denied' ? '已取消登录' : (params.get('error_description') ?? '登录失败'),
    );
  }
  if (!pending || params.get('state') !== pending.state) throw new Error('登录请求已失效，请重新登录');
  const code = params.get('code');
  if (!code) throw new Error('缺少授权码');
  const tokens = await tokenRequest({
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri(),
    client_id: clientIdFor(pending.portal),
    code_verifier: pending.verifier,
  });
  if (tokens.id_token && jwtClaims(tokens.id_token).nonce !== pending.nonce) throw new Error('登录响应校验失败');
  setSession(sessionFrom(tokens, pending.portal));
  return pending.returnTo.startsWith('/') && !pending.returnTo.startsWith('//')
    ? pending.returnTo
    : `/${pending.portal}`;
}

joinTabs({ current: getSession, adopt: setSession });

let refreshing: Promise<boolean> | undefined;

/**
 * Exchanges the refresh token (rotated by the server; once across the tabs holding it, see tabs.ts). False when the
 * session is gone (the server refused the token, or another tab spent it and none hands over); a network failure or a server error rejects and keeps the session,
 * so a flaky connection does not sign the person out.
 */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const next = await refreshAcrossTabs(async (session) => {
        const tokens = await tokenRequest({
          grant_type: 'refresh_token',
          refresh_token: session.refreshToken ?? '',
          client_id: clientIdFor(session.portal),
        });
        return sessionFrom(tokens, session.portal, session);
      });
      if (!next) setSession(undefined);
      return next !== undefined;
    } catch (e) {
      if (!(e instanceof TokenRefused)) throw e;
      setSession(undefined);
      return false;
    }
  })().finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

/** Milliseconds until the access token should be refreshed (one minute before it expires). */
export function refreshDelay(session: Session): number {
  return Math.max(5_000, (session.expiresAt ?? Date.now()) - Date.now() - 60_000);
}

/** Ends the session at the authentication center too (RP-initiated logout). */
export function logout(portal?: string): void {
  const session = getSession();
  const p = portal ?? session?.portal ?? 'personal';
  setSession(undefined);
  const params = new URLSearchParams({
    client_id: clientIdFor(p),
    post_logout_redirect_uri: `${location.origin}/${p}`,
  });
  if (session?.idToken) params.set('id_token_hint', session.idToken);
  location.assign(`/oidc/session/end?${params}`);
}
