import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { service } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { forEachPlatform } from '../../testing/platform.ts';
import { authCenter } from './index.ts';

const codeIn = (text: string | undefined) => /(\d{6})/.exec(text ?? '')?.[1];

forEachPlatform(
  'auth: SMS one-time codes',
  (get) => {
    const send = (mobile: string, purpose = 'login', ip = '10.0.0.1') =>
      get().app.inject({
        method: 'POST',
        url: '/api/auth/otp',
        headers: { 'x-forwarded-for': ip },
        payload: { mobile, purpose },
      });

    it('sends through the sandbox outbox, verifies once, and the old code dies when a new one is sent', async () => {
      const auth = service(get().ctx, 'auth');
      const res = await send('13800138001');
      assert.equal(res.statusCode, 202, res.body);
      assert.equal(res.json().sandbox, true);
      const code = codeIn(await auth.otp.lastSandboxSms('990100', '13800138001'));
      assert.ok(code);
      const wrong = code === '000000' ? '000001' : '000000';
      assert.equal(
        await auth.verifyOtp({ regionCode: '990100', mobile: '13800138001', purpose: 'login', code: wrong }),
        false,
      );
      assert.equal(
        await auth.verifyOtp({ regionCode: '990100', mobile: '13800138001', purpose: 'register', code }),
        false,
      );
      assert.equal(
        await auth.verifyOtp({ regionCode: '980100', mobile: '13800138001', purpose: 'login', code }),
        false,
      );
      assert.equal(await auth.verifyOtp({ regionCode: '990100', mobile: '13800138001', purpose: 'login', code }), true);
      assert.equal(
        await auth.verifyOtp({ regionCode: '990100', mobile: '13800138001', purpose: 'login', code }),
        false,
      );
    });

    it('resend within 60 s is throttled (429), and after the window a new code replaces the old', async () => {
      const auth = service(get().ctx, 'auth');
      assert.equal((await send('13800138002')).statusCode, 202);
      const first = codeIn(await auth.otp.lastSandboxSms('990100', '13800138002'))!;
      const again = await send('13800138002');
      assert.equal(again.statusCode, 429);
      assert.equal(again.json().code, 'AUTH_OTP_RATE_LIMITED');
      // Move the resend window into the past instead of sleeping.
      await get().ctx.db.q(sql`update auth_rate_counter set window_start = window_start - interval '1 hour'
        where bucket = 'otp.mobile.resend'`);
      assert.equal((await send('13800138002')).statusCode, 202);
      const second = codeIn(await auth.otp.lastSandboxSms('990100', '13800138002'))!;
      if (first !== second) {
        assert.equal(
          await auth.verifyOtp({ regionCode: '990100', mobile: '13800138002', purpose: 'login', code: first }),
          false,
        );
      }
      assert.equal(
        await auth.verifyOtp({ regionCode: '990100', mobile: '13800138002', purpose: 'login', code: second }),
        true,
      );
    });

    it('a code dies after 5 wrong attempts, and expired codes never verify', async () => {
      const auth = service(get().ctx, 'auth');
      assert.equal((await send('13800138003')).statusCode, 202);
      const code = codeIn(await auth.otp.lastSandboxSms('990100', '13800138003'))!;
      const wrong = code === '123456' ? '654321' : '123456';
      for (let i = 0; i < 5; i++) {
        assert.equal(
          await auth.verifyOtp({ regionCode: '990100', mobile: '13800138003', purpose: 'login', code: wrong }),
          false,
        );
      }
      assert.equal(
        await auth.verifyOtp({ regionCode: '990100', mobile: '13800138003', purpose: 'login', code }),
        false,
      );

      assert.equal((await send('13800138004')).statusCode, 202);
      const code4 = codeIn(await auth.otp.lastSandboxSms('990100', '13800138004'))!;
      await get().ctx.db.q(sql`update auth_otp set expires_at = now() - interval '1 second'`);
      assert.equal(
        await auth.verifyOtp({ regionCode: '990100', mobile: '13800138004', purpose: 'login', code: code4 }),
        false,
      );
    });

    it('per-IP limit holds across mobiles', async () => {
      let limited = 0;
      for (let i = 0; i < 32; i++) {
        const r = await send(`1390000${String(1000 + i)}`, 'register', '10.9.9.9');
        if (r.statusCode === 429) limited++;
        else assert.equal(r.statusCode, 202);
      }
      assert.equal(limited, 2);
    });

    it('fuzz: arbitrary OTP requests never cause a 500', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.string(), fc.stringMatching(/^1[3-9]\d{9}$/), fc.integer(), fc.constant(null)),
          fc.oneof(fc.constantFrom('register', 'login', 'reset', 'change_mobile', 'step_up'), fc.string()),
          fc.ipV4(),
          async (mobile, purpose, ip) => {
            const r = await get().app.inject({
              method: 'POST',
              url: '/api/auth/otp',
              headers: { 'x-forwarded-for': ip },
              payload: { mobile, purpose },
            });
            assert.ok(r.statusCode < 500, r.body);
            assert.ok([202, 400, 429].includes(r.statusCode), `${r.statusCode} ${r.body}`);
          },
        ),
        { numRuns: 60 },
      );
      await fc.assert(
        fc.asyncProperty(fc.string(), fc.string(), async (mobile, code) => {
          const ok = await service(get().ctx, 'auth').verifyOtp({
            regionCode: '990100',
            mobile,
            purpose: 'login',
            code,
          });
          assert.equal(typeof ok, 'boolean');
        }),
        { numRuns: 60 },
      );
    });
  },
  { centers: [authCenter] },
);
