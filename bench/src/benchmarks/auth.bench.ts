/**
 * Unified authentication center benchmarks, on PostgreSQL, loopback HTTP against an in-process platform
 * (user center + auth center, OWASP Argon2id):
 * - password login end to end: GET /oidc/auth → login page → POST password form → resume → code → POST /oidc/token,
 *   against raw Argon2id verify/s with the same parameters (the floor; goal 0.8);
 * - client-credentials grants/s at /oidc/token (JWT access tokens signed with the platform key), beside the bare
 *   HTTP round trip of the same server and client (GET /healthz, 16 concurrent) as its bound;
 * - SM2 verify/s inside the channel-signature hook (shape, channel key cache, SM3withSM2, nonce row in the DB), and
 *   the hook's verification without the DB write, against `openssl speed sm2` (goal 0.5 × native).
 */
import { signEnvelope } from '@yibao/sdk';
import { authCenter } from '../../../server/src/centers/auth/index.ts';
import { DEMO_PARTNER_APP_ID, DEMO_PARTNER_SECRET } from '../../../server/src/centers/auth/seed.ts';
import type { AuthService } from '../../../server/src/centers/auth/service.ts';
import { Browser, formValue, freePort } from '../../../server/src/centers/auth/testing.ts';
import { userCenter } from '../../../server/src/centers/user/index.ts';
import { createTestPerson } from '../../../server/src/centers/user/testing.ts';
import { service } from '../../../server/src/platform/context.ts';
import { verifyEnvelopeDetailed } from '../../../server/src/platform/crypto/index.ts';
import { sql } from '../../../server/src/platform/db/index.ts';
import { createTestPlatform, type TestPlatform } from '../../../server/src/testing/platform.ts';
import { opensslSm2VerifyRate, rawArgon2Rate } from '../floors.ts';
import type { Benchmark } from '../types.ts';

process.env.TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
const PASSWORD = 'Bench@pass2024';
const PERSONS = 8;
const ENVELOPES = 20_000;

interface Ctx {
  platform: TestPlatform;
  base: string;
  auth: AuthService;
  logins: string[];
  envelopes: unknown[];
  channel: { publicKeyHex: string; appSecret: string };
  i: number;
}

async function setup(opts: { persons?: boolean; envelopes?: boolean; count?: number } = {}): Promise<Ctx> {
  if (process.env.USER_ARGON2_PROFILE === 'test') throw new Error('the auth bench needs the OWASP hashing profile');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const platform = await createTestPlatform('postgres', {
    centers: [userCenter, authCenter],
    env: { PUBLIC_URL: base },
    seed: true,
  });
  await platform.app.listen({ port, host: '127.0.0.1' });
  const auth = service(platform.ctx, 'auth');
  const logins: string[] = [];
  if (opts.persons) {
    for (let i = 0; i < PERSONS; i++) {
      const p = await createTestPerson(platform, { password: PASSWORD });
      logins.push(i % 2 ? p.mobile : p.residentId);
    }
  }
  const reg = await auth.registerChannel({
    regionCode: '990100',
    name: '压测机构',
    type: 'institution',
    scopes: ['payment'],
  });
  const envelopes: unknown[] = [];
  if (opts.envelopes) {
    for (let i = 0; i < (opts.count ?? ENVELOPES); i++) {
      envelopes.push(
        signEnvelope({
          appId: reg.appId,
          transType: '6202',
          data: { orderNo: `B${i}`, amount: 1000 + i, items: [{ code: 'X001', qty: 1 }] },
          privateKey: reg.privateKeyHex,
          appSecret: reg.appSecret,
        }),
      );
    }
  }
  return {
    platform,
    base,
    auth,
    logins,
    envelopes,
    channel: { publicKeyHex: reg.publicKeyHex, appSecret: reg.appSecret },
    i: 0,
  };
}

const teardown = async (ctx: Ctx) => ctx?.platform.close();

async function verifierFor(base: string): Promise<{ verifier: string; challenge: string }> {
  const verifier = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  void base;
  return { verifier, challenge: Buffer.from(digest).toString('base64url') };
}

/** One full browser login: authorization request → form → code → tokens. */
async function passwordLogin(ctx: Ctx, loginId: string): Promise<void> {
  const browser = new Browser();
  const redirectUri = `${ctx.base}/login/callback`;
  const pkce = await verifierFor(ctx.base);
  const q = new URLSearchParams({
    client_id: 'portal-personal',
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid profile offline_access',
    resource: 'urn:yibao:api',
    state: 'bench',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  });
  const page = await browser.follow(`${ctx.base}/oidc/auth?${q}`);
  const csrf = formValue(await page.res.text(), 'csrf');
  const posted = await browser.post(`${page.url.split('?')[0]}/password`, { csrf, loginId, password: PASSWORD });
  if (posted.status !== 303) throw new Error(`login form answered ${posted.status}`);
  const done = await browser.follow(new URL(posted.headers.get('location')!, ctx.base).toString(), (u) =>
    u.startsWith(redirectUri),
  );
  const code = new URL(done.url).searchParams.get('code');
  if (!code) throw new Error('no authorization code');
  const res = await fetch(`${ctx.base}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: 'portal-personal',
      code_verifier: pkce.verifier,
    }),
  });
  const tokens = (await res.json()) as { access_token?: string };
  if (!res.ok || !tokens.access_token) throw new Error(`token endpoint answered ${res.status}`);
}

/** The bound of any endpoint here: a bare route of the same server through the same client, 16 at a time. */
async function healthzRate(ctx: Ctx): Promise<number> {
  const start = performance.now();
  const until = start + 2000;
  let n = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < until) {
        const res = await fetch(`${ctx.base}/healthz`);
        await res.json();
        n++;
      }
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

const basic = `Basic ${Buffer.from(`${encodeURIComponent(DEMO_PARTNER_APP_ID)}:${encodeURIComponent(DEMO_PARTNER_SECRET)}`).toString('base64')}`;

const nextEnvelope = (ctx: Ctx) => {
  if (ctx.i >= ctx.envelopes.length) throw new Error('benchmark ran out of pre-signed envelopes; raise ENVELOPES');
  return ctx.envelopes[ctx.i++];
};

export default [
  {
    name: 'auth: 密码登录全流程 (表单 → 授权码 → 令牌, Argon2id OWASP)',
    unit: 'ops',
    setup: () => setup({ persons: true }),
    teardown,
    run: async (n, ctx) => {
      for (let k = 0; k < n; k++) await passwordLogin(ctx, ctx.logins[ctx.i++ % ctx.logins.length]!);
    },
    floor: { name: 'raw Argon2id verify (m=19456,t=2,p=1)', opsPerSec: () => rawArgon2Rate(PASSWORD) },
    goalRatio: 0.8,
  },
  {
    name: 'auth: 密码登录全流程 (4 个并发浏览器)',
    unit: 'ops',
    setup: () => setup({ persons: true }),
    teardown,
    concurrency: 4,
    run: async (n, ctx) => {
      for (let k = 0; k < n; k++) await passwordLogin(ctx, ctx.logins[ctx.i++ % ctx.logins.length]!);
    },
    floor: { name: 'raw Argon2id verify (m=19456,t=2,p=1)', opsPerSec: () => rawArgon2Rate(PASSWORD) },
  },
  {
    name: 'auth: client credentials 令牌签发 (/oidc/token, JWT ES256)',
    unit: 'ops',
    setup: () => setup(),
    teardown,
    concurrency: 16,
    run: async (n, ctx) => {
      for (let k = 0; k < n; k++) {
        const res = await fetch(`${ctx.base}/oidc/token`, {
          method: 'POST',
          headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials&scope=api&resource=urn%3Ayibao%3Aapi',
        });
        const body = (await res.json()) as { access_token?: string };
        if (!body.access_token) throw new Error(`token endpoint answered ${res.status}`);
      }
    },
    floor: { name: 'GET /healthz round trip (same client, 16 concurrent)', opsPerSec: healthzRate },
    // JWT access tokens of client credentials are not stored by the provider (revocation goes by channel: sid ch:…)
    facts: async (ctx) => {
      const [row] = await ctx.platform.ctx.db.q<{ n: number }>(
        sql`select count(*)::int as n from oidc_payload where kind = 'ClientCredentials'`,
      );
      return { storedTokens: row?.n ?? 0 };
    },
  },
  {
    name: 'auth: 渠道签名钩子 (SM2 验签 + nonce 入库, PostgreSQL)',
    unit: 'ops',
    setup: () => setup({ envelopes: true }),
    teardown,
    concurrency: 8,
    run: async (n, ctx) => {
      for (let k = 0; k < n; k++) await ctx.auth.verifier.verify(nextEnvelope(ctx), { scope: 'payment' });
    },
    floor: { name: 'openssl speed sm2 (native verify)', opsPerSec: opensslSm2VerifyRate },
    goalRatio: 0.5,
  },
  {
    name: 'auth: 渠道签名钩子的验签部分 (信封检查 + SM3withSM2, 缓存窗口表)',
    unit: 'ops',
    setup: () => setup({ envelopes: true, count: 2_000 }),
    teardown,
    run: async (n, ctx) => {
      for (let k = 0; k < n; k++) {
        // No nonce check here, so the pre-signed envelopes can be reused in turn.
        verifyEnvelopeDetailed(ctx.envelopes[ctx.i++ % ctx.envelopes.length], {
          publicKey: ctx.channel.publicKeyHex,
          appSecret: ctx.channel.appSecret,
          now: Date.now(),
          windowSeconds: 300,
        });
      }
    },
    floor: { name: 'openssl speed sm2 (native verify)', opsPerSec: opensslSm2VerifyRate },
    goalRatio: 0.5,
  },
] satisfies Benchmark<Ctx>[];
