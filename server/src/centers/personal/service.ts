/**
 * The personal hall's read model of the core zone: my insurance, my account, my ledger. The person is the signed-in
 * principal; their resident ID comes from the user center and the core zone is asked through its port only.
 */

import type {
  AccountBalance,
  CorePerson,
  CoreZone,
  InsuranceStatusCode,
  InsuranceType,
  LedgerEntry,
  LedgerEntryKind,
  LedgerQuery,
  Page,
  PersonType,
} from '../../integration/core-zone/port.ts';
import type { Context } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import { maskName, maskResidentId } from '../../platform/privacy/index.ts';

export const INSURANCE_TYPE_LABELS: Record<InsuranceType, string> = {
  '310': '职工基本医疗保险',
  '390': '城乡居民基本医疗保险',
};
export const INSURANCE_STATUS_LABELS: Record<InsuranceStatusCode, string> = {
  active: '正常参保',
  paused: '暂停参保',
  terminated: '终止参保',
};
export const PERSON_TYPE_LABELS: Record<PersonType, string> = {
  employee: '在职职工',
  retiree: '退休人员',
  flexible: '灵活就业人员',
  resident: '城乡居民',
  student: '学生儿童',
};
export const LEDGER_KIND_LABELS: Record<LedgerEntryKind, string> = {
  opening: '期初余额',
  contribution: '缴费划入',
  settlement: '医保结算支付',
  settlement_reversal: '结算退回',
  mutual_aid_out: '家庭共济支出',
  mutual_aid_reversal: '家庭共济退回',
};

/** What the personal center needs of the user center (the contract in docs/CONVENTIONS.md). */
interface UserLookup {
  getPerson(regionCode: string, id: string): Promise<{ id: string; name: string; residentId: string } | undefined>;
}

export interface MyInsurance {
  regionCode: string;
  regionName: string;
  personNo: string;
  /** masked */
  name: string;
  /** masked */
  residentId: string;
  personType: PersonType;
  personTypeLabel: string;
  insurances: Array<{
    insuranceType: InsuranceType;
    insuranceTypeLabel: string;
    status: InsuranceStatusCode;
    statusLabel: string;
    startDate: string;
    pauseDate: string | null;
  }>;
}

export type MyLedgerEntry = LedgerEntry & { kindLabel: string };

export class PersonalService {
  private readonly ctx: Context;
  constructor(ctx: Context) {
    this.ctx = ctx;
  }

  private coreZone(): CoreZone {
    const core = (this.ctx.services as Record<string, unknown>).coreZone as CoreZone | undefined;
    if (!core) throw new AppError(503, 'PERSONAL_CORE_ZONE_UNAVAILABLE', '核心区服务暂不可用，请稍后再试');
    return core;
  }

  private users(): UserLookup {
    const users = (this.ctx.services as Record<string, unknown>).user as UserLookup | undefined;
    if (!users) throw new AppError(503, 'PERSONAL_USER_UNAVAILABLE', '用户服务暂不可用，请稍后再试');
    return users;
  }

  /** The signed-in person's core-zone record; 404 PERSONAL_NOT_INSURED when the core zone does not know them. */
  async corePerson(regionCode: string, personId: string): Promise<CorePerson> {
    const account = await this.users().getPerson(regionCode, personId);
    if (!account) throw new AppError(404, 'PERSONAL_ACCOUNT_NOT_FOUND', '未找到您的账户，请重新登录');
    try {
      return await this.coreZone().findPerson(regionCode, { residentId: account.residentId });
    } catch (err) {
      if (err instanceof AppError && err.code === 'CORE_PERSON_NOT_FOUND')
        throw new AppError(
          404,
          'PERSONAL_NOT_INSURED',
          '未查询到您的参保信息',
          '核心区中没有与您的身份证号对应的参保记录',
        );
      throw err;
    }
  }

  async insurance(regionCode: string, personId: string): Promise<MyInsurance> {
    const person = await this.corePerson(regionCode, personId);
    const status = await this.coreZone().insuranceStatus(regionCode, person.personNo);
    const region = await this.ctx.regions.get(regionCode);
    return {
      regionCode,
      regionName: region?.name ?? regionCode,
      personNo: person.personNo,
      name: maskName(person.name),
      residentId: maskResidentId(person.residentId),
      personType: status.personType,
      personTypeLabel: PERSON_TYPE_LABELS[status.personType] ?? status.personType,
      insurances: status.insurances.map((i) => ({
        insuranceType: i.insuranceType,
        insuranceTypeLabel: INSURANCE_TYPE_LABELS[i.insuranceType] ?? i.insuranceType,
        status: i.status,
        statusLabel: INSURANCE_STATUS_LABELS[i.status] ?? i.status,
        startDate: i.startDate,
        pauseDate: i.pauseDate,
      })),
    };
  }

  async account(regionCode: string, personId: string): Promise<AccountBalance> {
    const person = await this.corePerson(regionCode, personId);
    return this.coreZone().accountBalance(regionCode, person.personNo);
  }

  async ledger(regionCode: string, personId: string, query: LedgerQuery): Promise<Page<MyLedgerEntry>> {
    const person = await this.corePerson(regionCode, personId);
    const page = await this.coreZone().accountLedger(regionCode, person.personNo, query);
    return { ...page, items: page.items.map((e) => ({ ...e, kindLabel: LEDGER_KIND_LABELS[e.kind] ?? e.kind })) };
  }
}
