/**
 * DB-level tests of the reference core zone: seed, ledger, settlement transactions under faults and concurrency,
 * and the round-trip property reverse(settle(x)) = x through the database.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { type Database, type Executor, sql } from '../../../platform/db/index.ts';
import { forEachDatabase } from '../../../platform/db/testing.ts';
import { isValidResidentId, isValidUscc } from '../../../platform/privacy/index.ts';
import type { MedicalType, SettleInput, Split } from '../port.ts';
import { items, openVisit, seededReference, TEST_PRIVACY, uid } from '../testing.ts';
import { ReferenceCoreZone } from './core-zone.ts';
import { DEMO_INSTITUTIONS, DEMO_PERSONS } from './demo-persons.ts';
import { catalogue, seedPerson } from './seed.ts';

const R = '990100';
const zhang = DEMO_PERSONS.zhangWei;
const A = items(R, 'A', 'western_drug').filter((i) => i.priceCap === null);
const B = items(R, 'B').filter((i) => i.priceCap === null);
const C = items(R, 'C');

/** Waits (up to 2 s) until another session's statement matching `query` waits for a lock that `tx` holds. */
async function untilBlocked(tx: Executor, query: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await tx.q(sql`select pg_stat_clear_snapshot()`); // activity is otherwise read once per transaction
    const waiting = await tx.q(sql`select 1 from pg_stat_activity where wait_event_type = 'Lock'
      and datname = current_database() and query like ${query}`);
    if (waiting.length > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** As uploadFees (+ preSettle when `presettled`) do: one new class-C line, the fee version bumped. */
async function replaceFeesWithOneClassCLine(tx: Executor, visitId: string, presettled: boolean): Promise<void> {
  await tx.q(sql`delete from core_fee_line where region_code = ${R} and visit_id = ${visitId}`);
  await tx.q(sql`insert into core_fee_line(region_code, visit_id, line_no, code, name, item_class, quantity,
      unit_price, self_pay_ratio_bp, price_cap)
    values (${R}, ${visitId}, '0001', ${C[0].code}, ${C[0].name}, 'C', 1, 7000, null, null)`);
  await tx.q(sql`update core_visit set fees_version = fees_version + 1,
      presettled_version = ${presettled ? sql`fees_version + 1` : sql`null`}
    where region_code = ${R} and visit_id = ${visitId}`);
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'NO_ERROR';
}

/** The split fields of a pre-settlement or settlement (what the engine computed). */
const SPLIT_KEYS = [
  'total',
  'fullySelfPaid',
  'overPriceCap',
  'preSelfPay',
  'inScope',
  'deductibleApplied',
  'fundPayment',
  'accountPayment',
  'mutualAidPayment',
  'cashPayment',
  'balanceAfter',
  'policyVersion',
  'insuranceType',
  'medicalType',
  'accumulatorGroup',
] as const;
const splitOf = (x: Split) => Object.fromEntries(SPLIT_KEYS.map((k) => [k, x[k]]));

/** The database, counting the statements (and transactions) it is asked to run. */
function counting(db: Database): { db: Database; statements: () => number } {
  let n = 0;
  return {
    db: {
      ...db,
      q: <T>(query: Parameters<Database['q']>[0]) => {
        n++;
        return db.q<T>(query);
      },
      one: <T>(query: Parameters<Database['one']>[0]) => {
        n++;
        return db.one<T>(query);
      },
      tx: <T>(fn: (tx: Executor) => Promise<T>) => {
        n++;
        return db.tx(fn);
      },
    },
    statements: () => n,
  };
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
        await untilBlocked(tx, '%core_visit%for update%');
        // as uploadFees + preSettle do: new lines, the fee version bumped, pre-settled on the new version
        await replaceFeesWithOneClassCLine(tx, v.visitId, true);
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
          await untilBlocked(tx, '%core_account%for update%');
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
      await untilBlocked(tx, '%update core_visit m set presettled_version%');
      await replaceFeesWithOneClassCLine(tx, v.visitId, false);
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

  // --------------------------------------------------------------- settle applies the recorded pre-settlement

  /** Settles a small visit of `personNo` (creates the year's accumulator row of the group), in `regionCode`. */
  const firstSettlement = async (regionCode: string, personNo: string) => {
    const a = items(regionCode, 'A', 'western_drug').filter((i) => i.priceCap === null);
    const v = await openVisit(core, {
      regionCode,
      personNo,
      lines: [{ code: a[0].code, quantity: 1, unitPrice: 100 }],
    });
    await core.preSettle({ regionCode, visitId: v.visitId, useAccount: true });
    return core.settle({ regionCode, visitId: v.visitId, useAccount: true, requestId: uid() });
  };
  /** Seeded employees with an account, not demo persons, each used by one test below (index). */
  const employees = async () =>
    (
      await getDb().q<{ person_no: string }>(sql`select i.person_no from core_insurance i
        join core_account a on a.region_code = i.region_code and a.person_no = i.person_no
        where i.region_code = ${R} and i.insurance_type = '310' and i.status = 'active'
          and i.person_no not like '%90000000000%' order by i.person_no desc limit 12`)
    ).map((r) => r.person_no);

  test('settle after a pre-settlement applies it in ONE statement: the split it answered, nothing read again', async () => {
    const counted = counting(getDb());
    const fast = new ReferenceCoreZone({ db: counted.db, privacy: TEST_PRIVACY });
    const wang = DEMO_PERSONS.wangFang.personNo; // no account of her own: the family-aid payer's is used
    for (const [personNo, payer] of [
      [zhang.personNo, undefined],
      [wang, zhang.personNo],
    ] as const) {
      await firstSettlement(R, personNo);
      const v = await openVisit(fast, {
        personNo,
        lines: [
          { code: A[0].code, quantity: 2, unitPrice: 3_000 },
          { code: B[0].code, quantity: 1, unitPrice: 10_000 },
          { code: C[0].code, quantity: 1, unitPrice: 5_000 },
        ],
      });
      const input: SettleInput = {
        regionCode: R,
        visitId: v.visitId,
        useAccount: true,
        ...(payer ? { mutualAidPayerPersonNo: payer } : {}),
      };
      const year = new Date(v.beginAt).getFullYear();
      const payerNo = payer ?? personNo;
      const balanceBefore = (await fast.accountBalance(R, payerNo)).balance;
      const pre = await fast.preSettle(input);
      const accBefore = (await fast.accumulators(R, personNo, year)).find((a) => a.group === pre.accumulatorGroup);
      const n = counted.statements();
      const paths = { ...fast.settlePaths };
      const requestId = uid();
      const s = await fast.settle({ ...input, requestId });
      assert.equal(counted.statements() - n, 1, 'one statement');
      assert.deepEqual(fast.settlePaths, { ...paths, presettled: paths.presettled + 1 }, 'the recorded one applied');
      assert.deepEqual(splitOf(s), splitOf(pre));
      if (payer) assert.ok(s.mutualAidPayment > 0, 'the payer paid');
      assert.equal(s.fundPayment + s.accountPayment + s.cashPayment, s.total);
      assert.equal((await fast.accountBalance(R, payerNo)).balance, balanceBefore - s.accountPayment);
      const accAfter = (await fast.accumulators(R, personNo, year)).find((a) => a.group === s.accumulatorGroup);
      assert.equal(accAfter?.deductiblePaid, (accBefore?.deductiblePaid ?? 0) + s.deductibleApplied);
      assert.equal(accAfter?.fundPaid, (accBefore?.fundPaid ?? 0) + s.fundPayment);
      const row = await getDb().one<{ policy_version: string }>(
        sql`select policy_version from core_settlement where settlement_id = ${s.settlementId}`,
      );
      assert.equal(row?.policy_version, pre.policyVersion);
      // the same msgid again: the same answer (read, as the recorded pre-settlement is used once)
      assert.deepEqual(await fast.settle({ ...input, requestId }), s);
      assert.equal(fast.settlePaths.presettled, paths.presettled + 1);
      assert.equal(await code(fast.settle({ ...input, requestId: uid() })), 'CORE_ALREADY_SETTLED');
      // and reversal restores exactly
      await fast.reverse({ regionCode: R, settlementId: s.settlementId, requestId: uid() });
      assert.equal((await fast.accountBalance(R, payerNo)).balance, balanceBefore);
      assert.deepEqual(
        (await fast.accumulators(R, personNo, year)).find((a) => a.group === s.accumulatorGroup),
        accBefore,
      );
    }
    assert.deepEqual((await core.checkLedger(R)).mismatches, []);
  });

  /**
   * Each way the recorded pre-settlement must NOT be applied: something it was computed from changed between pre-settle
   * and settle (or settle asks for something else). The settlement is then what a fresh computation gives (another
   * core instance's pre-settlement of the same input, just before) and differs from the recorded one.
   */
  type Scenario = {
    name: string;
    regionCode?: string;
    /** the person and (optionally) the family-aid payer */
    who: () => Promise<{ personNo: string; payer?: string }>;
    lines?: (regionCode: string) => { code: string; quantity: number; unitPrice: number }[];
    pre?: Partial<SettleInput>;
    settle?: Partial<SettleInput>;
    change: (ctx: { fast: ReferenceCoreZone; visitId: string; personNo: string; payer?: string }) => Promise<void>;
    /** a refusal both ways (then `restore`) */
    refusal?: string;
    restore?: (ctx: { personNo: string; payer?: string }) => Promise<void>;
  };
  /** Another settlement of `personNo`, settled and checked to have changed only what it should. */
  const otherSettlement = async (
    personNo: string,
    line: { code: string; quantity: number; unitPrice: number },
    useAccount: boolean,
    expect: { balance: boolean; accumulators: boolean },
  ) => {
    const year = new Date().getFullYear();
    const snap = async () => ({
      balance: (await core.accountBalance(R, personNo)).balance,
      acc: await core.accumulators(R, personNo, year),
    });
    const before = await snap();
    const v = await openVisit(core, { personNo, lines: [line] });
    await core.preSettle({ regionCode: R, visitId: v.visitId, useAccount });
    await core.settle({ regionCode: R, visitId: v.visitId, useAccount, requestId: uid() });
    const after = await snap();
    assert.equal(after.balance !== before.balance, expect.balance, 'balance changed as meant');
    assert.equal(
      JSON.stringify(after.acc) !== JSON.stringify(before.acc),
      expect.accumulators,
      'accumulators as meant',
    );
  };
  const scenarios: Scenario[] = [
    {
      name: 'the balance changed (another settlement of the person, class C from the account)',
      who: async () => ({ personNo: (await employees())[0] }),
      change: ({ personNo }) =>
        otherSettlement(personNo, { code: C[1].code, quantity: 1, unitPrice: 2_000 }, true, {
          balance: true,
          accumulators: false,
        }),
    },
    (() => {
      // a resident without an account of her own, whose authorised payer cannot pay all of the cash part
      let price = 0;
      return {
        name: "the family-aid payer's balance changed (the payer's own settlement)",
        who: async () => {
          const payer = (await employees())[5];
          const row = await getDb().one<{ person_no: string }>(sql`select i.person_no from core_insurance i
            where i.region_code = ${R} and i.insurance_type = '390' and i.status = 'active'
              and not exists (select 1 from core_account a where a.region_code = i.region_code
                and a.person_no = i.person_no)
              and i.person_no not like '%90000000000%' order by i.person_no limit 1 offset 1`);
          const personNo = row?.person_no as string;
          await core.authoriseMutualAid(R, payer, personNo);
          await firstSettlement(R, payer); // the payer's accumulator row exists: its settlement below moves no row
          price = (await core.accountBalance(R, payer)).balance * 2;
          return { personNo, payer };
        },
        lines: () => [{ code: A[4].code, quantity: 1, unitPrice: price }],
        change: ({ payer }) =>
          otherSettlement(payer as string, { code: C[1].code, quantity: 1, unitPrice: 1_500 }, true, {
            balance: true,
            accumulators: false,
          }),
      } satisfies Scenario;
    })(),
    {
      name: 'the accumulators changed (another settlement of the person, paid in cash)',
      who: async () => ({ personNo: (await employees())[1] }),
      change: ({ personNo }) =>
        otherSettlement(personNo, { code: A[1].code, quantity: 1, unitPrice: 150_000 }, false, {
          balance: false,
          accumulators: true,
        }),
    },
    {
      name: 'the fee lines changed (and were pre-settled again by another process)',
      who: async () => ({ personNo: (await employees())[2] }),
      change: async ({ fast, visitId }) => {
        await fast.uploadFees(R, visitId, [{ lineNo: '0001', code: C[0].code, quantity: 1, unitPrice: 7_000 }]);
        const elsewhere = new ReferenceCoreZone({ db: getDb(), privacy: TEST_PRIVACY });
        await elsewhere.preSettle({ regionCode: R, visitId, useAccount: true });
      },
    },
    {
      name: 'settle does not use the account (useAccount differs)',
      who: async () => ({ personNo: (await employees())[3] }),
      settle: { useAccount: false },
      change: async () => {},
    },
    {
      name: 'settle names no family-aid payer (the payer differs)',
      who: async () => ({ personNo: DEMO_PERSONS.wangFang.personNo, payer: zhang.personNo }),
      lines: () => [{ code: A[4].code, quantity: 1, unitPrice: 10_000 }],
      settle: { mutualAidPayerPersonNo: undefined },
      change: async () => {},
    },
    {
      name: 'an account was opened for the person since',
      who: async () => {
        const row = await getDb().one<{ person_no: string }>(sql`select i.person_no from core_insurance i
          where i.region_code = ${R} and i.insurance_type = '390' and i.status = 'active'
            and not exists (select 1 from core_account a where a.region_code = i.region_code
              and a.person_no = i.person_no)
            and i.person_no not like '%90000000000%' order by i.person_no limit 1`);
        return { personNo: row?.person_no as string };
      },
      change: async ({ personNo }) => {
        await getDb().q(sql`insert into core_account(region_code, person_no, balance) values (${R}, ${personNo}, 0)`);
        await core.post(getDb(), R, {
          kind: 'opening',
          reference: null,
          memo: 'test: an account opened since',
          entries: [
            { account: `P:${personNo}`, amount: 5_000 },
            { account: 'S:opening', amount: -5_000 },
          ],
        });
      },
    },
    {
      name: 'the insurance was paused',
      who: async () => ({ personNo: (await employees())[4] }),
      change: async ({ personNo }) => {
        await getDb().q(sql`update core_insurance set status = 'paused' where region_code = ${R}
          and person_no = ${personNo} and insurance_type = '310'`);
      },
      refusal: 'CORE_INSURANCE_PAUSED',
      restore: async ({ personNo }) => {
        await getDb().q(sql`update core_insurance set status = 'active' where region_code = ${R}
          and person_no = ${personNo} and insurance_type = '310'`);
      },
    },
    {
      name: 'the family-aid authorisation was revoked',
      who: async () => ({ personNo: DEMO_PERSONS.wangFang.personNo, payer: zhang.personNo }),
      lines: () => [{ code: A[4].code, quantity: 1, unitPrice: 10_000 }],
      change: ({ personNo, payer }) => core.revokeMutualAid(R, payer as string, personNo),
      refusal: 'CORE_MUTUAL_AID_NOT_AUTHORISED',
      restore: ({ personNo, payer }) => core.authoriseMutualAid(R, payer as string, personNo),
    },
    {
      // last: the new version stays in force in 980100 for the rest of this database's tests
      name: 'another policy version came into force for the visit date',
      regionCode: '980100',
      who: async () => ({ personNo: DEMO_PERSONS.zhaoLei.personNo }),
      lines: (regionCode) => [
        {
          code: items(regionCode, 'B').filter((i) => i.selfPayRatioBp === null)[0].code,
          quantity: 1,
          unitPrice: 20_000,
        },
      ],
      change: async ({ fast, visitId }) => {
        const regionCode = '980100';
        const [current] = await fast.listPolicies(regionCode);
        const visit = await getDb().one<{ d: string }>(sql`select to_char(begin_at at time zone 'Asia/Shanghai',
          'YYYY-MM-DD') as d from core_visit where region_code = ${regionCode} and visit_id = ${visitId}`);
        const doc = current.policy as { version: string; effectiveFrom: string; bClassSelfPayRatioBp: number };
        await fast.createPolicy(regionCode, {
          ...doc,
          version: `T${uid().slice(-8)}`,
          effectiveFrom: visit?.d,
          bClassSelfPayRatioBp: doc.bClassSelfPayRatioBp + 1_000,
        });
      },
    },
  ];
  for (const sc of scenarios)
    test(`settle does not apply the recorded pre-settlement when ${sc.name}: a fresh computation`, async () => {
      const regionCode = sc.regionCode ?? R;
      const fast = new ReferenceCoreZone({ db: getDb(), privacy: TEST_PRIVACY });
      const { personNo, payer } = await sc.who();
      assert.ok(personNo, 'a person for the scenario');
      await firstSettlement(regionCode, personNo); // the accumulator row exists: only the change stands in the way
      const v = await openVisit(fast, {
        regionCode,
        personNo,
        lines: sc.lines?.(regionCode) ?? [{ code: A[0].code, quantity: 1, unitPrice: 3_000 }],
      });
      const base: SettleInput = {
        regionCode,
        visitId: v.visitId,
        useAccount: true,
        ...(payer ? { mutualAidPayerPersonNo: payer } : {}),
      };
      const pre = await fast.preSettle({ ...base, ...sc.pre });
      await sc.change({ fast, visitId: v.visitId, personNo, payer });
      const input = { ...base, ...sc.settle };
      if (input.mutualAidPayerPersonNo === undefined) delete input.mutualAidPayerPersonNo;
      const paths = { ...fast.settlePaths };
      const fresh = new ReferenceCoreZone({ db: getDb(), privacy: TEST_PRIVACY });
      if (sc.refusal) {
        assert.equal(await code(fresh.preSettle(input)), sc.refusal, 'a fresh computation refuses');
        assert.equal(await code(fast.settle({ ...input, requestId: uid() })), sc.refusal);
        assert.equal(fast.settlePaths.presettled, paths.presettled, 'not applied');
        await sc.restore?.({ personNo, payer });
        return;
      }
      const expected = await fresh.preSettle(input);
      const s = await fast.settle({ ...input, requestId: uid() });
      assert.equal(fast.settlePaths.presettled, paths.presettled, 'not applied');
      assert.deepEqual(splitOf(s), splitOf(expected), 'the fresh computation');
      assert.notDeepEqual(splitOf(s), splitOf(pre), 'the change mattered');
      assert.equal(s.fundPayment + s.accountPayment + s.cashPayment, s.total);
      const debited = input.mutualAidPayerPersonNo && s.mutualAidPayment > 0 ? input.mutualAidPayerPersonNo : personNo;
      const bal = await fast.accountBalance(regionCode, debited);
      if (bal.hasAccount && s.accountPayment > 0 && debited === personNo) assert.equal(s.balanceAfter, bal.balance);
      assert.deepEqual((await core.checkLedger(regionCode)).mismatches, []);
    });
});
