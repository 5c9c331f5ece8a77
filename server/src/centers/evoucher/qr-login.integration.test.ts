/**
 * E-voucher QR login end to end through the unified authentication center: a relying party (the personal hall's
 * OIDC client) starts a login, the login page offers the e-voucher QR panel, the phone (signed-in person with an
 * active voucher) scans and confirms, the browser completes the interaction and gets tokens with amr evoucher_qr.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { before, test } from 'node:test';
import * as oidc from 'openid-client';
import { coreZoneModule, DEMO_PERSONS } from '../../integration/core-zone/index.ts';
import { service } from '../../platform/context.ts';
import { forEachPlatform } from '../../testing/platform.ts';
import { authCenter } from '../auth/index.ts';
import { userCenter } from '../user/index.ts';
import { evoucherCenter } from './index.ts';
import { makePng } from './testing.ts';

const R = '990100';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** A cookie jar over fetch with manual redirects. */
class Jar {
  readonly cookies = new Map<string, string>();
  private keep(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair.indexOf('=');
      const value = pair.slice(i + 1).trim();
      if (value === '' || /max-age=0|expires=Thu, 01 Jan 1970/i.test(line))
        this.cookies.delete(pair.slice(0, i).trim());
      else this.cookies.set(pair.slice(0, i).trim(), value);
    }
    return res;
  }
  private get cookie() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  async get(url: string) {
    return this.keep(await fetch(url, { redirect: 'manual', headers: { cookie: this.cookie } }));
  }
  async post(url: string, form: Record<string, string>) {
    return this.keep(
      await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: this.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      }),
    );
  }
  async follow(url: string, stop: (u: string) => boolean) {
    let current = url;
    for (let i = 0; i < 10; i++) {
      if (stop(current)) return { url: current, res: undefined };
      const res = await this.get(current);
      const loc = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !loc) return { url: current, res };
      current = new URL(loc, current).toString();
    }
    throw new Error('too many redirects');
  }
}

// the platform reads PUBLIC_URL when it is built: pick the port first
const port = await freePort();
const base = `http://127.0.0.1:${port}`;

forEachPlatform(
  'evoucher QR login through the auth center',
  (get) => {
    let personId = '';
    before(async () => {
      const ctx = get().ctx;
      await coreZoneModule.seed!(ctx);
      await authCenter.seed!(ctx);
      await evoucherCenter.seed!(ctx);
      const p = DEMO_PERSONS.zhangWei;
      personId = (
        await service(ctx, 'user').createPerson({
          regionCode: R,
          name: p.name,
          residentId: p.residentId,
          mobile: '13900009999',
        })
      ).id;
      const headers = await get().auth({ kind: 'person', subject: personId, regionCode: R });
      const s = (await get().app.inject({ method: 'POST', url: '/api/evoucher/me/liveness', headers })).json();
      const evidence = (
        await get().app.inject({
          method: 'POST',
          url: s.captureUrl,
          payload: { sessionId: s.sessionId, challenge: s.challenge, mode: 'photo', frames: [makePng(100, 100, 3)] },
        })
      ).json();
      const act = await get().app.inject({
        method: 'POST',
        url: '/api/evoucher/me/activate',
        headers,
        payload: { evidence: { result: evidence.result, signature: evidence.signature }, device: { id: 'phone' } },
      });
      assert.equal(act.statusCode, 200, act.body);
      await get().app.listen({ port, host: '127.0.0.1' });
    });

    test('login page offers the QR panel; scan + confirm on the phone logs the browser in with amr evoucher_qr', async () => {
      const redirectUri = `${base}/login/callback`;
      const config = await oidc.discovery(new URL(base), 'portal-personal', undefined, oidc.None(), {
        execute: [oidc.allowInsecureRequests],
      });
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        resource: 'urn:yibao:api',
      });
      const browser = new Jar();
      const start = await browser.follow(url.toString(), (u) => u.startsWith(redirectUri));
      const interaction = start.url.split('?')[0];
      assert.match(interaction, /\/oidc\/interaction\//);
      const page = await (await browser.get(`${interaction}?m=evoucher_qr`)).text();
      assert.match(page, /evoucher-qr-login/);
      assert.match(page, /医保电子凭证扫码/);
      const csrf = /name="csrf" value="([^"]*)"/.exec(page)![1];
      // what the panel's script does
      const ticket = (await (
        await fetch(`${base}/api/evoucher/login-tickets`, { method: 'POST', headers: { 'x-region-code': R } })
      ).json()) as { ticketId: string; secret: string; qrContent: string };
      assert.ok(ticket.qrContent.includes(ticket.ticketId));
      // submitting before the phone confirms is refused
      const early = await browser.post(`${interaction}/method/evoucher_qr`, { csrf, ...ticket });
      assert.equal(early.status, 401);
      const phone = await get().auth({ kind: 'person', subject: personId, regionCode: R });
      const csrf2 = /name="csrf" value="([^"]*)"/.exec(await early.text())![1];
      for (const step of ['scan', 'confirm']) {
        const r = await get().app.inject({
          method: 'POST',
          url: `/api/evoucher/login-tickets/${ticket.ticketId}/${step}`,
          headers: phone,
        });
        assert.ok(r.statusCode < 300, r.body);
      }
      const done = await browser.post(`${interaction}/method/evoucher_qr`, {
        csrf: csrf2,
        ticketId: ticket.ticketId,
        secret: ticket.secret,
      });
      assert.equal(done.status, 303, await done.text());
      const back = await browser.follow(new URL(done.headers.get('location')!, interaction).toString(), (u) =>
        u.startsWith(redirectUri),
      );
      assert.ok(back.url.startsWith(redirectUri), back.url);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(back.url), {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      const claims = await get().ctx.tokens.verify(tokens.access_token);
      assert.equal(claims.sub, personId);
      assert.deepEqual(claims.amr, ['evoucher_qr']);
      assert.equal(claims.kind, 'person');
      // the ticket was consumed: replaying the completed form does not log in again
      const replay = await new Jar().post(`${interaction}/method/evoucher_qr`, { csrf: csrf2, ...ticket });
      assert.notEqual(replay.status, 303);
    });
  },
  { centers: [coreZoneModule, userCenter, authCenter, evoucherCenter], env: { PUBLIC_URL: base } },
);
