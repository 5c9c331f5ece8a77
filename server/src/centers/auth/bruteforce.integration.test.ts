import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type * as oidc from 'openid-client';
import { service } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { databaseKinds } from '../../platform/db/testing.ts';
import type { TestPlatform } from '../../testing/platform.ts';
import { Browser, formValue, listeningAuthCenter, loginPageUrl, MemoryDirectory } from './testing.ts';

const errorOf = (html: string) => /<p class="error" role="alert">([^<]*)<\/p>/.exec(html)?.[1] ?? '';

for (const kind of databaseKinds()) {
  describe(`auth: brute force, lockout and fuzzing of the login form [${kind}]`, () => {
    let platform: TestPlatform;
    let base: string;
    let config: oidc.Configuration;
    const directory = new MemoryDirectory();
    const password = 'Right#Pass2024';
    let victimId: string;

    before(async () => {
      ({ platform, base, config } = await listeningAuthCenter(kind, directory));
      victimId = (await directory.add({ name: '李四', mobile: '13900000011', password })).id;
    });
    after(async () => platform?.close());

    /** Opens a login page; returns a function posting the password form on it. */
    async function loginPage(browser: Browser) {
      const url = await loginPageUrl(config, base, 'b');
      const page = await browser.follow(url);
      const csrf = formValue(await page.res.text(), 'csrf');
      const action = `${page.url.split('?')[0]}/password`;
      return async (loginId: string, pw: string, ip: string) => {
        browser.forwardedFor = ip;
        const res = await browser.post(action, { csrf, loginId, password: pw });
        return { status: res.status, error: errorOf(await res.text()) };
      };
    }

    it('100 wrong passwords lock the account; the right one is then refused until staff unlock; an unknown account answers the same', async () => {
      const existing = await loginPage(new Browser());
      const unknown = await loginPage(new Browser());
      const seenExisting: string[] = [];
      const seenUnknown: string[] = [];
      for (let i = 0; i < 100; i++) {
        const ip = `10.1.${Math.floor(i / 50)}.${i % 50}`;
        const a = await existing('13900000011', `wrong-${i}`, ip);
        const b = await unknown('13900000099', `wrong-${i}`, ip);
        seenExisting.push(`${a.status} ${a.error}`);
        seenUnknown.push(`${b.status} ${b.error}`);
      }
      assert.deepEqual(seenExisting, seenUnknown, 'answers must not reveal whether the account exists');
      assert.equal(seenExisting[0], '401 账号或密码错误');
      assert.ok(
        seenExisting.some((s) => s.startsWith('429 ')),
        'growing delays kick in before the lock',
      );
      assert.match(seenExisting.at(-1)!, /^423 账号已锁定/);

      const right = await existing('13900000011', password, '10.2.0.1');
      assert.equal(right.status, 423, 'the right password is refused while locked');

      const state = await service(platform.ctx, 'auth').lockState('990100', 'person', victimId);
      assert.equal(state.locked, true);
      assert.ok(state.failures >= 10);

      // Staff unlock through the API (the user center supplies RBAC in production; here a resolver granting it).
      platform.ctx.permissions = { permissionsOf: async () => new Set(['auth:session']) };
      const unlock = await platform.app.inject({
        method: 'POST',
        url: `/api/auth/accounts/person/${victimId}/unlock`,
        headers: await platform.auth({
          kind: 'staff',
          subject: '00000000-0000-4000-8000-000000000001',
          regionCode: '990100',
        }),
      });
      assert.equal(unlock.statusCode, 200, unlock.body);
      assert.equal(unlock.json().unlocked, true);

      const fresh = await loginPage(new Browser());
      const ok = await fresh('13900000011', password, '10.2.0.2');
      assert.equal(ok.status, 303);

      const audit = await platform.ctx.db.q<{ n: number }>(
        sql`select count(*)::int as n from audit_event where action = 'auth.login' and region_code = '990100'`,
      );
      assert.ok(Number(audit[0]!.n) >= 201, 'every login attempt is audited');
      const history = await service(platform.ctx, 'auth').loginHistory('990100', victimId, 200);
      assert.equal(history[0]!.result, 'success');
      assert.ok(history.some((h) => h.result === 'locked'));
    });

    it('per-IP limit: many failures from one address across accounts are throttled', async () => {
      const post = await loginPage(new Browser());
      const statuses: number[] = [];
      for (let i = 0; i < 62; i++)
        statuses.push((await post(`1380000${String(2000 + i)}`, 'nope', '10.66.66.66')).status);
      assert.equal(statuses[0], 401);
      assert.equal(statuses.at(-1), 429);
      const other = await post('13800009999', 'nope', '10.66.66.67');
      assert.equal(other.status, 401);
    });

    it('fuzz: arbitrary login form input never causes a 500', async () => {
      const browser = new Browser();
      const post = await loginPage(browser);
      await fc.assert(
        fc.asyncProperty(
          fc.string({ maxLength: 80 }),
          fc.string({ maxLength: 200 }),
          fc.ipV4(),
          async (loginId, pw, ip) => {
            const r = await post(loginId, pw, ip);
            assert.ok(r.status < 500, `${r.status}`);
          },
        ),
        { numRuns: 80 },
      );
      // Raw bodies: arbitrary form fields, missing csrf, JSON to a form endpoint, garbage content types.
      const action = (await browser.follow(base)).url;
      assert.ok(action);
      await fc.assert(
        fc.asyncProperty(
          fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 30 }), { maxKeys: 5 }),
          fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data'),
          fc.constantFrom('password', 'sms', 'sms/send', 'stepup/sms', 'passkey', 'passkey/options', 'method/qr'),
          async (fields, type, path) => {
            const res = await fetch(`${base}/oidc/interaction/${'x'.repeat(20)}/${path}`, {
              method: 'POST',
              headers: { 'content-type': type },
              body: type === 'application/json' ? JSON.stringify(fields) : new URLSearchParams(fields).toString(),
            });
            assert.ok(res.status < 500, `${path} ${type} → ${res.status}`);
          },
        ),
        { numRuns: 60 },
      );
    });
  });
}
