import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Policy } from './index.ts';
import {
  DEMO_POLICIES,
  findRule,
  INSTITUTION_LEVELS,
  INSURANCE_TYPES,
  InvalidPolicyError,
  MEDICAL_TYPES,
  parsePolicies,
  parsePolicy,
  SettlementError,
  selectPolicy,
} from './index.ts';

const base = (): Policy => ({
  regionCode: '990100',
  version: 'v1',
  effectiveFrom: '2024-01-01',
  bClassSelfPayRatioBp: 1000,
  ageBands: [
    { code: 'young', minAge: 0, maxAge: 59 },
    { code: 'old', minAge: 60, maxAge: 150 },
  ],
  rules: [
    {
      insuranceType: '310',
      medicalType: '11',
      institutionLevels: [1, 2, 3],
      ageBands: ['young', 'old'],
      accumulatorGroup: 'outpatient',
      deductibleFen: 100_000,
      reimbursementRatioBp: 9000,
      annualCeilingFen: 800_000,
      accountPaysInScopeSelfPart: true,
      accountPaysOutOfScope: false,
    },
  ],
});

function issuesOf(input: unknown): string {
  try {
    parsePolicy(input);
  } catch (e) {
    assert.ok(e instanceof InvalidPolicyError);
    assert.equal(e.code, 'CORE_INVALID_POLICY');
    return e.issues.join('\n');
  }
  assert.fail('expected CORE_INVALID_POLICY');
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SettlementError);
    return e.code;
  }
  assert.fail('expected a SettlementError');
}

describe('policy validation', () => {
  test('a valid policy parses unchanged', () => {
    assert.deepEqual(parsePolicy(base()), base());
  });

  test('ratios are integer basis points 0..10000, money is non-negative integer fen', () => {
    const p = base();
    assert.match(issuesOf({ ...p, rules: [{ ...p.rules[0], reimbursementRatioBp: 0.9 }] }), /reimbursementRatioBp/);
    assert.match(issuesOf({ ...p, rules: [{ ...p.rules[0], reimbursementRatioBp: 10_001 }] }), /reimbursementRatioBp/);
    assert.match(issuesOf({ ...p, bClassSelfPayRatioBp: -1 }), /bClassSelfPayRatioBp/);
    assert.match(issuesOf({ ...p, rules: [{ ...p.rules[0], deductibleFen: -100 }] }), /deductibleFen/);
    assert.match(issuesOf({ ...p, rules: [{ ...p.rules[0], annualCeilingFen: 1000.5 }] }), /annualCeilingFen/);
  });

  test('identity fields', () => {
    assert.match(issuesOf({ ...base(), regionCode: '99010' }), /regionCode/);
    assert.match(issuesOf({ ...base(), effectiveFrom: '2024-02-30' }), /effectiveFrom/);
    assert.match(issuesOf({ ...base(), version: '' }), /version/);
    assert.match(issuesOf({ ...base(), extra: 1 }), /extra/);
  });

  test('age bands must cover 0..150 without gaps or overlaps', () => {
    const gap = { ...base(), ageBands: [base().ageBands[0], { code: 'old', minAge: 61, maxAge: 150 }] };
    assert.match(issuesOf(gap), /gap at age 60/);
    const overlap = { ...base(), ageBands: [base().ageBands[0], { code: 'old', minAge: 59, maxAge: 150 }] };
    assert.match(issuesOf(overlap), /overlap at age 59/);
    const short = { ...base(), ageBands: [base().ageBands[0], { code: 'old', minAge: 60, maxAge: 99 }] };
    assert.match(issuesOf(short), /must end at 150/);
    const inverted = { ...base(), ageBands: [{ code: 'all', minAge: 150, maxAge: 0 }] };
    assert.match(issuesOf(inverted), /minAge > maxAge/);
  });

  test('rules: unknown age band, unknown types, key covered twice', () => {
    const p = base();
    assert.match(issuesOf({ ...p, rules: [{ ...p.rules[0], ageBands: ['kids'] }] }), /unknown age band kids/);
    assert.match(issuesOf({ ...p, rules: [{ ...p.rules[0], insuranceType: '320' }] }), /insuranceType/);
    assert.match(issuesOf({ ...p, rules: [{ ...p.rules[0], institutionLevels: [4] }] }), /institutionLevels/);
    const twice = { ...p, rules: [p.rules[0], { ...p.rules[0], institutionLevels: [2], ageBands: ['old'] }] };
    assert.match(issuesOf(twice), /level 2 × ageBand old also covered by rules\[0\]/);
  });

  test('findRule picks by level and age band', () => {
    const p = base();
    const key = { insuranceType: '310', medicalType: '11', institutionLevel: 2 };
    assert.equal(findRule(p, { ...key, age: 59 }).ageBand, 'young');
    assert.equal(findRule(p, { ...key, age: 60 }).ageBand, 'old');
    assert.equal(
      codeOf(() => findRule(p, { ...key, medicalType: '21', age: 30 })),
      'CORE_NO_POLICY_RULE',
    );
  });
});

describe('selectPolicy', () => {
  const v1 = base();
  const v2: Policy = { ...base(), version: 'v2', effectiveFrom: '2025-01-01' };
  const other: Policy = { ...base(), regionCode: '980100', version: 'x', effectiveFrom: '2020-01-01' };
  const all = parsePolicies([v2, v1, other]);

  test('picks the latest version in force on the date', () => {
    assert.equal(selectPolicy(all, '990100', '2024-12-31').version, 'v1');
    assert.equal(selectPolicy(all, '990100', '2025-01-01').version, 'v2');
    assert.equal(selectPolicy(all, '990100', '2030-06-01').version, 'v2');
    assert.equal(selectPolicy(all, '980100', '2024-12-31').version, 'x');
  });

  test('errors', () => {
    assert.equal(
      codeOf(() => selectPolicy(all, '990100', '2023-12-31')),
      'CORE_NO_POLICY_IN_FORCE',
    );
    assert.equal(
      codeOf(() => selectPolicy(all, '970100', '2025-01-01')),
      'CORE_NO_POLICY_IN_FORCE',
    );
    assert.equal(
      codeOf(() => selectPolicy(all, '990100', '2025-13-01')),
      'CORE_INVALID_DATE',
    );
    assert.equal(
      codeOf(() => selectPolicy(all, '990100', '2025-1-1')),
      'CORE_INVALID_DATE',
    );
    const tie = [v1, { ...v1, version: 'v1b' }];
    assert.equal(
      codeOf(() => selectPolicy(tie, '990100', '2025-01-01')),
      'CORE_INVALID_POLICY',
    );
    assert.equal(
      codeOf(() => parsePolicies(tie)),
      'CORE_INVALID_POLICY',
    );
    assert.equal(
      codeOf(() => parsePolicies([v1, { ...v1, effectiveFrom: '2026-01-01' }])),
      'CORE_INVALID_POLICY',
    );
  });
});

describe('demo policies', () => {
  test('two regions, each resolving every type × medical type × level × age 0..150', () => {
    assert.deepEqual(DEMO_POLICIES.map((p) => p.regionCode).sort(), ['980100', '990100']);
    for (const policy of DEMO_POLICIES) {
      for (const insuranceType of INSURANCE_TYPES) {
        for (const medicalType of MEDICAL_TYPES) {
          for (const institutionLevel of INSTITUTION_LEVELS) {
            for (let age = 0; age <= 150; age++)
              findRule(policy, { insuranceType, medicalType, institutionLevel, age });
          }
        }
      }
    }
  });

  test('realistic shape: employees better covered than residents, level 3 pays less than level 1', () => {
    for (const policy of DEMO_POLICIES) {
      const rule = (insuranceType: string, medicalType: string, institutionLevel: number) =>
        findRule(policy, { insuranceType, medicalType, institutionLevel, age: 40 });
      for (const medicalType of ['11', '21']) {
        assert.ok(rule('310', medicalType, 1).reimbursementRatioBp > rule('310', medicalType, 3).reimbursementRatioBp);
        assert.ok(rule('390', medicalType, 1).reimbursementRatioBp > rule('390', medicalType, 3).reimbursementRatioBp);
        for (const level of [1, 2, 3]) {
          assert.ok(
            rule('310', medicalType, level).reimbursementRatioBp > rule('390', medicalType, level).reimbursementRatioBp,
          );
        }
      }
      assert.equal(rule('390', '11', 1).accountPaysInScopeSelfPart, false);
    }
  });
});
