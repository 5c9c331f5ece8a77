/**
 * The e-voucher center with the real user center, the real auth center and the in-process reference core zone:
 * activation binds to the core zone's insured person, and the ecToken handed to an institution resolves through
 * the core zone's port (the path 1101 takes with mdtrt_cert_type 01).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { signEnvelope } from '@yibao/sdk';
import { coreZoneModule, DEMO_PERSONS } from '../../integration/core-zone/index.ts';
import { service } from '../../platform/context.ts';
import { residentIdCheckChar } from '../../platform/privacy/index.ts';
import { forEachPlatform } from '../../testing/platform.ts';
import { authCenter } from '../auth/index.ts';
import { userCenter } from '../user/index.ts';
import { evoucherCenter } from './index.ts';
import { makePng } from './testing.ts';

const R = '990100';

forEachPlatform(
  'evoucher with the real user center and reference core zone',
  (get) => {
    const ids: Record<string, string> = {};
    let hospital: { appId: string; appSecret: string; privateKeyHex: string };

    before(async () => {
      const ctx = get().ctx;
      await coreZoneModule.seed!(ctx);
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
  },
  { centers: [coreZoneModule, userCenter, authCenter, evoucherCenter] },
);
