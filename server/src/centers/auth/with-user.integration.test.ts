/** The OIDC login against the real user center: person by mobile / ID number / username, staff on the console. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { service } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { databaseKinds } from '../../platform/db/testing.ts';
import { createTestPlatform, type TestPlatform } from '../../testing/platform.ts';
import { messageCenter } from '../message/index.ts';
import { userCenter } from '../user/index.ts';
import { createTestPerson, randomResidentId } from '../user/testing.ts';
import { authCenter } from './index.ts';
import { authorize, Browser, formValue, freePort, passwordLogin } from './testing.ts';

process.env.USER_ARGON2_PROFILE ??= 'test';

async function login(
  base: string,
  clientId: string,
  loginId: string,
  password: string,
  userAgent?: string,
  browser = new Browser(),
) {
  const { config, verifier, url } = await authorize(base, clientId, { state: 'u' });
  if (userAgent) browser.userAgent = userAgent;
  const r = await passwordLogin(browser, url.toString(), `${base}/login/callback`, loginId, password);
  if (!r.callback) return { status: r.page?.status, tokens: undefined };
  const tokens = await oidc.authorizationCodeGrant(config, new URL(r.callback), {
    pkceCodeVerifier: verifier,
    expectedState: 'u',
  });
  return { status: 200, tokens };
}

for (const kind of databaseKinds()) {
  describe(`auth: login through the user center [${kind}]`, () => {
    let platform: TestPlatform;
    let base: string;

    before(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      platform = await createTestPlatform(kind, {
        centers: [userCenter, authCenter],
        env: { PUBLIC_URL: base },
        seed: true,
      });
      await platform.app.listen({ port, host: '127.0.0.1' });
    });
    after(async () => platform?.close());

    it('a person logs in with mobile, resident ID or username; the token carries the account', async () => {
      const person = await createTestPerson(platform, { username: 'wangwu01' });
      for (const loginId of [person.mobile, person.residentId, 'wangwu01']) {
        const { tokens } = await login(base, 'portal-personal', loginId, person.password);
        assert.ok(tokens, loginId);
        const at = await platform.ctx.tokens.verify(tokens.access_token);
        assert.equal(at.sub, person.id);
        assert.equal(at.kind, 'person');
        assert.equal(at.region, person.regionCode);
      }
      assert.equal((await login(base, 'portal-personal', person.mobile, 'Wrong@pass123')).status, 401);
    });

    it('staff log in on the console client with staff accounts; persons cannot', async () => {
      const { SUPERADMIN_USERNAME, SUPERADMIN_PASSWORD } = platform.ctx.config;
      const { tokens } = await login(base, 'portal-console', SUPERADMIN_USERNAME, SUPERADMIN_PASSWORD);
      assert.ok(tokens);
      const at = await platform.ctx.tokens.verify(tokens.access_token);
      assert.equal(at.kind, 'staff');
      // The staff token works on a staff API guarded by RBAC (superadmin holds '*').
      const res = await fetch(`${base}/api/auth/channels`, {
        headers: { authorization: `Bearer ${tokens.access_token}`, 'x-region-code': '990100' },
      });
      assert.equal(res.status, 200);
      const channels = (await res.json()) as Array<{ appId: string }>;
      assert.ok(channels.some((c) => c.appId === 'portal-console'));
      // A person's credentials do not open the console.
      const person = await createTestPerson(platform);
      assert.equal((await login(base, 'portal-console', person.mobile, person.password)).status, 401);
      // Nor do staff credentials open the personal hall.
      assert.equal((await login(base, 'portal-personal', SUPERADMIN_USERNAME, SUPERADMIN_PASSWORD)).status, 401);
    });

    it('the institution workstation client signs staff in (not persons), also in a database seeded before', async () => {
      const users = service(platform.ctx, 'user');
      const password = 'Counter@2026ok';
      const staff = await users.createStaff({
        regionCode: '980100',
        username: 'hiscounter01',
        password,
        displayName: '收费员',
      });
      // a database seeded when portal-institution still was a person client is made a staff client by the seed
      const auth = service(platform.ctx, 'auth');
      await auth.channels.update('990100', 'portal-institution', {
        scopes: ['openid', 'profile', 'offline_access'],
        loginMethods: ['pwd', 'sms', 'passkey', 'cert'],
      });
      await platform.centers.find((c) => c.name === 'auth')!.seed!(platform.ctx);
      const { tokens } = await login(base, 'portal-institution', 'hiscounter01', password);
      assert.ok(tokens, 'staff credentials open the workstation');
      const at = await platform.ctx.tokens.verify(tokens.access_token);
      assert.equal(at.kind, 'staff');
      assert.equal(at.sub, staff.id);
      assert.equal(at.region, '980100');
      const person = await createTestPerson(platform);
      assert.equal((await login(base, 'portal-institution', person.mobile, person.password)).status, 401);
    });

    it('a staff account with a temporary password must choose a new one (policy, audited) before the login completes', async () => {
      const users = service(platform.ctx, 'user');
      const admin = (await users.findStaffByUsername(platform.ctx.config.SUPERADMIN_USERNAME))!;
      const headers = {
        ...(await platform.auth({ kind: 'staff', subject: admin.id, regionCode: '990100' })),
        'x-region-code': '990100',
      };
      const temporary = 'Initial@2026pw';
      const created = await fetch(`${base}/api/user/admin/staff`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'tempclerk01', displayName: '临时经办', password: temporary, roles: [] }),
      });
      assert.equal(created.status, 201, await created.clone().text());
      const staff = (await created.json()) as { id: string; mustChangePassword: boolean };
      assert.equal(staff.mustChangePassword, true, 'created in the console: must change at the next login');

      // the password form leads to the change-password page, not to the application
      const browser = new Browser();
      const { config, verifier, url: authUrl } = await authorize(base, 'portal-console', { state: 't' });
      const start = await browser.follow(authUrl.toString());
      const pageUrl = start.url.split('?')[0]!;
      const csrf = formValue(await start.res.text(), 'csrf');
      const asked = await browser.post(`${pageUrl}/password`, { csrf, loginId: 'tempclerk01', password: temporary });
      assert.equal(asked.status, 200);
      const html = await asked.text();
      assert.match(html, /请修改密码/);
      const ticket = formValue(html, 'ticket');
      const change = (newPassword: string, confirmPassword = newPassword, t = ticket) =>
        browser.post(`${pageUrl}/password/change`, { csrf, ticket: t, newPassword, confirmPassword });

      // the policy applies; the temporary password cannot be kept; both entries must agree; the ticket is signed
      const weak = await change('alllowercase');
      assert.equal(weak.status, 400);
      assert.match(await weak.text(), /密码强度不足/);
      assert.equal((await change(temporary)).status, 400);
      assert.equal((await change('Chosen#2026pw', 'Chosen#2026pX')).status, 400);
      const forged = await change('Chosen#2026pw', 'Chosen#2026pw', `${ticket.split('.')[0]}.AAAA`);
      assert.equal(forged.status, 400);
      assert.match(await forged.text(), /页面已失效/);
      assert.equal((await users.getStaff(staff.id)).mustChangePassword, true, 'nothing changed so far');

      const done = await change('Chosen#2026pw');
      assert.equal(done.status, 303);
      const back = await browser.follow(new URL(done.headers.get('location')!, base).toString(), (u) =>
        u.startsWith(`${base}/login/callback`),
      );
      const tokens = await oidc.authorizationCodeGrant(config, new URL(back.url), {
        pkceCodeVerifier: verifier,
        expectedState: 't',
      });
      const at = await platform.ctx.tokens.verify(tokens.access_token);
      assert.equal(at.sub, staff.id);
      assert.equal(at.kind, 'staff');
      assert.equal((await users.getStaff(staff.id)).mustChangePassword, false);
      const audit = await platform.ctx.db.q<{ actor_id: string; detail: { forced?: boolean } }>(
        sql`select actor_id, detail from audit_event where action = 'user.staff.password_change' and target_id = ${staff.id}`,
      );
      assert.equal(audit.length, 1, 'the change is audited once');
      assert.equal(audit[0]!.actor_id, staff.id);
      assert.equal(audit[0]!.detail.forced, true);

      // from now on: the chosen password logs straight in, the temporary one no longer works
      const signedIn = (await login(base, 'portal-console', 'tempclerk01', 'Chosen#2026pw')).tokens;
      assert.ok(signedIn);
      assert.equal((await login(base, 'portal-console', 'tempclerk01', temporary)).status, 401);
      const asStaff = { authorization: `Bearer ${signedIn.access_token}` };
      assert.equal((await fetch(`${base}/api/auth/me/sessions`, { headers: asStaff })).status, 200);

      // a reset in the console hands out a new temporary password, and the next login asks again
      const reset = await fetch(`${base}/api/user/admin/staff/${staff.id}/reset-password`, {
        method: 'POST',
        headers,
      });
      assert.equal(reset.status, 200);
      const { temporaryPassword } = (await reset.json()) as { temporaryPassword: string };
      assert.equal((await users.getStaff(staff.id)).mustChangePassword, true);
      const ended = await fetch(`${base}/api/auth/me/sessions`, { headers: asStaff });
      assert.equal(ended.status, 401, 'the reset signs the staff member out');
      const again = await login(base, 'portal-console', 'tempclerk01', temporaryPassword);
      assert.equal(again.status, 200);
      assert.equal(again.tokens, undefined, 'no tokens before the password is changed');
    });

    it('a staff password past its age is replaced at the next login (STAFF_PASSWORD_MAX_AGE_DAYS); the new one lasts', async () => {
      const users = service(platform.ctx, 'user');
      const worn = 'Aging#Pass2025';
      const staff = await users.createStaff({
        regionCode: '990100',
        username: 'agingclerk01',
        password: worn,
        displayName: '老密码',
      });
      assert.equal(staff.mustChangePassword, false, 'a fresh password lasts');
      await platform.ctx.db.q(
        sql`update staff_account set password_changed_at = now() - interval '91 days' where id = ${staff.id}`,
      );
      assert.equal((await users.getStaff(staff.id)).passwordExpiredAfterDays, 90);

      const browser = new Browser();
      const start = await browser.follow((await authorize(base, 'portal-console', { state: 'a' })).url.toString());
      const pageUrl = start.url.split('?')[0]!;
      const csrf = formValue(await start.res.text(), 'csrf');
      const asked = await browser.post(`${pageUrl}/password`, { csrf, loginId: 'agingclerk01', password: worn });
      assert.equal(asked.status, 200);
      const html = await asked.text();
      assert.match(html, /您的密码已使用超过 90 天/);
      const ticket = formValue(html, 'ticket');
      const change = (newPassword: string) =>
        browser.post(`${pageUrl}/password/change`, { csrf, ticket, newPassword, confirmPassword: newPassword });
      const kept = await change(worn);
      assert.equal(kept.status, 400);
      assert.match(await kept.text(), /不能与当前密码相同/);
      assert.equal((await change('Fresh#Pass2026')).status, 303);
      assert.equal((await users.getStaff(staff.id)).mustChangePassword, false);
      assert.ok((await login(base, 'portal-console', 'agingclerk01', 'Fresh#Pass2026')).tokens, 'straight in now');
    });

    it('a person whose password a clerk reset chooses a new one at the next login', async () => {
      const users = service(platform.ctx, 'user');
      const admin = (await users.findStaffByUsername(platform.ctx.config.SUPERADMIN_USERNAME))!;
      const person = await createTestPerson(platform);
      const reset = await fetch(`${base}/api/user/admin/persons/${person.id}/reset-password`, {
        method: 'POST',
        headers: {
          ...(await platform.auth({ kind: 'staff', subject: admin.id, regionCode: '990100' })),
          'x-region-code': '990100',
        },
      });
      assert.equal(reset.status, 200);
      const { temporaryPassword } = (await reset.json()) as { temporaryPassword: string };
      assert.equal((await users.getPerson('990100', person.id)).mustChangePassword, true);

      const { config, verifier, url: authUrl } = await authorize(base, 'portal-personal', { state: 'p' });
      const browser = new Browser();
      const asked = await passwordLogin(
        browser,
        authUrl.toString(),
        `${base}/login/callback`,
        person.mobile,
        temporaryPassword,
      );
      assert.equal(asked.callback, undefined, 'no way into the hall with the temporary password');
      assert.match(asked.html ?? '', /请修改密码/);
      const action = `${new URL(asked.page!.url).pathname}/change`;
      const change = (newPassword: string) =>
        browser.post(new URL(action, base).toString(), {
          csrf: formValue(asked.html!, 'csrf'),
          ticket: formValue(asked.html!, 'ticket'),
          newPassword,
          confirmPassword: newPassword,
        });
      assert.equal((await change(temporaryPassword)).status, 400, 'the temporary password cannot be kept');
      assert.equal((await change(`${person.residentId}Aa!`)).status, 400, 'the policy applies (no ID number)');
      const done = await change('Mine#2026choice');
      assert.equal(done.status, 303);
      const back = await browser.follow(new URL(done.headers.get('location')!, base).toString(), (u) =>
        u.startsWith(`${base}/login/callback`),
      );
      const tokens = await oidc.authorizationCodeGrant(config, new URL(back.url), {
        pkceCodeVerifier: verifier,
        expectedState: 'p',
      });
      assert.equal((await platform.ctx.tokens.verify(tokens.access_token)).sub, person.id);
      assert.equal((await users.getPerson('990100', person.id)).mustChangePassword, undefined);
      assert.ok((await login(base, 'portal-personal', person.mobile, 'Mine#2026choice')).tokens);
      assert.equal((await login(base, 'portal-personal', person.mobile, temporaryPassword)).status, 401);
    });

    it('the user center unlocks through the auth center', async () => {
      const person = await createTestPerson(platform);
      for (let i = 0; i < 10; i++) await login(base, 'portal-personal', person.mobile, `Wrong@pass${i}`);
      assert.equal((await login(base, 'portal-personal', person.mobile, person.password)).status, 423);
      assert.equal(
        await service(platform.ctx, 'auth').unlockAccount({
          regionCode: '990100',
          kind: 'person',
          subjectId: person.id,
        }),
        true,
      );
      assert.equal((await login(base, 'portal-personal', person.mobile, person.password)).status, 200);
    });

    it('a staff member steps up with an SMS code to their alert mobile; one without a mobile is told where to set it', async () => {
      const users = service(platform.ctx, 'user');
      const password = 'Console@2026ok';
      const staff = (username: string, mobile?: string) =>
        users.createStaff({ regionCode: '990100', username, password, displayName: username, mobile });
      const callback = (u: string) => u.startsWith(`${base}/login/callback`);
      const stepUpPage = async (browser: Browser) => {
        const { config, verifier, url } = await authorize(base, 'portal-console', { state: 'm', acr: 'mfa' });
        const page = await browser.follow(url.toString(), callback);
        const html = await page.res.text();
        assert.match(html, /需要进一步验证身份/);
        return {
          config,
          verifier,
          html,
          interaction: page.url.split('?')[0]!,
          csrf: /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '',
        };
      };

      const bare = new Browser();
      assert.ok(
        (await login(base, 'portal-console', (await staff('stepup02')).username, password, undefined, bare)).tokens,
      );
      const refused = await stepUpPage(bare);
      assert.match(refused.html, /我的账号/);
      assert.doesNotMatch(refused.html, /获取验证码/);

      const browser = new Browser();
      const withMobile = await staff('stepup01', '13900004444');
      const first = await login(base, 'portal-console', withMobile.username, password, undefined, browser);
      assert.equal((await platform.ctx.tokens.verify(first.tokens!.access_token)).acr, 'pwd');
      const { config, verifier, html, interaction, csrf } = await stepUpPage(browser);
      assert.match(html, /139\*\*\*\*4444/);
      assert.equal((await browser.post(`${interaction}/stepup/sms/send`, { csrf })).status, 200);
      const sms = await service(platform.ctx, 'auth').otp.lastSandboxSms('990100', '13900004444');
      const ok = await browser.post(`${interaction}/stepup/sms`, { csrf, code: /(\d{6})/.exec(sms ?? '')![1]! });
      assert.equal(ok.status, 303);
      const done = await browser.follow(new URL(ok.headers.get('location')!, interaction).toString(), callback);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), {
        pkceCodeVerifier: verifier,
        expectedState: 'm',
      });
      const at = await platform.ctx.tokens.verify(tokens.access_token);
      assert.equal(at.acr, 'mfa');
      assert.equal(at.sub, withMobile.id);
      // a second factor is what adding a passkey asks of a session: no password needed now
      const options = await fetch(`${base}/api/auth/me/passkeys/options`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(options.status, 200);
      assert.ok(((await options.json()) as { challenge: string }).challenge);
    });

    it('adding a passkey: a one-factor session shows the password first (wrong: 400; checks are limited); no password: step up', async () => {
      const person = await createTestPerson(platform);
      const begin = async (p: { id: string; regionCode: string }, acr: string, body: object) => {
        const headers = await platform.auth({ kind: 'person', subject: p.id, regionCode: p.regionCode, acr });
        const res = await fetch(`${base}/api/auth/me/passkeys/options`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as { code?: string; challenge?: string } };
      };
      const asked = await begin(person, 'pwd', {});
      assert.deepEqual([asked.status, asked.body.code], [401, 'AUTH_CONFIRM_PASSWORD']);
      const wrong = await begin(person, 'pwd', { password: 'Wrong#Guess2026' });
      assert.deepEqual([wrong.status, wrong.body.code], [400, 'AUTH_PASSWORD_WRONG']);
      const right = await begin(person, 'pwd', { password: person.password });
      assert.equal(right.status, 200);
      assert.ok(right.body.challenge);
      assert.equal((await begin(person, 'mfa', {})).status, 200, 'a second factor is enough');
      // ten checks a quarter hour per account, shared with the other password checks; then even the right one waits
      for (let i = 0; i < 8; i++) await begin(person, 'pwd', { password: `Wrong#Guess${i}` });
      const spent = await begin(person, 'pwd', { password: person.password });
      assert.deepEqual([spent.status, spent.body.code], [429, 'RATE_LIMITED']);

      const smsOnly = await service(platform.ctx, 'user').createPerson({
        regionCode: '990100',
        name: '无密码',
        residentId: randomResidentId(),
        mobile: '13900005555',
      });
      const stepUp = await begin(smsOnly, 'sms', {});
      assert.deepEqual([stepUp.status, stepUp.body.code], [401, 'STEP_UP_REQUIRED']);
      assert.equal((await begin(smsOnly, 'mfa', {})).status, 200);
    });
  });
}

for (const kind of databaseKinds()) {
  describe(`auth: new-device login alert through the message center [${kind}]`, () => {
    let platform: TestPlatform;
    let base: string;

    before(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      platform = await createTestPlatform(kind, {
        centers: [userCenter, authCenter, messageCenter],
        env: { PUBLIC_URL: base },
        seed: true,
      });
      await platform.app.listen({ port, host: '127.0.0.1' });
    });
    after(async () => platform?.close());

    /** A login in the personal hall on this device: the platform access token and a refresh token. */
    async function loginWith(userAgent: string, loginId: string, password: string) {
      const { config, verifier, url } = await authorize(base, 'portal-personal', {
        state: 'n',
        scope: 'openid offline_access',
      });
      const browser = new Browser();
      browser.userAgent = userAgent;
      const r = await passwordLogin(browser, url.toString(), `${base}/login/callback`, loginId, password);
      assert.ok(r.callback, r.html ?? 'no callback');
      const tokens = await oidc.authorizationCodeGrant(config, new URL(r.callback!), {
        pkceCodeVerifier: verifier,
        expectedState: 'n',
      });
      const bearer = { authorization: `Bearer ${tokens.access_token}` };
      return {
        /** the status of a signed-in call with this login's access token */
        call: async (path = '/api/auth/me/sessions') => (await fetch(`${base}${path}`, { headers: bearer })).status,
        refreshes: () =>
          oidc.refreshTokenGrant(config, tokens.refresh_token!).then(
            () => true,
            () => false,
          ),
        post: (path: string, body: unknown) =>
          fetch(`${base}${path}`, {
            method: 'POST',
            headers: { ...bearer, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          }),
      };
    }

    it('the first login and logins from a known device are quiet; a new device is announced in the inbox', async () => {
      const person = await createTestPerson(platform);
      const phone = 'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/130.0 Mobile Safari/537.36';
      const laptop = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36';
      const alerts = async () =>
        platform.ctx.db.q<{ body: string }>(sql`select body from message_inbox where region_code = ${person.regionCode}
          and person_id = ${person.id} and type_code = 'auth.new_device_login'`);
      await loginWith(phone, person.mobile, person.password);
      await loginWith(phone, person.mobile, person.password);
      await platform.ctx.jobs.drain();
      assert.equal((await alerts()).length, 0);
      await loginWith(laptop, person.mobile, person.password);
      await platform.ctx.jobs.drain();
      const got = await alerts();
      assert.equal(got.length, 1);
      assert.match(got[0]!.body, /Windows 电脑 · Chrome/);
    });

    it('a staff member hears of a new device and of a lock by e-mail, else SMS; an account with neither, not at all', async () => {
      const users = service(platform.ctx, 'user');
      const password = 'Console@2026ok';
      const staff = (username: string, contact: { mobile?: string; email?: string }) =>
        users.createStaff({ regionCode: '990100', username, password, displayName: username, ...contact });
      const mail = await staff('alertmail01', { email: 'ops01@example.gov.cn', mobile: '13900001111' });
      const sms = await staff('alertsms01', { mobile: '13900002222' });
      const none = await staff('alertnone01', {});
      assert.equal(mail.email, 'o****@example.gov.cn');
      assert.equal(sms.mobile, '139****2222');
      for (const s of [mail, sms, none]) {
        for (const device of ['Office/1.0', 'Office/1.0', 'Home/2.0'])
          assert.equal((await login(base, 'portal-console', s.username, password, device)).status, 200);
        for (let i = 0; i < 10; i++) await login(base, 'portal-console', s.username, `Wrong@pass${i}`);
        assert.equal((await login(base, 'portal-console', s.username, password)).status, 423);
      }
      await platform.ctx.jobs.drain();
      const sent = async (staffId: string) =>
        (
          await platform.ctx.db.q<{ type_code: string; channel: string; status: string; address_masked: string }>(
            sql`select m.type_code, d.channel, d.status, d.address_masked from message m
              join message_delivery d on d.region_code = m.region_code and d.message_id = m.id
              where m.to_staff_id = ${staffId} and d.status <> 'skipped' order by m.type_code`,
          )
        ).map((d) => `${d.type_code} ${d.channel} ${d.status} ${d.address_masked}`);
      assert.deepEqual(await sent(mail.id), [
        'auth.staff_account_locked email sent o****@example.gov.cn',
        'auth.staff_new_device_login email sent o****@example.gov.cn',
      ]);
      assert.deepEqual(await sent(sms.id), [
        'auth.staff_account_locked sms sent 139****2222',
        'auth.staff_new_device_login sms sent 139****2222',
      ]);
      assert.deepEqual(await sent(none.id), []);
      // cleared by an administrator, the address gets nothing more
      await users.updateStaff(mail.id, { email: '', mobile: null }, '990100', { kind: 'staff', id: 'test' });
      const cleared = await users.getStaff(mail.id);
      assert.equal(cleared.email, undefined);
      assert.equal(cleared.mobile, undefined);
    });

    const notices = async (person: { id: string; regionCode: string }) => {
      await platform.ctx.jobs.drain();
      return platform.ctx.db.q<{ body: string }>(sql`select body from message_inbox
        where region_code = ${person.regionCode} and person_id = ${person.id} and type_code = 'user.password_changed'`);
    };

    it('ten failures lock the account and tell the person the way back; their new password lifts the lock', async () => {
      const person = await createTestPerson(platform);
      for (let i = 0; i < 10; i++) await login(base, 'portal-personal', person.mobile, `Wrong@pass${i}`);
      assert.equal((await login(base, 'portal-personal', person.mobile, person.password)).status, 423);
      await platform.ctx.jobs.drain();
      const told = await platform.ctx.db.q<{ body: string }>(sql`select body from message_inbox
        where region_code = ${person.regionCode} and person_id = ${person.id} and type_code = 'auth.account_locked'`);
      assert.equal(told.length, 1, 'told once, when the lock fell');
      assert.match(told[0]!.body, /连续 10 次登录失败/);
      assert.match(told[0]!.body, /忘记密码/);
      // what the SMS reset does once the code is checked
      await service(platform.ctx, 'user').resetPassword(person.regionCode, person.id, 'Fresh#Pass2026', {
        kind: 'person',
        id: person.id,
      });
      assert.equal((await login(base, 'portal-personal', person.mobile, 'Fresh#Pass2026')).status, 200);
    });

    it('a password change keeps the sign-in that made it and ends the others; the person is told', async () => {
      const person = await createTestPerson(platform);
      const phone = await loginWith('Phone/1.0', person.mobile, person.password);
      const laptop = await loginWith('Laptop/1.0', person.mobile, person.password);
      const wrong = await laptop.post('/api/user/me/password', {
        oldPassword: 'Wrong#old99',
        newPassword: 'Next#2026pw',
      });
      assert.equal(wrong.status, 400);
      assert.equal(await phone.call(), 200, 'a refused change ends nothing');
      const changed = await laptop.post('/api/user/me/password', {
        oldPassword: person.password,
        newPassword: 'Next#2026pw',
      });
      assert.equal(changed.status, 204);
      assert.equal(await phone.call(), 401, 'the other device is signed out at once');
      assert.equal(await phone.refreshes(), false, 'and cannot refresh');
      assert.equal(await laptop.call(), 200, 'the device that changed it stays signed in');
      assert.equal(await laptop.refreshes(), true);
      const [notice] = await notices(person);
      assert.match(notice?.body ?? '', /由您本人修改，其他设备上的登录已全部退出/);
    });

    it('a clerk’s reset and a disabled account end every sign-in', async () => {
      const users = service(platform.ctx, 'user');
      const admin = (await users.findStaffByUsername(platform.ctx.config.SUPERADMIN_USERNAME))!;
      const staff = { ...(await platform.auth({ kind: 'staff', subject: admin.id, regionCode: '990100' })) };
      const person = await createTestPerson(platform);
      const first = await loginWith('Phone/1.0', person.mobile, person.password);
      const reset = await fetch(`${base}/api/user/admin/persons/${person.id}/reset-password`, {
        method: 'POST',
        headers: { ...staff, 'x-region-code': '990100' },
      });
      assert.equal(reset.status, 200);
      assert.equal(await first.call(), 401);
      assert.equal(await first.refreshes(), false);
      assert.match((await notices(person))[0]?.body ?? '', /由医保经办人员重置为临时密码/);

      const other = await createTestPerson(platform);
      const signedIn = await loginWith('Phone/1.0', other.mobile, other.password);
      await users.setPersonStatus('990100', other.id, 'disabled', { kind: 'staff', id: admin.id }, '测试停用');
      assert.equal(await signedIn.call(), 401, 'a disabled account’s token stops working');
      assert.equal(await signedIn.refreshes(), false);
    });

    it('a person signs every other device out; the one that asked stays signed in', async () => {
      const person = await createTestPerson(platform);
      const phone = await loginWith('Phone/1.0', person.mobile, person.password);
      const laptop = await loginWith('Laptop/1.0', person.mobile, person.password);
      const res = await laptop.post('/api/auth/me/sessions/end-others', {});
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { ended: 1 });
      assert.equal(await phone.call(), 401);
      assert.equal(await phone.refreshes(), false);
      assert.equal(await laptop.call(), 200);
      assert.deepEqual(await (await laptop.post('/api/auth/me/sessions/end-others', {})).json(), { ended: 0 });
    });

    it('a password change and sign-outs of one account at the same moment all answer (no deadlock, no 5xx)', async () => {
      const users = service(platform.ctx, 'user');
      const admin = (await users.findStaffByUsername(platform.ctx.config.SUPERADMIN_USERNAME))!;
      const staff = await platform.auth({ kind: 'staff', subject: admin.id, regionCode: '990100' });
      const person = await createTestPerson(platform);
      let password = person.password;
      for (let round = 0; round < 6; round++) {
        const phone = await loginWith('Phone/1.0', person.mobile, password);
        const laptop = await loginWith('Laptop/1.0', person.mobile, password);
        const next = `Round#${round}x2026`;
        const answers = await Promise.all([
          laptop.post('/api/user/me/password', { oldPassword: password, newPassword: next }),
          phone.post('/api/auth/me/sessions/end-others', {}),
          laptop.post('/api/auth/me/sessions/end-others', {}),
          fetch(`${base}/api/auth/accounts/person/${person.id}/sessions/end`, {
            method: 'POST',
            headers: { ...staff, 'x-region-code': '990100' },
          }),
        ]);
        const statuses = answers.map((a) => a.status);
        assert.ok(
          statuses.every((s) => s < 500),
          `round ${round}: ${statuses} ${await Promise.all(answers.map((a) => a.text()))}`,
        );
        if (answers[0]!.status === 204) password = next;
      }
    });

    it('a clerk signs a person out on every device, within the region they act in (audited)', async () => {
      const users = service(platform.ctx, 'user');
      const admin = (await users.findStaffByUsername(platform.ctx.config.SUPERADMIN_USERNAME))!;
      const staff = await platform.auth({ kind: 'staff', subject: admin.id, regionCode: '990100' });
      const person = await createTestPerson(platform);
      const phone = await loginWith('Phone/1.0', person.mobile, person.password);
      const laptop = await loginWith('Laptop/1.0', person.mobile, person.password);
      const endAll = async (region: string) => {
        const res = await fetch(`${base}/api/auth/accounts/person/${person.id}/sessions/end`, {
          method: 'POST',
          headers: { ...staff, 'x-region-code': region },
        });
        assert.equal(res.status, 200);
        return ((await res.json()) as { ended: number }).ended;
      };
      assert.equal(await endAll('980100'), 0, 'another region’s clerk reaches nothing');
      assert.equal(await phone.call(), 200);
      assert.equal(await endAll('990100'), 2);
      assert.equal(await phone.call(), 401);
      assert.equal(await laptop.refreshes(), false);
      const audit = await platform.ctx.db.q<{ detail: { ended: number } }>(sql`select detail from audit_event
        where action = 'auth.session.end_all' and target_id = ${person.id}`);
      assert.deepEqual(audit.map((a) => a.detail.ended).sort(), [0, 2], 'both requests are audited');
    });
  });
}
