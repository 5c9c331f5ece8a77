process.env.USER_ARGON2_PROFILE ??= 'test';

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { service } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { createPrivacy, reencryptBatch, residentIdCheckChar } from '../../platform/privacy/index.ts';
import { forEachPlatform } from '../../testing/platform.ts';
import { userCenter } from './index.ts';
import { argon2ParamsFor, OWASP_ARGON2, PasswordHasher } from './password.ts';
import { UserService } from './service.ts';
import { createTestPerson, otpDoubleCenter, randomMobile, randomName, randomResidentId } from './testing.ts';

const otp = otpDoubleCenter();
const REGION = '990100';

function registration(overrides: Record<string, unknown> = {}) {
  const mobile = (overrides.mobile as string) ?? randomMobile();
  const body = {
    name: randomName(),
    residentId: randomResidentId(),
    mobile,
    smsCode: otp.send({ regionCode: REGION, mobile, purpose: 'register' }),
    password: 'Good@pass2024',
    ...overrides,
  };
  return body;
}

forEachPlatform(
  'user center: persons',
  (get) => {
    const register = (body: unknown, headers: Record<string, string> = {}) =>
      get().app.inject({ method: 'POST', url: '/api/user/persons', payload: body as object, headers });

    test('registration validates each field with its own code', async () => {
      const id = randomResidentId();
      const wrongCheck = id.slice(0, 17) + (id[17] === '1' ? '2' : '1');
      const mobile = randomMobile();
      const cases: Array<[Record<string, unknown>, string, string]> = [
        [{ residentId: wrongCheck }, 'USER_RESIDENT_ID_INVALID', 'residentId'],
        [{ residentId: '990101203001011234' }, 'USER_RESIDENT_ID_INVALID', 'residentId'],
        [{ mobile: '12345' }, 'USER_MOBILE_INVALID', 'mobile'],
        [{ name: 'x' }, 'USER_NAME_INVALID', 'name'],
        [{ password: 'Ab1!' }, 'USER_PASSWORD_TOO_SHORT', 'password'],
        [{ password: 'alllowercase1' }, 'USER_PASSWORD_TOO_WEAK', 'password'],
        [{ mobile, password: `Ab!${mobile}` }, 'USER_PASSWORD_CONTAINS_MOBILE', 'password'],
        [{ residentId: id, password: `a!${id.toLowerCase()}` }, 'USER_PASSWORD_CONTAINS_ID', 'password'],
        [{ username: '1abc' }, 'USER_USERNAME_INVALID', 'username'],
      ];
      for (const [over, code, field] of cases) {
        const res = await register(registration(over));
        assert.equal(res.statusCode, 400, `${code}: ${res.body}`);
        const body = res.json();
        assert.equal(body.code, code);
        assert.match(res.headers['content-type'] as string, /problem\+json/);
        assert.deepEqual(
          body.errors.map((e: { field: string }) => e.field),
          [field],
        );
      }
      const n = await get().ctx.db.one<{ n: number }>(sql`select count(*)::int as n from person_account`);
      assert.equal(n?.n, 0, 'no invalid registration was stored');
    });

    test('a wrong SMS code is refused and nothing is stored', async () => {
      const body = registration();
      const res = await register({ ...body, smsCode: body.smsCode === '000000' ? '111111' : '000000' });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().code, 'USER_SMS_CODE_INVALID');
      assert.equal(res.json().errors[0].field, 'smsCode');
      assert.equal(await service(get().ctx, 'user').findPersonByResidentId(REGION, body.residentId), undefined);
    });

    test('registration stores encrypted data, answers masked, and refuses duplicates with 409', async () => {
      const body = registration({ username: 'zhang_san01' });
      const res = await register(body);
      assert.equal(res.statusCode, 201, res.body);
      const p = res.json();
      assert.equal(p.residentId, `${body.residentId.slice(0, 6)}********${body.residentId.slice(-4)}`);
      assert.equal(p.mobile, `${body.mobile.slice(0, 3)}****${body.mobile.slice(-4)}`);
      assert.notEqual(p.name, body.name);
      const row = await get().ctx.db.one<Record<string, string>>(
        sql`select * from person_account where region_code = ${REGION} and id = ${p.id}`,
      );
      assert.ok(row);
      const raw = JSON.stringify(row);
      for (const secret of [body.residentId, body.mobile, body.name]) assert.ok(!raw.includes(secret), 'no plaintext');
      assert.match(row.password_hash, /^\$argon2id\$v=19\$/);

      const dupId = await register(registration({ residentId: body.residentId }));
      assert.equal(dupId.statusCode, 409);
      assert.equal(dupId.json().code, 'USER_RESIDENT_ID_TAKEN');
      assert.equal(dupId.json().errors[0].field, 'residentId');
      const dupMobile = registration({ mobile: body.mobile });
      const r2 = await register(dupMobile);
      assert.equal(r2.statusCode, 409);
      assert.equal(r2.json().code, 'USER_MOBILE_TAKEN');
      const r3 = await register(registration({ username: 'ZHANG_SAN01' }));
      assert.equal(r3.json().code, 'USER_USERNAME_TAKEN');
    });

    test('the same person registering concurrently is stored once', async () => {
      const residentId = randomResidentId();
      const bodies = [0, 1, 2, 3].map(() => registration({ residentId }));
      const results = await Promise.all(bodies.map((b) => register(b)));
      const codes = results.map((r) => r.statusCode).sort();
      assert.deepEqual(codes, [201, 409, 409, 409], results.map((r) => r.body).join('\n'));
    });

    test('login identifiers: mobile, ID number and username find the account; passwords verify', async () => {
      const users = service(get().ctx, 'user');
      const p = await createTestPerson(get(), { username: 'login_user' });
      for (const loginId of [p.mobile, p.residentId, p.residentId.toLowerCase(), 'LOGIN_USER', ` ${p.mobile} `]) {
        assert.equal((await users.findPersonByLogin(REGION, loginId))?.id, p.id, loginId);
      }
      assert.equal(await users.findPersonByLogin('980100', p.mobile), undefined, 'other region');
      assert.equal(await users.findPersonByLogin(REGION, randomMobile()), undefined);
      assert.equal(await users.verifyPassword(p, p.password), true);
      assert.equal(await users.verifyPassword(p, `${p.password}x`), false);
      assert.equal((await users.verifyLogin(REGION, p.mobile, p.password))?.id, p.id);
      assert.equal(await users.verifyLogin(REGION, p.mobile, 'Wrong@pass1'), undefined);
      assert.equal(await users.verifyLogin(REGION, 'nobody_here', p.password), undefined);
    });

    test('GET/PATCH /me: masked by default, the owner may reveal, profile edits', async () => {
      const p = await createTestPerson(get());
      const headers = await get().auth({ kind: 'person', subject: p.id, regionCode: REGION });
      const masked = (await get().app.inject({ url: '/api/user/me', headers })).json();
      assert.equal(masked.mobile, `${p.mobile.slice(0, 3)}****${p.mobile.slice(-4)}`);
      const full = (await get().app.inject({ url: '/api/user/me?reveal=true', headers })).json();
      assert.equal(full.residentId, p.residentId);
      const patch = await get().app.inject({
        method: 'PATCH',
        url: '/api/user/me',
        headers,
        payload: { username: 'me_user', email: 'me@example.com' },
      });
      assert.equal(patch.statusCode, 200, patch.body);
      assert.equal(patch.json().username, 'me_user');
      assert.equal(patch.json().email, 'm*@example.com');
      const bad = await get().app.inject({ method: 'PATCH', url: '/api/user/me', headers, payload: { email: 'nope' } });
      assert.equal(bad.json().code, 'USER_EMAIL_INVALID');
      const staff = await get().app.inject({
        url: '/api/user/me',
        headers: await get().auth({ kind: 'staff', subject: p.id, regionCode: REGION }),
      });
      assert.equal(staff.statusCode, 403);
      assert.equal((await get().app.inject({ url: '/api/user/me' })).statusCode, 401);
    });

    test("the resident ID's blind index, as other centers key records by it, and nothing for an unknown account", async () => {
      const users = service(get().ctx, 'user');
      const p = await createTestPerson(get(), { residentId: randomResidentId().replace(/X$/, 'x') });
      const expected = get().ctx.privacy.blindIndex(p.residentId.toUpperCase(), 'resident_id');
      assert.equal(await users.residentIndexOf(REGION, p.id), expected);
      assert.equal(await users.residentIndexOf('980100', p.id), undefined);
      assert.equal(await users.residentIndexOf(REGION, crypto.randomUUID()), undefined);
      assert.equal(await users.residentIndexOf(REGION, 'not-a-uuid'), undefined);
    });

    test('change password needs the old one and applies the policy', async () => {
      const users = service(get().ctx, 'user');
      const p = await createTestPerson(get());
      const headers = await get().auth({ kind: 'person', subject: p.id, regionCode: REGION });
      const change = (oldPassword: string, newPassword: string) =>
        get().app.inject({
          method: 'POST',
          url: '/api/user/me/password',
          headers,
          payload: { oldPassword, newPassword },
        });
      assert.equal((await change('Wrong@pass1', 'New@pass2024')).json().code, 'USER_PASSWORD_WRONG');
      assert.equal((await change(p.password, `Zz!${p.mobile}`)).json().code, 'USER_PASSWORD_CONTAINS_MOBILE');
      assert.equal((await change(p.password, 'New@pass2024')).statusCode, 204);
      assert.equal(await users.verifyPassword(p, 'New@pass2024'), true);
      assert.equal(await users.verifyPassword(p, p.password), false);
    });

    test('SMS password reset: code, matching ID number, new password', async () => {
      const users = service(get().ctx, 'user');
      const p = await createTestPerson(get());
      const reset = (over: Record<string, unknown>) =>
        get().app.inject({
          method: 'POST',
          url: '/api/user/password-reset',
          payload: {
            mobile: p.mobile,
            residentId: p.residentId,
            smsCode: otp.send({ regionCode: REGION, mobile: p.mobile, purpose: 'reset-password' }),
            newPassword: 'Reset@2024ok',
            ...over,
          },
        });
      assert.equal((await reset({ smsCode: 'bad' })).json().code, 'USER_SMS_CODE_INVALID');
      assert.equal((await reset({ residentId: randomResidentId() })).json().code, 'USER_RESET_MISMATCH');
      assert.equal((await reset({})).statusCode, 204);
      assert.equal(await users.verifyPassword(p, 'Reset@2024ok'), true);
    });

    test('changing the mobile needs codes to the old and the new number', async () => {
      const users = service(get().ctx, 'user');
      const p = await createTestPerson(get());
      const other = await createTestPerson(get());
      const headers = await get().auth({ kind: 'person', subject: p.id, regionCode: REGION });
      const newMobile = randomMobile();
      const change = (body: Record<string, unknown>) =>
        get().app.inject({ method: 'POST', url: '/api/user/me/mobile', headers, payload: body });
      const codes = (m: string) => ({
        oldCode: otp.send({ regionCode: REGION, mobile: p.mobile, purpose: 'change-mobile' }),
        newCode: otp.send({ regionCode: REGION, mobile: m, purpose: 'change-mobile' }),
      });
      const wrongNew = await change({ newMobile, ...codes(newMobile), newCode: 'x' });
      assert.equal(wrongNew.json().code, 'USER_SMS_CODE_INVALID');
      assert.equal(wrongNew.json().errors[0].field, 'newCode');
      const taken = await change({ newMobile: other.mobile, ...codes(other.mobile) });
      assert.equal(taken.statusCode, 409);
      assert.equal(taken.json().code, 'USER_MOBILE_TAKEN');
      const ok = await change({ newMobile, ...codes(newMobile) });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal((await users.findPersonByLogin(REGION, newMobile))?.id, p.id);
      assert.equal(await users.findPersonByLogin(REGION, p.mobile), undefined);
    });

    test('deactivation frees the ID number; the old account can no longer log in', async () => {
      const users = service(get().ctx, 'user');
      const p = await createTestPerson(get());
      const headers = await get().auth({ kind: 'person', subject: p.id, regionCode: REGION });
      const deact = (body: Record<string, unknown>) =>
        get().app.inject({ method: 'POST', url: '/api/user/me/deactivate', headers, payload: body });
      const code = () => otp.send({ regionCode: REGION, mobile: p.mobile, purpose: 'deactivate' });
      assert.equal((await deact({ password: 'Wrong@pass1', smsCode: code() })).json().code, 'USER_PASSWORD_WRONG');
      assert.equal((await deact({ password: p.password, smsCode: '1' })).json().code, 'USER_SMS_CODE_INVALID');
      assert.equal((await deact({ password: p.password, smsCode: code() })).statusCode, 204);
      assert.equal(await users.verifyLogin(REGION, p.mobile, p.password), undefined);
      assert.equal((await users.getPerson(REGION, p.id)).status, 'deactivated');
      const again = await register(registration({ residentId: p.residentId, mobile: p.mobile, name: p.name }));
      assert.equal(again.statusCode, 201, again.body);
      assert.notEqual(again.json().id, p.id);
    });

    test('data-key rotation re-encrypts every user-center column and the accounts still read', async () => {
      const { db, privacy } = get().ctx;
      const p = await createTestPerson(get());
      await service(get().ctx, 'user').updateProfile(
        REGION,
        p.id,
        { email: 'rot@example.com' },
        { kind: 'system', id: 't' },
      );
      const rotated = createPrivacy(`k1:${'00'.repeat(32)},k2:${'22'.repeat(32)}`, '11'.repeat(32));
      for (const c of privacy.encryptedColumns) rotated.registerEncryptedColumn(c);
      const mine = privacy.encryptedColumns.filter((c) => ['person_account', 'unit'].includes(c.table));
      assert.equal(mine.length, 5);
      while ((await reencryptBatch(db, rotated)) > 0);
      const row = await db.one<Record<string, string>>(
        sql`select name_enc, resident_id_enc, mobile_enc, email_enc from person_account where id = ${p.id}`,
      );
      for (const v of Object.values(row!)) assert.match(v, /^v1\.k2\./);
      const after = new UserService({ db, privacy: rotated }, new PasswordHasher(argon2ParamsFor('test')));
      const read = await after.getPerson(REGION, p.id);
      assert.equal(read.residentId, p.residentId);
      assert.equal(read.email, 'rot@example.com');
      assert.equal((await after.findPersonByLogin(REGION, p.mobile))?.id, p.id, 'blind indexes unchanged');
      // rotate back so the rest of the suite (this platform holds only k1) can still read every row
      const back = createPrivacy(`k2:${'22'.repeat(32)},k1:${'00'.repeat(32)}`, '11'.repeat(32));
      for (const c of privacy.encryptedColumns) back.registerEncryptedColumn(c);
      while ((await reencryptBatch(db, back)) > 0);
      assert.equal((await service(get().ctx, 'user').getPerson(REGION, p.id)).email, 'rot@example.com');
    });

    test('fuzz: random bodies to the registration endpoint never cause a 500', async () => {
      const idLike = fc.oneof(
        fc.string({ maxLength: 20 }),
        fc.stringMatching(/^\d{17}[\dXx]$/),
        fc.constant(randomResidentId()),
      );
      const field = fc.oneof(
        fc.string(),
        fc.integer(),
        fc.constant(null),
        fc.boolean(),
        fc.array(fc.string(), { maxLength: 3 }),
        fc.object({ maxDepth: 1 }),
      );
      const body = fc.oneof(
        fc.record(
          {
            name: fc.oneof(fc.string({ maxLength: 8 }), fc.constant('王小明'), field),
            residentId: fc.oneof(idLike, field),
            mobile: fc.oneof(fc.stringMatching(/^1\d{10}$/), field),
            smsCode: fc.oneof(fc.stringMatching(/^\d{6}$/), field),
            password: fc.oneof(fc.string({ maxLength: 40 }), fc.constant('Good@pass2024'), field),
            username: fc.oneof(fc.string({ maxLength: 40 }), field),
          },
          { requiredKeys: [] },
        ),
        fc.jsonValue({ maxDepth: 2 }),
      );
      await fc.assert(
        fc.asyncProperty(body, async (b) => {
          const res = await register(b);
          assert.ok(res.statusCode < 500, `${res.statusCode} ${res.body} for ${JSON.stringify(b)}`);
          assert.ok(res.statusCode === 201 || /problem\+json/.test(String(res.headers['content-type'])));
        }),
        { numRuns: 150 },
      );
      await fc.assert(
        fc.asyncProperty(fc.string({ maxLength: 200 }), async (raw) => {
          const res = await get().app.inject({
            method: 'POST',
            url: '/api/user/persons',
            headers: { 'content-type': 'application/json' },
            payload: raw,
          });
          assert.ok(res.statusCode < 500, `${res.statusCode} ${res.body} for ${raw}`);
        }),
        { numRuns: 100 },
      );
    });
  },
  { centers: [userCenter, otp] },
);

forEachPlatform(
  'user center without the auth center',
  (get) => {
    test('registration refuses with 503 AUTH_UNAVAILABLE instead of skipping the SMS check', async () => {
      const res = await get().app.inject({
        method: 'POST',
        url: '/api/user/persons',
        payload: { ...registration(), smsCode: '123456' },
      });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().code, 'AUTH_UNAVAILABLE');
      const n = await get().ctx.db.one<{ n: number }>(sql`select count(*)::int as n from person_account`);
      assert.equal(n?.n, 0);
    });
  },
  { centers: [userCenter] },
);

test('hashing: OWASP parameters by default, the test profile is refused in production', async () => {
  assert.deepEqual(argon2ParamsFor('production', {}), OWASP_ARGON2);
  assert.deepEqual(OWASP_ARGON2, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
  assert.throws(() => argon2ParamsFor('production', { USER_ARGON2_PROFILE: 'test' }));
  const owasp = new PasswordHasher(OWASP_ARGON2);
  const h = await owasp.hash('Some@pass2024');
  assert.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(await owasp.verify(h, 'Some@pass2024'), true);
  assert.equal(owasp.needsRehash(h), false);
  const cheap = await new PasswordHasher(argon2ParamsFor('test', { USER_ARGON2_PROFILE: 'test' })).hash('x');
  assert.equal(owasp.needsRehash(cheap), true);
  assert.equal(residentIdCheckChar('11010519491231002'), 'X');
});
