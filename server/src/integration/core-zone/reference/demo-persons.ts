/**
 * Well-known demo insured persons of the reference core zone's seed. Synthetic: the address codes 9901xx/9801xx do
 * not exist, but every resident ID is check-digit valid (GB 11643). Use them in the README, demos and tests.
 */
import { residentIdCheckChar } from '../../../platform/privacy/index.ts';
import type { InsuranceType, PersonType } from '../port.ts';

export function residentId(address: string, birth: string, seq: number): string {
  const first17 = `${address}${birth}${String(seq).padStart(3, '0')}`;
  return `${first17}${residentIdCheckChar(first17)}`;
}

export interface DemoPerson {
  key: string;
  name: string;
  residentId: string;
  personNo: string;
  regionCode: string;
  insuranceType: InsuranceType;
  personType: PersonType;
  status: 'active' | 'paused';
  /** opening personal-account balance in fen (before seeded contributions); null = no account */
  openingBalance: number | null;
  note: string;
}

/** Person numbers of seeded persons: region + '9' + 11 digits (runtime-created persons use region + 12-digit serial). */
export const seededPersonNo = (regionCode: string, i: number) => `${regionCode}9${String(i).padStart(11, '0')}`;

export const DEMO_PERSONS = {
  zhangWei: {
    key: 'zhangWei',
    name: '张伟',
    residentId: residentId('990102', '19850312', 13),
    personNo: seededPersonNo('990100', 1),
    regionCode: '990100',
    insuranceType: '310',
    personType: 'employee',
    status: 'active',
    openingBalance: 320_000,
    note: '职工医保在职，个人账户有余额；已授权王芳使用家庭共济',
  },
  liNa: {
    key: 'liNa',
    name: '李娜',
    residentId: residentId('990103', '19580705', 24),
    personNo: seededPersonNo('990100', 2),
    regionCode: '990100',
    insuranceType: '310',
    personType: 'retiree',
    status: 'active',
    openingBalance: 860_000,
    note: '职工医保退休（60 岁以上年龄段）',
  },
  wangFang: {
    key: 'wangFang',
    name: '王芳',
    residentId: residentId('990102', '20120918', 42),
    personNo: seededPersonNo('990100', 3),
    regionCode: '990100',
    insuranceType: '390',
    personType: 'student',
    status: 'active',
    openingBalance: null,
    note: '城乡居民医保（学生），无个人账户；张伟的家庭共济受益人',
  },
  liuYang: {
    key: 'liuYang',
    name: '刘洋',
    residentId: residentId('990104', '19790221', 35),
    personNo: seededPersonNo('990100', 4),
    regionCode: '990100',
    insuranceType: '390',
    personType: 'resident',
    status: 'paused',
    openingBalance: null,
    note: '城乡居民医保，参保状态暂停（结算应被拒绝）',
  },
  chenJing: {
    key: 'chenJing',
    name: '陈静',
    residentId: residentId('990101', '19920604', 68),
    personNo: seededPersonNo('990100', 5),
    regionCode: '990100',
    insuranceType: '310',
    personType: 'flexible',
    status: 'active',
    openingBalance: 5_000,
    note: '灵活就业人员参加职工医保',
  },
  zhaoLei: {
    key: 'zhaoLei',
    name: '赵磊',
    residentId: residentId('980102', '19760430', 17),
    personNo: seededPersonNo('980100', 1),
    regionCode: '980100',
    insuranceType: '310',
    personType: 'employee',
    status: 'active',
    openingBalance: 150_000,
    note: '样例省·北原市职工医保',
  },
} as const satisfies Record<string, DemoPerson>;

export const DEMO_INSTITUTIONS = {
  '990100': {
    level3: 'H99010000001',
    level2: 'H99010000002',
    level1: 'H99010000003',
    pharmacy1: 'P99010000001',
    pharmacy2: 'P99010000002',
  },
  '980100': {
    level3: 'H98010000001',
    level2: 'H98010000002',
    level1: 'H98010000003',
    pharmacy1: 'P98010000001',
    pharmacy2: 'P98010000002',
  },
} as const;
