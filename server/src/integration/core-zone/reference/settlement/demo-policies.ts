/**
 * Two synthetic demo regions (not real GB/T 2260 codes): 990100 (demo province 99, city 01) and 980100 (demo
 * province 98, city 01). Parameters are plausible but invented; 980100 is noticeably less generous.
 * Amounts in fen (100000 fen = 1000 yuan), ratios in basis points (9000 = 90 %).
 *
 * Written as plain data; `rule()` only fills the fields shared by a rule family. Both are validated at load.
 */

import type { InsuranceType, MedicalType, Policy, PolicyRule } from './policy.ts';
import { parsePolicies } from './policy.ts';

type Terms = Pick<PolicyRule, 'deductibleFen' | 'reimbursementRatioBp' | 'annualCeilingFen'>;
type Family = Omit<PolicyRule, 'institutionLevels' | 'ageBands' | keyof Terms>;

function rule(family: Family, institutionLevels: PolicyRule['institutionLevels'], ageBands: string[], terms: Terms) {
  return { ...family, institutionLevels, ageBands, ...terms } satisfies PolicyRule;
}

function family(
  insuranceType: InsuranceType,
  medicalType: MedicalType,
  accumulatorGroup: string,
  accountPaysInScopeSelfPart: boolean,
  accountPaysOutOfScope: boolean,
): Family {
  return { insuranceType, medicalType, accumulatorGroup, accountPaysInScopeSelfPart, accountPaysOutOfScope };
}

// ---- 990100: two age bands; employees' account may pay everything; residents have no personal account ----
const e1 = family('310', '11', 'outpatient', true, true);
const e2 = family('310', '21', 'inpatient', true, false);
const e3 = family('310', '14', 'chronic', true, false);
const e4 = family('310', '41', 'pharmacy', true, true);
const r1 = family('390', '11', 'outpatient', false, false);
const r2 = family('390', '21', 'inpatient', false, false);
const r3 = family('390', '14', 'chronic', false, false);
const r4 = family('390', '41', 'pharmacy', false, false);
const U = ['under60'];
const O = ['age60plus'];
const ALL = ['under60', 'age60plus'];

const demo990100: Policy = {
  regionCode: '990100',
  version: '2025.1',
  effectiveFrom: '2025-01-01',
  bClassSelfPayRatioBp: 1000,
  ageBands: [
    { code: 'under60', minAge: 0, maxAge: 59 },
    { code: 'age60plus', minAge: 60, maxAge: 150 },
  ],
  rules: [
    rule(e1, [1], U, { deductibleFen: 100_000, reimbursementRatioBp: 9000, annualCeilingFen: 800_000 }),
    rule(e1, [2], U, { deductibleFen: 100_000, reimbursementRatioBp: 8500, annualCeilingFen: 800_000 }),
    rule(e1, [3], U, { deductibleFen: 100_000, reimbursementRatioBp: 8000, annualCeilingFen: 800_000 }),
    rule(e1, [1], O, { deductibleFen: 80_000, reimbursementRatioBp: 9500, annualCeilingFen: 1_000_000 }),
    rule(e1, [2], O, { deductibleFen: 80_000, reimbursementRatioBp: 9000, annualCeilingFen: 1_000_000 }),
    rule(e1, [3], O, { deductibleFen: 80_000, reimbursementRatioBp: 8500, annualCeilingFen: 1_000_000 }),
    rule(e2, [1], U, { deductibleFen: 30_000, reimbursementRatioBp: 9500, annualCeilingFen: 30_000_000 }),
    rule(e2, [2], U, { deductibleFen: 60_000, reimbursementRatioBp: 9000, annualCeilingFen: 30_000_000 }),
    rule(e2, [3], U, { deductibleFen: 100_000, reimbursementRatioBp: 8500, annualCeilingFen: 30_000_000 }),
    rule(e2, [1], O, { deductibleFen: 30_000, reimbursementRatioBp: 9700, annualCeilingFen: 30_000_000 }),
    rule(e2, [2], O, { deductibleFen: 60_000, reimbursementRatioBp: 9300, annualCeilingFen: 30_000_000 }),
    rule(e2, [3], O, { deductibleFen: 100_000, reimbursementRatioBp: 8800, annualCeilingFen: 30_000_000 }),
    rule(e3, [1, 2, 3], ALL, { deductibleFen: 0, reimbursementRatioBp: 9000, annualCeilingFen: 5_000_000 }),
    rule(e4, [1, 2, 3], ALL, { deductibleFen: 0, reimbursementRatioBp: 5000, annualCeilingFen: 300_000 }),
    rule(r1, [1], ALL, { deductibleFen: 0, reimbursementRatioBp: 6000, annualCeilingFen: 200_000 }),
    rule(r1, [2], ALL, { deductibleFen: 0, reimbursementRatioBp: 5000, annualCeilingFen: 200_000 }),
    rule(r1, [3], ALL, { deductibleFen: 0, reimbursementRatioBp: 4000, annualCeilingFen: 200_000 }),
    rule(r2, [1], U, { deductibleFen: 30_000, reimbursementRatioBp: 8500, annualCeilingFen: 25_000_000 }),
    rule(r2, [2], U, { deductibleFen: 80_000, reimbursementRatioBp: 7500, annualCeilingFen: 25_000_000 }),
    rule(r2, [3], U, { deductibleFen: 120_000, reimbursementRatioBp: 6000, annualCeilingFen: 25_000_000 }),
    rule(r2, [1], O, { deductibleFen: 30_000, reimbursementRatioBp: 9000, annualCeilingFen: 25_000_000 }),
    rule(r2, [2], O, { deductibleFen: 80_000, reimbursementRatioBp: 8000, annualCeilingFen: 25_000_000 }),
    rule(r2, [3], O, { deductibleFen: 120_000, reimbursementRatioBp: 6500, annualCeilingFen: 25_000_000 }),
    rule(r3, [1, 2, 3], ALL, { deductibleFen: 0, reimbursementRatioBp: 6500, annualCeilingFen: 1_000_000 }),
    rule(r4, [1, 2, 3], ALL, { deductibleFen: 0, reimbursementRatioBp: 5000, annualCeilingFen: 50_000 }),
  ],
};

// ---- 980100: three age bands; account never pays out-of-scope; higher B self share; residents' pharmacy not covered ----
const f1 = family('310', '11', 'outpatient', true, false);
const f2 = family('310', '21', 'inpatient', true, false);
const f3 = family('310', '14', 'chronic', true, false);
const f4 = family('310', '41', 'pharmacy', true, false);
const s1 = family('390', '11', 'outpatient', false, false);
const s2 = family('390', '21', 'inpatient', false, false);
const s3 = family('390', '14', 'chronic', false, false);
const s4 = family('390', '41', 'pharmacy', false, false);
const MINOR = ['minor'];
const ADULT = ['adult'];
const ELDER = ['elderly'];
const MA = ['minor', 'adult'];
const EVERY = ['minor', 'adult', 'elderly'];

const demo980100: Policy = {
  regionCode: '980100',
  version: '2024.2',
  effectiveFrom: '2024-07-01',
  bClassSelfPayRatioBp: 1500,
  ageBands: [
    { code: 'minor', minAge: 0, maxAge: 17 },
    { code: 'adult', minAge: 18, maxAge: 69 },
    { code: 'elderly', minAge: 70, maxAge: 150 },
  ],
  rules: [
    rule(f1, [1], MA, { deductibleFen: 150_000, reimbursementRatioBp: 8500, annualCeilingFen: 600_000 }),
    rule(f1, [2], MA, { deductibleFen: 150_000, reimbursementRatioBp: 8000, annualCeilingFen: 600_000 }),
    rule(f1, [3], MA, { deductibleFen: 150_000, reimbursementRatioBp: 7000, annualCeilingFen: 600_000 }),
    rule(f1, [1], ELDER, { deductibleFen: 120_000, reimbursementRatioBp: 9000, annualCeilingFen: 800_000 }),
    rule(f1, [2], ELDER, { deductibleFen: 120_000, reimbursementRatioBp: 8500, annualCeilingFen: 800_000 }),
    rule(f1, [3], ELDER, { deductibleFen: 120_000, reimbursementRatioBp: 7500, annualCeilingFen: 800_000 }),
    rule(f2, [1], MA, { deductibleFen: 40_000, reimbursementRatioBp: 9200, annualCeilingFen: 20_000_000 }),
    rule(f2, [2], MA, { deductibleFen: 80_000, reimbursementRatioBp: 8500, annualCeilingFen: 20_000_000 }),
    rule(f2, [3], MA, { deductibleFen: 150_000, reimbursementRatioBp: 8000, annualCeilingFen: 20_000_000 }),
    rule(f2, [1], ELDER, { deductibleFen: 40_000, reimbursementRatioBp: 9500, annualCeilingFen: 20_000_000 }),
    rule(f2, [2], ELDER, { deductibleFen: 80_000, reimbursementRatioBp: 8800, annualCeilingFen: 20_000_000 }),
    rule(f2, [3], ELDER, { deductibleFen: 150_000, reimbursementRatioBp: 8300, annualCeilingFen: 20_000_000 }),
    rule(f3, [1, 2, 3], EVERY, { deductibleFen: 50_000, reimbursementRatioBp: 8000, annualCeilingFen: 3_000_000 }),
    rule(f4, [1, 2, 3], EVERY, { deductibleFen: 150_000, reimbursementRatioBp: 5000, annualCeilingFen: 200_000 }),
    rule(s1, [1], ADULT, { deductibleFen: 5_000, reimbursementRatioBp: 5500, annualCeilingFen: 150_000 }),
    rule(s1, [2], ADULT, { deductibleFen: 5_000, reimbursementRatioBp: 4500, annualCeilingFen: 150_000 }),
    rule(s1, [3], ADULT, { deductibleFen: 5_000, reimbursementRatioBp: 3500, annualCeilingFen: 150_000 }),
    rule(s1, [1], ['minor', 'elderly'], {
      deductibleFen: 5_000,
      reimbursementRatioBp: 6000,
      annualCeilingFen: 150_000,
    }),
    rule(s1, [2], ['minor', 'elderly'], {
      deductibleFen: 5_000,
      reimbursementRatioBp: 5000,
      annualCeilingFen: 150_000,
    }),
    rule(s1, [3], ['minor', 'elderly'], {
      deductibleFen: 5_000,
      reimbursementRatioBp: 4000,
      annualCeilingFen: 150_000,
    }),
    rule(s2, [1], ADULT, { deductibleFen: 50_000, reimbursementRatioBp: 8000, annualCeilingFen: 15_000_000 }),
    rule(s2, [2], ADULT, { deductibleFen: 100_000, reimbursementRatioBp: 7000, annualCeilingFen: 15_000_000 }),
    rule(s2, [3], ADULT, { deductibleFen: 200_000, reimbursementRatioBp: 5500, annualCeilingFen: 15_000_000 }),
    rule(s2, [1], MINOR, { deductibleFen: 25_000, reimbursementRatioBp: 8500, annualCeilingFen: 15_000_000 }),
    rule(s2, [2], MINOR, { deductibleFen: 50_000, reimbursementRatioBp: 7500, annualCeilingFen: 15_000_000 }),
    rule(s2, [3], MINOR, { deductibleFen: 100_000, reimbursementRatioBp: 6000, annualCeilingFen: 15_000_000 }),
    rule(s2, [1], ELDER, { deductibleFen: 50_000, reimbursementRatioBp: 8500, annualCeilingFen: 15_000_000 }),
    rule(s2, [2], ELDER, { deductibleFen: 100_000, reimbursementRatioBp: 7500, annualCeilingFen: 15_000_000 }),
    rule(s2, [3], ELDER, { deductibleFen: 200_000, reimbursementRatioBp: 6000, annualCeilingFen: 15_000_000 }),
    rule(s3, [1, 2, 3], EVERY, { deductibleFen: 20_000, reimbursementRatioBp: 6000, annualCeilingFen: 800_000 }),
    rule(s4, [1, 2, 3], EVERY, { deductibleFen: 0, reimbursementRatioBp: 0, annualCeilingFen: 0 }),
  ],
};

/** Validated at module load: a typo in the data fails fast with CORE_INVALID_POLICY. */
export const DEMO_POLICIES: readonly Policy[] = Object.freeze(parsePolicies([demo990100, demo980100]));
