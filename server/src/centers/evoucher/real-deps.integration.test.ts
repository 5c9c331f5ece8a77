/**
 * The e-voucher center with the real user center, the real auth center and the in-process reference core zone:
 * activation binds to the core zone's insured person, the ecToken handed to an institution resolves through the
 * core zone's port (the path 1101 takes with mdtrt_cert_type 01), and the e-voucher QR login runs end to end
 * through the auth center's OIDC interaction (amr evoucher_qr).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { before, test } from 'node:test';
import { signEnvelope } from '@yibao/sdk';
import * as oidc from 'openid-client';
import { coreZoneModule, DEMO_PERSONS } from '../../integration/core-zone/index.ts';
import { service } from '../../platform/context.ts';
import { residentIdCheckChar } from '../../platform/privacy/index.ts';
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
  'evoucher with the real user center and reference core zone',
  (get) => {
    const ids: Record<string, string> = {};
    let hospital: { appId: string; appSecret: string; privateKeyHex: string };

    before(async () => {
      const ctx = get().ctx;
      await coreZoneModule.seed!(ctx);
      await authCenter.seed!(ctx);
      await evoucherCenter.seed!(ctx);
      const users = service(ctx, 'user');
      const uninsured = `11010119700101123`;
      const people = [
        DEMO_PERSONS.zhangWei,
        DEMO_PERSONS.liuYang,
        { name: '钱多多', residentId: `${uninsured}${residentIdCheckChar(uninsured)}`, regionCode: R, key: 'nobody' },
      ];
      let n = 0;
      for (const p of people) {
        const acc = await users.createPerson({
          regionCode: p.regionCode,
          name: p.name,
          residentId: p.residentId,
          mobile: `1390000${String(1000 + n++)}`,
        });
        ids[p.key] = acc.id;
      }
      hospital = await service(ctx, 'auth').registerChannel({
        regionCode: R,
        name: '东湖市第一人民医院',
        type: 'institution',
        scopes: ['evoucher'],
        institutionCode: 'H99010000001',
      });
      await get().app.listen({ port, host: '127.0.0.1' });
    });

    const activate = async (personId: string) => {
      const p = get();
      const headers = await p.auth({ kind: 'person', subject: personId, regionCode: R });
      const s = (await p.app.inject({ method: 'POST', url: '/api/evoucher/me/liveness', headers })).json();
      const evidence = (
        await p.app.inject({
          method: 'POST',
          url: s.captureUrl,
          payload: { sessionId: s.sessionId, challenge: s.challenge, mode: 'photo', frames: [makePng(128, 128, 7)] },
        })
      ).json();
      const res = await p.app.inject({
        method: 'POST',
        url: '/api/evoucher/me/activate',
        headers,
        payload: { evidence: { result: evidence.result, signature: evidence.signature }, device: { id: 'phone-1' } },
      });
      return { res, headers };
    };

    test('an insured person activates; the ecToken resolves in the core zone to that person', async () => {
      const { res, headers } = await activate(ids.zhangWei);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().name, '张*');
      const code = (await get().app.inject({ method: 'POST', url: '/api/evoucher/me/codes', headers })).json();
      const envelope = signEnvelope({
        appId: hospital.appId,
        transType: 'verify',
        data: { qrCode: code.token, businessType: '01301' },
        privateKey: hospital.privateKeyHex,
        appSecret: hospital.appSecret,
      });
      const verified = await get().app.inject({
        method: 'POST',
        url: '/api/evoucher/channel/verify',
        payload: envelope,
      });
      assert.equal(verified.statusCode, 200, verified.body);
      const v = verified.json();
      assert.equal(v.insurance.insurances[0].insuranceType, '310');
      const core = service(get().ctx, 'coreZone');
      const person = await core.findPerson(R, { ecToken: v.ecToken });
      assert.equal(person.personNo, DEMO_PERSONS.zhangWei.personNo);
      assert.equal(person.residentId, DEMO_PERSONS.zhangWei.residentId);
    });

    test('core-zone refusals map to e-voucher codes', async () => {
      assert.equal((await activate(ids.nobody)).res.json().code, 'EVOUCHER_NOT_INSURED');
      assert.equal((await activate(ids.liuYang)).res.json().code, 'EVOUCHER_INSURANCE_INACTIVE');
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
      const phone = await get().auth({ kind: 'person', subject: ids.zhangWei, regionCode: R });
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
      assert.equal(claims.sub, ids.zhangWei);
      assert.deepEqual(claims.amr, ['evoucher_qr']);
      assert.equal(claims.kind, 'person');
      // the ticket was consumed: replaying the completed form does not log in again
      const replay = await new Jar().post(`${interaction}/method/evoucher_qr`, { csrf: csrf2, ...ticket });
      assert.notEqual(replay.status, 303);
    });
  },
  { centers: [coreZoneModule, userCenter, authCenter, evoucherCenter], env: { PUBLIC_URL: base } },
);
