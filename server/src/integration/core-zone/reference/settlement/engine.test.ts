import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Accumulators, FeeLine, SettlementInput, SettlementSplit } from './index.ts';
import {
  DEMO_POLICIES,
  MAX_FEN,
  type Policy,
  parsePolicy,
  reverse,
  SettlementError,
  selectPolicy,
  settle,
} from './index.ts';

// ------------------------------------------------------------------------------------------------ fixture policy
// A hand-written test policy (independent of the demo data, so golden cases do not move when the demo changes).
//   310/11 outpatient  ded 100000, ratio L1 9000 L2 8500 L3 8000, ceiling 800000, account: in-scope yes, out-of-scope yes
//   310/21 inpatient   ded L1 30000 L2 60000 L3 100000, ratio 9500/9000/8500, ceiling 30000000, account: in yes, out no
//   310/14 chronic     ded 0, ratio 9000, ceiling 5000000, account: in yes, out no
//   310/41 pharmacy    ded 0, ratio 5000, ceiling 300000, account: in yes, out yes
//   390/11 outpatient  ded 0, ratio 6000/5000/4000, ceiling 200000, no account
//   390/21 inpatient   under60: ded 30000/80000/120000 ratio 8500/7500/6000; age60plus: same ded, 9000/8000/6500
//   B-class default pre-self-pay 1000 bp (10 %). No 390/14 and no 390/41 rule.
const acct = (inScope: boolean, out: boolean) => ({ accountPaysInScopeSelfPart: inScope, accountPaysOutOfScope: out });
const ALL = ['under60', 'age60plus'];
const POLICY: Policy = parsePolicy({
  regionCode: '990100',
  version: 'test-1',
  effectiveFrom: '2025-01-01',
  bClassSelfPayRatioBp: 1000,
  ageBands: [
    { code: 'under60', minAge: 0, maxAge: 59 },
    { code: 'age60plus', minAge: 60, maxAge: 150 },
  ],
  rules: [
    ...[9000, 8500, 8000].map((ratio, i) => ({
      insuranceType: '310',
      medicalType: '11',
      institutionLevels: [i + 1],
      ageBands: ALL,
      accumulatorGroup: 'outpatient',
      deductibleFen: 100_000,
      reimbursementRatioBp: ratio,
      annualCeilingFen: 800_000,
      ...acct(true, true),
    })),
    ...[
      [30_000, 9500],
      [60_000, 9000],
      [100_000, 8500],
    ].map(([ded, ratio], i) => ({
      insuranceType: '310',
      medicalType: '21',
      institutionLevels: [i + 1],
      ageBands: ALL,
      accumulatorGroup: 'inpatient',
      deductibleFen: ded,
      reimbursementRatioBp: ratio,
      annualCeilingFen: 30_000_000,
      ...acct(true, false),
    })),
    {
      insuranceType: '310',
      medicalType: '14',
      institutionLevels: [1, 2, 3],
      ageBands: ALL,
      accumulatorGroup: 'chronic',
      deductibleFen: 0,
      reimbursementRatioBp: 9000,
      annualCeilingFen: 5_000_000,
      ...acct(true, false),
    },
    {
      insuranceType: '310',
      medicalType: '41',
      institutionLevels: [1, 2, 3],
      ageBands: ALL,
      accumulatorGroup: 'pharmacy',
      deductibleFen: 0,
      reimbursementRatioBp: 5000,
      annualCeilingFen: 300_000,
      ...acct(true, true),
    },
    ...[6000, 5000, 4000].map((ratio, i) => ({
      insuranceType: '390',
      medicalType: '11',
      institutionLevels: [i + 1],
      ageBands: ALL,
      accumulatorGroup: 'outpatient',
      deductibleFen: 0,
      reimbursementRatioBp: ratio,
      annualCeilingFen: 200_000,
      ...acct(false, false),
    })),
    ...[
      [30_000, 8500, 9000],
      [80_000, 7500, 8000],
      [120_000, 6000, 6500],
    ].flatMap(([ded, young, old], i) =>
      [
        ['under60', young],
        ['age60plus', old],
      ].map(([band, ratio]) => ({
        insuranceType: '390',
        medicalType: '21',
        institutionLevels: [i + 1],
        ageBands: [band],
        accumulatorGroup: 'inpatient',
        deductibleFen: ded,
        reimbursementRatioBp: ratio,
        annualCeilingFen: 25_000_000,
        ...acct(false, false),
      })),
    ),
  ],
});

const ZERO: Accumulators = { deductiblePaidYtd: 0, fundPaidYtd: 0 };
const a = (code: string, unitPriceFen: number, quantity = 1, extra: Partial<FeeLine> = {}): FeeLine => ({
  code,
  name: code,
  itemClass: 'A',
  unitPriceFen,
  quantity,
  ...extra,
});
const b = (code: string, unitPriceFen: number, quantity = 1, extra: Partial<FeeLine> = {}): FeeLine => ({
  ...a(code, unitPriceFen, quantity, extra),
  itemClass: 'B',
});
const c = (code: string, unitPriceFen: number, quantity = 1, extra: Partial<FeeLine> = {}): FeeLine => ({
  ...a(code, unitPriceFen, quantity, extra),
  itemClass: 'C',
});

function input(over: Partial<SettlementInput>): SettlementInput {
  return {
    policy: POLICY,
    insuranceType: '310',
    medicalType: '11',
    institutionLevel: 1,
    age: 40,
    lines: [],
    accumulators: ZERO,
    accountBalance: 0,
    useAccount: true,
    ...over,
  };
}

type Expected = Partial<
  Pick<
    SettlementSplit,
    | 'total'
    | 'fullySelfPaid'
    | 'overPriceCap'
    | 'preSelfPay'
    | 'inScope'
    | 'deductibleApplied'
    | 'fundPayment'
    | 'accountPayment'
    | 'cashPayment'
    | 'accountBalanceAfter'
    | 'accumulatorsAfter'
    | 'ageBand'
  >
>;

function expectSplit(split: SettlementSplit, expected: Expected): void {
  const actual = Object.fromEntries(Object.keys(expected).map((k) => [k, split[k as keyof SettlementSplit]]));
  assert.deepEqual(actual, expected);
  assert.equal(split.fundPayment + split.accountPayment + split.cashPayment, split.total);
}

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SettlementError, `expected a SettlementError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

// ------------------------------------------------------------------------------------------------ golden cases

describe('golden cases (hand computed)', () => {
  test('G1 employee outpatient L1, deductible already met, A only, account pays the self part', () => {
    // total = 10000 × 2 = 20000, all in scope; deductible remaining = 100000 − 100000 = 0
    // fund = floor(20000 × 9000 / 10000) = 18000; self part = 2000; account 50000 → pays 2000; cash 0
    const s = settle(
      input({
        lines: [a('consult', 10_000, 2)],
        accumulators: { deductiblePaidYtd: 100_000, fundPaidYtd: 0 },
        accountBalance: 50_000,
      }),
    );
    expectSplit(s, {
      total: 20_000,
      inScope: 20_000,
      deductibleApplied: 0,
      fundPayment: 18_000,
      accountPayment: 2_000,
      cashPayment: 0,
      accountBalanceAfter: 48_000,
      accumulatorsAfter: { deductiblePaidYtd: 100_000, fundPaidYtd: 18_000 },
    });
    assert.equal(s.policyVersion, 'test-1');
    assert.equal(s.regionCode, '990100');
  });

  test('G2 employee outpatient L3, deductible partly used', () => {
    // remaining deductible = 100000 − 95000 = 5000; in scope 12000 → deductible applied 5000
    // fund = floor((12000 − 5000) × 8000 / 10000) = 5600; self = 12000 − 5600 = 6400 → account; cash 0
    const s = settle(
      input({
        institutionLevel: 3,
        lines: [a('xray', 12_000)],
        accumulators: { deductiblePaidYtd: 95_000, fundPaidYtd: 0 },
        accountBalance: 100_000,
      }),
    );
    expectSplit(s, {
      total: 12_000,
      deductibleApplied: 5_000,
      fundPayment: 5_600,
      accountPayment: 6_400,
      cashPayment: 0,
      accountBalanceAfter: 93_600,
      accumulatorsAfter: { deductiblePaidYtd: 100_000, fundPaidYtd: 5_600 },
    });
  });

  test('G3 employee outpatient L2, B lines with round-half-up pre-self-pay, account runs out on the out-of-scope part', () => {
    // b1: 3333 × 3 = 9999; pre-self-pay = roundHalfUp(9999 × 1000 / 10000 = 999.9) = 1000; in scope 8999
    // b2: 105 × 1; pre-self-pay = roundHalfUp(10.5) = 11; in scope 94
    // a1: 4907 in scope
    // total 15011; pre-self-pay 1011; in scope 8999 + 94 + 4907 = 14000; deductible met
    // fund = floor(14000 × 8500 / 10000) = 11900; in-scope self 2100; out of scope 1011
    // account 2500: pays 2100 in scope, then min(400, 1011) = 400 out of scope → 2500; cash = 611
    const s = settle(
      input({
        institutionLevel: 2,
        lines: [b('b1', 3333, 3), b('b2', 105), a('a1', 4907)],
        accumulators: { deductiblePaidYtd: 100_000, fundPaidYtd: 0 },
        accountBalance: 2_500,
      }),
    );
    expectSplit(s, {
      total: 15_011,
      preSelfPay: 1_011,
      inScope: 14_000,
      fundPayment: 11_900,
      accountPayment: 2_500,
      cashPayment: 611,
      accountBalanceAfter: 0,
    });
    assert.deepEqual(
      s.lines.map((l) => [l.preSelfPay, l.inScope]),
      [
        [1000, 8999],
        [11, 94],
        [0, 4907],
      ],
    );
    assert.equal(s.accountPaymentInScope, 2_100);
    assert.equal(s.accountPaymentOutOfScope, 400);
  });

  test('G4 employee inpatient L2, B line over its price cap with its own 20 % ratio', () => {
    // stent: 12000 × 2 = 24000; over cap (12000 − 10000) × 2 = 4000; base 20000; pre-self-pay 20000 × 20 % = 4000;
    //        in scope 16000. bed: 100000 in scope. total 124000; in scope 116000
    // deductible 60000 (none used) → applied 60000; fund = floor(56000 × 9000 / 10000) = 50400
    // in-scope self = 116000 − 50400 = 65600 → account (balance 1000000); out of scope 8000 → inpatient account
    // may not pay it → cash 8000
    const s = settle(
      input({
        medicalType: '21',
        institutionLevel: 2,
        lines: [b('stent', 12_000, 2, { priceCapFen: 10_000, selfPayRatioBp: 2000 }), a('bed', 100_000)],
        accountBalance: 1_000_000,
      }),
    );
    expectSplit(s, {
      total: 124_000,
      overPriceCap: 4_000,
      preSelfPay: 4_000,
      inScope: 116_000,
      deductibleApplied: 60_000,
      fundPayment: 50_400,
      accountPayment: 65_600,
      cashPayment: 8_000,
      accountBalanceAfter: 934_400,
      accumulatorsAfter: { deductiblePaidYtd: 60_000, fundPaidYtd: 50_400 },
    });
  });

  test('G5 resident outpatient L1, A + C, no personal account for residents, cap on a C line ignored', () => {
    // total 5000 + 3000 = 8000; C → fully self-paid 3000 (cap not applied); in scope 5000; no deductible
    // fund = 5000 × 60 % = 3000; rule forbids account → account 0 although useAccount; cash = 2000 + 3000 = 5000
    const s = settle(
      input({
        insuranceType: '390',
        lines: [a('consult', 5_000), c('vitamins', 3_000, 1, { priceCapFen: 1_000 })],
        accountBalance: 10_000,
      }),
    );
    expectSplit(s, {
      total: 8_000,
      fullySelfPaid: 3_000,
      overPriceCap: 0,
      inScope: 5_000,
      fundPayment: 3_000,
      accountPayment: 0,
      cashPayment: 5_000,
      accountBalanceAfter: 10_000,
    });
  });

  test('G6 ceiling almost reached, then reached', () => {
    // headroom = 800000 − 799000 = 1000; raw fund = 10000 × 90 % = 9000 → capped 1000; self 9000; no account → cash
    const first = settle(
      input({
        lines: [a('mri', 10_000)],
        accumulators: { deductiblePaidYtd: 100_000, fundPaidYtd: 799_000 },
        useAccount: false,
        accountBalance: 50_000,
      }),
    );
    expectSplit(first, {
      fundPayment: 1_000,
      cashPayment: 9_000,
      accountPayment: 0,
      accumulatorsAfter: { deductiblePaidYtd: 100_000, fundPaidYtd: 800_000 },
    });
    // headroom 0 → fund 0; everything cash
    const second = settle(
      input({ lines: [a('mri', 10_000)], accumulators: first.accumulatorsAfter, useAccount: false }),
    );
    expectSplit(second, { fundPayment: 0, cashPayment: 10_000 });
  });

  test('G7 deductible swallows the visit and the account is insufficient', () => {
    // in scope 30000 ≤ remaining deductible 100000 → applied 30000; fund 0; self 30000
    // account 12345 → pays 12345; cash 30000 − 12345 = 17655
    const s = settle(input({ lines: [a('ct', 30_000)], accountBalance: 12_345 }));
    expectSplit(s, {
      deductibleApplied: 30_000,
      fundPayment: 0,
      accountPayment: 12_345,
      cashPayment: 17_655,
      accountBalanceAfter: 0,
      accumulatorsAfter: { deductiblePaidYtd: 30_000, fundPaidYtd: 0 },
    });
  });

  test('G8 inpatient L1: account may not pay the out-of-scope part', () => {
    // in scope 50000, deductible 30000; fund = floor(20000 × 9500 / 10000) = 19000; in-scope self 31000 → account
    // C 20000 → cash 20000 although the balance (100000) would cover it
    const s = settle(
      input({ medicalType: '21', lines: [a('surgery', 50_000), c('single-room', 20_000)], accountBalance: 100_000 }),
    );
    expectSplit(s, {
      total: 70_000,
      fullySelfPaid: 20_000,
      deductibleApplied: 30_000,
      fundPayment: 19_000,
      accountPayment: 31_000,
      cashPayment: 20_000,
      accountBalanceAfter: 69_000,
    });
  });

  test('G9 useAccount = false leaves the balance untouched', () => {
    // as G1: fund 18000, self 2000 → all cash
    const s = settle(
      input({
        lines: [a('consult', 10_000, 2)],
        accumulators: { deductiblePaidYtd: 100_000, fundPaidYtd: 0 },
        accountBalance: 50_000,
        useAccount: false,
      }),
    );
    expectSplit(s, { fundPayment: 18_000, accountPayment: 0, cashPayment: 2_000, accountBalanceAfter: 50_000 });
  });

  test('G10 zero-fee line next to a normal line (chronic, L2)', () => {
    // free consult 0 × 1 → all parts 0; drug 2500 × 4 = 10000 in scope; no deductible
    // fund = 10000 × 90 % = 9000; self 1000; account 500 → 500; cash 500
    const s = settle(
      input({
        medicalType: '14',
        institutionLevel: 2,
        lines: [a('consult', 0), a('drug', 2_500, 4)],
        accountBalance: 500,
      }),
    );
    expectSplit(s, { total: 10_000, inScope: 10_000, fundPayment: 9_000, accountPayment: 500, cashPayment: 500 });
    assert.deepEqual(
      [s.lines[0].amount, s.lines[0].inScope, s.lines[0].preSelfPay, s.lines[0].overPriceCap, s.lines[0].fullySelfPaid],
      [0, 0, 0, 0, 0],
    );
    // a visit made only of free lines settles to all zeros
    const free = settle(input({ medicalType: '14', lines: [a('consult', 0), b('form', 0)], accountBalance: 500 }));
    expectSplit(free, { total: 0, fundPayment: 0, accountPayment: 0, cashPayment: 0, accountBalanceAfter: 500 });
  });

  test('G11 age band switch at 60 (resident inpatient L2)', () => {
    // in scope 200000, deductible 80000, base 120000
    // age 59 → under60, 7500: fund 90000, cash 110000; age 60 → age60plus, 8000: fund 96000, cash 104000
    const at = (age: number) =>
      settle(input({ insuranceType: '390', medicalType: '21', institutionLevel: 2, age, lines: [a('stay', 200_000)] }));
    expectSplit(at(59), { ageBand: 'under60', deductibleApplied: 80_000, fundPayment: 90_000, cashPayment: 110_000 });
    expectSplit(at(60), { ageBand: 'age60plus', deductibleApplied: 80_000, fundPayment: 96_000, cashPayment: 104_000 });
  });

  test('G12 pharmacy purchase (41), employee, A + B + C, account pays everything it may', () => {
    // A 4000; B 2000 → pre-self-pay 200, in scope 1800; C 1000. total 7000; in scope 5800; no deductible
    // fund = 5800 × 50 % = 2900; in-scope self 2900; out of scope 1200; account 100000 → 4100; cash 0
    const s = settle(
      input({
        medicalType: '41',
        lines: [a('amlodipine', 4_000), b('ointment', 2_000), c('supplement', 1_000)],
        accountBalance: 100_000,
      }),
    );
    expectSplit(s, {
      total: 7_000,
      fullySelfPaid: 1_000,
      preSelfPay: 200,
      inScope: 5_800,
      fundPayment: 2_900,
      accountPayment: 4_100,
      cashPayment: 0,
      accountBalanceAfter: 95_900,
    });
  });

  test('G13 fund share is floored (resident outpatient L3, 40 %)', () => {
    // fund = floor(9999 × 4000 / 10000) = floor(3999.6) = 3999; cash 6000
    const s = settle(input({ insuranceType: '390', institutionLevel: 3, lines: [a('consult', 9_999)] }));
    expectSplit(s, { fundPayment: 3_999, cashPayment: 6_000 });
  });

  test('G14 A line over its price cap, chronic L2, tiny balance', () => {
    // 1500 × 3 = 4500; over cap (1500 − 1200) × 3 = 900; in scope 3600; fund 3600 × 90 % = 3240
    // in-scope self 360; account 100 → pays 100; out-of-scope not allowed; cash 260 + 900 = 1160
    const s = settle(
      input({
        medicalType: '14',
        institutionLevel: 2,
        lines: [a('insulin', 1_500, 3, { priceCapFen: 1_200 })],
        accountBalance: 100,
      }),
    );
    expectSplit(s, {
      total: 4_500,
      overPriceCap: 900,
      inScope: 3_600,
      fundPayment: 3_240,
      accountPayment: 100,
      cashPayment: 1_160,
      accountBalanceAfter: 0,
    });
  });

  test('G15 deductible carried across two visits', () => {
    // visit 1: in scope 60000 → deductible 60000, fund 0, cash 60000
    // visit 2: remaining 40000 → deductible 40000; fund = floor(20000 × 90 %) = 18000; cash 42000
    const v1 = settle(input({ lines: [a('x', 60_000)], useAccount: false }));
    const v2 = settle(input({ lines: [a('x', 60_000)], useAccount: false, accumulators: v1.accumulatorsAfter }));
    expectSplit(v1, { deductibleApplied: 60_000, fundPayment: 0, cashPayment: 60_000 });
    expectSplit(v2, {
      deductibleApplied: 40_000,
      fundPayment: 18_000,
      cashPayment: 42_000,
      accumulatorsAfter: { deductiblePaidYtd: 100_000, fundPaidYtd: 18_000 },
    });
    // reversing visit 1 after visit 2 gives back exactly visit 1's contribution: {100000 − 60000, 18000 − 0}
    assert.deepEqual(reverse(v1, v2.accumulatorsAfter, 0), {
      accumulators: { deductiblePaidYtd: 40_000, fundPaidYtd: 18_000 },
      accountBalance: 0,
    });
  });

  test('G16 reversal restores account and accumulators', () => {
    // G7: after = {30000, 0}, balance 0; reversal → {0, 0}, balance 12345
    const s = settle(input({ lines: [a('ct', 30_000)], accountBalance: 12_345 }));
    assert.deepEqual(reverse(s, s.accumulatorsAfter, s.accountBalanceAfter), {
      accumulators: ZERO,
      accountBalance: 12_345,
    });
  });

  test('G17 demo region 980100: employee outpatient L3 adult, 15 % B default, no account for out-of-scope', () => {
    // B 10000 → pre-self-pay 1500, in scope 8500; deductible met; fund = floor(8500 × 7000 / 10000) = 5950
    // in-scope self 2550 → account; out of scope 1500 → cash
    const policy = selectPolicy(DEMO_POLICIES, '980100', '2025-03-15');
    const s = settle(
      input({
        policy,
        institutionLevel: 3,
        lines: [b('physio', 10_000)],
        accumulators: { deductiblePaidYtd: 150_000, fundPaidYtd: 0 },
        accountBalance: 100_000,
      }),
    );
    expectSplit(s, { preSelfPay: 1_500, fundPayment: 5_950, accountPayment: 2_550, cashPayment: 1_500 });
    assert.equal(s.policyVersion, '2024.2');
    assert.equal(s.ageBand, 'adult');
  });
});

// ------------------------------------------------------------------------------------------------ properties

const bp = fc.integer({ min: 0, max: 10_000 });
const terms = fc.record({
  deductibleFen: fc.integer({ min: 0, max: 500_000 }),
  reimbursementRatioBp: bp,
  annualCeilingFen: fc.integer({ min: 0, max: 2_000_000 }),
  accountPaysInScopeSelfPart: fc.boolean(),
  accountPaysOutOfScope: fc.boolean(),
});

/** A random valid policy: two age bands split at a random age, one 310/11 rule per level × band. */
const policyArb = fc
  .record({
    splitAge: fc.integer({ min: 1, max: 150 }),
    bDefault: bp,
    rules: fc.array(terms, { minLength: 6, maxLength: 6 }),
  })
  .map(({ splitAge, bDefault, rules }) =>
    parsePolicy({
      regionCode: '990100',
      version: 'prop',
      effectiveFrom: '2025-01-01',
      bClassSelfPayRatioBp: bDefault,
      ageBands: [
        { code: 'young', minAge: 0, maxAge: splitAge - 1 },
        { code: 'old', minAge: splitAge, maxAge: 150 },
      ],
      rules: rules.map((t, i) => ({
        insuranceType: '310',
        medicalType: '11',
        institutionLevels: [(i % 3) + 1],
        ageBands: [i < 3 ? 'young' : 'old'],
        accumulatorGroup: 'outpatient',
        ...t,
      })),
    }),
  );

function lineArb(maxPrice: number, maxQuantity: number): fc.Arbitrary<FeeLine> {
  return fc
    .record({
      itemClass: fc.constantFrom('A', 'B', 'C') as fc.Arbitrary<'A' | 'B' | 'C'>,
      unitPriceFen: fc.integer({ min: 0, max: maxPrice }),
      quantity: fc.integer({ min: 1, max: maxQuantity }),
      ratio: fc.option(bp, { nil: undefined }),
      cap: fc.option(fc.integer({ min: 0, max: maxPrice }), { nil: undefined }),
    })
    .map(({ itemClass, unitPriceFen, quantity, ratio, cap }) => ({
      code: 'L',
      name: 'line',
      itemClass,
      unitPriceFen,
      quantity,
      ...(itemClass === 'B' && ratio !== undefined ? { selfPayRatioBp: ratio } : {}),
      ...(cap !== undefined ? { priceCapFen: cap } : {}),
    }));
}

const accumulatorsArb = fc.record({
  deductiblePaidYtd: fc.integer({ min: 0, max: 600_000 }),
  fundPaidYtd: fc.integer({ min: 0, max: 2_500_000 }),
});

function scenarioArb(maxPrice = 200_000, maxQuantity = 20): fc.Arbitrary<SettlementInput> {
  return fc.record({
    policy: policyArb,
    insuranceType: fc.constant('310' as const),
    medicalType: fc.constant('11' as const),
    institutionLevel: fc.constantFrom(1 as const, 2 as const, 3 as const),
    age: fc.integer({ min: 0, max: 150 }),
    lines: fc.array(lineArb(maxPrice, maxQuantity), { minLength: 1, maxLength: 8 }),
    accumulators: accumulatorsArb,
    accountBalance: fc.integer({ min: 0, max: 1_000_000 }),
    useAccount: fc.boolean(),
  });
}

function checkShape(s: SettlementSplit, x: SettlementInput): void {
  const money = [
    s.total,
    s.fullySelfPaid,
    s.overPriceCap,
    s.preSelfPay,
    s.inScope,
    s.deductibleApplied,
    s.fundPayment,
    s.accountPayment,
    s.cashPayment,
    s.accountBalanceAfter,
  ];
  for (const v of money) assert.ok(Number.isSafeInteger(v) && v >= 0, `part ${v}`);
  assert.equal(s.fundPayment + s.accountPayment + s.cashPayment, s.total);
  assert.equal(s.inScope + s.fullySelfPaid + s.overPriceCap + s.preSelfPay, s.total);
  assert.equal(
    s.lines.reduce((t, l) => t + l.amount, 0),
    s.total,
  );
  const rule = x.policy.rules.find(
    (r) => r.institutionLevels.includes(x.institutionLevel) && r.ageBands.includes(s.ageBand),
  )!;
  const headroom = Math.max(0, rule.annualCeilingFen - x.accumulators.fundPaidYtd);
  assert.ok(s.fundPayment <= headroom, 'fund within ceiling headroom');
  assert.ok(s.accumulatorsAfter.fundPaidYtd <= Math.max(rule.annualCeilingFen, x.accumulators.fundPaidYtd));
  assert.ok(s.accountPayment <= x.accountBalance, 'account within balance');
  if (!x.useAccount) assert.equal(s.accountPayment, 0);
  if (!rule.accountPaysOutOfScope) assert.equal(s.accountPaymentOutOfScope, 0);
  if (!rule.accountPaysInScopeSelfPart) assert.equal(s.accountPaymentInScope, 0);
  assert.ok(s.fundPayment <= s.inScope - s.deductibleApplied);
}

describe('properties', () => {
  test('split sums to total, parts ≥ 0, fund ≤ ceiling headroom, account ≤ balance', () => {
    fc.assert(
      fc.property(scenarioArb(), (x) => checkShape(settle(x), x)),
      { numRuns: 500 },
    );
  });

  test('the same holds with amounts near the safe-integer bound', () => {
    fc.assert(
      fc.property(scenarioArb(10_000_000_000, 10), (x) => checkShape(settle(x), x)),
      { numRuns: 300 },
    );
  });

  test('deductible is never counted twice over sequential settlements', () => {
    fc.assert(
      fc.property(
        scenarioArb(),
        fc.array(fc.array(lineArb(100_000, 5), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }),
        (x, later) => {
          let state = x.accumulators;
          let balance = x.accountBalance;
          let deductibleSum = 0;
          let inScopeSum = 0;
          let fundSum = 0;
          for (const lines of [x.lines, ...later]) {
            const s = settle({ ...x, lines, accumulators: state, accountBalance: balance });
            checkShape(s, { ...x, lines, accumulators: state, accountBalance: balance });
            deductibleSum += s.deductibleApplied;
            inScopeSum += s.inScope;
            fundSum += s.fundPayment;
            state = s.accumulatorsAfter;
            balance = s.accountBalanceAfter;
          }
          const rule = settle(x);
          const remaining = Math.max(0, rule.deductibleFen - x.accumulators.deductiblePaidYtd);
          assert.equal(deductibleSum, Math.min(remaining, inScopeSum));
          assert.ok(fundSum <= Math.max(0, rule.annualCeilingFen - x.accumulators.fundPaidYtd));
          assert.deepEqual(state, {
            deductiblePaidYtd: x.accumulators.deductiblePaidYtd + deductibleSum,
            fundPaidYtd: x.accumulators.fundPaidYtd + fundSum,
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  test('reverse(settle(x)) restores balance and accumulators, also in LIFO order over a sequence', () => {
    fc.assert(
      fc.property(scenarioArb(), fc.array(lineArb(100_000, 5), { minLength: 1, maxLength: 4 }), (x, lines2) => {
        const s1 = settle(x);
        assert.deepEqual(reverse(s1, s1.accumulatorsAfter, s1.accountBalanceAfter), {
          accumulators: { ...x.accumulators },
          accountBalance: x.accountBalance,
        });
        const s2 = settle({
          ...x,
          lines: lines2,
          accumulators: s1.accumulatorsAfter,
          accountBalance: s1.accountBalanceAfter,
        });
        const back2 = reverse(s2, s2.accumulatorsAfter, s2.accountBalanceAfter);
        const back1 = reverse(s1, back2.accumulators, back2.accountBalance);
        assert.deepEqual(back1, { accumulators: { ...x.accumulators }, accountBalance: x.accountBalance });
      }),
      { numRuns: 300 },
    );
  });
});

// ------------------------------------------------------------------------------------------------ bad input

describe('bad input throws the right code', () => {
  const ok = input({ lines: [a('x', 100)] });
  const withLine = (line: Partial<FeeLine>) => () => settle({ ...ok, lines: [{ ...a('x', 100), ...line }] });

  test('CORE_INVALID_AMOUNT', () => {
    expectCode(withLine({ unitPriceFen: -1 }), 'CORE_INVALID_AMOUNT');
    expectCode(withLine({ unitPriceFen: 1.5 }), 'CORE_INVALID_AMOUNT');
    expectCode(withLine({ unitPriceFen: Number.NaN }), 'CORE_INVALID_AMOUNT');
    expectCode(withLine({ unitPriceFen: Number.MAX_SAFE_INTEGER }), 'CORE_INVALID_AMOUNT');
    expectCode(withLine({ unitPriceFen: MAX_FEN, quantity: 2 }), 'CORE_INVALID_AMOUNT');
    expectCode(withLine({ priceCapFen: -5 }), 'CORE_INVALID_AMOUNT');
    expectCode(() => settle({ ...ok, lines: [a('x', MAX_FEN), a('y', 1)] }), 'CORE_INVALID_AMOUNT');
    expectCode(() => settle({ ...ok, accountBalance: -1 }), 'CORE_INVALID_AMOUNT');
    expectCode(
      () => settle({ ...ok, accumulators: { deductiblePaidYtd: 0.5, fundPaidYtd: 0 } }),
      'CORE_INVALID_AMOUNT',
    );
    expectCode(() => settle({ ...ok, accumulators: { deductiblePaidYtd: 0, fundPaidYtd: -3 } }), 'CORE_INVALID_AMOUNT');
    // the largest legal single line settles fine
    assert.equal(settle({ ...ok, lines: [a('x', MAX_FEN)] }).total, MAX_FEN);
  });

  test('CORE_INVALID_QUANTITY', () => {
    expectCode(withLine({ quantity: 0 }), 'CORE_INVALID_QUANTITY');
    expectCode(withLine({ quantity: 1.5 }), 'CORE_INVALID_QUANTITY');
    expectCode(withLine({ quantity: -2 }), 'CORE_INVALID_QUANTITY');
  });

  test('CORE_INVALID_RATIO', () => {
    expectCode(withLine({ itemClass: 'B', selfPayRatioBp: 10_001 }), 'CORE_INVALID_RATIO');
    expectCode(withLine({ itemClass: 'B', selfPayRatioBp: 0.1 }), 'CORE_INVALID_RATIO');
    expectCode(withLine({ itemClass: 'A', selfPayRatioBp: 500 }), 'CORE_INVALID_RATIO');
    expectCode(withLine({ itemClass: 'C', selfPayRatioBp: 0 }), 'CORE_INVALID_RATIO');
    // consistent values from a 2204 response are accepted
    assert.equal(settle({ ...ok, lines: [a('x', 100, 1, { selfPayRatioBp: 0 })] }).inScope, 100);
    assert.equal(settle({ ...ok, lines: [c('x', 100, 1, { selfPayRatioBp: 10_000 })] }).fullySelfPaid, 100);
  });

  test('CORE_UNKNOWN_ITEM_CLASS', () => {
    expectCode(withLine({ itemClass: 'D' as 'A' }), 'CORE_UNKNOWN_ITEM_CLASS');
    expectCode(withLine({ itemClass: 'a' as 'A' }), 'CORE_UNKNOWN_ITEM_CLASS');
  });

  test('CORE_EMPTY_FEE_LIST, CORE_INVALID_AGE', () => {
    expectCode(() => settle({ ...ok, lines: [] }), 'CORE_EMPTY_FEE_LIST');
    expectCode(() => settle({ ...ok, age: -1 }), 'CORE_INVALID_AGE');
    expectCode(() => settle({ ...ok, age: 40.5 }), 'CORE_INVALID_AGE');
    expectCode(() => settle({ ...ok, age: 151 }), 'CORE_INVALID_AGE');
  });

  test('CORE_NO_POLICY_RULE names the key', () => {
    expectCode(() => settle({ ...ok, insuranceType: '390', medicalType: '41' }), 'CORE_NO_POLICY_RULE');
    expectCode(() => settle({ ...ok, institutionLevel: 4 as 1 }), 'CORE_NO_POLICY_RULE');
    expectCode(() => settle({ ...ok, insuranceType: '320' as '310' }), 'CORE_NO_POLICY_RULE');
    assert.throws(() => settle({ ...ok, insuranceType: '390', medicalType: '14' }), /390 × medicalType 14 × level 1/);
  });

  test('CORE_REVERSAL_MISMATCH', () => {
    const s = settle(input({ lines: [a('x', 200_000)], accumulators: ZERO, accountBalance: 0 }));
    expectCode(() => reverse(s, ZERO, 0), 'CORE_REVERSAL_MISMATCH');
    expectCode(
      () => reverse({ ...s, cashPayment: s.cashPayment + 1 }, s.accumulatorsAfter, 0),
      'CORE_REVERSAL_MISMATCH',
    );
    expectCode(() => reverse(s, s.accumulatorsAfter, -1), 'CORE_INVALID_AMOUNT');
  });
});
