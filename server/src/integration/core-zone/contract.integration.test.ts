/**
 * ONE contract suite for the CoreZone port, run against the in-process reference core zone and against the HTTP
 * adapter talking to the core-zone service (national message shape) on a real loopback port.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { signedHttpHeaders } from '../../platform/crypto/index.ts';
import type { Database } from '../../platform/db/index.ts';
import { createTestDatabase, type DatabaseKind, databaseKinds } from '../../platform/db/testing.ts';
import type { AppError } from '../../platform/errors.ts';
import { residentIdCheckChar, usccCheckChar } from '../../platform/privacy/index.ts';
import { HttpCoreZone } from './http/adapter.ts';
import type { CoreZone } from './port.ts';
import type { ReferenceCoreZone } from './reference/core-zone.ts';
import { DEMO_INSTITUTIONS, DEMO_PERSONS } from './reference/demo-persons.ts';
import { DEMO_POLICIES } from './reference/settlement/index.ts';
import { createCoreZoneServer } from './service/server.ts';
import { items, openVisit, seededReference, uid } from './testing.ts';

const R = '990100';
const { zhangWei: zhang, wangFang: wang, liuYang: liu, liNa: li } = DEMO_PERSONS;
const A = items(R, 'A', 'western_drug').filter((i) => i.priceCap === null);
const B = items(R, 'B').filter((i) => i.priceCap === null && i.selfPayRatioBp === null);
const C = items(R, 'C');

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'NO_ERROR';
}

function newResidentId(n: number): string {
  const first17 = `990105199${n % 10}0${1 + (n % 9)}1${n % 10}${String(100 + (n % 800)).padStart(3, '0')}`;
  return first17 + residentIdCheckChar(first17);
}

let idCounter = Math.floor(Math.random() * 100_000);

function contract(name: string, getCore: () => CoreZone, tag: string) {
  describe(name, () => {
    test('person look-up by ID number, person number and e-voucher token; unknown person', async () => {
      const core = getCore();
      const byId = await core.findPerson(R, { residentId: zhang.residentId });
      assert.equal(byId.personNo, zhang.personNo);
      assert.equal(byId.name, zhang.name);
      assert.equal(byId.sex, '1');
      assert.equal(byId.birthDate, '1985-03-12');
      assert.deepEqual(await core.findPerson(R, { personNo: zhang.personNo }), byId);
      core.useEcTokenResolver(async (_r, token) =>
        token === `${R}ecGOOD` ? { residentId: zhang.residentId } : undefined,
      );
      assert.equal((await core.findPerson(R, { ecToken: `${R}ecGOOD` })).personNo, zhang.personNo);
      assert.equal(await code(core.findPerson(R, { ecToken: `${R}ecBAD` })), 'CORE_EC_TOKEN_UNRESOLVED');
      assert.equal(await code(core.findPerson(R, { residentId: newResidentId(7) })), 'CORE_PERSON_NOT_FOUND');
      assert.equal(await code(core.findPerson(R, { personNo: '990100000000000000' })), 'CORE_PERSON_NOT_FOUND');
      // a person of another region is not found in this one
      assert.equal(await code(core.findPerson('980100', { residentId: zhang.residentId })), 'CORE_PERSON_NOT_FOUND');
    });

    test('insurance status, account balance, ledger and contributions', async () => {
      const core = getCore();
      const s = await core.insuranceStatus(R, zhang.personNo);
      assert.equal(s.personType, 'employee');
      assert.equal(s.insurances.length, 1);
      assert.equal(s.insurances[0].insuranceType, '310');
      assert.equal(s.insurances[0].status, 'active');
      assert.match(s.insurances[0].unitNo ?? '', /^U990100/);
      const paused = await core.insuranceStatus(R, liu.personNo);
      assert.equal(paused.insurances[0].status, 'paused');
      assert.ok(paused.insurances[0].pauseDate);
      const bal = await core.accountBalance(R, li.personNo);
      assert.equal(bal.hasAccount, true);
      const noAccount = await core.accountBalance(R, wang.personNo);
      assert.deepEqual(noAccount, { personNo: wang.personNo, regionCode: R, balance: 0, hasAccount: false });
      const ledger = await core.accountLedger(R, li.personNo, { pageSize: 3 });
      assert.equal(ledger.items.length, 3);
      assert.ok(ledger.total >= 7);
      assert.equal(ledger.items[0].balanceAfter, bal.balance);
      const contributions = await core.contributions(R, li.personNo);
      assert.equal(contributions.length, 6);
      assert.ok(contributions[0].period > contributions[5].period, 'newest first');
      assert.deepEqual(await core.contributions(R, li.personNo, 1999), []);
    });

    test('institution registry and catalogue', async () => {
      const core = getCore();
      const all = await core.listInstitutions(R);
      assert.equal(all.length, 5);
      assert.deepEqual((await core.listInstitutions(R, 'pharmacy')).map((i) => i.code).sort(), [
        DEMO_INSTITUTIONS[R].pharmacy1,
        DEMO_INSTITUTIONS[R].pharmacy2,
      ]);
      assert.deepEqual(
        [1, 2, 3].map((l) => all.find((i) => i.kind === 'hospital' && i.level === l)?.code),
        [DEMO_INSTITUTIONS[R].level1, DEMO_INSTITUTIONS[R].level2, DEMO_INSTITUTIONS[R].level3],
      );
      assert.equal(await code(core.getInstitution(R, 'H99010099999')), 'CORE_INSTITUTION_NOT_FOUND');
      const found = await core.catalogueItems(R, [A[0].code, C[0].code, 'X-NOPE']);
      assert.deepEqual(found.map((f) => f.code).sort(), [A[0].code, C[0].code].sort());
      const page = await core.searchCatalogue(R, { category: 'consumable', pageSize: 5 });
      assert.equal(page.items.length, 5);
      assert.equal(page.total, 20);
    });

    test('golden: resident outpatient at a level-1 hospital (60 %, no deductible), then reversal restores everything', async () => {
      const core = getCore();
      const year = new Date().getFullYear();
      const accBefore = await core.accumulators(R, wang.personNo, year);
      // A 100.00 yuan ×1 + B (10 % pre-self-pay) 50.00 ×2 + C 30.00 ×1 = 230.00 yuan
      // B: pre-self-pay = 10000 × 10 % = 1000; in scope = 10000 + 9000 = 19000; C fully self-paid 3000
      // fund = floor(19000 × 60 %) = 11400; cash = 23000 − 11400 = 11600 (residents have no account)
      const visit = await openVisit(core, {
        personNo: wang.personNo,
        institutionCode: DEMO_INSTITUTIONS[R].level1,
        lines: [
          { code: A[0].code, quantity: 1, unitPrice: 10_000 },
          { code: B[0].code, quantity: 2, unitPrice: 5_000 },
          { code: C[0].code, quantity: 1, unitPrice: 3_000 },
        ],
      });
      assert.equal(visit.institutionLevel, 1);
      assert.equal(visit.insuranceType, '390');
      const pre = await core.preSettle({ regionCode: R, visitId: visit.visitId, useAccount: true });
      assert.deepEqual(
        pre.lines.map((l) => [l.itemClass, l.amount, l.preSelfPay, l.fullySelfPaid, l.inScope]),
        [
          ['A', 10_000, 0, 0, 10_000],
          ['B', 10_000, 1_000, 0, 9_000],
          ['C', 3_000, 0, 3_000, 0],
        ],
      );
      const expected = {
        total: 23_000,
        fullySelfPaid: 3_000,
        overPriceCap: 0,
        preSelfPay: 1_000,
        inScope: 19_000,
        deductibleApplied: 0,
        fundPayment: 11_400,
        accountPayment: 0,
        mutualAidPayment: 0,
        cashPayment: 11_600,
        balanceAfter: 0,
        policyVersion: '2025.1',
        insuranceType: '390',
        medicalType: '11',
        accumulatorGroup: 'outpatient',
      };
      const { visitId: _v, lines: _l, ...preSplit } = pre;
      assert.deepEqual(preSplit, expected);
      const requestId = uid('M');
      const s = await core.settle({ regionCode: R, visitId: visit.visitId, useAccount: true, requestId });
      assert.equal(s.state, 'settled');
      assert.equal(s.requestId, requestId);
      assert.equal(s.personNo, wang.personNo);
      assert.equal(s.institutionCode, DEMO_INSTITUTIONS[R].level1);
      for (const [k, v] of Object.entries(expected)) assert.equal(s[k as keyof typeof s], v, k);
      assert.deepEqual(await core.settle({ regionCode: R, visitId: visit.visitId, useAccount: true, requestId }), s);
      assert.deepEqual(await core.getSettlement(R, s.settlementId), s);
      const accMid = await core.accumulators(R, wang.personNo, year);
      const out = (rows: typeof accMid) => rows.find((a) => a.group === 'outpatient' && a.insuranceType === '390');
      assert.equal((out(accMid)?.fundPaid ?? 0) - (out(accBefore)?.fundPaid ?? 0), 11_400);
      const reverseId = uid('R');
      const r = await core.reverse({ regionCode: R, settlementId: s.settlementId, requestId: reverseId });
      assert.deepEqual(
        [r.total, r.fundRefund, r.accountRefund, r.mutualAidRefund, r.cashRefund],
        [23_000, 11_400, 0, 0, 11_600],
      );
      assert.deepEqual(await core.reverse({ regionCode: R, settlementId: s.settlementId, requestId: reverseId }), r);
      assert.equal(
        await code(core.reverse({ regionCode: R, settlementId: s.settlementId, requestId: uid('R') })),
        'CORE_ALREADY_REVERSED',
      );
      assert.equal((await core.getSettlement(R, s.settlementId)).state, 'reversed');
      assert.equal(out(await core.accumulators(R, wang.personNo, year))?.fundPaid ?? 0, out(accBefore)?.fundPaid ?? 0);
    });

    test('golden: employee with account, over price cap and deductible carried across two visits', async () => {
      const core = getCore();
      const capped = items(R, 'A', 'western_drug').find((i) => i.priceCap !== null) as (typeof A)[number];
      const balance = (await core.accountBalance(R, li.personNo)).balance;
      // 李娜 (retiree, 60+), level 2 outpatient: deductible 800.00 yuan, 90 %, account pays all self parts (990100).
      // line: unit price = cap + 10.00, qty 3 → over cap 3 × 1000 = 3000, in scope 3 × cap
      const unit = (capped.priceCap as number) + 1_000;
      const visit = await openVisit(core, {
        personNo: li.personNo,
        institutionCode: DEMO_INSTITUTIONS[R].level2,
        lines: [{ code: capped.code, quantity: 3, unitPrice: unit }],
      });
      const pre = await core.preSettle({ regionCode: R, visitId: visit.visitId, useAccount: false });
      assert.equal(pre.overPriceCap, 3_000);
      assert.equal(pre.inScope, 3 * (capped.priceCap as number));
      assert.equal(pre.accountPayment, 0, 'useAccount false → all cash');
      assert.equal(pre.cashPayment + pre.fundPayment, pre.total);
      // pre-settled with useAccount=false; settle with true recomputes under the lock
      const s = await core.settle({ regionCode: R, visitId: visit.visitId, useAccount: true, requestId: uid() });
      assert.equal(s.fundPayment + s.accountPayment + s.cashPayment, s.total);
      assert.equal(s.balanceAfter, balance - s.accountPayment);
      assert.equal((await core.accountBalance(R, li.personNo)).balance, balance - s.accountPayment);
      await core.reverse({ regionCode: R, settlementId: s.settlementId, requestId: uid() });
      assert.equal((await core.accountBalance(R, li.personNo)).balance, balance);
    });

    test('bad input and illegal sequences each get their own code', async () => {
      const core = getCore();
      const h3 = DEMO_INSTITUTIONS[R].level3;
      assert.equal(
        await code(
          core.registerVisit({
            regionCode: R,
            requestId: uid(),
            personNo: liu.personNo,
            institutionCode: h3,
            medicalType: '11',
          }),
        ),
        'CORE_INSURANCE_PAUSED',
      );
      assert.equal(
        await code(
          core.registerVisit({
            regionCode: R,
            requestId: uid(),
            personNo: '990100999999999999',
            institutionCode: h3,
            medicalType: '11',
          }),
        ),
        'CORE_PERSON_NOT_FOUND',
      );
      const v = await core.registerVisit({
        regionCode: R,
        requestId: uid(),
        personNo: zhang.personNo,
        institutionCode: h3,
        medicalType: '11',
      });
      const line = { lineNo: '1', code: A[0].code, quantity: 1, unitPrice: 100 };
      assert.equal(
        await code(core.uploadFees(R, v.visitId, [{ ...line, code: 'XNOPE00000000000000000' }])),
        'CORE_UNKNOWN_ITEM_CODE',
      );
      assert.equal(await code(core.uploadFees(R, v.visitId, [{ ...line, unitPrice: -1 }])), 'CORE_INVALID_AMOUNT');
      assert.equal(await code(core.uploadFees(R, v.visitId, [{ ...line, unitPrice: 12.5 }])), 'CORE_INVALID_AMOUNT');
      assert.equal(await code(core.uploadFees(R, v.visitId, [{ ...line, quantity: 0 }])), 'CORE_INVALID_QUANTITY');
      assert.equal(await code(core.preSettle({ regionCode: R, visitId: v.visitId, useAccount: true })), 'CORE_NO_FEES');
      await core.uploadFees(R, v.visitId, [line]);
      assert.equal(
        await code(core.settle({ regionCode: R, visitId: v.visitId, useAccount: true, requestId: uid() })),
        'CORE_NOT_PRESETTLED',
      );
      await core.preSettle({ regionCode: R, visitId: v.visitId, useAccount: true });
      await core.uploadFees(R, v.visitId, [{ ...line, quantity: 2 }]); // fees changed after pre-settlement
      assert.equal(
        await code(core.settle({ regionCode: R, visitId: v.visitId, useAccount: true, requestId: uid() })),
        'CORE_NOT_PRESETTLED',
      );
      await core.preSettle({ regionCode: R, visitId: v.visitId, useAccount: true });
      const requestId = uid();
      const s = await core.settle({ regionCode: R, visitId: v.visitId, useAccount: true, requestId });
      assert.equal(s.total, 200);
      assert.equal(
        await code(core.settle({ regionCode: R, visitId: v.visitId, useAccount: true, requestId: uid() })),
        'CORE_ALREADY_SETTLED',
      );
      assert.equal(await code(core.uploadFees(R, v.visitId, [line])), 'CORE_VISIT_CLOSED');
      assert.equal(await code(core.cancelVisit(R, v.visitId)), 'CORE_ALREADY_SETTLED');
      assert.equal(
        await code(core.reverse({ regionCode: R, settlementId: 'S990100999999999999', requestId: uid() })),
        'CORE_SETTLEMENT_NOT_FOUND',
      );
      assert.equal(await code(core.getSettlement(R, 'S990100999999999999')), 'CORE_SETTLEMENT_NOT_FOUND');
      const v2 = await core.registerVisit({
        regionCode: R,
        requestId: uid(),
        personNo: zhang.personNo,
        institutionCode: h3,
        medicalType: '11',
      });
      assert.equal(
        await code(core.settle({ regionCode: R, visitId: v2.visitId, useAccount: true, requestId })),
        'CORE_REQUEST_ID_CONFLICT',
        'a msgid already used for another visit',
      );
      assert.equal((await core.cancelVisit(R, v2.visitId)).state, 'cancelled');
      assert.equal(await code(core.uploadFees(R, v2.visitId, [line])), 'CORE_VISIT_CLOSED');
      assert.equal(await code(core.uploadFees(R, 'V000', [line])), 'CORE_VISIT_NOT_FOUND');
      // a pharmacy only does pharmacy purchases
      assert.equal(
        await code(
          core.registerVisit({
            regionCode: R,
            requestId: uid(),
            personNo: zhang.personNo,
            institutionCode: DEMO_INSTITUTIONS[R].pharmacy1,
            medicalType: '11',
          }),
        ),
        'CORE_INVALID_INPUT',
      );
      // registering twice with one msgid gives the same visit
      const rid = uid();
      const first = await core.registerVisit({
        regionCode: R,
        requestId: rid,
        personNo: zhang.personNo,
        institutionCode: h3,
        medicalType: '11',
      });
      const again = await core.registerVisit({
        regionCode: R,
        requestId: rid,
        personNo: zhang.personNo,
        institutionCode: h3,
        medicalType: '11',
      });
      assert.deepEqual(again, first);
    });

    test('enrolment: flexible employment, resident, suspension — decided, with history; idempotent by request id', async () => {
      const core = getCore();
      const rid = newResidentId(++idCounter);
      const requestId = uid('E');
      const e = await core.submitEnrolment({
        regionCode: R,
        kind: 'flexible',
        requestId,
        name: '测试灵活',
        residentId: rid,
        base: 500_000,
      });
      assert.equal(e.state, 'approved');
      assert.deepEqual(
        e.history.map((h) => h.state),
        ['submitted', 'approved'],
      );
      assert.ok(e.personNo);
      assert.deepEqual(
        await core.submitEnrolment({ regionCode: R, kind: 'flexible', requestId, name: '测试灵活', residentId: rid }),
        e,
      );
      assert.deepEqual(await core.enrolmentStatus(R, e.enrolmentNo), e);
      const s = await core.insuranceStatus(R, e.personNo as string);
      assert.deepEqual(
        s.insurances.map((i) => [i.insuranceType, i.status]),
        [['310', 'active']],
      );
      assert.equal((await core.accountBalance(R, e.personNo as string)).hasAccount, true);
      const dup = await core.submitEnrolment({
        regionCode: R,
        kind: 'flexible',
        requestId: uid('E'),
        name: '测试灵活',
        residentId: rid,
      });
      assert.equal(dup.state, 'rejected');
      assert.ok(dup.note);
      const susp = await core.submitEnrolment({
        regionCode: R,
        kind: 'suspension',
        requestId: uid('E'),
        name: '测试灵活',
        residentId: rid,
        reason: '外出',
      });
      assert.equal(susp.state, 'approved');
      assert.equal((await core.insuranceStatus(R, e.personNo as string)).insurances[0].status, 'paused');
      const res = await core.submitEnrolment({
        regionCode: R,
        kind: 'resident',
        requestId: uid('E'),
        name: '测试居民',
        residentId: newResidentId(++idCounter),
      });
      assert.equal(res.state, 'approved');
      assert.equal(
        await code(
          core.submitEnrolment({
            regionCode: R,
            kind: 'resident',
            requestId: uid('E'),
            name: 'x',
            residentId: '990105199001011234',
          }),
        ),
        'CORE_INVALID_RESIDENT_ID',
      );
      assert.equal(await code(core.enrolmentStatus(R, 'E000')), 'CORE_ENROLMENT_NOT_FOUND');
    });

    test('units: registration, staff add/remove', async () => {
      const core = getCore();
      const first17 = `91990100${String(++idCounter).padStart(8, '0')}M`;
      const uscc = first17 + usccCheckChar(first17);
      const requestId = uid('U');
      const unit = await core.registerUnit({ regionCode: R, requestId, uscc, name: `契约测试公司${tag}` });
      assert.equal(unit.staffCount, 0);
      assert.deepEqual(await core.registerUnit({ regionCode: R, requestId, uscc, name: `契约测试公司${tag}` }), unit);
      assert.equal(
        await code(core.registerUnit({ regionCode: R, requestId: uid('U'), uscc, name: 'x' })),
        'CORE_UNIT_EXISTS',
      );
      assert.equal(
        await code(
          core.registerUnit({
            regionCode: R,
            requestId: uid('U'),
            uscc: `${first17}0`.replace(/.$/, uscc.endsWith('0') ? '1' : '0'),
            name: 'x',
          }),
        ),
        'CORE_INVALID_USCC',
      );
      const rid = newResidentId(++idCounter);
      const staff = await core.addStaff({
        regionCode: R,
        unitNo: unit.unitNo,
        requestId: uid(),
        name: '新员工',
        residentId: rid,
        base: 600_000,
        startDate: '2026-01-01',
      });
      assert.equal(staff.residentId, rid);
      assert.equal(staff.endDate, null);
      assert.equal((await core.getUnit(R, unit.unitNo)).staffCount, 1);
      assert.equal(
        await code(
          core.addStaff({
            regionCode: R,
            unitNo: unit.unitNo,
            requestId: uid(),
            name: '新员工',
            residentId: rid,
            base: 600_000,
            startDate: '2026-01-01',
          }),
        ),
        'CORE_STAFF_EXISTS',
      );
      const removed = await core.removeStaff({
        regionCode: R,
        unitNo: unit.unitNo,
        personNo: staff.personNo,
        endDate: '2026-06-30',
        reason: '离职',
      });
      assert.equal(removed.endDate, '2026-06-30');
      assert.equal((await core.getUnit(R, unit.unitNo)).staffCount, 0);
      assert.equal((await core.listStaff(R, unit.unitNo)).length, 1);
      assert.equal(
        await code(
          core.removeStaff({
            regionCode: R,
            unitNo: unit.unitNo,
            personNo: staff.personNo,
            endDate: '2026-06-30',
            reason: '离职',
          }),
        ),
        'CORE_STAFF_NOT_FOUND',
      );
      assert.equal(await code(core.getUnit(R, 'U000')), 'CORE_UNIT_NOT_FOUND');
      assert.equal(
        await code(
          core.addStaff({
            regionCode: R,
            unitNo: unit.unitNo,
            requestId: uid(),
            name: '日期错',
            residentId: newResidentId(++idCounter),
            base: 1,
            startDate: '2026-02-30',
          }),
        ),
        'CORE_INVALID_INPUT',
      );
      assert.equal(await code(core.accountLedger(R, li.personNo, { from: 'yesterday' })), 'CORE_INVALID_INPUT');
    });

    test('policies: list, validation errors with fields, new version', async () => {
      const core = getCore();
      const list = await core.listPolicies('980100');
      assert.equal(list.at(-1)?.version, '2024.2', 'oldest last');
      assert.equal(list.at(-1)?.effectiveFrom, '2024-07-01');
      const base = DEMO_POLICIES.find((p) => p.regionCode === '980100') as (typeof DEMO_POLICIES)[number];
      const bad = { ...base, version: `bad-${tag}`, ageBands: [{ code: 'all', minAge: 0, maxAge: 99 }] };
      try {
        await core.createPolicy('980100', bad);
        assert.fail('accepted an invalid policy');
      } catch (err) {
        assert.equal((err as { code: string }).code, 'CORE_INVALID_POLICY');
        assert.ok(((err as { errors?: unknown[] }).errors ?? []).length > 0, 'field errors');
      }
      const next = { ...base, version: `2099.${tag}`, effectiveFrom: tag === 'http' ? '2099-02-01' : '2099-01-01' };
      const created = await core.createPolicy('980100', next);
      assert.equal(created.version, next.version);
      assert.equal(await code(core.createPolicy('980100', next)), 'CORE_POLICY_VERSION_EXISTS');
      assert.equal(await code(core.createPolicy(R, next)), 'CORE_INVALID_POLICY');
    });
  });
}

const SECRET = 'contract-test-core-zone-secret';

/** POSTs a body with the caller signature (what the adapter sends), optionally with another secret or clock. */
const signedPost = (url: string, body: string, secret = SECRET, now = Date.now()) =>
  fetch(url, {
    method: 'POST',
    headers: signedHttpHeaders('x-core', secret, 'POST', new URL(url).pathname, body, now),
    body,
  });

for (const kind of databaseKinds()) {
  describe(`core-zone contract [${kind as DatabaseKind}]`, () => {
    let db: Database;
    let reference: ReferenceCoreZone;
    let server: ReturnType<typeof createCoreZoneServer>;
    let adapter: HttpCoreZone;
    before(async () => {
      db = await createTestDatabase(kind);
      reference = await seededReference(db, { persons: 30 });
      server = createCoreZoneServer(reference, { secret: SECRET });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      adapter = new HttpCoreZone({ baseUrl: `http://127.0.0.1:${port}`, secret: SECRET });
    });
    after(async () => {
      await new Promise((resolve) => server?.close(resolve));
      await db?.close();
    });

    contract('in-process reference', () => reference, 'ref');
    contract('HTTP adapter + service', () => adapter, 'http');

    test('the service speaks the national shape: 1101 fields, infcode/err_msg, unknown infno, bad JSON', async () => {
      const { port } = server.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}/fsi/api/callService`;
      const call = async (body: unknown) => (await signedPost(url, JSON.stringify(body))).json();
      const head = {
        msgid: `H990100000012026010112000000${idCounter}`,
        insuplc_admdvs: R,
        mdtrtarea_admvs: R,
        fixmedins_code: DEMO_INSTITUTIONS[R].level3,
        opter_type: '1',
        infver: 'V1.0',
        signtype: 'SM2',
      };
      const ok = await call({
        ...head,
        infno: '1101',
        input: { data: { mdtrt_cert_type: '02', mdtrt_cert_no: zhang.residentId } },
      });
      assert.equal(ok.infcode, 0);
      assert.equal(ok.output.baseinfo.psn_no, zhang.personNo);
      assert.equal(ok.output.baseinfo.certno, zhang.residentId);
      assert.equal(ok.output.insuinfo[0].insutype, '310');
      assert.equal(ok.output.insuinfo[0].psn_insu_stas, '1');
      assert.equal(typeof ok.output.insuinfo[0].balc, 'number');
      const missing = await call({
        ...head,
        infno: '1101',
        input: { data: { mdtrt_cert_type: '02', mdtrt_cert_no: newResidentId(3) } },
      });
      assert.equal(missing.infcode, -1);
      assert.equal(missing.err_code, 'CORE_PERSON_NOT_FOUND');
      assert.match(missing.err_msg, /未找到参保人/);
      const unknown = await call({ ...head, infno: '9999', input: {} });
      assert.equal(unknown.err_code, 'CORE_INVALID_INPUT');
      const bad = await signedPost(url, '{nope');
      assert.equal(bad.status, 400);
      assert.equal((await bad.json()).infcode, -1);
    });

    test('only signed calls are answered: no, a wrong or an old signature, and a replayed call are refused', async () => {
      const { port } = server.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}/fsi/api/callService`;
      const body = JSON.stringify({
        infno: 'Y001',
        msgid: 'x',
        insuplc_admdvs: R,
        input: { args: [R, { personNo: zhang.personNo }] },
      });
      const refused = async (res: Response, reason: RegExp) => {
        assert.equal(res.status, 401);
        const answer = await res.json();
        assert.deepEqual([answer.infcode, answer.err_code, answer.output], [-1, 'CORE_CALLER_REFUSED', null]);
        assert.match(answer.err_msg, reason);
      };
      await refused(await fetch(url, { method: 'POST', body }), /签名无效/);
      await refused(await signedPost(url, body, 'another-secret-of-16+'), /签名无效/);
      await refused(await signedPost(url, body, SECRET, Date.now() - 301_000), /签名无效或已过期/);
      // the body is part of the signature
      const headers = signedHttpHeaders('x-core', SECRET, 'POST', '/fsi/api/callService', body);
      const tampered = body.replace(zhang.personNo, wang.personNo);
      await refused(await fetch(url, { method: 'POST', headers, body: tampered }), /签名无效/);
      // a signed call is answered once
      const first = await fetch(url, { method: 'POST', headers, body });
      assert.equal((await first.json()).infcode, 0);
      await refused(await fetch(url, { method: 'POST', headers, body }), /重复的调用/);
      // the adapter without the secret is told why, as the core zone being unavailable to it
      const unsigned = new HttpCoreZone({ baseUrl: `http://127.0.0.1:${port}` });
      await assert.rejects(unsigned.findPerson(R, { personNo: zhang.personNo }), (e: AppError) => {
        assert.equal(e.code, 'CORE_UNAVAILABLE');
        assert.match(e.detail ?? '', /CORE_ZONE_SECRET/);
        return true;
      });
    });
  });
}
