/**
 * The platform's bearer authentication leaves alone the paths that authenticate their callers themselves: the OIDC
 * provider under /oidc/ (its own opaque tokens at /oidc/me) and any route a center declares
 * `config.ownAuthentication`. Every other route still refuses an invalid bearer token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Center } from '../../platform/center.ts';
import { databaseKinds } from '../../platform/db/testing.ts';
import { createTestPlatform, type TestPlatform } from '../../testing/platform.ts';
import { authCenter } from './index.ts';

const probe: Center = {
  name: 'probe',
  description: '测试探针',
  routes(app) {
    app.get('/api/probe/own', { config: { ownAuthentication: true } }, async (req) => ({
      principal: req.principal ?? null,
      regionCode: req.regionCode,
      authorization: req.headers.authorization ?? null,
    }));
    app.get('/api/probe/platform', async (req) => ({ principal: req.principal ?? null }));
  },
};

for (const kind of databaseKinds()) {
  describe(`auth: routes with their own authentication [${kind}]`, () => {
    let platform: TestPlatform;
    before(async () => {
      platform = await createTestPlatform(kind, { centers: [authCenter, probe] });
    });
    after(async () => platform?.close());

    it('an invalid bearer token at /oidc/me reaches the provider (OIDC invalid_token, not the platform 401)', async () => {
      const res = await platform.app.inject({
        method: 'GET',
        url: '/oidc/me',
        headers: { authorization: 'Bearer not-a-platform-token' },
      });
      assert.equal(res.statusCode, 401);
      assert.match(String(res.headers['www-authenticate'] ?? ''), /invalid_token/);
      assert.notEqual(res.json().code, 'TOKEN_INVALID');
    });

    it('a route declaring ownAuthentication gets its Authorization header untouched and no principal', async () => {
      const res = await platform.app.inject({
        method: 'GET',
        url: '/api/probe/own',
        headers: { authorization: 'Bearer something-else', 'x-region-code': '980100' },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), {
        principal: null,
        regionCode: platform.ctx.config.DEFAULT_REGION,
        authorization: 'Bearer something-else',
      });
    });

    it('other routes still refuse an invalid bearer token and accept a valid one', async () => {
      const bad = await platform.app.inject({
        method: 'GET',
        url: '/api/probe/platform',
        headers: { authorization: 'Bearer something-else' },
      });
      assert.equal(bad.statusCode, 401);
      assert.equal(bad.json().code, 'TOKEN_INVALID');
      const good = await platform.app.inject({
        method: 'GET',
        url: '/api/probe/platform',
        headers: await platform.auth({ kind: 'person', subject: 'p-1', regionCode: '990100' }),
      });
      assert.equal(good.statusCode, 200);
      assert.equal(good.json().principal.subject, 'p-1');
    });
  });
}
