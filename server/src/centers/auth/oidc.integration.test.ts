import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { service } from '../../platform/context.ts';
import { databaseKinds } from '../../platform/db/testing.ts';
import type { TestPlatform } from '../../testing/platform.ts';
import { DEMO_PARTNER_APP_ID, DEMO_PARTNER_SECRET } from './seed.ts';
import { Browser, listeningAuthCenter, loginPageUrl, MemoryDirectory, passwordLogin } from './testing.ts';

const API = 'urn:yibao:api';

for (const kind of databaseKinds()) {
  describe(`auth: OIDC provider with a real relying party [${kind}]`, () => {
    let platform: TestPlatform;
    let base: string;
    let redirectUri: string;
    let config: oidc.Configuration;
    const directory = new MemoryDirectory();
    const password = 'Correct#Horse9';

    before(async () => {
      ({ platform, base, config } = await listeningAuthCenter(kind, directory));
      await directory.add({
        name: '张三',
        mobile: '13900000001',
        residentId: '11010519491231002X',
        username: 'zhangsan',
        password,
      });
      redirectUri = `${base}/login/callback`;
    });
    after(async () => platform?.close());

    /** An authorization request with PKCE (S256) for portal-personal. */
    async function authorizationRequest(params: Record<string, string> = {}) {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid profile offline_access',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        ...params,
      });
      return { url: url.toString(), verifier, state };
    }

    async function login(browser: Browser, params: Record<string, string> = {}, loginId = '13900000001') {
      const { url, verifier, state } = await authorizationRequest(params);
      const r = await passwordLogin(browser, url, redirectUri, loginId, password);
      assert.ok(r.callback, r.html ?? 'no callback');
      return oidc.authorizationCodeGrant(config, new URL(r.callback!), {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
    }

    it('discovery is served at /.well-known/openid-configuration with the platform issuer and keys', async () => {
      const meta = config.serverMetadata();
      assert.equal(meta.issuer, platform.ctx.publicUrl);
      assert.equal(meta.authorization_endpoint, `${base}/oidc/auth`);
      assert.ok(meta.code_challenge_methods_supported?.includes('S256'));
      const jwks = (await (await fetch(`${base}/oidc/jwks`)).json()) as { keys: Array<{ kid: string }> };
      const platformKids = (await platform.ctx.keys.publicJwks()).keys.map((k) => k.kid);
      assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), platformKids.sort());
    });

    it('authorization code + PKCE → a platform access token the API accepts; acr/amr/sid recorded', async () => {
      const browser = new Browser();
      const tokens = await login(browser, { resource: API });
      const claims = tokens.claims()!;
      assert.equal(claims.name, '张*');
      const at = await platform.ctx.tokens.verify(tokens.access_token);
      assert.equal(at.sub, claims.sub);
      assert.equal(at.kind, 'person');
      assert.equal(at.region, '990100');
      assert.equal(at.acr, 'pwd');
      assert.deepEqual(at.amr, ['pwd']);
      assert.ok(at.sid);
      const res = await fetch(`${base}/api/auth/me/sessions`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      assert.equal(res.status, 200);
      const sessions = (await res.json()) as Array<{ sid: string; current: boolean; acr: string }>;
      assert.ok(sessions.some((s) => s.sid === at.sid && s.current && s.acr === 'pwd'));
      const logins = (await (
        await fetch(`${base}/api/auth/me/logins`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
      ).json()) as Array<{ method: string; result: string }>;
      assert.equal(logins[0]?.result, 'success');
      assert.equal(logins[0]?.method, 'pwd');
    });

    it('PKCE is required: an authorization request without a code challenge is refused', async () => {
      const url = oidc.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', state: 'x' });
      const res = await new Browser().get(url.toString());
      const location = res.headers.get('location') ?? '';
      assert.match(location, /error=invalid_request/);
    });

    it('SSO session + userinfo, refresh with rotation, introspection, revocation', async () => {
      const browser = new Browser();
      await login(browser, { resource: API });
      // Second authorization on the same browser: no login form (SSO); without a resource → opaque token for userinfo.
      const tokens = await login(browser);
      const sub = tokens.claims()!.sub;
      const info = await oidc.fetchUserInfo(config, tokens.access_token, sub);
      assert.equal(info.name, '张*');
      assert.equal(info.phone_number, undefined); // phone scope not asked
      assert.ok(tokens.refresh_token);

      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      assert.ok(refreshed.refresh_token);
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
      await assert.rejects(
        oidc.refreshTokenGrant(config, tokens.refresh_token!),
        (e: { cause?: { error?: string } }) => e.cause?.error === 'invalid_grant',
      );

      const introspected = await oidc.tokenIntrospection(config, refreshed.refresh_token!);
      // The reuse of the rotated token above revoked the whole grant (refresh-token reuse detection).
      assert.equal(introspected.active, false);

      const fresh = await login(browser);
      const live = await oidc.tokenIntrospection(config, fresh.refresh_token!);
      assert.equal(live.active, true);
      assert.equal(live.sub, sub);
      await oidc.tokenRevocation(config, fresh.refresh_token!);
      assert.equal((await oidc.tokenIntrospection(config, fresh.refresh_token!)).active, false);
      await assert.rejects(oidc.refreshTokenGrant(config, fresh.refresh_token!));
    });

    it('single use under concurrency: a code or refresh token sent several times at once yields tokens once', async () => {
      const tokenRequest = (form: Record<string, string>) =>
        fetch(`${base}/oidc/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ client_id: 'portal-personal', ...form }),
        });
      const codeForm = async () => {
        const { url, verifier } = await authorizationRequest();
        const r = await passwordLogin(new Browser(), url, redirectUri, '13900000001', password);
        const code = new URL(r.callback!).searchParams.get('code')!;
        return { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier };
      };
      const onlyOne = async (answers: Response[], what: string) => {
        const ok = answers.filter((a) => a.status === 200);
        assert.equal(ok.length, 1, `${what} answered ${answers.map((a) => a.status)}`);
        for (const a of answers.filter((x) => x.status !== 200)) {
          assert.equal(a.status, 400);
          assert.equal(((await a.json()) as { error: string }).error, 'invalid_grant');
        }
        return (await ok[0]!.json()) as { refresh_token: string };
      };
      for (let round = 0; round < 3; round++) {
        const form = await codeForm();
        await onlyOne(await Promise.all([tokenRequest(form), tokenRequest(form), tokenRequest(form)]), 'one code');
        // (the replays revoke the grant, RFC 6749 §4.1.2) — a fresh code for the refresh-token race
        const { refresh_token } = await onlyOne([await tokenRequest(await codeForm())], 'a fresh code');
        const refresh = { grant_type: 'refresh_token', refresh_token };
        await onlyOne(await Promise.all([tokenRequest(refresh), tokenRequest(refresh)]), 'one refresh token');
      }
    });

    it('remote sign-out: the session list shows it, and after revoking, its access token and refresh token stop working', async () => {
      const phone = new Browser();
      phone.userAgent = 'Phone/1.0';
      const onPhone = await login(phone, { resource: API });
      const laptop = new Browser();
      const onLaptop = await login(laptop, { resource: API });
      const phoneSid = (await platform.ctx.tokens.verify(onPhone.access_token)).sid!;
      const auth = { authorization: `Bearer ${onLaptop.access_token}` };
      const del = await fetch(`${base}/api/auth/me/sessions/${phoneSid}`, { method: 'DELETE', headers: auth });
      assert.equal(del.status, 204);
      const denied = await fetch(`${base}/api/auth/me/sessions`, {
        headers: { authorization: `Bearer ${onPhone.access_token}` },
      });
      assert.equal(denied.status, 401);
      assert.equal(((await denied.json()) as { code: string }).code, 'SESSION_REVOKED');
      await assert.rejects(oidc.refreshTokenGrant(config, onPhone.refresh_token!));
      assert.equal((await fetch(`${base}/api/auth/me/sessions`, { headers: auth })).status, 200);
    });

    it('step-up: acr_values=mfa on a password session asks for an SMS code and yields acr mfa', async () => {
      const browser = new Browser();
      await login(browser);
      const verifier = oidc.randomPKCECodeVerifier();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: 's2',
        acr_values: 'mfa',
        resource: API,
        step_up_for: 'pay',
      });
      const page = await browser.follow(url.toString(), (u) => u.startsWith(redirectUri));
      const html = await page.res.text();
      assert.match(html, /需要进一步验证身份/);
      assert.match(html, /使用个人账户支付需要更高等级的身份认证/, 'says what for');
      assert.match(html, /139\*\*\*\*0001/);
      const interaction = page.url.split('?')[0]!;
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
      const sent = await browser.post(`${interaction}/stepup/sms/send`, { csrf });
      assert.equal(sent.status, 200);
      const sms = await service(platform.ctx, 'auth').otp.lastSandboxSms('990100', '13900000001');
      const code = /(\d{6})/.exec(sms ?? '')![1]!;
      const wrong = await browser.post(`${interaction}/stepup/sms`, {
        csrf,
        code: code === '000000' ? '111111' : '000000',
      });
      assert.equal(wrong.status, 401);
      const ok = await browser.post(`${interaction}/stepup/sms`, { csrf, code });
      assert.equal(ok.status, 303);
      const done = await browser.follow(new URL(ok.headers.get('location')!, interaction).toString(), (u) =>
        u.startsWith(redirectUri),
      );
      const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), {
        pkceCodeVerifier: verifier,
        expectedState: 's2',
      });
      assert.equal(tokens.claims()!.acr, 'mfa');
      const at = await platform.ctx.tokens.verify(tokens.access_token);
      assert.equal(at.acr, 'mfa');
      assert.ok(at.amr?.includes('sms'));
    });

    it('CSRF: a form post without the matching token is refused', async () => {
      const browser = new Browser();
      const url = await loginPageUrl(config, base, 'c');
      const page = await browser.follow(url);
      const res = await browser.post(`${page.url.split('?')[0]}/password`, {
        csrf: 'forged-token-forged-token-forged-token',
        loginId: '13900000001',
        password,
      });
      assert.equal(res.status, 403);
    });

    it('RP-initiated logout ends the session and its access tokens', async () => {
      const browser = new Browser();
      const tokens = await login(browser, { resource: API });
      const endUrl = oidc.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: `${base}/personal`,
      });
      const confirm = await browser.follow(endUrl.toString());
      const html = await confirm.res.text();
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
      const action = /action="([^"]+)"/.exec(html)![1]!;
      const res = await browser.post(new URL(action, base).toString(), { xsrf, logout: 'yes' });
      assert.equal(res.status, 303);
      assert.ok(res.headers.get('location')?.startsWith(`${base}/personal`));
      const after = await fetch(`${base}/api/auth/me/sessions`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      assert.equal(after.status, 401);
      // The browser must log in again.
      const again = await passwordLogin(
        browser,
        await loginPageUrl(config, base, 'z'),
        redirectUri,
        '13900000001',
        'wrong-password-1',
      );
      assert.equal(again.page?.status, 401);
    });

    it('back-channel logout: ending the session POSTs a signed logout token to the client', async () => {
      const received: string[] = [];
      const rp = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          received.push(body);
          res.writeHead(200).end();
        });
      });
      await new Promise<void>((r) => rp.listen(0, '127.0.0.1', r));
      const rpPort = (rp.address() as { port: number }).port;
      try {
        await service(platform.ctx, 'auth').registerChannel({
          regionCode: '990100',
          appId: 'bcl-web',
          name: '后台注销测试应用',
          type: 'web',
          scopes: ['openid'],
          publicClient: true,
          redirectUris: [redirectUri],
          postLogoutRedirectUris: [`${base}/personal`],
          backchannelLogoutUri: `http://127.0.0.1:${rpPort}/backchannel`,
        });
        const bcl = await oidc.discovery(new URL(base), 'bcl-web', undefined, oidc.None(), {
          execute: [oidc.allowInsecureRequests],
        });
        const browser = new Browser();
        const verifier = oidc.randomPKCECodeVerifier();
        const url = oidc.buildAuthorizationUrl(bcl, {
          redirect_uri: redirectUri,
          scope: 'openid',
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state: 'bcl',
        });
        const r = await passwordLogin(browser, url.toString(), redirectUri, '13900000001', password);
        const tokens = await oidc.authorizationCodeGrant(bcl, new URL(r.callback!), {
          pkceCodeVerifier: verifier,
          expectedState: 'bcl',
        });
        const sid = tokens.claims()!.sid as string;
        assert.ok(sid);
        const confirm = await browser.follow(
          oidc
            .buildEndSessionUrl(bcl, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${base}/personal` })
            .toString(),
        );
        const html = await confirm.res.text();
        const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
        const action = /action="([^"]+)"/.exec(html)![1]!;
        assert.equal((await browser.post(new URL(action, base).toString(), { xsrf, logout: 'yes' })).status, 303);
        for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((res) => setTimeout(res, 50));
        const logoutToken = new URLSearchParams(received[0]).get('logout_token')!;
        const { payload } = await jwtVerify(logoutToken, createRemoteJWKSet(new URL(`${base}/oidc/jwks`)), {
          issuer: base,
          audience: 'bcl-web',
        });
        assert.equal(payload.sid, sid);
        assert.ok((payload.events as Record<string, unknown>)['http://schemas.openid.net/event/backchannel-logout']);
      } finally {
        rp.close();
      }
    });

    it('client credentials for a channel back-end: a channel access token; disabling the channel kills it', async () => {
      const partner = await oidc.discovery(new URL(base), DEMO_PARTNER_APP_ID, DEMO_PARTNER_SECRET, undefined, {
        execute: [oidc.allowInsecureRequests],
      });
      const tokens = await oidc.clientCredentialsGrant(partner, { scope: 'api payment', resource: API });
      const at = await platform.ctx.tokens.verify(tokens.access_token);
      assert.equal(at.kind, 'channel');
      assert.equal(at.sub, DEMO_PARTNER_APP_ID);
      assert.equal(at.region, '990100');
      assert.deepEqual(at.scope?.split(' ').sort(), ['api', 'payment']);
      const headers = { authorization: `Bearer ${tokens.access_token}` };
      const asChannel = await fetch(`${base}/api/auth/me/sessions`, { headers });
      assert.equal(asChannel.status, 403); // authenticated as a channel, which has no personal sessions
      const narrowed = await oidc.clientCredentialsGrant(partner, { scope: 'api admin', resource: API });
      assert.deepEqual((await platform.ctx.tokens.verify(narrowed.access_token)).scope, 'api'); // never beyond the channel's scopes

      await service(platform.ctx, 'auth').channels.update('990100', DEMO_PARTNER_APP_ID, { status: 'disabled' });
      const dead = await fetch(`${base}/api/auth/me/sessions`, { headers });
      assert.equal(dead.status, 401);
      await assert.rejects(oidc.clientCredentialsGrant(partner, { scope: 'api', resource: API }));
      await service(platform.ctx, 'auth').channels.update('990100', DEMO_PARTNER_APP_ID, { status: 'active' });
    });

    it('key rotation: the provider signs with the new key, tokens under the old key still verify', async () => {
      const browser = new Browser();
      const before = await login(browser, { resource: API });
      const kid = await platform.ctx.keys.rotate();
      const after = await login(browser, { resource: API });
      const header = JSON.parse(Buffer.from(after.access_token.split('.')[0]!, 'base64url').toString()) as {
        kid: string;
      };
      assert.equal(header.kid, kid);
      await platform.ctx.tokens.verify(before.access_token);
      await platform.ctx.tokens.verify(after.access_token);
      const jwks = (await (await fetch(`${base}/oidc/jwks`)).json()) as { keys: Array<{ kid: string }> };
      assert.ok(jwks.keys.some((k) => k.kid === kid));
    });
  });
}
