/** 登录监控 over real logins through the password form: counts, the failing address, the locked account, unlock. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as oidc from 'openid-client';
import { sql } from '../../platform/db/index.ts';
import { databaseKinds } from '../../platform/db/testing.ts';
import type { TestPlatform } from '../../testing/platform.ts';
import type { LoginOverview } from './monitor.ts';
import { Browser, listeningAuthCenter, loginPageUrl, MemoryDirectory, passwordLogin } from './testing.ts';

const OPERATOR = '00000000-0000-4000-8000-0000000000a1';
const STRANGER = '00000000-0000-4000-8000-0000000000a2';

for (const kind of databaseKinds()) {
  describe(`auth: 登录监控 [${kind}]`, () => {
    let platform: TestPlatform;
    let base: string;
    let config: oidc.Configuration;
    const directory = new MemoryDirectory();
    let victimId: string;

    before(async () => {
      ({ platform, base, config } = await listeningAuthCenter(kind, directory));
      platform.ctx.permissions = {
        permissionsOf: async (staffId) => new Set(staffId === OPERATOR ? ['auth:session'] : []),
      };
      victimId = (await directory.add({ name: '王小五', mobile: '13900000021', password: 'Right#Pass2024' })).id;
      await directory.add({ name: '赵六', mobile: '13900000022', password: 'Other#Pass2024' });
    });
    after(async () => platform?.close());

    async function login(loginId: string, password: string, ip: string) {
      const url = await loginPageUrl(config, base, 'm');
      const browser = new Browser();
      browser.forwardedFor = ip;
      return passwordLogin(browser, url, `${base}/login/callback`, loginId, password);
    }

    async function overview(staffId = OPERATOR, query = '') {
      const headers = await platform.auth({ kind: 'staff', subject: staffId, regionCode: '990100' });
      return platform.app.inject({ url: `/api/auth/logins/overview${query}`, headers });
    }

    it('counts the hour, names the failing address and the locked account; unlock clears it', async () => {
      for (let i = 0; i < 6; i++) await login('13900000021', `wrong-${i}`, '10.9.0.1');
      for (let i = 0; i < 3; i++) await login('13900000099', `wrong-${i}`, '10.9.0.1');
      assert.ok((await login('13900000022', 'Other#Pass2024', '10.9.0.2')).callback, 'the other person logs in');
      // another region's attack must not show here
      await platform.ctx.db.q(sql`insert into auth_login_event (region_code, method, result, ip)
        select '990200', 'pwd', 'failure', '10.9.0.1' from generate_series(1, 7)`);
      await platform.ctx.db.q(sql`insert into auth_login_guard (region_code, key, failures, hard_locked)
        values ('990200', ${`acct:person:${victimId}`}, 10, true)`);

      const res = await overview();
      assert.equal(res.statusCode, 200, res.body);
      const o = res.json() as LoginOverview;
      // six wrong passwords: five failures, then the growing delay refuses the sixth before any hash
      assert.deepEqual(o.totals, { success: 1, failure: 8, refused: 1 });
      assert.equal(o.hourly.length, 24);
      const summed = o.hourly.reduce((s, h) => s + h.success + h.failure + h.refused, 0);
      assert.equal(summed, 10, 'every login falls in an hour of the window');
      assert.deepEqual(o.byMethod, [{ method: 'pwd', success: 1, failure: 8, refused: 1 }]);
      assert.deepEqual(o.byClient, [{ clientId: 'portal-personal', success: 1, failure: 8, refused: 1 }]);
      assert.equal(o.suspiciousIps.length, 1);
      assert.deepEqual(
        { ...o.suspiciousIps[0], lastAt: undefined },
        { ip: '10.9.0.1', failures: 9, successes: 0, accounts: 1, lastAt: undefined },
      );
      assert.equal(o.locked.length, 1);
      const [locked] = o.locked;
      assert.deepEqual(
        { kind: locked!.kind, id: locked!.id, name: locked!.name, failures: locked!.failures },
        { kind: 'person', id: victimId, name: '王**', failures: 6 },
      );
      assert.equal(locked!.hardLocked, false);
      assert.ok(Date.parse(locked!.lockedUntil!) > Date.now(), 'a growing delay, not yet the hard lock');
      assert.equal(o.lockedUnknownLoginIds, 0, 'three guesses at an unknown id lock nothing');

      // the operator's alerts see the same, for every region: the other region's lock counts there
      const metrics = (await platform.app.inject('/metrics')).body;
      assert.match(metrics, /^auth_login_events_total\{method="pwd",result="failure"\} 8$/m);
      assert.match(metrics, /^auth_login_events_total\{method="pwd",result="throttled"\} 1$/m);
      assert.match(metrics, /^auth_login_events_total\{method="pwd",result="success"\} 1$/m);
      assert.match(metrics, /^auth_accounts_locked\{state="locked"\} 1$/m);
      assert.match(metrics, /^auth_accounts_locked\{state="delayed"\} 1$/m);

      const headers = await platform.auth({ kind: 'staff', subject: OPERATOR, regionCode: '990100' });
      const unlock = await platform.app.inject({
        method: 'POST',
        url: `/api/auth/accounts/person/${victimId}/unlock`,
        headers,
      });
      assert.equal(unlock.json().unlocked, true);
      assert.deepEqual((await overview()).json().locked, []);
    });

    it('needs auth:session; the window is 1 to 168 hours', async () => {
      const denied = await overview(STRANGER);
      assert.equal(denied.statusCode, 403);
      const bad = await overview(OPERATOR, '?hours=0');
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().code, 'VALIDATION_FAILED');
      assert.equal((await overview(OPERATOR, '?hours=168')).json().hourly.length, 168);
    });
  });
}
