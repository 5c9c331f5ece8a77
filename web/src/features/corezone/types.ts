/** Shapes of the core-zone console API (server/src/integration/core-zone/routes.ts). */
export interface PolicyRule {
  insuranceType: string;
  medicalType: string;
  institutionLevels: number[];
  ageBands: string[];
  accumulatorGroup: string;
  deductibleFen: number;
  reimbursementRatioBp: number;
  annualCeilingFen: number;
  accountPaysInScopeSelfPart: boolean;
  accountPaysOutOfScope: boolean;
}

export interface Policy {
  regionCode: string;
  version: string;
  effectiveFrom: string;
  bClassSelfPayRatioBp: number;
  ageBands: { code: string; minAge: number; maxAge: number }[];
  rules: PolicyRule[];
}

export interface PolicyVersion {
  regionCode: string;
  version: string;
  effectiveFrom: string;
  createdAt: string;
  policy: Policy;
}

export const INSURANCE_NAMES: Record<string, string> = { '310': '职工基本医保', '390': '城乡居民医保' };
export const MEDICAL_NAMES: Record<string, string> = {
  '11': '普通门诊',
  '14': '门慢门特',
  '21': '住院',
  '41': '定点药店购药',
};
export const PERSON_TYPE_NAMES: Record<string, string> = {
  employee: '在职职工',
  retiree: '退休人员',
  flexible: '灵活就业',
  resident: '城乡居民',
  student: '学生儿童',
};
export const STATUS_NAMES: Record<string, string> = { active: '正常参保', paused: '暂停参保', terminated: '终止参保' };

/** Integer fen → yuan text with two decimals (no floating point). */
export function fenToYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Yuan from an input with at most two decimals → integer fen. */
export function yuanToFen(yuan: number): number {
  return Math.round(yuan * 100);
}
