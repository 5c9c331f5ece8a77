process.env.USER_ARGON2_PROFILE ??= 'test';

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { service } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { forEachPlatform } from '../../testing/platform.ts';
import { authCenter } from '../auth/index.ts';
import { HARD_LOCK_AFTER } from '../auth/login.ts';
import { userCenter } from './index.ts';
import { randomMobile, randomName, randomResidentId } from './testing.ts';

const REGION = '990100';
const codeIn = (text: string | undefined) => /(\d{6})/.exec(text ?? '')?.[1];

/** The user center with the real auth center: SMS codes from its sandbox outbox, unlock through it. */
forEachPlatform(
  'user center with the auth center',
  (get) => {
    const smsCode = async (mobile: string, purpose: string) => {
      const res = await get().app.inject({ method: 'POST', url: '/api/auth/otp', payload: { mobile, purpose } });
      assert.equal(res.statusCode, 202, res.body);
      const auth = service(get().ctx, 'auth') as unknown as {
        otp: { lastSandboxSms(region: string, mobile: string): Promise<string | undefined> };
      };
      const code = codeIn(await auth.otp.lastSandboxSms(REGION, mobile));
      assert.ok(code, 'the sandbox outbox holds the code');
      return code;
    };

    test('register with a real SMS code; the code works once; reset the password by SMS', async () => {
      const mobile = randomMobile();
      const body = { name: randomName(), residentId: randomResidentId(), mobile, password: 'Good@pass2024' };
      const code = await smsCode(mobile, 'register');
      const wrong = await get().app.inject({
        method: 'POST',
        url: '/api/user/persons',
        payload: { ...body, smsCode: code === '000000' ? '000001' : '000000' },
      });
      assert.equal(wrong.json().code, 'USER_SMS_CODE_INVALID');
      const ok = await get().app.inject({
        method: 'POST',
        url: '/api/user/persons',
        payload: { ...body, smsCode: code },
      });
      assert.equal(ok.statusCode, 201, ok.body);
      const users = service(get().ctx, 'user');
      assert.equal((await users.verifyLogin(REGION, mobile, 'Good@pass2024'))?.id, ok.json().id);
      const replay = await get().app.inject({
        method: 'POST',
        url: '/api/user/persons',
        payload: { ...body, residentId: randomResidentId(), smsCode: code },
      });
      assert.equal(replay.json().code, 'USER_SMS_CODE_INVALID', 'a consumed code does not work twice');

      const resetCode = await smsCode(mobile, 'reset-password');
      const reset = await get().app.inject({
        method: 'POST',
        url: '/api/user/password-reset',
        payload: { mobile, residentId: body.residentId, smsCode: resetCode, newPassword: 'Fresh@pass2025' },
      });
      assert.equal(reset.statusCode, 204, reset.body);
      assert.equal((await users.verifyLogin(REGION, body.residentId, 'Fresh@pass2025'))?.id, ok.json().id);
    });

    test('staff unlock goes through the auth center, says whether there was a lock, and is audited', async () => {
      const users = service(get().ctx, 'user');
      const admin = (await users.findStaffByUsername(get().ctx.config.SUPERADMIN_USERNAME))!;
      const person = await users.createPerson({
        regionCode: REGION,
        name: randomName(),
        residentId: randomResidentId(),
        mobile: randomMobile(),
        password: 'Good@pass2024',
      });
      const guard = service(get().ctx, 'auth').guard;
      for (let i = 0; i < HARD_LOCK_AFTER; i++)
        await guard.fail({ regionCode: REGION, ip: '10.8.0.1' }, `acct:person:${person.id}`);
      const headers = await get().auth({ kind: 'staff', subject: admin.id, regionCode: REGION });
      const unlock = () =>
        get().app.inject({ method: 'POST', url: `/api/user/admin/persons/${person.id}/unlock`, headers });
      const res = await unlock();
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().unlocked, true);
      assert.equal((await service(get().ctx, 'auth').lockState(REGION, 'person', person.id)).locked, false);
      assert.equal((await unlock()).json().unlocked, false, 'nothing left to unlock: the clerk is told so');
      const audited = await get().ctx.db.q<{ detail: { wasLocked: boolean } }>(sql`select detail from audit_event
        where action = 'user.person.unlock' and target_id = ${person.id} order by seq`);
      assert.deepEqual(
        audited.map((a) => a.detail.wasLocked),
        [true, false],
      );
    });
  },
  { centers: [userCenter, authCenter], seed: true },
);
