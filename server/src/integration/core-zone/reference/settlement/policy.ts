/**
 * Region settlement policy (待遇政策): data, one version per region and effective date, validated by Zod.
 *
 * Money in fen, ratios in integer basis points (10000 = 100 %). A rule is looked up by
 * insurance type × medical type × institution level × age band; a rule may list several levels and age bands,
 * but every (insuranceType, medicalType, level, ageBand) key must be covered by at most one rule.
 */

import { z } from 'zod';
import {
  InvalidAgeError,
  InvalidDateError,
  InvalidPolicyError,
  NoPolicyInForceError,
  NoPolicyRuleError,
} from './errors.ts';
import { BP_SCALE, MAX_FEN } from './money.ts';

export const INSURANCE_TYPES = ['310', '390'] as const;
export const MEDICAL_TYPES = ['11', '14', '21', '41'] as const;
export const INSTITUTION_LEVELS = [1, 2, 3] as const;
export const MAX_AGE = 150;

/** 310 employee basic, 390 urban-rural resident basic. */
export type InsuranceType = (typeof INSURANCE_TYPES)[number];
/** 11 general outpatient, 14 chronic/special outpatient, 21 inpatient, 41 pharmacy purchase. */
export type MedicalType = (typeof MEDICAL_TYPES)[number];
export type InstitutionLevel = (typeof INSTITUTION_LEVELS)[number];

/** Ages in whole years, both bounds inclusive. */
export type AgeBand = {
  code: string;
  minAge: number;
  maxAge: number;
};

export type PolicyRule = {
  insuranceType: InsuranceType;
  medicalType: MedicalType;
  institutionLevels: InstitutionLevel[];
  /** Codes of `Policy.ageBands`. */
  ageBands: string[];
  /**
   * Which year-to-date accumulators this rule reads and advances (e.g. 'outpatient', 'inpatient'). The caller keeps
   * accumulators per insured person × calendar year × insurance type × group.
   */
  accumulatorGroup: string;
  /** Annual deductible (起付线), fen. */
  deductibleFen: number;
  /** Share of (in scope − deductible) the fund pays (报销比例), bp. */
  reimbursementRatioBp: number;
  /** Annual fund ceiling (封顶线) for the accumulator group, fen. */
  annualCeilingFen: number;
  /** May the personal account pay the in-scope self part (deductible + co-pay)? */
  accountPaysInScopeSelfPart: boolean;
  /** May the personal account pay the out-of-scope part (fully self-paid + over cap + B pre-self-pay)? */
  accountPaysOutOfScope: boolean;
};

export type Policy = {
  /** 6-digit pooling-region code (GB/T 2260). */
  regionCode: string;
  /** Unique per region; recorded on every settlement. */
  version: string;
  /** ISO date (YYYY-MM-DD) from which this version is in force; superseded by the next later version. */
  effectiveFrom: string;
  /** Default B-class pre-self-pay ratio (先行自付比例) when a fee line brings none, bp. */
  bClassSelfPayRatioBp: number;
  /** Must be contiguous and cover ages 0..MAX_AGE exactly once. */
  ageBands: AgeBand[];
  rules: PolicyRule[];
};

/** The rule that applies to one settlement, with the age band that selected it. */
export type ResolvedRule = PolicyRule & { ageBand: string };

export type RuleKey = {
  insuranceType: string;
  medicalType: string;
  institutionLevel: number;
  age: number;
};

const fen = z.int().min(0).max(MAX_FEN);
const basisPoints = z.int().min(0).max(BP_SCALE);
const code = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, _ or -');

const ageBandSchema = z.object({
  code,
  minAge: z.int().min(0).max(MAX_AGE),
  maxAge: z.int().min(0).max(MAX_AGE),
});

const ruleSchema = z.object({
  insuranceType: z.enum(INSURANCE_TYPES),
  medicalType: z.enum(MEDICAL_TYPES),
  institutionLevels: z.array(z.literal(INSTITUTION_LEVELS)).min(1),
  ageBands: z.array(code).min(1),
  accumulatorGroup: code,
  deductibleFen: fen,
  reimbursementRatioBp: basisPoints,
  annualCeilingFen: fen,
  accountPaysInScopeSelfPart: z.boolean(),
  accountPaysOutOfScope: z.boolean(),
});

const policyShape = z.strictObject({
  regionCode: z.string().regex(/^\d{6}$/, 'must be a 6-digit region code'),
  version: z.string().min(1).max(32),
  effectiveFrom: z.iso.date(),
  bClassSelfPayRatioBp: basisPoints,
  ageBands: z.array(ageBandSchema).min(1),
  rules: z.array(ruleSchema).min(1),
});

type Issue = { path: (string | number)[]; message: string };

/** Bands sorted by minAge must start at 0, end at MAX_AGE, have min ≤ max, no gaps, no overlaps, unique codes. */
function ageBandIssues(bands: readonly AgeBand[]): Issue[] {
  const issues: Issue[] = [];
  const codes = new Set<string>();
  bands.forEach((band, i) => {
    if (band.minAge > band.maxAge) issues.push({ path: ['ageBands', i], message: 'minAge > maxAge' });
    if (codes.has(band.code))
      issues.push({ path: ['ageBands', i, 'code'], message: `duplicate age band ${band.code}` });
    codes.add(band.code);
  });
  const sorted = [...bands].sort((a, b) => a.minAge - b.minAge);
  let next = 0;
  for (const band of sorted) {
    if (band.minAge !== next) {
      const kind = band.minAge > next ? 'gap' : 'overlap';
      issues.push({ path: ['ageBands'], message: `age bands have a ${kind} at age ${Math.min(next, band.minAge)}` });
    }
    next = Math.max(next, band.maxAge + 1);
  }
  if (next !== MAX_AGE + 1) issues.push({ path: ['ageBands'], message: `age bands must end at ${MAX_AGE}` });
  return issues;
}

function keyText(insuranceType: string, medicalType: string, level: number, band: string): string {
  return `insuranceType ${insuranceType} × medicalType ${medicalType} × level ${level} × ageBand ${band}`;
}

/** Every rule's age bands must exist; no (type, medical type, level, band) key may be covered twice. */
function ruleIssues(policy: Pick<Policy, 'ageBands' | 'rules'>): Issue[] {
  const issues: Issue[] = [];
  const bandCodes = new Set(policy.ageBands.map((b) => b.code));
  const seen = new Map<string, number>();
  policy.rules.forEach((rule, i) => {
    for (const band of rule.ageBands) {
      if (!bandCodes.has(band)) issues.push({ path: ['rules', i, 'ageBands'], message: `unknown age band ${band}` });
      for (const level of rule.institutionLevels) {
        const key = keyText(rule.insuranceType, rule.medicalType, level, band);
        const first = seen.get(key);
        if (first !== undefined) issues.push({ path: ['rules', i], message: `${key} also covered by rules[${first}]` });
        else seen.set(key, i);
      }
    }
  });
  return issues;
}

export const policySchema: z.ZodType<Policy> = policyShape.superRefine((policy, ctx) => {
  for (const issue of [...ageBandIssues(policy.ageBands), ...ruleIssues(policy)]) {
    ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  }
});

/** Validates policy data (e.g. loaded from the database); throws InvalidPolicyError listing every issue. */
export function parsePolicy(input: unknown): Policy {
  const result = policySchema.safeParse(input);
  if (!result.success) {
    throw new InvalidPolicyError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return result.data;
}

/** Also checks a set of versions: (regionCode, version) and (regionCode, effectiveFrom) must be unique. */
export function parsePolicies(inputs: readonly unknown[]): Policy[] {
  const policies = inputs.map(parsePolicy);
  const issues: string[] = [];
  const versions = new Set<string>();
  const dates = new Set<string>();
  for (const p of policies) {
    const v = `${p.regionCode}/${p.version}`;
    const d = `${p.regionCode}@${p.effectiveFrom}`;
    if (versions.has(v)) issues.push(`duplicate version ${v}`);
    if (dates.has(d)) issues.push(`two versions of ${p.regionCode} take effect on ${p.effectiveFrom}`);
    versions.add(v);
    dates.add(d);
  }
  if (issues.length > 0) throw new InvalidPolicyError(issues);
  return policies;
}

const ISO_DATE = z.iso.date(); // built once: building a schema per settlement showed in CPU profiles

function assertIsoDate(date: string): void {
  if (!ISO_DATE.safeParse(date).success) throw new InvalidDateError(`expected an ISO date YYYY-MM-DD, got ${date}`);
}

/**
 * The version of `regionCode` in force on `date` (ISO YYYY-MM-DD, the settlement's local date): the one with the latest
 * `effectiveFrom` ≤ date. ISO dates compare correctly as strings.
 */
export function selectPolicy(policies: readonly Policy[], regionCode: string, date: string): Policy {
  assertIsoDate(date);
  const candidates = policies.filter((p) => p.regionCode === regionCode && p.effectiveFrom <= date);
  if (candidates.length === 0) {
    throw new NoPolicyInForceError(`no policy of region ${regionCode} is in force on ${date}`);
  }
  const latest = candidates.reduce((best, p) => (p.effectiveFrom > best.effectiveFrom ? p : best));
  const ties = candidates.filter((p) => p.effectiveFrom === latest.effectiveFrom);
  if (ties.length > 1) {
    throw new InvalidPolicyError([`versions ${ties.map((p) => p.version).join(', ')} of ${regionCode} share ${date}`]);
  }
  return latest;
}

export function ageBandFor(policy: Policy, age: number): AgeBand {
  if (!Number.isInteger(age) || age < 0 || age > MAX_AGE) {
    throw new InvalidAgeError(`age must be an integer in 0..${MAX_AGE}, got ${String(age)}`);
  }
  const band = policy.ageBands.find((b) => b.minAge <= age && age <= b.maxAge);
  if (band === undefined) throw new NoPolicyRuleError(`policy ${policy.version} has no age band for age ${age}`);
  return band;
}

/** The single rule for the key; throws NoPolicyRuleError naming the key, region and version when none matches. */
export function findRule(policy: Policy, key: RuleKey): ResolvedRule {
  const band = ageBandFor(policy, key.age);
  const rule = policy.rules.find(
    (r) =>
      r.insuranceType === key.insuranceType &&
      r.medicalType === key.medicalType &&
      (r.institutionLevels as readonly number[]).includes(key.institutionLevel) &&
      r.ageBands.includes(band.code),
  );
  if (rule === undefined) {
    const what = keyText(key.insuranceType, key.medicalType, key.institutionLevel, band.code);
    throw new NoPolicyRuleError(
      `policy ${policy.regionCode}/${policy.version} has no rule for ${what} (age ${key.age})`,
    );
  }
  return { ...rule, ageBand: band.code };
}
