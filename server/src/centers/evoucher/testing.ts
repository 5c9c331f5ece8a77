/**
 * Test doubles for the centers the e-voucher depends on and that are being built in parallel: a person directory
 * (the user center's getPerson) and a core zone implementing the slice of the CoreZone port we use, including the
 * ecToken path of 1101 (findPerson with { ecToken } goes through the installed resolver). Test-only.
 */
import type {
  CorePerson,
  EcTokenResolver,
  InsuranceStatus,
  InsuranceStatusCode,
  PersonKey,
} from '../../integration/core-zone/port.ts';
import type { Center } from '../../platform/center.ts';
import { AppError } from '../../platform/errors.ts';

export interface FakePerson {
  id: string;
  regionCode: string;
  name: string;
  residentId: string;
  /** undefined = not insured in the core zone */
  insurance?: InsuranceStatusCode;
}

/** The registry of the core-zone double: code → name. */
export const FAKE_INSTITUTIONS: Record<string, string> = { H99010000001: '东湖市测试医院' };

export function fakeDependencies(persons: FakePerson[]): {
  centers: Center[];
  resolver: () => EcTokenResolver | undefined;
} {
  let resolver: EcTokenResolver | undefined;
  const coreOf = (p: FakePerson): CorePerson => ({
    personNo: `P${p.regionCode}${p.id.slice(-8)}`,
    regionCode: p.regionCode,
    name: p.name,
    residentId: p.residentId,
    sex: '1',
    birthDate: '1990-01-01',
    personType: 'employee',
  });
  const notFound = () => new AppError(404, 'CORE_PERSON_NOT_FOUND', '未找到参保人');
  const core = {
    kind: 'reference' as const,
    useEcTokenResolver(r: EcTokenResolver) {
      resolver = r;
    },
    async findPerson(regionCode: string, key: PersonKey): Promise<CorePerson> {
      let residentId: string | undefined;
      if ('ecToken' in key) {
        const hit = resolver ? await resolver(regionCode, key.ecToken) : undefined;
        if (!hit) throw new AppError(404, 'CORE_EC_TOKEN_UNRESOLVED', '电子凭证令牌无效或已过期');
        residentId = hit.residentId;
      } else if ('residentId' in key) residentId = key.residentId;
      const p = persons.find((x) => x.regionCode === regionCode && x.residentId === residentId && x.insurance);
      if (!p) throw notFound();
      return coreOf(p);
    },
    async getInstitution(regionCode: string, code: string) {
      const name = FAKE_INSTITUTIONS[code];
      if (!name) throw new AppError(404, 'CORE_INSTITUTION_NOT_FOUND', '未找到定点医药机构');
      return { code, regionCode, kind: 'hospital' as const, name, level: 2 as const };
    },
    async insuranceStatus(regionCode: string, personNo: string): Promise<InsuranceStatus> {
      const p = persons.find((x) => x.regionCode === regionCode && coreOf(x).personNo === personNo && x.insurance);
      if (!p) throw notFound();
      return {
        personNo,
        regionCode,
        personType: 'employee',
        insurances: [
          { insuranceType: '310', status: p.insurance!, startDate: '2020-01-01', pauseDate: null, unitNo: 'U1' },
        ],
      };
    },
  };
  const user = {
    async getPerson(regionCode: string, id: string) {
      return persons.find((p) => p.regionCode === regionCode && p.id === id);
    },
  };
  return {
    centers: [
      {
        name: 'test-deps',
        description: '测试替身：用户中心与核心区',
        init(ctx) {
          const s = ctx.services as Record<string, unknown>;
          s.user = user;
          s.coreZone = core;
        },
      },
    ],
    resolver: () => resolver,
  };
}

export { makePng } from './verification/images.ts';
