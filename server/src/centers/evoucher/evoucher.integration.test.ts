import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import {
  base32Decode,
  base32Encode,
  createEvoucherClient,
  createOfflineVerifier,
  decodeEvoucherToken,
  issueEvoucherToken,
  signEnvelope,
} from '@yibao/sdk';
import { verifyAuditChain } from '../../platform/audit.ts';
import { service } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { injectFetch } from '../../platform/http.ts';
import { forEachPlatform } from '../../testing/platform.ts';
import { authCenter } from '../auth/index.ts';
import { MemoryDirectory } from '../auth/testing.ts';
import { evoucherCenter } from './index.ts';
import { FAKE_INSTITUTIONS, fakeDependencies, makePng } from './testing.ts';

const R = '990100';
const R2 = '980100';
const persons = [
  { id: 'p-alice-0001', regionCode: R, name: '张三丰', residentId: '110101199003077774', insurance: 'active' as const },
  { id: 'p-bob-000002', regionCode: R, name: '李四', residentId: '11010119900307002X', insurance: 'active' as const },
  { id: 'p-carol-0003', regionCode: R, name: '王五', residentId: '110101199003070011' }, // not insured
  { id: 'p-dave-00004', regionCode: R, name: '赵六', residentId: '110101199003070038', insurance: 'paused' as const },
  { id: 'p-erin-00005', regionCode: R2, name: '孙七', residentId: '110101199003070054', insurance: 'active' as const },
];
const deps = fakeDependencies(persons);
const PII = persons.flatMap((p) => [p.name, p.residentId]);

interface Channel {
  appId: string;
  appSecret: string;
  privateKeyHex: string;
}

forEachPlatform(
  'evoucher center',
  (get) => {
    let hospital: Channel;
    let hospital980: Channel;
    let app: Channel;
    const person = (p: (typeof persons)[number], acr = 'pwd') =>
      get().auth({ kind: 'person', subject: p.id, regionCode: p.regionCode, acr });

    const call = async (ch: Channel, path: string, data: unknown, mutate?: (e: Record<string, unknown>) => void) => {
      const envelope = signEnvelope({
        appId: ch.appId,
        transType: path,
        data,
        privateKey: ch.privateKeyHex,
        appSecret: ch.appSecret,
      }) as unknown as Record<string, unknown>;
      mutate?.(envelope);
      return get().app.inject({ method: 'POST', url: `/api/evoucher/channel/${path}`, payload: envelope });
    };

    /** Runs the sandbox liveness step like the browser does and returns the evidence. */
    const liveness = async (p: (typeof persons)[number], opts: { same?: boolean; simulate?: 'fail' } = {}) => {
      const headers = await person(p);
      const start = (await get().app.inject({ method: 'POST', url: '/api/evoucher/me/liveness', headers })).json();
      assert.equal(start.sandbox, true);
      const res = await get().app.inject({
        method: 'POST',
        url: start.captureUrl,
        headers: { 'x-region-code': p.regionCode },
        payload: {
          sessionId: start.sessionId,
          challenge: start.challenge,
          mode: 'camera',
          frames: [makePng(96, 96, 1), makePng(96, 96, opts.same ? 1 : 2)],
          ...(opts.simulate ? { simulate: opts.simulate } : {}),
        },
      });
      assert.equal(res.statusCode, 200, res.body);
      const { result, signature } = res.json();
      return { result, signature };
    };
    const activate = async (p: (typeof persons)[number], evidence?: { result: string; signature: string }) =>
      get().app.inject({
        method: 'POST',
        url: '/api/evoucher/me/activate',
        headers: await person(p),
        payload: { evidence: evidence ?? (await liveness(p)), device: { id: `dev-${p.id}`, model: 'Mate 60' } },
      });
    const code = async (p: (typeof persons)[number]) => {
      const res = await get().app.inject({ method: 'POST', url: '/api/evoucher/me/codes', headers: await person(p) });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { token: string; expiresAt: string; ttlSeconds: number; qrVersion: number; keyId: number };
    };
    const refusedWithout = (
      res: { statusCode: number; body: string; json(): { code: string } },
      status: number,
      code: string,
    ) => {
      assert.equal(res.json().code, code, res.body);
      assert.equal(res.statusCode, status);
      for (const s of PII) assert.ok(!res.body.includes(s), `leaks ${s}`);
      assert.ok(!/ec[0-9a-f]{32}/.test(res.body), 'leaks an ecToken');
    };

    before(async () => {
      const auth = service(get().ctx, 'auth');
      const reg = (regionCode: string, name: string, type: 'institution' | 'app', institutionCode?: string) =>
        auth.registerChannel({
          regionCode,
          name,
          type,
          scopes: ['evoucher'],
          ...(institutionCode ? { institutionCode } : {}),
        });
      hospital = await reg(R, '东湖市第一人民医院', 'institution', 'H99010000001');
      hospital980 = await reg(R2, '北原市中心医院', 'institution', 'H98010000001');
      app = await reg(R, '东湖医保 App', 'app');
      get().ctx.permissions = {
        permissionsOf: async (id) =>
          new Set(id === 'staff-admin' ? ['evoucher:read', 'evoucher:manage', 'evoucher:keys', 'region:manage'] : []),
      };
    });

    describe('activation through the sandbox real-person check', () => {
      test('a passed check activates; the voucher is bound, masked and audited', async () => {
        const res = await activate(persons[0]);
        assert.equal(res.statusCode, 200, res.body);
        const v = res.json();
        assert.equal(v.status, 'active');
        assert.equal(v.name, '张**');
        assert.match(v.residentId, /^110101\*+7774$/);
        assert.equal(v.device.id, `dev-${persons[0].id}`);
        const mine = await get().app.inject({ url: '/api/evoucher/me', headers: await person(persons[0]) });
        assert.equal(mine.json().id, v.id);
        const [audit] = await get().ctx.db.q<{ n: number }>(
          sql`select count(*)::int as n from audit_event where action = 'evoucher.activate' and target_id = ${v.id}`,
        );
        assert.equal(audit.n, 1);
        assert.equal((await verifyAuditChain(get().ctx.db, R))[0].brokenAt, undefined);
        assert.equal((await activate(persons[4])).statusCode, 200);
      });

      test('identical frames fail liveness; a forged or replayed result is refused', async () => {
        refusedWithout(
          await activate(persons[1], await liveness(persons[1], { same: true })),
          422,
          'EVOUCHER_LIVENESS_FAILED',
        );
        refusedWithout(
          await activate(persons[1], await liveness(persons[1], { simulate: 'fail' })),
          422,
          'EVOUCHER_LIVENESS_FAILED',
        );
        const good = await liveness(persons[1]);
        const forged = JSON.parse(Buffer.from(good.result, 'base64').toString());
        forged.result.passed = true;
        forged.result.score = 1;
        forged.result.sessionId = randomUUID();
        const tampered = { result: Buffer.from(JSON.stringify(forged)).toString('base64'), signature: good.signature };
        refusedWithout(await activate(persons[1], tampered), 400, 'EVOUCHER_LIVENESS_SIGNATURE_INVALID');
        assert.equal((await activate(persons[1], good)).statusCode, 200);
        refusedWithout(await activate(persons[1], good), 409, 'EVOUCHER_LIVENESS_SESSION_INVALID');
        // someone else's passed result cannot activate my voucher
        const alices = await liveness(persons[0]);
        refusedWithout(await activate(persons[1], alices), 409, 'EVOUCHER_LIVENESS_SESSION_INVALID');
      });

      test('must be insured in the region: core-zone answers become e-voucher codes', async () => {
        refusedWithout(await activate(persons[2]), 422, 'EVOUCHER_NOT_INSURED');
        refusedWithout(await activate(persons[3]), 409, 'EVOUCHER_INSURANCE_INACTIVE');
        const res = await get().app.inject({ url: '/api/evoucher/me', headers: await person(persons[2]) });
        assert.equal(res.json().code, 'EVOUCHER_NOT_ACTIVATED');
      });
    });

    describe('dynamic code and institution verification', () => {
      test("codes asked at once by several persons (read together under load) each carry the asker's own voucher", async () => {
        const vouchers = new Map(
          (
            await get().ctx.db.q<{ region_code: string; person_id: string; code: string }>(
              sql`select region_code, person_id, code from evoucher_voucher`,
            )
          ).map((v) => [`${v.region_code}/${v.person_id}`, v.code]),
        );
        const askers = [persons[0], persons[1], persons[4], persons[2]].flatMap((p) => Array(6).fill(p));
        const headers = await Promise.all(askers.map((p) => person(p)));
        const answers = await Promise.all(
          askers.map(async (p, i) => ({
            p,
            res: await get().app.inject({ method: 'POST', url: '/api/evoucher/me/codes', headers: headers[i] }),
          })),
        );
        for (const { p, res } of answers) {
          const own = vouchers.get(`${p.regionCode}/${p.id}`);
          if (!own) {
            refusedWithout(res, 404, 'EVOUCHER_NOT_ACTIVATED');
            continue;
          }
          assert.equal(res.statusCode, 200, res.body);
          const { claims } = decodeEvoucherToken(res.json().token);
          assert.deepEqual([claims.regionCode, claims.voucherCode], [p.regionCode, own]);
        }
      });

      test('code → verify answers masked data, insurance and an ecToken the core zone resolves (1101 type 01)', async () => {
        const c = await code(persons[0]);
        assert.equal(c.ttlSeconds, 60);
        assert.ok(c.qrVersion <= 6);
        assert.ok(Math.abs(Date.parse(c.expiresAt) - Date.now() - 60_000) < 3000);
        const res = await call(hospital, 'verify', {
          qrCode: c.token,
          businessType: '01101',
          operatorId: 'op1',
          operatorName: ' 门诊收费 5 号窗 ',
          scanTime: Date.now(),
        });
        assert.equal(res.statusCode, 200, res.body);
        const v = res.json();
        assert.equal(v.person.name, '张**');
        assert.ok(!res.body.includes(persons[0].residentId));
        assert.equal(v.insurance.insurances[0].status, 'active');
        assert.match(v.ecToken, /^990100ec[0-9a-f]{32}$/);
        assert.ok(v.ecToken.length <= 50);
        const core = (get().ctx.services as Record<string, any>).coreZone;
        const found = await core.findPerson(R, { ecToken: v.ecToken });
        assert.equal(found.residentId, persons[0].residentId);
        await assert.rejects(core.findPerson(R, { ecToken: `990100ec${'0'.repeat(32)}` }), {
          code: 'CORE_EC_TOKEN_UNRESOLVED',
        });
        await assert.rejects(core.findPerson(R2, { ecToken: v.ecToken }), { code: 'CORE_EC_TOKEN_UNRESOLVED' });
        // same code, another business type: a separate use
        assert.equal((await call(hospital, 'verify', { qrCode: c.token, businessType: '01301' })).statusCode, 200);
        const uses = (
          await get().app.inject({ url: '/api/evoucher/me/uses', headers: await person(persons[0]) })
        ).json();
        assert.deepEqual(
          uses
            .slice(0, 2)
            .map((u: { businessType: string }) => u.businessType)
            .sort(),
          ['01101', '01301'],
        );
        assert.equal(uses[0].institutionCode, 'H99010000001');
        assert.equal(uses[0].institutionName, FAKE_INSTITUTIONS.H99010000001, 'named as the registry names it');
        const registration = uses.find((u: { businessType: string }) => u.businessType === '01101');
        assert.equal(registration.operator, '门诊收费 5 号窗', 'the person reads the window, not an id');
        assert.equal(registration.operatorId, 'op1');

        // the code screen asks for the uses since its code was issued (server time: expiry − validity)
        const since = (at: string) =>
          get().app.inject({ url: `/api/evoucher/me/uses?since=${encodeURIComponent(at)}`, headers: me });
        const me = await person(persons[0]);
        const issuedAt = new Date(Date.parse(c.expiresAt) - c.ttlSeconds * 1000).toISOString();
        assert.equal((await since(issuedAt)).json().length, 2);
        const later = await code(persons[0]);
        const laterIssuedAt = new Date(Date.parse(later.expiresAt) - later.ttlSeconds * 1000 + 1000).toISOString();
        assert.deepEqual((await since(laterIssuedAt)).json(), [], 'nothing scanned since the fresh code');
        const bad = await since('yesterday');
        assert.equal(bad.statusCode, 400);
        assert.equal(bad.json().code, 'VALIDATION_FAILED');
      });

      test('the console sets the code validity per region; values the center cannot use are refused, naming them', async () => {
        const staff = await get().auth({ kind: 'staff', subject: 'staff-admin', regionCode: R });
        const put = (settings: unknown) =>
          get().app.inject({ method: 'PUT', url: `/api/regions/${R}/config`, headers: staff, payload: { settings } });
        try {
          for (const [settings, field] of [
            [{ evoucher: { qrTtlSeconds: 5 } }, 'settings.evoucher.qrTtlSeconds'],
            [{ evoucher: { qrTtlSeconds: 30.5 } }, 'settings.evoucher.qrTtlSeconds'],
            [{ evoucher: { ttl: 30 } }, 'settings.evoucher.ttl'],
            [{ noSuchCenter: { x: 1 } }, 'settings.noSuchCenter'],
          ] as const) {
            const res = await put(settings);
            assert.equal(res.statusCode, 400, JSON.stringify(settings));
            assert.ok(
              res.json().errors.some((e: { field: string }) => e.field === field),
              `${JSON.stringify(settings)} names ${field}: ${res.body}`,
            );
          }
          assert.equal((await code(persons[0])).ttlSeconds, 60, 'nothing was stored');
          const ok = await put({ evoucher: { qrTtlSeconds: 45 } });
          assert.equal(ok.statusCode, 200, ok.body);
          assert.equal((await code(persons[0])).ttlSeconds, 45);
        } finally {
          await get().ctx.regions.updateConfig(R, { settings: {} });
        }
      });

      test('region TTL setting changes the validity of new codes', async () => {
        await get().ctx.regions.updateConfig(R, { settings: { evoucher: { qrTtlSeconds: 30 } } });
        try {
          assert.equal((await code(persons[0])).ttlSeconds, 30);
        } finally {
          await get().ctx.regions.updateConfig(R, { settings: {} });
        }
      });

      test('attacks: each refused with its own code, nothing personal in the answer', async () => {
        const svc = service(get().ctx, 'evoucher');
        const good = await code(persons[0]);
        // tampered
        const bytes = base32Decode(good.token);
        bytes[6] ^= 1;
        refusedWithout(
          await call(hospital, 'verify', { qrCode: base32Encode(bytes), businessType: '01101' }),
          401,
          'EVOUCHER_TOKEN_SIGNATURE_INVALID',
        );
        // unknown key id
        const kb = base32Decode(good.token);
        kb[22] = 0x7f;
        refusedWithout(
          await call(hospital, 'verify', { qrCode: base32Encode(kb), businessType: '01101' }),
          401,
          'EVOUCHER_TOKEN_UNKNOWN_KEY',
        );
        // expired (signed by our own key, expiry in the past)
        const row = await get().ctx.db.one<{ code: string }>(
          sql`select code from evoucher_voucher where person_id = ${persons[0].id}`,
        );
        const key = await svc.keys.signing(R, 'qr');
        const expired = issueEvoucherToken(
          { voucherCode: row!.code, expiresAt: Math.floor(Date.now() / 1000) - 120 },
          key,
        );
        refusedWithout(
          await call(hospital, 'verify', { qrCode: expired, businessType: '01101' }),
          401,
          'EVOUCHER_TOKEN_EXPIRED',
        );
        // clock skew: a token from a clock far ahead, and a terminal whose clock is off
        const ahead = issueEvoucherToken(
          { voucherCode: row!.code, expiresAt: Math.floor(Date.now() / 1000) + 3600 },
          key,
        );
        refusedWithout(
          await call(hospital, 'verify', { qrCode: ahead, businessType: '01101' }),
          400,
          'EVOUCHER_CLOCK_SKEW',
        );
        refusedWithout(
          await call(hospital, 'verify', { qrCode: good.token, businessType: '01101', scanTime: Date.now() - 120_000 }),
          400,
          'EVOUCHER_CLOCK_SKEW',
        );
        // replay
        assert.equal((await call(hospital, 'verify', { qrCode: good.token, businessType: '02121' })).statusCode, 200);
        refusedWithout(
          await call(hospital, 'verify', { qrCode: good.token, businessType: '02121' }),
          409,
          'EVOUCHER_TOKEN_REPLAYED',
        );
        // another region's token at this region's hospital, and vice versa
        const erin = await code(persons[4]);
        refusedWithout(
          await call(hospital, 'verify', { qrCode: erin.token, businessType: '01101' }),
          403,
          'EVOUCHER_REGION_MISMATCH',
        );
        assert.equal(
          (await call(hospital980, 'verify', { qrCode: erin.token, businessType: '01101' })).statusCode,
          200,
        );
        // malformed
        refusedWithout(
          await call(hospital, 'verify', { qrCode: 'HELLO', businessType: '01101' }),
          400,
          'EVOUCHER_TOKEN_MALFORMED',
        );
        // no / bad channel signature
        const unsigned = await get().app.inject({
          method: 'POST',
          url: '/api/evoucher/channel/verify',
          payload: { qrCode: good.token, businessType: '01101' },
        });
        refusedWithout(unsigned, 400, 'VALIDATION_FAILED');
        const badSig = await call(
          hospital,
          'verify',
          { qrCode: (await code(persons[0])).token, businessType: '01101' },
          (e) => {
            e.data = { qrCode: good.token, businessType: '03131' };
          },
        );
        assert.equal(badSig.statusCode, 401);
        assert.notEqual(badSig.json().code, undefined);
        for (const s of PII) assert.ok(!badSig.body.includes(s));
        // a terminal whose clock is 10 minutes behind signs its envelope with that time: the auth center refuses it
        const late = signEnvelope({
          appId: hospital.appId,
          transType: 'verify',
          data: { qrCode: (await code(persons[0])).token, businessType: '01101' },
          privateKey: hospital.privateKeyHex,
          appSecret: hospital.appSecret,
          now: Date.now() - 600_000,
        });
        const skewed = await get().app.inject({ method: 'POST', url: '/api/evoucher/channel/verify', payload: late });
        assert.equal(skewed.statusCode, 401);
        assert.match(skewed.json().code, /TIMESTAMP/);
        for (const s of PII) assert.ok(!skewed.body.includes(s));
        const notInstitution = await call(app, 'verify', {
          qrCode: (await code(persons[0])).token,
          businessType: '01101',
        });
        refusedWithout(notInstitution, 403, 'EVOUCHER_NOT_INSTITUTION');
        // suspended
        const fresh = await code(persons[0]);
        const sus = await get().app.inject({
          method: 'POST',
          url: '/api/evoucher/me/suspend',
          headers: await person(persons[0]),
          payload: { reason: '手机丢失' },
        });
        assert.equal(sus.json().status, 'suspended');
        refusedWithout(
          await call(hospital, 'verify', { qrCode: fresh.token, businessType: '01101' }),
          409,
          'EVOUCHER_SUSPENDED',
        );
        const noCode = await get().app.inject({
          method: 'POST',
          url: '/api/evoucher/me/codes',
          headers: await person(persons[0]),
        });
        assert.equal(noCode.json().code, 'EVOUCHER_SUSPENDED');
        const resume = async (acr: string) =>
          get().app.inject({
            method: 'POST',
            url: '/api/evoucher/me/resume',
            headers: await get().auth({ kind: 'person', subject: persons[0].id, regionCode: R, acr }),
            payload: {},
          });
        // a one-factor session (perhaps on the lost phone) cannot resume
        assert.equal((await resume('pwd')).json().code, 'STEP_UP_REQUIRED');
        refusedWithout(
          await call(hospital, 'verify', { qrCode: fresh.token, businessType: '01101' }),
          409,
          'EVOUCHER_SUSPENDED',
        );
        assert.equal((await resume('mfa')).json().status, 'active');
        assert.equal((await call(hospital, 'verify', { qrCode: fresh.token, businessType: '01101' })).statusCode, 200);
        // offline checks are also exercised by the public key set
        const keys = (await get().app.inject({ url: '/api/evoucher/keys?region=990100' })).json();
        assert.ok(keys.keys.some((k: { kid: string }) => Number(k.kid) === good.keyId));
      });

      test('a retried verification with the same Idempotency-Key returns the first answer, not a replay refusal', async () => {
        const c = await code(persons[1]);
        const envelope = signEnvelope({
          appId: hospital.appId,
          transType: 'verify',
          data: { qrCode: c.token, businessType: '01101' },
          privateKey: hospital.privateKeyHex,
          appSecret: hospital.appSecret,
        });
        const send = (key: string, payload: unknown) =>
          get().app.inject({
            method: 'POST',
            url: '/api/evoucher/channel/verify',
            headers: { 'idempotency-key': key },
            payload: payload as object,
          });
        const first = await send('verify-retry-0001', envelope);
        assert.equal(first.statusCode, 200, first.body);
        const again = signEnvelope({
          appId: hospital.appId,
          transType: 'verify',
          data: { qrCode: c.token, businessType: '01101' },
          privateKey: hospital.privateKeyHex,
          appSecret: hospital.appSecret,
        });
        const retried = await send('verify-retry-0001', again);
        assert.equal(retried.statusCode, 200, retried.body);
        assert.equal(retried.json().ecToken, first.json().ecToken);
        refusedWithout(
          await send(
            'verify-retry-0002',
            signEnvelope({
              appId: hospital.appId,
              transType: 'verify',
              data: { qrCode: c.token, businessType: '01101' },
              privateKey: hospital.privateKeyHex,
              appSecret: hospital.appSecret,
            }),
          ),
          409,
          'EVOUCHER_TOKEN_REPLAYED',
        );
      });

      test('concurrent scans of one code for one business type: exactly one succeeds; each answer is counted', async () => {
        const counted = async (result: string) => {
          const text = (await get().app.inject('/metrics')).body;
          const line = new RegExp(`^evoucher_verifications_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text);
          return Number(line?.[1] ?? 0);
        };
        const staff = await get().auth({ kind: 'staff', subject: 'staff-admin', regionCode: R });
        const refusals = async () => {
          const res = await get().app.inject({ url: '/api/evoucher/admin/stats/refusals?days=1', headers: staff });
          assert.equal(res.statusCode, 200, res.body);
          const body = res.json() as {
            daily: Array<{ code: string; count: number }>;
            institutions: Array<{ code: string; name: string | null; count: number }>;
          };
          return {
            replayed: body.daily.find((d) => d.code === 'EVOUCHER_TOKEN_REPLAYED')?.count ?? 0,
            hospital: body.institutions.find((i) => i.code === 'H99010000001'),
          };
        };
        const refusedBefore = await refusals();
        const before = [await counted('ok'), await counted('EVOUCHER_TOKEN_REPLAYED')];
        const c = await code(persons[1]);
        const results = await Promise.all(
          Array.from({ length: 8 }, () => call(hospital, 'verify', { qrCode: c.token, businessType: '01302' })),
        );
        assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 409, 409, 409, 409, 409, 409, 409]);
        const after = [await counted('ok'), await counted('EVOUCHER_TOKEN_REPLAYED')];
        assert.deepEqual([after[0]! - before[0]!, after[1]! - before[1]!], [1, 7]);
        // …and the refusals are kept for 用码统计, with the institution that scanned
        const refusedAfter = await refusals();
        assert.equal(refusedAfter.replayed - refusedBefore.replayed, 7);
        assert.equal(refusedAfter.hospital!.count - (refusedBefore.hospital?.count ?? 0), 7);
      });

      test('concurrent scans of two persons and five business types: each answer and its ecToken are its own', async () => {
        const owners = [persons[0], persons[1]];
        const codes = await Promise.all(owners.map((p) => code(p)));
        const TYPES = ['01101', '01301', '01302', '02121', '03131'];
        const scans = owners.flatMap((p, o) =>
          TYPES.flatMap((businessType, t) => {
            const data = {
              qrCode: codes[o].token,
              businessType,
              ...(t % 2 ? { operatorId: `op-${o}-${t}`, deviceId: `dev-${o}-${t}` } : {}),
            };
            return [
              { p, data },
              { p, data }, // the same scan sent twice: one of the two is a replay
            ];
          }),
        );
        const answers = await Promise.all(scans.map((s) => call(hospital, 'verify', s.data)));
        const core = (get().ctx.services as Record<string, any>).coreZone;
        for (let i = 0; i < scans.length; i += 2) {
          const pair = [answers[i], answers[i + 1]];
          assert.deepEqual(pair.map((a) => a.statusCode).sort(), [200, 409], pair.map((a) => a.body).join(' | '));
          const ok = pair.find((a) => a.statusCode === 200)!.json();
          refusedWithout(pair.find((a) => a.statusCode === 409)!, 409, 'EVOUCHER_TOKEN_REPLAYED');
          const { p, data } = scans[i];
          assert.equal(ok.person.name, `${p.name[0]}${'*'.repeat(p.name.length - 1)}`);
          assert.equal(ok.businessType, data.businessType);
          assert.equal((await core.findPerson(R, { ecToken: ok.ecToken })).residentId, p.residentId);
          const [use] = await get().ctx.db.q<{ operator: string | null; device: string | null; business_type: string }>(
            sql`select operator, device, business_type from evoucher_use where region_code = ${R} and id = ${ok.useId}`,
          );
          assert.deepEqual(use, {
            operator: data.operatorId ?? null,
            device: data.deviceId ?? null,
            business_type: data.businessType,
          });
        }
      });

      test('re-activation on a new phone kills the old codes', async () => {
        const old = await code(persons[1]);
        assert.equal((await activate(persons[1])).statusCode, 200);
        refusedWithout(
          await call(hospital, 'verify', { qrCode: old.token, businessType: '01101' }),
          404,
          'EVOUCHER_VOUCHER_NOT_FOUND',
        );
      });
    });

    describe('offline verification and housekeeping', () => {
      test('the sdk verifier checks signature and expiry with downloaded keys; a rotation needs a refresh', async () => {
        const fetchViaInject = (async (url: string) => {
          const r = await get().app.inject({ url: new URL(url).pathname + new URL(url).search });
          return new Response(r.body, { status: r.statusCode, headers: { 'content-type': 'application/json' } });
        }) as typeof fetch;
        const verifier = await createOfflineVerifier({
          keysUrl: 'http://x/api/evoucher/keys?region=990100',
          fetch: fetchViaInject,
        });
        const c = await code(persons[0]);
        const claims = verifier.verify(c.token);
        assert.equal(claims.regionCode, R);
        assert.throws(() => verifier.verify(c.token, Date.now() + 120_000), { code: 'EVOUCHER_TOKEN_EXPIRED' });
        // offline cannot know about single use: the same token still passes offline after an online use
        assert.equal((await call(hospital, 'verify', { qrCode: c.token, businessType: '03131' })).statusCode, 200);
        assert.equal(verifier.verify(c.token).voucherCode, claims.voucherCode);
        const svc = service(get().ctx, 'evoucher');
        await get().ctx.db.tx((tx) => svc.keys.rotate(R, 'qr', 'SM2', 'test', tx));
        const next = await code(persons[0]);
        assert.throws(() => verifier.verify(next.token), { code: 'EVOUCHER_TOKEN_UNKNOWN_KEY' });
        await verifier.refresh();
        assert.equal(verifier.verify(next.token).keyId, next.keyId);
        // without a region: every region's keys, with each region's code validity
        const all = (await get().app.inject({ url: '/api/evoucher/keys' })).json();
        assert.deepEqual([...new Set(all.keys.map((k: { region: string }) => k.region))].sort(), [R2, R]);
        assert.equal(all.ttl[R], 60);
      });

      test('purge removes what expired a day ago and keeps the rest', async () => {
        const svc = service(get().ctx, 'evoucher');
        const t = await svc.createLoginTicket(R);
        await get().ctx.db.q(
          sql`update evoucher_login_ticket set expires_at = now() - interval '2 days' where id = ${t.ticketId}`,
        );
        const keep = await svc.createLoginTicket(R);
        assert.ok((await svc.purgeExpired()) >= 1);
        const left = await get().ctx.db.q<{ id: string }>(
          sql`select id from evoucher_login_ticket where id in (${t.ticketId}, ${keep.ticketId})`,
        );
        assert.deepEqual(
          left.map((r) => r.id),
          [keep.ticketId],
        );
      });
    });

    describe('channel authorisation', () => {
      test('a one-factor session grants only with the password shown again; a second factor is enough', async () => {
        // the fake user center of these tests keeps no passwords: the auth center reads this directory instead
        const directory = new MemoryDirectory();
        await directory.add({ id: persons[0].id, name: persons[0].name, password: 'Alice#Pass2026' });
        service(get().ctx, 'auth').useAccountDirectory(directory);
        const grant = async (acr: string, password?: string) => {
          const res = await get().app.inject({
            method: 'POST',
            url: '/api/evoucher/me/authorizations',
            headers: await person(persons[0], acr),
            payload: { appId: app.appId, scopes: ['identity'], days: 1, ...(password ? { password } : {}) },
          });
          return [res.statusCode, res.json().code ?? (res.json().authCode ? 'granted' : res.body)];
        };
        assert.deepEqual(await grant('pwd'), [401, 'AUTH_CONFIRM_PASSWORD']);
        assert.deepEqual(await grant('pwd', 'Wrong#Guess2026'), [400, 'AUTH_PASSWORD_WRONG']);
        assert.deepEqual(await grant('pwd', 'Alice#Pass2026'), [200, 'granted']);
        assert.deepEqual(await grant('mfa'), [200, 'granted']);
      });

      test('authorise → one-time code → token → scoped data; revoke ends it', async () => {
        const headers = await person(persons[0], 'mfa');
        const channels = (await get().app.inject({ url: '/api/evoucher/me/channels', headers })).json();
        assert.ok(channels.some((c: { appId: string }) => c.appId === app.appId));
        const granted = await get().app.inject({
          method: 'POST',
          url: '/api/evoucher/me/authorizations',
          headers,
          payload: { appId: app.appId, scopes: ['identity'], days: 30 },
        });
        assert.equal(granted.statusCode, 200, granted.body);
        const { id, authCode } = granted.json();
        // another channel cannot use the code
        refusedWithout(await call(hospital, 'token', { authCode }), 400, 'EVOUCHER_AUTH_CODE_INVALID');
        const tok = await call(app, 'token', { authCode });
        assert.equal(tok.statusCode, 200, tok.body);
        refusedWithout(await call(app, 'token', { authCode }), 400, 'EVOUCHER_AUTH_CODE_INVALID');
        const { accessToken } = tok.json();
        const info = (await call(app, 'person', { accessToken })).json();
        assert.equal(info.person.name, '张**');
        assert.equal(info.insurance, undefined); // not granted
        const list = (await get().app.inject({ url: '/api/evoucher/me/authorizations', headers })).json();
        assert.equal(list[0].state, 'active');
        const del = await get().app.inject({ method: 'DELETE', url: `/api/evoucher/me/authorizations/${id}`, headers });
        assert.equal(del.statusCode, 204);
        refusedWithout(await call(app, 'person', { accessToken }), 401, 'EVOUCHER_CHANNEL_TOKEN_INVALID');
        const unknown = await get().app.inject({
          method: 'POST',
          url: '/api/evoucher/me/authorizations',
          headers,
          payload: { appId: 'nope', scopes: ['identity'], days: 1 },
        });
        assert.equal(unknown.json().code, 'EVOUCHER_CHANNEL_NOT_FOUND');
      });
    });

    test("the SDK's typed client: an institution verifies a code, an app turns an authorisation code into the data granted", async () => {
      const client = (ch: Channel) =>
        createEvoucherClient({ ...ch, baseUrl: 'http://inject.local', encrypt: true, fetch: injectFetch(get().app) });
      const activated = await activate(persons[1]); // or already, by the tests before
      assert.ok([200, 409].includes(activated.statusCode), activated.body);
      const scan = await code(persons[1]);
      const verified = await client(hospital).verify(
        { qrCode: scan.token, businessType: '01101', operatorName: '门诊挂号 2 号窗', scanTime: Date.now() },
        { idempotencyKey: randomUUID() },
      );
      assert.equal(verified.person.name, '李*');
      assert.match(verified.ecToken, /^\d{6}ec[0-9a-f]{32}$/);
      assert.equal(verified.insuOrg, R);
      await assert.rejects(client(hospital).verify({ qrCode: scan.token, businessType: '01101' }), {
        name: 'ChannelError',
        code: 'EVOUCHER_TOKEN_REPLAYED',
      });

      const granted = await get().app.inject({
        method: 'POST',
        url: '/api/evoucher/me/authorizations',
        headers: await person(persons[1], 'mfa'),
        payload: { appId: app.appId, scopes: ['identity', 'insurance'], days: 7 },
      });
      const token = await client(app).exchangeCode(granted.json().authCode);
      assert.deepEqual([...token.scopes].sort(), ['identity', 'insurance']);
      const info = await client(app).person(token.accessToken);
      assert.equal(info.person?.name, '李*');
      assert.equal(info.insurance?.regionCode, R);
    });

    describe('QR login', () => {
      test('ticket → phone scans and confirms → the auth login method completes once', async () => {
        const method = service(get().ctx, 'auth').loginMethods.get('evoucher_qr');
        assert.ok(method, 'registered with the auth center');
        assert.match(
          method.renderPanel({ uid: 'u1', csrf: 'c1', regionCode: R }),
          /\/oidc\/interaction\/u1\/method\/evoucher_qr/,
        );
        const t = (
          await get().app.inject({
            method: 'POST',
            url: '/api/evoucher/login-tickets',
            headers: { 'x-region-code': R },
          })
        ).json();
        assert.match(t.qrSvg, /<svg/);
        const poll = async () =>
          (
            await get().app.inject({
              url: `/api/evoucher/login-tickets/${t.ticketId}/status?secret=${t.secret}`,
              headers: { 'x-region-code': R },
            })
          ).json().status;
        assert.equal(await poll(), 'pending');
        assert.equal(
          await method.complete({ regionCode: R, form: { ticketId: t.ticketId, secret: t.secret }, ip: '1' }),
          null,
        );
        const headers = await person(persons[0]);
        assert.equal(
          (await get().app.inject({ method: 'POST', url: `/api/evoucher/login-tickets/${t.ticketId}/scan`, headers }))
            .statusCode,
          200,
        );
        assert.equal(await poll(), 'scanned');
        // another person cannot confirm a ticket scanned by someone else
        const other = await get().app.inject({
          method: 'POST',
          url: `/api/evoucher/login-tickets/${t.ticketId}/confirm`,
          headers: await person(persons[1]),
        });
        assert.equal(other.json().code, 'EVOUCHER_LOGIN_TICKET_USED');
        assert.equal(
          (
            await get().app.inject({
              method: 'POST',
              url: `/api/evoucher/login-tickets/${t.ticketId}/confirm`,
              headers,
            })
          ).statusCode,
          204,
        );
        assert.equal(await poll(), 'confirmed');
        assert.equal(
          await method.complete({ regionCode: R, form: { ticketId: t.ticketId, secret: 'f'.repeat(32) }, ip: '1' }),
          null,
        );
        assert.deepEqual(
          await method.complete({ regionCode: R, form: { ticketId: t.ticketId, secret: t.secret }, ip: '1' }),
          {
            accountId: persons[0].id,
            kind: 'person',
            regionCode: R,
          },
        );
        assert.equal(
          await method.complete({ regionCode: R, form: { ticketId: t.ticketId, secret: t.secret }, ip: '1' }),
          null,
        );
        assert.equal(await poll(), 'consumed');
      });
      test('a ticket id that is not one is 404 at every step, for a person with an active voucher too', async () => {
        const headers = await person(persons[0]);
        for (const id of ['not-a-ticket', '-'.repeat(36), 'g'.repeat(8) + '-0000-0000-0000-000000000000']) {
          for (const step of ['scan', 'confirm']) {
            const res = await get().app.inject({
              method: 'POST',
              url: `/api/evoucher/login-tickets/${id}/${step}`,
              headers,
            });
            assert.equal(res.statusCode, 404, `${step} ${id}: ${res.body}`);
            assert.equal(res.json().code, 'EVOUCHER_LOGIN_TICKET_NOT_FOUND');
          }
          const poll = await get().app.inject({
            url: `/api/evoucher/login-tickets/${id}/status?secret=${'0'.repeat(32)}`,
            headers: { 'x-region-code': R },
          });
          assert.equal(poll.statusCode, 404, poll.body);
        }
      });
    });

    describe('console', () => {
      test('look-up is audited with its purpose; staff suspend/resume; permissions enforced', async () => {
        const staff = await get().auth({ kind: 'staff', subject: 'staff-admin', regionCode: R });
        const nobody = await get().auth({ kind: 'staff', subject: 'staff-nobody', regionCode: R });
        const url = `/api/evoucher/admin/vouchers?residentId=${persons[0].residentId}&purpose=${encodeURIComponent('参保人来电咨询')}`;
        assert.equal((await get().app.inject({ url, headers: nobody })).json().code, 'PERMISSION_DENIED');
        const res = await get().app.inject({ url, headers: staff });
        assert.equal(res.statusCode, 200, res.body);
        const found = res.json();
        assert.equal(found.voucher.name, '张**');
        assert.ok(found.uses.length >= 2);
        const [a] = await get().ctx.db.q<{ purpose: string }>(
          sql`select purpose from audit_event where action = 'evoucher.lookup' order by seq desc limit 1`,
        );
        assert.equal(a.purpose, '参保人来电咨询');
        // an ID number ending in X is found however it was typed; a wrong check character is refused by name
        const byId = (rid: string) =>
          get().app.inject({ url: `/api/evoucher/admin/vouchers?residentId=${rid}&purpose=查询测试`, headers: staff });
        const lower = await byId(persons[1].residentId.toLowerCase());
        assert.equal(lower.statusCode, 200, lower.body);
        assert.equal(lower.json().voucher.name, '李*');
        const wrong = await byId('110101199003077779');
        assert.equal(wrong.statusCode, 400);
        assert.match(wrong.body, /身份证号码无效/);
        const id = found.voucher.id;
        const sus = await get().app.inject({
          method: 'POST',
          url: `/api/evoucher/admin/vouchers/${id}/suspend`,
          headers: staff,
          payload: { reason: '本人电话挂失' },
        });
        assert.equal(sus.json().status, 'suspended');
        const again = await get().app.inject({
          method: 'POST',
          url: `/api/evoucher/admin/vouchers/${id}/suspend`,
          headers: staff,
          payload: { reason: '重复' },
        });
        assert.equal(again.json().code, 'EVOUCHER_ALREADY_SUSPENDED');
        await get().app.inject({
          method: 'POST',
          url: `/api/evoucher/admin/vouchers/${id}/resume`,
          headers: staff,
          payload: { reason: '核实后恢复' },
        });
        const stats = (
          await get().app.inject({ url: '/api/evoucher/admin/stats/daily?days=7', headers: staff })
        ).json();
        assert.ok(
          stats.some((s: { businessType: string; count: number }) => s.businessType === '01101' && s.count >= 2),
        );
      });

      test('key rotation: old codes verify until the old key is retired; Ed25519 selectable', async () => {
        const staff = await get().auth({ kind: 'staff', subject: 'staff-admin', regionCode: R });
        const before = await code(persons[0]);
        const rotated = await get().app.inject({
          method: 'POST',
          url: '/api/evoucher/admin/keys',
          headers: staff,
          payload: { alg: 'Ed25519' },
        });
        assert.equal(rotated.statusCode, 200, rotated.body);
        const after = await code(persons[0]);
        assert.equal(after.keyId, rotated.json().kid);
        assert.equal((await call(hospital, 'verify', { qrCode: after.token, businessType: '01101' })).statusCode, 200);
        assert.equal((await call(hospital, 'verify', { qrCode: before.token, businessType: '01101' })).statusCode, 200);
        const old = await code(persons[0]);
        const retire = await get().app.inject({
          method: 'POST',
          url: `/api/evoucher/admin/keys/${before.keyId}/retire`,
          headers: staff,
        });
        assert.equal(retire.statusCode, 204);
        void old;
        const stale = issueEvoucherToken(
          {
            voucherCode: (await get().ctx.db.one<{ code: string }>(
              sql`select code from evoucher_voucher where person_id = ${persons[0].id}`,
            ))!.code,
            expiresAt: Math.floor(Date.now() / 1000) + 30,
          },
          (await service(get().ctx, 'evoucher').keys.keys(R, true)).find((k) => k.keyId === before.keyId)!,
        );
        refusedWithout(
          await call(hospital, 'verify', { qrCode: stale, businessType: '01101' }),
          401,
          'EVOUCHER_TOKEN_UNKNOWN_KEY',
        );
        const keys = (await get().app.inject({ url: '/api/evoucher/admin/keys', headers: staff })).json();
        assert.ok(keys.some((k: { alg: string; status: string }) => k.alg === 'Ed25519' && k.status === 'active'));
        const current = await get().app.inject({
          method: 'POST',
          url: `/api/evoucher/admin/keys/${after.keyId}/retire`,
          headers: staff,
        });
        assert.equal(current.json().code, 'EVOUCHER_KEY_NOT_RETIRABLE');
      });
    });
  },
  { centers: [authCenter, ...deps.centers, evoucherCenter] },
);
