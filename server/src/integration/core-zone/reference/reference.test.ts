/**
 * DB-level tests of the reference core zone: seed, ledger, settlement transactions under faults and concurrency,
 * and the round-trip property reverse(settle(x)) = x through the database.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { sql } from '../../../platform/db/index.ts';
import { forEachDatabase } from '../../../platform/db/testing.ts';
import { isValidResidentId, isValidUscc } from '../../../platform/privacy/index.ts';
import type { MedicalType } from '../port.ts';
import { items, openVisit, seededReference, TEST_PRIVACY, uid } from '../testing.ts';
import { ReferenceCoreZone } from './core-zone.ts';
import { DEMO_INSTITUTIONS, DEMO_PERSONS } from './demo-persons.ts';
import { catalogue, seedPerson } from './seed.ts';

const R = '990100';
const zhang = DEMO_PERSONS.zhangWei;
const A = items(R, 'A', 'western_drug').filter((i) => i.priceCap === null);
const B = items(R, 'B').filter((i) => i.priceCap === null);
const C = items(R, 'C');

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'NO_ERROR';
}

test('seed data: national code formats, check-digit valid IDs, ~200 catalogue items, deterministic', () => {
  const cat = catalogue(R);
  assert.ok(cat.length >= 190 && cat.length <= 210, `catalogue has ${cat.length} items`);
  for (const c of cat) {
    if (c.category === 'western_drug') assert.match(c.code, /^X[A-Z]\d{2}[A-Z]{2}A\d{3}B\d{12}$/);
    if (c.category === 'western_drug') assert.equal(c.code.length, 23);
    if (c.category === 'patent_drug') assert.match(c.code, /^Z[A-Z0-9]{19}$/);
    if (c.category === 'service') assert.match(c.code, /^\d{15}$/);
    if (c.category === 'consumable') assert.match(c.code, /^C\d{19}$/);
  }
  assert.equal(new Set(cat.map((c) => c.code)).size, cat.length, 'codes are unique');
  for (const k of ['A', 'B', 'C'] as const)
    assert.ok(
      cat.some((c) => c.itemClass === k),
      `has class ${k}`,
    );
  assert.ok(
    cat.some((c) => c.priceCap !== null),
    'some price caps',
  );
  assert.deepEqual(catalogue(R), cat, 'deterministic');
  for (let i = 1; i <= 300; i++) {
    const p = seedPerson(R, i, 10);
    assert.ok(isValidResidentId(p.residentId), `${p.residentId} valid`);
    assert.deepEqual(seedPerson(R, i, 10), p);
  }
  for (const p of Object.values(DEMO_PERSONS)) assert.ok(isValidResidentId(p.residentId), p.name);
  for (const codes of Object.values(DEMO_INSTITUTIONS))
    for (const c of Object.values(codes)) assert.match(c, /^[HP]\d{11}$/);
});

forEachDatabase('reference core zone', (getDb, kind) => {
  let core: ReferenceCoreZone;
  /** the same data, settling only in the locking transaction (whose writes have points between them to crash at) */
  let locking: ReferenceCoreZone;
  let failAt: string | undefined;
  before(async () => {
    core = await seededReference(getDb(), { persons: 60 });
    locking = new ReferenceCoreZone({
      db: getDb(),
      privacy: TEST_PRIVACY,
      optimisticSettle: false,
      faults: (point) => {
        if (point === failAt) throw new Error(`injected fault at ${point}`);
      },
    });
  });

  /** A small visit settled from the account (creates the person's accumulator row of the year). */
  const settleOne = async (personNo: string, price: number) => {
    const v = await openVisit(core, { personNo, lines: [{ code: A[0].code, quantity: 1, unitPrice: price }] });
    await core.preSettle({ regionCode: R, visitId: v.visitId, useAccount: true });
    return core.settle({ regionCode: R, visitId: v.visitId, useAccount: true, requestId: uid() });
  };

  test('seeded region: persons of both types, units with valid USCC, ledger balanced', async () => {
    const db = getDb();
    const types = await db.q<{ insurance_type: string; n: number }>(sql`select insurance_type, count(*)::int8 as n
      from core_insurance where region_code = ${R} group by 1 order by 1`);
    assert.deepEqual(
      types.map((t) => t.insurance_type),
      ['310', '390'],
    );
    const units = await db.q<{ uscc: string }>(sql`select uscc from core_unit where region_code = ${R}`);
    assert.ok(units.length >= 3 && units.every((u) => isValidUscc(u.uscc)));
    const p = await core.findPerson(R, { residentId: zhang.residentId });
    assert.equal(p.personNo, zhang.personNo);
    assert.equal(p.name, zhang.name);
    const raw = await db.one<{ name_enc: string }>(
      sql`select name_enc from core_person where person_no = ${zhang.personNo}`,
    );
    assert.notEqual(raw?.name_enc, zhang.name, 'names are stored encrypted');
    const check = await core.checkLedger();
    assert.ok(check.accounts > 10);
    assert.deepEqual(check.mismatches, []);
    assert.deepEqual(check.unbalancedTransactions, []);
    const bal = await core.accountBalance(R, zhang.personNo);
    const contributions = await core.contributions(R, zhang.personNo);
    assert.equal(contributions.length, 6);
    assert.equal(bal.balance, zhang.openingBalance + contributions.reduce((s, c) => s + c.accountCredit, 0));
    const ledger = await core.accountLedger(R, zhang.personNo, { pageSize: 100 });
    assert.equal(ledger.total, 7);
    assert.equal(ledger.items[0].balanceAfter, bal.balance, 'newest entry carries the balance');
  });

  test('settle: split sums, account debited through the ledger, accumulators advanced, policy version recorded', async () => {
    const before = (await core.accountBalance(R, zhang.personNo)).balance;
    const visit = await openVisit(core, {
      personNo: zhang.personNo,
      lines: [
        { code: A[0].code, quantity: 2, unitPrice: 3_000 },
        { code: B[0].code, quantity: 1, unitPrice: 10_000 },
        { code: C[0].code, quantity: 1, unitPrice: 5_000 },
      ],
    });
    const pre = await core.preSettle({ regionCode: R, visitId: visit.visitId, useAccount: true });
    assert.equal(pre.total, 21_000);
    assert.equal(pre.fundPayment + pre.accountPayment + pre.cashPayment, pre.total);
    const s = await core.settle({ regionCode: R, visitId: visit.visitId, useAccount: true, requestId: uid() });
    assert.equal(s.fundPayment + s.accountPayment + s.cashPayment, s.total);
    assert.equal(s.policyVersion, '2025.1');
    assert.equal(s.total, pre.total);
    // 990100 employee outpatient under 60, level 3: deductible 1000 yuan not reached → fund 0; account pays all
    assert.equal(s.fundPayment, 0);
    assert.equal(s.accountPayment, 21_000);
    const after = (await core.accountBalance(R, zhang.personNo)).balance;
    assert.equal(after, before - s.accountPayment);
    assert.equal(s.balanceAfter, after);
    const year = new Date().getFullYear();
    const acc = await core.accumulators(R, zhang.personNo, year);
    const out = acc.find((a) => a.group === 'outpatient');
    assert.ok(out && out.deductiblePaid >= s.deductibleApplied && s.deductibleApplied > 0);
    const row = await getDb().one<{ policy_version: string }>(
      sql`select policy_version from core_settlement where settlement_id = ${s.settlementId}`,
    );
    assert.equal(row?.policy_version, '2025.1');
    assert.deepEqual((await core.checkLedger(R)).mismatches, []);
  });

  test('fault injection: a crash between any two writes leaves no half settlement or reversal', async () => {
    const visit = await openVisit(core, {
      personNo: zhang.personNo,
      lines: [{ code: A[1].code, quantity: 1, unitPrice: 4_321 }],
    });
    await core.preSettle({ regionCode: R, visitId: visit.visitId, useAccount: true });
    const snapshot = async () => ({
      balance: (await core.accountBalance(R, zhang.personNo)).balance,
      acc: await core.accumulators(R, zhang.personNo, new Date().getFullYear()),
      settlements: (await getDb().q(sql`select 1 from core_settlement where visit_id = ${visit.visitId}`)).length,
      entries: (await getDb().one<{ n: number }>(sql`select count(*)::int8 as n from core_ledger_entry`))?.n,
    });
    const start = await snapshot();
    const requestId = uid();
    for (const point of ['settle:after-settlement-row', 'settle:after-ledger', 'settle:after-accumulators']) {
      failAt = point;
      await assert.rejects(
        locking.settle({ regionCode: R, visitId: visit.visitId, useAccount: true, requestId }),
        /injected/,
      );
      failAt = undefined;
      assert.deepEqual(await snapshot(), start, `nothing of the settlement survives a crash at ${point}`);
    }
    const s = await locking.settle({ regionCode: R, visitId: visit.visitId, useAccount: true, requestId });
    assert.equal(s.total, 4_321);
    const settled = await snapshot();
    for (const point of ['reverse:after-settlement-row', 'reverse:after-ledger']) {
      failAt = point;
      await assert.rejects(
        locking.reverse({ regionCode: R, settlementId: s.settlementId, requestId: uid() }),
        /injected/,
      );
      failAt = undefined;
      assert.deepEqual(await snapshot(), settled, `nothing of the reversal survives a crash at ${point}`);
    }
    await locking.reverse({ regionCode: R, settlementId: s.settlementId, requestId: uid() });
    const end = await snapshot();
    assert.equal(end.balance, start.balance);
    assert.deepEqual(end.acc, start.acc);
  });

  test('ledger check finds a tampered balance and an unbalanced posting', async () => {
    const db = getDb();
    const victim = DEMO_PERSONS.liNa.personNo;
    await db.q(sql`update core_account set balance = balance + 1 where region_code = ${R} and person_no = ${victim}`);
    const report = await core.checkLedger(R);
    assert.deepEqual(
      report.mismatches.map((m) => [m.personNo, m.balance - m.ledgerSum]),
      [[victim, 1]],
    );
    await db.q(sql`update core_account set balance = balance - 1 where region_code = ${R} and person_no = ${victim}`);
    await db.q(sql`insert into core_ledger_entry(region_code, txn_id, account, amount, kind)
      values (${R}, 'Tforged', 'S:settlement_clearing', 5, 'settlement')`);
    assert.deepEqual((await core.checkLedger(R)).unbalancedTransactions, ['Tforged']);
    await db.q(sql`delete from core_ledger_entry where txn_id = 'Tforged'`);
    assert.deepEqual(await core.checkLedger(R), {
      ...(await core.checkLedger(R)),
      mismatches: [],
      unbalancedTransactions: [],
    });
  });

  test('a posting that would take an account below zero is refused whole (CORE_INSUFFICIENT_BALANCE)', async () => {
    const db = getDb();
    const who = DEMO_PERSONS.liNa.personNo;
    const balance = (await core.accountBalance(R, who)).balance;
    const entriesBefore = await db.one<{ n: number | string }>(sql`select count(*) as n from core_ledger_entry`);
    const attempt = db.tx((tx) =>
      core.post(tx, R, {
        kind: 'settlement',
        reference: 'overdraw-test',
        memo: '',
        entries: [
          { account: `P:${zhang.personNo}`, amount: -1 },
          { account: `P:${who}`, amount: -(balance + 1) },
          { account: 'S:settlement_clearing', amount: balance + 2 },
        ],
      }),
    );
    assert.equal(await code(attempt), 'CORE_INSUFFICIENT_BALANCE');
    assert.equal((await core.accountBalance(R, who)).balance, balance);
    const entriesAfter = await db.one<{ n: number | string }>(sql`select count(*) as n from core_ledger_entry`);
    assert.equal(Number(entriesAfter?.n), Number(entriesBefore?.n));
    assert.deepEqual((await core.checkLedger(R)).mismatches, []);
    await assert.rejects(
      core.post(db, R, {
        kind: 'settlement',
        reference: null,
        memo: '',
        entries: [{ account: `P:${who}`, amount: 5 }],
      }),
      /unbalanced/,
    );
  });

  test('parallel settlements on one account never overdraw it (50 at once on PostgreSQL)', async () => {
    // a flexible employee with a small balance; employee outpatient rule lets the account pay everything
    const person = DEMO_PERSONS.chenJing.personNo;
    // one settlement first, so the year's accumulator row exists and the racing ones can take the optimistic path
    await settleOne(person, 100);
    const startBalance = (await core.accountBalance(R, person)).balance;
    const visits = [];
    // visits whose self parts together exceed the balance several times over; PGlite has one connection and
    // serialises them anyway, so the real race (50 at once) runs on PostgreSQL and PGlite checks the arithmetic with 20
    const count = kind === 'postgres' ? 50 : 20;
    const price = Math.ceil(startBalance / 5);
    for (let i = 0; i < count; i++) {
      const v = await openVisit(core, {
        personNo: person,
        lines: [{ code: A[2].code, quantity: 1, unitPrice: price }],
      });
      await core.preSettle({ regionCode: R, visitId: v.visitId, useAccount: true });
      visits.push(v);
    }
    const results = await Promise.all(
      visits.map((v) => core.settle({ regionCode: R, visitId: v.visitId, useAccount: true, requestId: uid() })),
    );
    const paid = results.reduce((s, r) => s + r.accountPayment, 0);
    const end = (await core.accountBalance(R, person)).balance;
    assert.ok(paid <= startBalance, `paid ${paid} ≤ ${startBalance}`);
    assert.equal(end, startBalance - paid);
    assert.ok(end >= 0);
    assert.equal(end, 0, 'the account was drained exactly to zero');
    assert.ok(
      results.some((r) => r.cashPayment > 0),
      'later settlements fell back to cash',
    );
    for (const r of results) assert.equal(r.fundPayment + r.accountPayment + r.cashPayment, r.total);
    assert.deepEqual((await core.checkLedger(R)).mismatches, []);
    if (kind === 'postgres') {
      // every settlement that took money from the account left a different balance: each saw the one before it
      const balancesAfter = results.filter((r) => r.accountPayment > 0).map((r) => r.balanceAfter);
      assert.equal(new Set(balancesAfter).size, balancesAfter.length, 'each settlement saw the previous one');
    }
  });

  for (const path of ['optimistic', 'locking'] as const)
    test(`a settlement that waited for the visit lock settles the fee lines as they are when it gets the lock (${path})`, {
      skip: kind !== 'postgres' && 'needs two connections',
    }, async () => {
      const settler = path === 'optimistic' ? core : locking;
      await settleOne(zhang.personNo, 100); // the year's accumulator row exists: the optimistic path is taken
      // the locking path reads the fee lines in the statement that locks the visit, the optimistic one before its write
      // locks it; here the fees change (and are pre-settled again) while that statement waits, so what its snapshot saw
      // is stale and must not be settled
      const db = getDb();
      const v = await openVisit(core, {
        personNo: zhang.personNo,
        lines: [{ code: A[0].code, quantity: 1, unitPrice: 1_000 }],
      });
      await core.preSettle({ regionCode: R, visitId: v.visitId, useAccount: true });
      let settling: Promise<unknown> | undefined;
      await db.tx(async (tx) => {
        await tx.q(sql`select 1 from core_visit where region_code = ${R} and visit_id = ${v.visitId} for update`);
        settling = settler.settle({ regionCode: R, visitId: v.visitId, useAccount: true, requestId: uid() });
        settling.catch(() => {});
        // wait until the settle's statement is blocked on our lock (its snapshot is taken)
        for (let i = 0; i < 200; i++) {
          await tx.q(sql`select pg_stat_clear_snapshot()`); // activity is otherwise read once per transaction
          const waiting = await tx.q(sql`select 1 from pg_stat_activity where wait_event_type = 'Lock'
          and datname = current_database() and query like ${'%core_visit%for update%'}`);
          if (waiting.length > 0) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        // as uploadFees + preSettle do: new lines, the fee version bumped, pre-settled on the new version
        await tx.q(sql`delete from core_fee_line where region_code = ${R} and visit_id = ${v.visitId}`);
        await tx.q(sql`insert into core_fee_line(region_code, visit_id, line_no, code, name, item_class, quantity,
          unit_price, self_pay_ratio_bp, price_cap)
        values (${R}, ${v.visitId}, '0001', ${C[0].code}, ${C[0].name}, 'C', 1, 7000, null, null)`);
        await tx.q(sql`update core_visit set fees_version = fees_version + 1, presettled_version = fees_version + 1
        where region_code = ${R} and visit_id = ${v.visitId}`);
      });
      const s = (await settling) as Awaited<ReturnType<typeof core.settle>>;
      assert.equal(s.total, 7_000, 'the lines committed before the lock was granted');
      assert.equal(s.fundPayment, 0, 'class C is paid by the person');
      assert.equal(s.fundPayment + s.accountPayment + s.cashPayment, s.total);
    });

  for (const path of ['optimistic', 'locking'] as const)
    for (const changed of ['balance', 'accumulators'] as const)
      test(`a settlement settles on the ${changed === 'balance' ? 'balance as it is' : 'accumulators as they are'} when it gets the locks (${path})`, {
        skip: kind !== 'postgres' && 'needs two connections',
      }, async () => {
        // the account and the accumulator row change while the settle waits for the account lock: the optimistic path's
        // read is then stale (its write must notice and leave it to the locking path), the locking path's read is not
        const settler = path === 'optimistic' ? core : locking;
        const db = getDb();
        const year = (await settleOne(zhang.personNo, 100)).settledAt.slice(0, 4);
        const v = await openVisit(core, {
          personNo: zhang.personNo,
          lines: [{ code: A[0].code, quantity: 2, unitPrice: 900 }],
        });
        await core.preSettle({ regionCode: R, visitId: v.visitId, useAccount: true });
        const accBefore = await core.accumulators(R, zhang.personNo, Number(year));
        let settling: Promise<unknown> | undefined;
        await db.tx(async (tx) => {
          await tx.q(
            sql`select 1 from core_account where region_code = ${R} and person_no = ${zhang.personNo} for update`,
          );
          settling = settler.settle({ regionCode: R, visitId: v.visitId, useAccount: true, requestId: uid() });
          settling.catch(() => {});
          for (let i = 0; i < 200; i++) {
            await tx.q(sql`select pg_stat_clear_snapshot()`);
            const waiting = await tx.q(sql`select 1 from pg_stat_activity where wait_event_type = 'Lock'
            and datname = current_database() and query like ${'%core_account%for update%'}`);
            if (waiting.length > 0) break;
            await new Promise((r) => setTimeout(r, 10));
          }
          if (changed === 'balance')
            await core.post(tx, R, {
              kind: 'settlement',
              reference: null,
              memo: 'test: a concurrent payment',
              entries: [
                { account: `P:${zhang.personNo}`, amount: -100 },
                { account: 'S:settlement_clearing', amount: 100 },
              ],
            });
          if (changed === 'accumulators')
            await tx.q(sql`update core_accumulator set fund_paid = fund_paid + 1000
          where region_code = ${R} and person_no = ${zhang.personNo} and year = ${Number(year)}`);
        });
        const s = (await settling) as Awaited<ReturnType<typeof core.settle>>;
        assert.equal(s.fundPayment + s.accountPayment + s.cashPayment, s.total);
        assert.equal(s.balanceAfter, (await core.accountBalance(R, zhang.personNo)).balance, 'the balance it moved');
        const accAfter = await core.accumulators(R, zhang.personNo, Number(year));
        const group = accAfter.find((a) => a.group === s.accumulatorGroup);
        const groupBefore = accBefore.find((a) => a.group === s.accumulatorGroup);
        const added = changed === 'accumulators' ? 1000 : 0;
        assert.equal(
          group?.fundPaid,
          (groupBefore?.fundPaid ?? 0) + added + s.fundPayment,
          'the accumulators it moved',
        );
        assert.deepEqual((await core.checkLedger(R)).mismatches, []);
      });

  test('a pre-settlement that waited while the fees changed records nothing', {
    skip: kind !== 'postgres' && 'needs two connections',
  }, async () => {
    // pre-settle reads and records in one statement; the fees change (uploadFees: new version, not pre-settled) while
    // its record waits for the visit lock, so its snapshot's fees are stale: it must neither answer them nor record the
    // new version as pre-settled
    const db = getDb();
    const v = await openVisit(core, {
      personNo: zhang.personNo,
      lines: [{ code: A[0].code, quantity: 1, unitPrice: 1_000 }],
    });
    let presettling: Promise<unknown> | undefined;
    await db.tx(async (tx) => {
      await tx.q(sql`select 1 from core_visit where region_code = ${R} and visit_id = ${v.visitId} for update`);
      presettling = core.preSettle({ regionCode: R, visitId: v.visitId, useAccount: true });
      presettling.catch(() => {});
      for (let i = 0; i < 200; i++) {
        await tx.q(sql`select pg_stat_clear_snapshot()`);
        const waiting = await tx.q(sql`select 1 from pg_stat_activity where wait_event_type = 'Lock'
          and datname = current_database() and query like ${'%update core_visit m set presettled_version%'}`);
        if (waiting.length > 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await tx.q(sql`delete from core_fee_line where region_code = ${R} and visit_id = ${v.visitId}`);
      await tx.q(sql`insert into core_fee_line(region_code, visit_id, line_no, code, name, item_class, quantity,
          unit_price, self_pay_ratio_bp, price_cap)
        values (${R}, ${v.visitId}, '0001', ${C[0].code}, ${C[0].name}, 'C', 1, 7000, null, null)`);
      await tx.q(sql`update core_visit set fees_version = fees_version + 1, presettled_version = null
        where region_code = ${R} and visit_id = ${v.visitId}`);
    });
    assert.equal(await code(presettling as Promise<unknown>), 'CORE_VISIT_CLOSED');
    const settle = () => core.settle({ regionCode: R, visitId: v.visitId, useAccount: true, requestId: uid() });
    assert.equal(await code(settle()), 'CORE_NOT_PRESETTLED');
    const pre = await core.preSettle({ regionCode: R, visitId: v.visitId, useAccount: true });
    assert.equal(pre.total, 7_000);
    assert.equal((await settle()).total, 7_000);
  });

  test('a refused pre-settlement leaves the visit not pre-settled', async () => {
    // the engine refuses after the pre-settlement was recorded in the same statement: the record is put back
    const v = await openVisit(core, {
      personNo: zhang.personNo,
      lines: [{ code: A[1].code, quantity: 1, unitPrice: 2_000 }],
    });
    const pre = (payer?: string) =>
      core.preSettle({
        regionCode: R,
        visitId: v.visitId,
        useAccount: true,
        ...(payer ? { mutualAidPayerPersonNo: payer } : {}),
      });
    const settle = () => core.settle({ regionCode: R, visitId: v.visitId, useAccount: true, requestId: uid() });
    const stranger = DEMO_PERSONS.chenJing.personNo; // has not authorised zhang
    assert.equal(await code(pre(stranger)), 'CORE_MUTUAL_AID_NOT_AUTHORISED');
    assert.equal(await code(settle()), 'CORE_NOT_PRESETTLED');
    // a refusal after a good pre-settlement of the same fees leaves that one standing
    await pre();
    assert.equal(await code(pre(stranger)), 'CORE_MUTUAL_AID_NOT_AUTHORISED');
    const s = await settle();
    assert.equal(s.fundPayment + s.accountPayment + s.cashPayment, s.total);
  });

  test('retry with the same msgid returns the first result, even when raced', async () => {
    const v = await openVisit(core, {
      personNo: zhang.personNo,
      lines: [{ code: A[3].code, quantity: 3, unitPrice: 1_234 }],
    });
    await core.preSettle({ regionCode: R, visitId: v.visitId, useAccount: true });
    const requestId = uid();
    const before = (await core.accountBalance(R, zhang.personNo)).balance;
    const all = await Promise.all(
      Array.from({ length: 5 }, () => core.settle({ regionCode: R, visitId: v.visitId, useAccount: true, requestId })),
    );
    for (const s of all) assert.deepEqual(s, all[0]);
    assert.equal((await core.accountBalance(R, zhang.personNo)).balance, before - all[0].accountPayment);
    assert.equal(
      await code(core.settle({ regionCode: R, visitId: v.visitId, useAccount: true, requestId: uid() })),
      'CORE_ALREADY_SETTLED',
    );
  });

  test('property: reverse(settle(x)) restores balances and accumulators through the database', async () => {
    const db = getDb();
    const people = await db.q<{ person_no: string; insurance_type: string }>(sql`select i.person_no, i.insurance_type
      from core_insurance i where i.region_code = ${R} and i.status = 'active' order by i.person_no limit 30`);
    const cat = catalogue(R);
    const year = new Date().getFullYear();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...people),
        fc.constantFrom<MedicalType>('11', '14', '21', '41'),
        fc.array(
          fc.record({
            item: fc.constantFrom(...cat),
            quantity: fc.integer({ min: 1, max: 5 }),
            unitPrice: fc.integer({ min: 0, max: 2_000_000 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.boolean(),
        async (p, medicalType, lines, useAccount) => {
          const snap = async () => ({
            balance: (await core.accountBalance(R, p.person_no)).balance,
            acc: await core.accumulators(R, p.person_no, year),
          });
          const before = await snap();
          const v = await openVisit(core, {
            personNo: p.person_no,
            medicalType,
            lines: lines.map((l) => ({ code: l.item.code, quantity: l.quantity, unitPrice: l.unitPrice })),
          });
          await core.preSettle({ regionCode: R, visitId: v.visitId, useAccount });
          const s = await core.settle({ regionCode: R, visitId: v.visitId, useAccount, requestId: uid() });
          assert.equal(s.fundPayment + s.accountPayment + s.cashPayment, s.total);
          assert.equal(
            s.total,
            lines.reduce((t, l) => t + l.quantity * l.unitPrice, 0),
          );
          assert.ok(s.accountPayment <= before.balance);
          const mid = await snap();
          assert.equal(mid.balance, before.balance - s.accountPayment);
          const r = await core.reverse({ regionCode: R, settlementId: s.settlementId, requestId: uid() });
          assert.equal(r.fundRefund + r.accountRefund + r.cashRefund, r.total);
          const after = await snap();
          assert.equal(after.balance, before.balance);
          // a fresh accumulator row may have been created at zero by the settlement
          const nonZero = (a: typeof after.acc) => a.filter((x) => x.deductiblePaid !== 0 || x.fundPaid !== 0);
          assert.deepEqual(nonZero(after.acc), nonZero(before.acc));
        },
      ),
      { numRuns: kind === 'pglite' ? 15 : 25 },
    );
    assert.deepEqual((await core.checkLedger(R)).mismatches, []);
  });

  test('family mutual aid: an authorised relative pays what the beneficiary owes, and gets it back on reversal', async () => {
    const wang = DEMO_PERSONS.wangFang.personNo;
    const payerBefore = (await core.accountBalance(R, zhang.personNo)).balance;
    const v = await openVisit(core, {
      personNo: wang,
      institutionCode: DEMO_INSTITUTIONS[R].level1,
      lines: [{ code: A[4].code, quantity: 1, unitPrice: 10_000 }],
    });
    await core.preSettle({
      regionCode: R,
      visitId: v.visitId,
      useAccount: true,
      mutualAidPayerPersonNo: zhang.personNo,
    });
    const s = await core.settle({
      regionCode: R,
      visitId: v.visitId,
      useAccount: true,
      mutualAidPayerPersonNo: zhang.personNo,
      requestId: uid(),
    });
    // resident outpatient level 1 in 990100: no deductible, 60 % → fund 6000; the 4000 self part from 张伟's account
    assert.equal(s.fundPayment, 6_000);
    assert.equal(s.mutualAidPayment, 4_000);
    assert.equal(s.accountPayment, 4_000);
    assert.equal(s.cashPayment, 0);
    assert.equal((await core.accountBalance(R, zhang.personNo)).balance, payerBefore - 4_000);
    const ledger = await core.accountLedger(R, zhang.personNo, { kind: 'mutual_aid_out' });
    assert.equal(ledger.items[0].amount, -4_000);
    await core.reverse({ regionCode: R, settlementId: s.settlementId, requestId: uid() });
    assert.equal((await core.accountBalance(R, zhang.personNo)).balance, payerBefore);
    // not authorised the other way round
    const v2 = await openVisit(core, {
      personNo: DEMO_PERSONS.liNa.personNo,
      lines: [{ code: A[0].code, quantity: 1, unitPrice: 100 }],
    });
    assert.equal(
      await code(
        core.preSettle({ regionCode: R, visitId: v2.visitId, useAccount: true, mutualAidPayerPersonNo: wang }),
      ),
      'CORE_MUTUAL_AID_NOT_AUTHORISED',
    );
  });

  test('the same region seed is not loaded twice; a second core instance sees the same data', async () => {
    const other = new ReferenceCoreZone({ db: getDb(), privacy: TEST_PRIVACY });
    const p = await other.findPerson(R, { personNo: DEMO_PERSONS.liNa.personNo });
    assert.equal(p.residentId, DEMO_PERSONS.liNa.residentId);
    const n = await getDb().one<{ n: number }>(sql`select count(*)::int8 as n from core_institution`);
    assert.equal(Number(n?.n), 10);
  });
});
