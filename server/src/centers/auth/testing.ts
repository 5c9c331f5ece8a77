/** Test helpers for the auth center: an account directory with real Argon2id hashes, a cookie-jar browser. */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { hash, verify } from '@node-rs/argon2';
import * as oidc from 'openid-client';
import { service } from '../../platform/context.ts';
import type { DatabaseKind } from '../../platform/db/testing.ts';
import { createTestPlatform, type TestPlatform } from '../../testing/platform.ts';
import type { AccountDirectory, AccountKind, AccountRef } from './accounts.ts';
import { authCenter } from './index.ts';
import { seedAuth } from './seed.ts';

/** Cheap Argon2id for tests (the user center's TEST profile); the bench uses the OWASP parameters. */
const TEST_PARAMS = { algorithm: 2, memoryCost: 256, timeCost: 1, parallelism: 1 } as const;

export interface TestAccount extends AccountRef {
  residentId?: string;
  hash: string;
}

/** Accounts the way the user center keeps them, for auth tests that must not depend on its progress. */
export class MemoryDirectory implements AccountDirectory {
  readonly accounts: TestAccount[] = [];
  private dummy?: Promise<string>;
  private readonly params: Record<string, number>;

  constructor(params: { memoryCost: number; timeCost: number; parallelism: number } = TEST_PARAMS) {
    this.params = { ...params, algorithm: 2 };
  }

  async add(a: {
    /** when the test's other parts already name the account */
    id?: string;
    kind?: AccountKind;
    regionCode?: string;
    name: string;
    mobile?: string;
    residentId?: string;
    username?: string;
    password: string;
    status?: string;
  }): Promise<TestAccount> {
    const account: TestAccount = {
      kind: a.kind ?? 'person',
      id: a.id ?? randomUUID(),
      regionCode: a.regionCode ?? '990100',
      status: a.status ?? 'active',
      name: a.name,
      mobile: a.mobile,
      username: a.username,
      residentId: a.residentId,
      hash: await hash(a.password, this.params),
    };
    this.accounts.push(account);
    return account;
  }

  async findByLogin(kind: AccountKind, regionCode: string, loginId: string) {
    const id = loginId.trim().toLowerCase();
    return (
      this.accounts.find(
        (a) =>
          a.kind === kind &&
          (kind === 'staff' || a.regionCode === regionCode) &&
          [a.mobile, a.residentId?.toLowerCase(), a.username?.toLowerCase()].includes(id),
      ) ?? null
    );
  }

  async findByMobile(kind: AccountKind, regionCode: string, mobile: string) {
    return (
      this.accounts.find((a) => a.kind === kind && a.regionCode === regionCode && a.mobile === mobile.trim()) ?? null
    );
  }

  async get(kind: AccountKind, regionCode: string, id: string) {
    return (
      this.accounts.find((a) => a.kind === kind && a.id === id && (kind === 'staff' || a.regionCode === regionCode)) ??
      null
    );
  }

  async verifyPassword(account: AccountRef | null, password: string) {
    const stored = account ? this.accounts.find((a) => a.id === account.id)?.hash : undefined;
    if (!stored) {
      this.dummy ??= hash('dummy-password', this.params);
      await verify(await this.dummy, password).catch(() => false);
      return false;
    }
    return verify(stored, password).catch(() => false);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** A minimal browser: cookie jar, manual redirects, form posts. */
export class Browser {
  readonly jar = new Map<string, string>();
  userAgent = 'YibaoTest/1.0';
  forwardedFor?: string;

  private store(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    return {
      'user-agent': this.userAgent,
      ...(cookie ? { cookie } : {}),
      ...(this.forwardedFor ? { 'x-forwarded-for': this.forwardedFor } : {}),
      ...extra,
    };
  }

  async get(url: string): Promise<Response> {
    const res = await fetch(url, { redirect: 'manual', headers: this.headers() });
    this.store(res);
    return res;
  }

  async post(url: string, form: Record<string, string>): Promise<Response> {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: this.headers({ 'content-type': 'application/x-www-form-urlencoded' }),
      body: new URLSearchParams(form).toString(),
    });
    this.store(res);
    return res;
  }

  async postJson(url: string, body: unknown): Promise<Response> {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: this.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify(body),
    });
    this.store(res);
    return res;
  }

  /** Follows redirects (GET) until `stop` says so or a non-redirect answer; returns the last response and URL. */
  async follow(url: string, stop: (u: string) => boolean = () => false): Promise<{ res: Response; url: string }> {
    let current = url;
    for (let i = 0; i < 10; i++) {
      if (stop(current)) return { res: new Response(null, { status: 204 }), url: current };
      const res = await this.get(current);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { res, url: current };
      current = new URL(location, current).toString();
    }
    throw new Error('too many redirects');
  }
}

export function formValue(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no form field ${name}`);
  return m[1]!;
}

/** Drives the password form from an authorization URL to the redirect URI; returns the callback URL. */
export async function passwordLogin(
  browser: Browser,
  authUrl: string,
  redirectPrefix: string,
  loginId: string,
  password: string,
): Promise<{ callback?: string; page?: Response; html?: string }> {
  const start = await browser.follow(authUrl, (u) => u.startsWith(redirectPrefix));
  if (start.url.startsWith(redirectPrefix)) return { callback: start.url };
  const html = await start.res.text();
  const csrf = formValue(html, 'csrf');
  const res = await browser.post(`${start.url.split('?')[0]}/password`, { csrf, loginId, password });
  if (res.status !== 303) return { page: res, html: await res.text() };
  const done = await browser.follow(new URL(res.headers.get('location')!, start.url).toString(), (u) =>
    u.startsWith(redirectPrefix),
  );
  if (!done.url.startsWith(redirectPrefix))
    return { page: done.res, html: `${done.res.status} ${await done.res.text()}` };
  return { callback: done.url };
}

/**
 * The auth center alone, listening on a free port, logging in the accounts of `directory`, with the seed's portals;
 * `config` is the personal portal as a relying party (discovery done).
 */
export async function listeningAuthCenter(
  kind: DatabaseKind,
  directory: AccountDirectory,
): Promise<{ platform: TestPlatform; base: string; config: oidc.Configuration }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const platform = await createTestPlatform(kind, { centers: [authCenter], env: { PUBLIC_URL: base } });
  service(platform.ctx, 'auth').useAccountDirectory(directory);
  await seedAuth(platform.ctx);
  await platform.app.listen({ port, host: '127.0.0.1' });
  const config = await oidc.discovery(new URL(base), 'portal-personal', undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  return { platform, base, config };
}

/** A personal-portal authorization request (code + PKCE, scope openid) for a test that only needs its login page. */
export async function loginPageUrl(config: oidc.Configuration, base: string, state = 's'): Promise<string> {
  return oidc
    .buildAuthorizationUrl(config, {
      redirect_uri: `${base}/login/callback`,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state,
    })
    .toString();
}

/**
 * A relying party's authorization request (code + PKCE) for this client of the platform at `base`, for the platform
 * API (`urn:yibao:api`): the discovered configuration, the verifier to redeem the code with, and the URL.
 */
export async function authorize(base: string, clientId: string, opts: { state: string; scope?: string; acr?: 'mfa' }) {
  const config = await oidc.discovery(new URL(base), clientId, undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${base}/login/callback`,
    scope: opts.scope ?? 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: opts.state,
    resource: 'urn:yibao:api',
    ...(opts.acr ? { acr_values: opts.acr } : {}),
  });
  return { config, verifier, url };
}
