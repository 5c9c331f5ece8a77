/**
 * The core-zone service protocol: `POST /fsi/api/callService` with the national message shape.
 *
 * Request: { infno, msgid, mdtrtarea_admvs, insuplc_admdvs, fixmedins_code, opter_type, infver, signtype, input }.
 * Answer:  { infcode (0 success, -1 failure), err_msg, output, inf_refmsgid, respond_time } plus, on failure, the
 *          extension fields err_code (the port's stable code, e.g. CORE_PERSON_NOT_FOUND) and err_status.
 *
 * National infno (fields in ../national.ts): 1101 person info; 2201/2202 outpatient registration/cancel; 2203 visit
 * upload; 2204/2205 fee-detail upload/cancel; 2206 pre-settlement; 2207 settlement (idempotent by msgid);
 * 2208 settlement reversal (idempotent by msgid).
 *
 * Own infno (Y-series, private extension): input `{ args: [...] }` = the CoreZone port method's arguments as JSON,
 * output = the port's result (English field names, fen):
 *   Y001 findPerson(regionCode, {personNo})      Y002 insuranceStatus        Y101 accountBalance
 *   Y102 accountLedger                           Y103 contributions          Y104 authoriseMutualAid
 *   Y105 revokeMutualAid                         Y106 mutualAidBeneficiaries Y201 submitEnrolment
 *   Y202 enrolmentStatus                         Y301 registerUnit           Y302 getUnit
 *   Y303 addStaff                                Y304 removeStaff            Y305 listStaff
 *   Y401 listInstitutions                        Y402 getInstitution         Y403 catalogueItems
 *   Y404 searchCatalogue                         Y501 getSettlement          Y502 accumulators
 *   Y601 listPolicies                            Y602 createPolicy
 */
import { AppError } from '../../../platform/errors.ts';
import { coreError } from '../errors.ts';
import {
  feeLineNational,
  person1101Output,
  preSettleOutput,
  reversalOutput,
  settleOutput,
  toFen,
  visitOutput,
} from '../national.ts';
import type { CoreZone, FeeLineInput, MedicalType } from '../port.ts';
import { ageOn, localDate, type ReferenceCoreZone } from '../reference/core-zone.ts';

export interface NationalRequest {
  infno: string;
  msgid: string;
  mdtrtarea_admvs?: string;
  insuplc_admdvs: string;
  fixmedins_code?: string;
  opter_type?: string;
  infver?: string;
  signtype?: string;
  input: any;
}

export interface NationalResponse {
  infcode: number;
  err_msg: string;
  output: unknown;
  inf_refmsgid: string;
  respond_time: string;
  err_code?: string;
  err_status?: number;
  err_errors?: unknown;
}

/** Own infno → port method. */
export const OWN_INFNO = {
  Y001: 'findPerson',
  Y002: 'insuranceStatus',
  Y101: 'accountBalance',
  Y102: 'accountLedger',
  Y103: 'contributions',
  Y104: 'authoriseMutualAid',
  Y105: 'revokeMutualAid',
  Y106: 'mutualAidBeneficiaries',
  Y201: 'submitEnrolment',
  Y202: 'enrolmentStatus',
  Y301: 'registerUnit',
  Y302: 'getUnit',
  Y303: 'addStaff',
  Y304: 'removeStaff',
  Y305: 'listStaff',
  Y401: 'listInstitutions',
  Y402: 'getInstitution',
  Y403: 'catalogueItems',
  Y404: 'searchCatalogue',
  Y501: 'getSettlement',
  Y502: 'accumulators',
  Y601: 'listPolicies',
  Y602: 'createPolicy',
} as const satisfies Record<string, keyof CoreZone>;

const str = (v: unknown, field: string): string => {
  if (typeof v !== 'string' || v === '') throw coreError('CORE_INVALID_INPUT', `缺少字段 ${field}`);
  return v;
};

export async function handleMessage(core: ReferenceCoreZone, msg: NationalRequest): Promise<NationalResponse> {
  const base = { inf_refmsgid: String(msg?.msgid ?? ''), respond_time: new Date().toISOString() };
  try {
    const output = await dispatch(core, msg);
    return { infcode: 0, err_msg: '', output, ...base };
  } catch (err) {
    const e =
      err instanceof AppError
        ? err
        : new AppError(500, 'CORE_INTERNAL', '核心区内部错误', (err as Error)?.message ?? String(err));
    return {
      infcode: -1,
      err_msg: e.detail ? `${e.title}：${e.detail}` : e.title,
      output: null,
      err_code: e.code,
      err_status: e.status,
      ...(e.errors ? { err_errors: e.errors } : {}),
      ...base,
    };
  }
}

async function dispatch(core: ReferenceCoreZone, msg: NationalRequest): Promise<unknown> {
  if (!msg || typeof msg !== 'object') throw coreError('CORE_INVALID_INPUT', '报文应为 JSON 对象');
  const infno = str(msg.infno, 'infno');
  const msgid = str(msg.msgid, 'msgid');
  const region = str(msg.insuplc_admdvs, 'insuplc_admdvs');
  const input = msg.input ?? {};
  const data = input.data ?? {};
  if (infno in OWN_INFNO) {
    const method = OWN_INFNO[infno as keyof typeof OWN_INFNO];
    const args = Array.isArray(input.args) ? input.args : [];
    const fn = core[method] as (...a: unknown[]) => Promise<unknown>;
    const result = await fn.apply(core, args);
    return result === undefined ? {} : result;
  }
  switch (infno) {
    case '1101': {
      const type = str(data.mdtrt_cert_type, 'mdtrt_cert_type');
      const no = str(data.mdtrt_cert_no, 'mdtrt_cert_no');
      if (type !== '01' && type !== '02') throw coreError('CORE_INVALID_INPUT', `不支持的就诊凭证类型 ${type}`);
      const person = await core.findPerson(region, type === '01' ? { ecToken: no } : { residentId: no });
      const [status, balance] = await Promise.all([
        core.insuranceStatus(region, person.personNo),
        core.accountBalance(region, person.personNo),
      ]);
      return person1101Output(person, status, balance.balance, ageOn(person.birthDate, localDate(new Date())));
    }
    case '2201': {
      const visit = await core.registerVisit({
        regionCode: region,
        requestId: msgid,
        personNo: str(data.psn_no, 'psn_no'),
        institutionCode: str(msg.fixmedins_code, 'fixmedins_code'),
        medicalType: (data.med_type ?? '11') as MedicalType,
        ...(data.insutype ? { insuranceType: data.insutype } : {}),
        ...(data.begntime ? { beginAt: data.begntime } : {}),
      });
      return visitOutput(visit);
    }
    case '2202':
      return visitOutput(await core.cancelVisit(region, str(data.mdtrt_id, 'mdtrt_id')));
    case '2203': {
      const info = input.mdtrtinfo ?? {};
      const dise = Array.isArray(input.diseinfo) ? input.diseinfo : [];
      return visitOutput(
        await core.updateVisit(region, str(info.mdtrt_id, 'mdtrt_id'), info.dise_codg ?? dise[0]?.diag_code ?? null),
      );
    }
    case '2204': {
      const rows: any[] = Array.isArray(input.feedetail) ? input.feedetail : [];
      if (rows.length === 0) throw coreError('CORE_NO_FEES', '费用明细为空');
      const visitId = str(rows[0].mdtrt_id, 'feedetail[0].mdtrt_id');
      const lines: FeeLineInput[] = rows.map((r, i) => {
        if (r.mdtrt_id !== visitId) throw coreError('CORE_INVALID_INPUT', `第 ${i + 1} 行就诊ID不一致`);
        const quantity = Number(r.cnt);
        return {
          lineNo: String(r.feedetl_sn ?? ''),
          code: String(r.med_list_codg ?? ''),
          quantity: Number.isFinite(quantity) ? quantity : Number.NaN,
          unitPrice: toFen(r.pric, `feedetail[${i}].pric`),
        };
      });
      const result = await core.uploadFees(region, visitId, lines);
      return { result: result.map(feeLineNational) };
    }
    case '2205':
      await core.cancelFees(region, str(data.mdtrt_id, 'mdtrt_id'));
      return {};
    case '2206':
    case '2207': {
      const settleInput = {
        regionCode: region,
        visitId: str(data.mdtrt_id, 'mdtrt_id'),
        useAccount: String(data.acct_used_flag ?? '1') === '1',
        ...(data.mulaid_psn_no ? { mutualAidPayerPersonNo: String(data.mulaid_psn_no) } : {}),
      };
      if (infno === '2206') return preSettleOutput(await core.preSettle(settleInput));
      const settlement = await core.settle({ ...settleInput, requestId: msgid });
      if (data.medfee_sumamt !== undefined && toFen(data.medfee_sumamt, 'medfee_sumamt') !== settlement.total) {
        // the settlement stands (idempotent); tell the caller its total disagreed
        return { ...settleOutput(settlement), warn_msg: '医疗费总额与核心区计算不一致' };
      }
      return settleOutput(settlement);
    }
    case '2208':
      return reversalOutput(
        await core.reverse({ regionCode: region, settlementId: str(data.setl_id, 'setl_id'), requestId: msgid }),
      );
    default:
      throw coreError('CORE_INVALID_INPUT', `不支持的交易编号 ${infno}`);
  }
}
