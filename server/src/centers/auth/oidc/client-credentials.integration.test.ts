/**
 * The fast client-credentials path (client-credentials.ts) against the provider itself: the same grants through both
 * give the same answer and the same token (claims, lifetime, header, key); everything else — wrong secrets, disabled
 * or reset channels, clients without the grant, unusual requests — is the provider's answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { service } from '../../../platform/context.ts';
import { sql } from '../../../platform/db/index.ts';
import { databaseKinds } from '../../../platform/db/testing.ts';
import { createTestPlatform, type TestPlatform } from '../../../testing/platform.ts';
import { CHANNEL_CACHE_MS } from '../channel/channels.ts';
import { authCenter } from '../index.ts';
import type { AuthService } from '../service.ts';
import { freePort } from '../testing.ts';

const API = 'urn:yibao:api';

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

for (const kind of databaseKinds()) {
  describe(`auth: client credentials without the provider stack, same answers as the provider [${kind}]`, () => {
    let platform: TestPlatform;
    let auth: AuthService;
    let base: string;
    let partner: { appId: string; appSecret: string };
    /** plain grants the fast path answered */
    let fast = 0;

    before(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      platform = await createTestPlatform(kind, { centers: [authCenter], env: { PUBLIC_URL: base } });
      await platform.app.listen({ port, host: '127.0.0.1' });
      auth = service(platform.ctx, 'auth');
      partner = await auth.registerChannel({
        regionCode: '990100',
        name: '测试合作方',
        type: 'partner',
        scopes: ['api', 'payment'],
        grantTypes: ['client_credentials'],
      });
      const original = auth.oidc.clientCredentials.bind(auth.oidc);
      auth.oidc.clientCredentials = async (...args) => {
        const grant = await original(...args);
        if (grant) fast++;
        return grant;
      };
    });
    after(async () => platform?.close());

    const basic = (id: string, secret: string) =>
      `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

    async function token(
      form: Record<string, string>,
      opts: { authorization?: string; headers?: Record<string, string> } = {},
    ): Promise<Answer> {
      const res = await fetch(`${base}/oidc/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(opts.authorization === ''
            ? {}
            : { authorization: opts.authorization ?? basic(partner.appId, partner.appSecret) }),
          ...opts.headers,
        },
        body: new URLSearchParams(form).toString(),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
    }

    it('plain grants: the fast answer equals the provider answer (claims, lifetime, header, key), token verifies', async () => {
      const scopes = [undefined, 'api', 'api payment', 'api admin', 'payment openid', 'api api', 'openid'];
      for (const scope of scopes) {
        for (const resource of [undefined, API]) {
          const form: Record<string, string> = { grant_type: 'client_credentials' };
          if (scope !== undefined) form.scope = scope;
          if (resource !== undefined) form.resource = resource;
          const before = fast;
          const quick = await token(form);
          assert.equal(fast, before + 1, `fast path for ${JSON.stringify(form)}`);
          // client_id in the form as well (the provider accepts it when it matches): not the plain shape → provider
          const slow = await token({ ...form, client_id: partner.appId });
          assert.equal(fast, before + 1, 'the provider answered the second');
          assert.equal(quick.status, 200, JSON.stringify(quick.body));
          assert.equal(slow.status, 200, JSON.stringify(slow.body));
          assert.equal(quick.headers.get('cache-control'), slow.headers.get('cache-control'));
          assert.equal(quick.headers.get('content-type'), slow.headers.get('content-type'));
          const { access_token: qa, ...qRest } = quick.body;
          const { access_token: sa, ...sRest } = slow.body;
          assert.deepEqual(Object.keys(qRest), Object.keys(sRest));
          assert.deepEqual(qRest, sRest);
          const [qh, qp] = String(qa)
            .split('.')
            .map((p, i) => (i < 2 ? decode(p) : {}));
          const [sh, sp] = String(sa)
            .split('.')
            .map((p, i) => (i < 2 ? decode(p) : {}));
          assert.deepEqual(qh, sh, 'JWT header');
          const strip = ({ jti: _j, iat: _i, exp: _e, ...rest }: Record<string, unknown>) => rest;
          assert.deepEqual(Object.keys(qp!), Object.keys(sp!), 'claim names and order');
          assert.deepEqual(strip(qp!), strip(sp!), 'claims');
          assert.equal(Number(qp!.exp) - Number(qp!.iat), Number(sp!.exp) - Number(sp!.iat), 'lifetime');
          assert.notEqual(qp!.jti, sp!.jti);
          const verified = await platform.ctx.tokens.verify(String(qa));
          assert.equal(verified.kind, 'channel');
          assert.equal(verified.sub, partner.appId);
          assert.equal(verified.sid, `ch:${partner.appId}`);
        }
      }
    });

    it('a wrong secret never gets a token (the provider answers invalid_client)', async () => {
      const wrongs = [
        '',
        partner.appSecret.slice(0, -1),
        `${partner.appSecret}x`,
        partner.appSecret.toUpperCase() === partner.appSecret ? 'x' : partner.appSecret.toUpperCase(),
      ];
      const before = fast;
      for (const secret of wrongs) {
        const r = await token({ grant_type: 'client_credentials' }, { authorization: basic(partner.appId, secret) });
        assert.ok(r.status === 400 || r.status === 401, `${r.status} for ${JSON.stringify(secret)}`);
        assert.equal(r.body.access_token, undefined);
      }
      await fc.assert(
        fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }), async (secret) => {
          fc.pre(secret !== partner.appSecret);
          const r = await token({ grant_type: 'client_credentials' }, { authorization: basic(partner.appId, secret) });
          assert.equal(r.body.access_token, undefined);
          assert.ok(r.status >= 400);
        }),
        { numRuns: 40 },
      );
      assert.equal(fast, before, 'no wrong secret passed the fast path');
      // and the right one still does (the verification digest is per client, not a "recently passed" cache)
      assert.equal((await token({ grant_type: 'client_credentials' })).status, 200);
      assert.equal(fast, before + 1);
    });

    it('requests that are not the plain shape go to the provider unchanged', async () => {
      const before = fast;
      const ignored = await token({ grant_type: 'client_credentials', foo: 'bar' });
      assert.equal(ignored.status, 200, 'the provider ignores unknown parameters');
      const otherResource = await token({ grant_type: 'client_credentials', resource: 'https://elsewhere.example/' });
      assert.equal(otherResource.status, 400);
      assert.equal(otherResource.body.error, 'invalid_target');
      const badScope = await token({ grant_type: 'client_credentials', scope: 'api  payment' });
      assert.equal(badScope.status, 400);
      assert.equal(badScope.body.error, 'invalid_scope');
      const dpop = await token({ grant_type: 'client_credentials' }, { headers: { dpop: 'not-a-proof' } });
      assert.equal(dpop.status, 400);
      const code = await token({ grant_type: 'authorization_code', code: 'x', redirect_uri: `${base}/cb` });
      assert.equal(code.status, 400);
      assert.equal(fast, before, 'none of these was answered by the fast path');
    });

    it('a client without the client-credentials grant gets the provider error', async () => {
      const web = await auth.registerChannel({
        regionCode: '990100',
        name: '测试网页应用',
        type: 'web',
        scopes: ['api'],
        redirectUris: [`${base}/cb`],
        grantTypes: ['authorization_code', 'refresh_token'],
      });
      const before = fast;
      const r = await token({ grant_type: 'client_credentials' }, { authorization: basic(web.appId, web.appSecret) });
      assert.equal(r.status, 400);
      assert.equal(r.body.access_token, undefined);
      assert.equal(fast, before);
    });

    it('a reset secret: the old one is refused at once, the new one works', async () => {
      const ch = await auth.registerChannel({
        regionCode: '990100',
        name: '测试合作方二',
        type: 'partner',
        scopes: ['api'],
        grantTypes: ['client_credentials'],
      });
      assert.equal(
        (await token({ grant_type: 'client_credentials' }, { authorization: basic(ch.appId, ch.appSecret) })).status,
        200,
      );
      const fresh = await auth.channels.resetSecret('990100', ch.appId);
      const old = await token({ grant_type: 'client_credentials' }, { authorization: basic(ch.appId, ch.appSecret) });
      assert.equal(old.status, 401);
      const now = await token({ grant_type: 'client_credentials' }, { authorization: basic(ch.appId, fresh) });
      assert.equal(now.status, 200);
    });

    it(`a channel disabled by another process is refused within ${CHANNEL_CACHE_MS} ms; in this process at once`, async () => {
      const ch = await auth.registerChannel({
        regionCode: '990100',
        name: '测试合作方三',
        type: 'partner',
        scopes: ['api'],
        grantTypes: ['client_credentials'],
      });
      const authorization = basic(ch.appId, ch.appSecret);
      assert.equal((await token({ grant_type: 'client_credentials' }, { authorization })).status, 200);
      // another process disables it: the row changes, this process's cache does not hear of it
      await platform.ctx.db.q(sql`update auth_channel set status = 'disabled' where app_id = ${ch.appId}`);
      const disabledAt = Date.now();
      let refused: Answer | undefined;
      while (!refused) {
        const r = await token({ grant_type: 'client_credentials' }, { authorization });
        if (r.status !== 200) refused = r;
        else assert.ok(Date.now() - disabledAt <= CHANNEL_CACHE_MS + 250, 'still served after the bound');
        await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(refused.status, 401);
      assert.equal(refused.body.error, 'invalid_client');

      await auth.channels.update('990100', ch.appId, { status: 'active' });
      assert.equal((await token({ grant_type: 'client_credentials' }, { authorization })).status, 200);
      await auth.channels.update('990100', ch.appId, { status: 'disabled' });
      assert.equal((await token({ grant_type: 'client_credentials' }, { authorization })).status, 401, 'at once');
    });

    it('after a key rotation the fast path signs with the new key, as the provider does', async () => {
      const kid = await platform.ctx.keys.rotate();
      const before = fast;
      const r = await token({ grant_type: 'client_credentials' });
      assert.equal(fast, before + 1);
      const header = decode(String(r.body.access_token).split('.')[0]!);
      assert.equal(header.kid, kid);
      await platform.ctx.tokens.verify(String(r.body.access_token));
    });
  });
}
