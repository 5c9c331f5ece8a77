/**
 * The core-zone module inside the platform: demo seed on an empty database, console API (policy versions with Chinese
 * validation errors, masked person look-up), the scheduled ledger check, and CORE_ZONE_URL switching to the adapter.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../platform/config.ts';
import { sql } from '../../platform/db/index.ts';
import { createTestDatabase } from '../../platform/db/testing.ts';
import { createTestPlatform, forEachPlatform, type TestPlatform } from '../../testing/platform.ts';
import { coreZoneModule, DEMO_PERSONS, LEDGER_CHECK_QUEUE, lastLedgerCheck } from './index.ts';
import { DEMO_POLICIES } from './reference/settlement/index.ts';
import { createCoreZoneServer } from './service/server.ts';
import { seededReference } from './testing.ts';

const R = '990100';
const zhang = DEMO_PERSONS.zhangWei;
const PERMS = new Set(['corezone:policy.read', 'corezone:policy.write', 'corezone:person.read']);

forEachPlatform(
  'core-zone module',
  (get) => {
    let staff: { authorization: string };
    before(async () => {
      get().ctx.permissions = { permissionsOf: async (id) => (id === 'staff-cz' ? PERMS : new Set()) };
      staff = await get().auth({ kind: 'staff', subject: 'staff-cz', regionCode: R });
    });

    test('demo seed on an empty database: both regions, ~1,000 persons in 990100, demo persons findable', async () => {
      const core = get().ctx.services.coreZone;
      assert.equal(core?.kind, 'reference');
      const counts = await get().ctx.db.q<{ region_code: string; n: number | string }>(
        sql`select region_code, count(*) as n from core_person group by 1 order by 1`,
      );
      const n = Object.fromEntries(counts.map((c) => [c.region_code, Number(c.n)]));
      assert.ok(n['990100'] >= 990 && n['990100'] <= 1000, `990100 has ${n['990100']}`);
      assert.ok(n['980100'] >= 195);
      for (const p of Object.values(DEMO_PERSONS)) {
        const found = await core?.findPerson(p.regionCode, { residentId: p.residentId });
        assert.equal(found?.personNo, p.personNo, p.name);
      }
      // seeding again changes nothing
      await coreZoneModule.seed?.(get().ctx);
      const again = await get().ctx.db.one<{ n: number | string }>(sql`select count(*) as n from core_person`);
      assert.equal(Number(again?.n), n['990100'] + n['980100']);
    });

    test('console API needs staff with the permission', async () => {
      const anon = await get().app.inject({ method: 'GET', url: '/api/corezone/policies' });
      assert.equal(anon.statusCode, 401);
      const person = await get().auth({ kind: 'person', subject: 'p1', regionCode: R });
      assert.equal(
        (await get().app.inject({ method: 'GET', url: '/api/corezone/policies', headers: person })).statusCode,
        403,
      );
      const other = await get().auth({ kind: 'staff', subject: 'staff-none', regionCode: R });
      assert.equal(
        (await get().app.inject({ method: 'GET', url: '/api/corezone/policies', headers: other })).statusCode,
        403,
      );
    });

    test('policy versions: list, validation errors in Chinese with fields, create a new version', async () => {
      const list = await get().app.inject({ method: 'GET', url: '/api/corezone/policies', headers: staff });
      assert.equal(list.statusCode, 200);
      assert.deepEqual(
        list.json().items.map((p: { version: string }) => p.version),
        ['2025.1'],
      );
      const base = DEMO_POLICIES.find((p) => p.regionCode === R) as (typeof DEMO_POLICIES)[number];
      const bad = {
        ...base,
        version: '2026.1',
        ageBands: [
          { code: 'under60', minAge: 0, maxAge: 50 },
          { code: 'age60plus', minAge: 60, maxAge: 150 },
        ],
        rules: base.rules.map((r, i) => (i === 0 ? { ...r, reimbursementRatioBp: 12_000 } : r)),
      };
      const v = await get().app.inject({
        method: 'POST',
        url: '/api/corezone/policies/validate',
        headers: staff,
        payload: { policy: bad },
      });
      assert.equal(v.statusCode, 200);
      const { valid, errors } = v.json();
      assert.equal(valid, false);
      const fields = errors.map((e: { field: string }) => e.field);
      assert.ok(fields.includes('ageBands'), JSON.stringify(errors));
      assert.ok(fields.includes('rules.0.reimbursementRatioBp'), JSON.stringify(errors));
      for (const e of errors) assert.match(e.message, /[\u4e00-\u9fa5]/, `Chinese message: ${e.message}`);
      const ratio = errors.find((e: { field: string }) => e.field === 'rules.0.reimbursementRatioBp');
      assert.equal(ratio.message, '不能大于 100%', 'ratios are shown in percent, not basis points');
      const rejected = await get().app.inject({
        method: 'POST',
        url: '/api/corezone/policies',
        headers: staff,
        payload: { policy: bad },
      });
      assert.equal(rejected.statusCode, 422);
      assert.equal(rejected.json().code, 'CORE_INVALID_POLICY');
      assert.equal(rejected.headers['content-type'], 'application/problem+json; charset=utf-8');
      const good = { ...base, version: '2026.1', effectiveFrom: '2026-01-01' };
      const created = await get().app.inject({
        method: 'POST',
        url: '/api/corezone/policies',
        headers: staff,
        payload: { policy: good },
      });
      assert.equal(created.statusCode, 201, created.body);
      const after = await get().app.inject({ method: 'GET', url: '/api/corezone/policies', headers: staff });
      assert.deepEqual(
        after.json().items.map((p: { version: string }) => p.version),
        ['2026.1', '2025.1'],
      );
      const dup = await get().app.inject({
        method: 'POST',
        url: '/api/corezone/policies',
        headers: staff,
        payload: { policy: good },
      });
      assert.equal(dup.json().code, 'CORE_POLICY_VERSION_EXISTS');
      const wrongRegion = await get().app.inject({
        method: 'POST',
        url: '/api/corezone/policies',
        headers: staff,
        payload: { policy: { ...good, regionCode: '980100', version: 'x' } },
      });
      assert.equal(wrongRegion.statusCode, 422);
      // the new version is the one used by settlements from its effective date
      const core = get().ctx.services.coreZone;
      const visit = await core?.registerVisit({
        regionCode: R,
        requestId: 'module-test-visit',
        personNo: zhang.personNo,
        institutionCode: 'H99010000001',
        medicalType: '11',
      });
      const code = (await core?.searchCatalogue(R, { itemClass: 'A', category: 'service' }))?.items[0].code as string;
      await core?.uploadFees(R, visit?.visitId as string, [{ lineNo: '1', code, quantity: 1, unitPrice: 1_000 }]);
      const pre = await core?.preSettle({ regionCode: R, visitId: visit?.visitId as string, useAccount: true });
      assert.equal(pre?.policyVersion, new Date().getFullYear() >= 2026 ? '2026.1' : '2025.1');
    });

    test('person look-up for staff is masked; unknown person and bad query are 4xx with codes', async () => {
      const res = await get().app.inject({
        method: 'GET',
        url: `/api/corezone/persons?residentId=${zhang.residentId}`,
        headers: staff,
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.person.personNo, zhang.personNo);
      assert.notEqual(body.person.residentId, zhang.residentId);
      assert.ok(body.person.residentId.includes('*'));
      assert.notEqual(body.person.name, zhang.name);
      assert.equal(body.insurances[0].insuranceType, '310');
      assert.equal(body.account.hasAccount, true);
      const missing = await get().app.inject({
        method: 'GET',
        url: '/api/corezone/persons?personNo=nobody',
        headers: staff,
      });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().code, 'CORE_PERSON_NOT_FOUND');
      const bad = await get().app.inject({
        method: 'GET',
        url: '/api/corezone/persons?residentId=123',
        headers: staff,
      });
      assert.equal(bad.statusCode, 400);
    });

    test('the scheduled ledger check runs from the job queue and reports a tampered balance', async () => {
      const db = get().ctx.db;
      const queued = await db.one(sql`select 1 from job where queue = ${LEDGER_CHECK_QUEUE}`);
      assert.ok(queued, 'seed scheduled a ledger check');
      await db.q(sql`update job set run_at = now() where queue = ${LEDGER_CHECK_QUEUE}`);
      await get().ctx.jobs.drain();
      assert.deepEqual(lastLedgerCheck(get().ctx)?.mismatches, []);
      await db.q(
        sql`update core_account set balance = balance + 7 where region_code = ${R} and person_no = ${zhang.personNo}`,
      );
      const report = await get().app.inject({ method: 'GET', url: '/api/corezone/ledger-check', headers: staff });
      assert.deepEqual(
        report.json().mismatches.map((m: { personNo: string }) => m.personNo),
        [zhang.personNo],
      );
      await db.q(
        sql`update core_account set balance = balance - 7 where region_code = ${R} and person_no = ${zhang.personNo}`,
      );
      const metrics = await get().app.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /core_ledger_mismatches 0/);
    });
  },
  { centers: [coreZoneModule], seed: true },
);

describe('CORE_ZONE_URL switches the platform to the HTTP adapter', () => {
  let platform: TestPlatform;
  let close: () => Promise<void>;
  before(async () => {
    const db = await createTestDatabase('pglite');
    // signed as configured: the platform's adapter and this service share CORE_ZONE_SECRET (its default here)
    const server = createCoreZoneServer(await seededReference(db, { persons: 10 }), {
      secret: loadConfig({}).CORE_ZONE_SECRET,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = async () => {
      await new Promise((resolve) => server.close(resolve));
      await db.close();
    };
    platform = await createTestPlatform('pglite', {
      centers: [coreZoneModule],
      env: { CORE_ZONE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
    });
    platform.ctx.permissions = { permissionsOf: async () => PERMS };
  });
  after(async () => {
    await platform?.close();
    await close?.();
  });

  test('the adapter answers the console look-up from the remote core zone', async () => {
    assert.equal(platform.ctx.services.coreZone?.kind, 'http');
    const headers = await platform.auth({ kind: 'staff', subject: 's', regionCode: R });
    const res = await platform.app.inject({
      method: 'GET',
      url: `/api/corezone/persons?personNo=${zhang.personNo}`,
      headers,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().person.personNo, zhang.personNo);
    const none = await platform.app.inject({ method: 'GET', url: '/api/corezone/persons?personNo=nobody', headers });
    assert.equal(none.json().code, 'CORE_PERSON_NOT_FOUND');
    // nothing of the core zone lives in the platform's own database
    const local = await platform.ctx.db.one<{ n: number | string }>(sql`select count(*) as n from core_person`);
    assert.equal(Number(local?.n), 0);
  });
});
