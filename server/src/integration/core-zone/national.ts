/**
 * National field mapping (国家医保信息平台接口字段) for the core-zone service and HTTP adapter. National names live
 * ONLY here and in ./http, ./service. National amounts are yuan with two decimals; the port uses integer fen: the
 * conversion is exact (decimal string arithmetic, never a float multiply).
 *
 * Own extensions to the national shapes are marked "ext" in the comments.
 */
import { coreError } from './errors.ts';
import type {
  CorePerson,
  FeeLineResult,
  InsuranceStatus,
  InsuranceStatusCode,
  ItemClass,
  PersonType,
  PreSettlement,
  Reversal,
  Settlement,
  Split,
  Visit,
} from './port.ts';

// --------------------------------------------------------------------------------------------------- money

/** fen → yuan as a JSON number with at most two decimals (exact for safe-integer fen in decimal notation). */
export function toYuan(fen: number): number {
  const neg = fen < 0;
  const abs = Math.abs(fen);
  const text = `${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  return Number(neg ? `-${text}` : text);
}

/** yuan (number or decimal string, ≤ 2 decimals) → integer fen; CORE_INVALID_AMOUNT otherwise. */
export function toFen(yuan: unknown, field: string): number {
  const text = typeof yuan === 'number' ? String(yuan) : typeof yuan === 'string' ? yuan.trim() : '';
  const m = text.match(/^(-?)(\d+)(?:\.(\d{1,2}))?$/);
  if (!m) throw coreError('CORE_INVALID_AMOUNT', `${field} 应为至多两位小数的金额（元），收到 ${String(yuan)}`);
  const fen = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  if (!Number.isSafeInteger(fen)) throw coreError('CORE_INVALID_AMOUNT', `${field} 金额过大`);
  return m[1] === '-' && fen !== 0 ? -fen : fen;
}

// ----------------------------------------------------------------------------------------------- code lists

/** chrgitm_lv: 01 甲类, 02 乙类, 03 丙类/自费 */
export const ITEM_CLASS_TO_LV: Record<ItemClass, string> = { A: '01', B: '02', C: '03' };
export const LV_TO_ITEM_CLASS: Record<string, ItemClass> = { '01': 'A', '02': 'B', '03': 'C' };

/** psn_insu_stas: 1 正常参保, 2 暂停参保, 4 终止参保 */
export const STATUS_TO_NATIONAL: Record<InsuranceStatusCode, string> = { active: '1', paused: '2', terminated: '4' };
export const NATIONAL_TO_STATUS: Record<string, InsuranceStatusCode> = {
  '1': 'active',
  '2': 'paused',
  '4': 'terminated',
};

/** psn_type: our mapping (the national list is longer; these are the codes our reference core zone emits). */
export const PERSON_TYPE_TO_NATIONAL: Record<PersonType, string> = {
  employee: '11',
  retiree: '21',
  flexible: '13',
  resident: '31',
  student: '32',
};
export const NATIONAL_TO_PERSON_TYPE: Record<string, PersonType> = Object.fromEntries(
  Object.entries(PERSON_TYPE_TO_NATIONAL).map(([k, v]) => [v, k as PersonType]),
);

/** ratio in bp ↔ selfpay_prop as a decimal fraction (0.1 = 10 %) */
export const bpToProp = (bp: number) => Number((bp / 10000).toFixed(4));
export const propToBp = (prop: unknown) => Math.round(Number(prop) * 10000);

const yyyymmdd = (iso: string) => iso;

// ---------------------------------------------------------------------------------------------------- 1101

export function person1101Output(
  p: CorePerson,
  s: InsuranceStatus,
  balance: number,
  age: number,
): Record<string, unknown> {
  return {
    baseinfo: {
      psn_no: p.personNo,
      psn_cert_type: '01',
      certno: p.residentId,
      psn_name: p.name,
      gend: p.sex,
      brdy: yyyymmdd(p.birthDate),
      age,
      psn_type: PERSON_TYPE_TO_NATIONAL[p.personType], // ext (nationally on insuinfo)
    },
    insuinfo: s.insurances.map((i) => ({
      balc: toYuan(balance),
      insutype: i.insuranceType,
      psn_type: PERSON_TYPE_TO_NATIONAL[s.personType],
      psn_insu_stas: STATUS_TO_NATIONAL[i.status],
      psn_insu_date: i.startDate,
      paus_insu_date: i.pauseDate,
      insuplc_admdvs: p.regionCode,
      emp_no: i.unitNo, // ext
    })),
    idetinfo: [],
  };
}

export function personFrom1101(out: any): { person: CorePerson; status: InsuranceStatus; balance: number } {
  const b = out.baseinfo;
  const insu: any[] = out.insuinfo ?? [];
  const regionCode = insu[0]?.insuplc_admdvs ?? '';
  const personType = NATIONAL_TO_PERSON_TYPE[b.psn_type ?? insu[0]?.psn_type] ?? 'resident';
  return {
    person: {
      personNo: b.psn_no,
      regionCode,
      name: b.psn_name,
      residentId: b.certno,
      sex: b.gend,
      birthDate: b.brdy,
      personType,
    },
    status: {
      personNo: b.psn_no,
      regionCode,
      personType,
      insurances: insu.map((i) => ({
        insuranceType: i.insutype,
        status: NATIONAL_TO_STATUS[i.psn_insu_stas] ?? 'terminated',
        startDate: i.psn_insu_date,
        pauseDate: i.paus_insu_date ?? null,
        unitNo: i.emp_no ?? null,
      })),
    },
    balance: insu.length > 0 ? toFen(insu[0].balc, 'balc') : 0,
  };
}

// ---------------------------------------------------------------------------------------------- 2201/2203

export function visitOutput(v: Visit): Record<string, unknown> {
  return {
    data: {
      mdtrt_id: v.visitId,
      psn_no: v.personNo,
      ipt_otp_no: v.visitId,
      // ext: the visit as the core zone recorded it
      insutype: v.insuranceType,
      med_type: v.medicalType,
      begntime: v.beginAt,
      fixmedins_code: v.institutionCode,
      hosp_lv: String(v.institutionLevel),
      insuplc_admdvs: v.regionCode,
      mdtrt_stas: v.state,
    },
  };
}

export function visitFrom(out: any): Visit {
  const d = out.data;
  return {
    visitId: d.mdtrt_id,
    regionCode: d.insuplc_admdvs,
    personNo: d.psn_no,
    institutionCode: d.fixmedins_code,
    institutionLevel: Number(d.hosp_lv) as Visit['institutionLevel'],
    insuranceType: d.insutype,
    medicalType: d.med_type,
    beginAt: d.begntime,
    state: d.mdtrt_stas,
  };
}

// ---------------------------------------------------------------------------------------------------- 2204

export function feeLineNational(f: FeeLineResult): Record<string, unknown> {
  return {
    feedetl_sn: f.lineNo,
    med_list_codg: f.code,
    med_list_name: f.name, // ext
    chrgitm_lv: ITEM_CLASS_TO_LV[f.itemClass],
    cnt: f.quantity,
    pric: toYuan(f.unitPrice),
    det_item_fee_sumamt: toYuan(f.amount),
    selfpay_prop: bpToProp(f.selfPayRatioBp),
    pric_uplmt_amt: f.priceCap === null ? null : toYuan(f.priceCap),
    overlmt_amt: toYuan(f.overPriceCap),
    preselfpay_amt: toYuan(f.preSelfPay),
    fulamt_ownpay_amt: toYuan(f.fullySelfPaid),
    inscp_scp_amt: toYuan(f.inScope),
  };
}

export function feeLineFrom(r: any): FeeLineResult {
  return {
    lineNo: r.feedetl_sn,
    code: r.med_list_codg,
    name: r.med_list_name,
    itemClass: LV_TO_ITEM_CLASS[r.chrgitm_lv],
    quantity: Number(r.cnt),
    unitPrice: toFen(r.pric, 'pric'),
    amount: toFen(r.det_item_fee_sumamt, 'det_item_fee_sumamt'),
    selfPayRatioBp: propToBp(r.selfpay_prop),
    priceCap:
      r.pric_uplmt_amt === null || r.pric_uplmt_amt === undefined ? null : toFen(r.pric_uplmt_amt, 'pric_uplmt_amt'),
    overPriceCap: toFen(r.overlmt_amt, 'overlmt_amt'),
    preSelfPay: toFen(r.preselfpay_amt, 'preselfpay_amt'),
    fullySelfPaid: toFen(r.fulamt_ownpay_amt, 'fulamt_ownpay_amt'),
    inScope: toFen(r.inscp_scp_amt, 'inscp_scp_amt'),
  };
}

// ---------------------------------------------------------------------------------------------- 2206/2207

function splitNational(s: Split): Record<string, unknown> {
  return {
    medfee_sumamt: toYuan(s.total),
    fulamt_ownpay_amt: toYuan(s.fullySelfPaid),
    overlmt_selfpay: toYuan(s.overPriceCap),
    preselfpay_amt: toYuan(s.preSelfPay),
    inscp_scp_amt: toYuan(s.inScope),
    act_pay_dedc: toYuan(s.deductibleApplied),
    hifp_pay: toYuan(s.fundPayment),
    fund_pay_sumamt: toYuan(s.fundPayment),
    psn_part_amt: toYuan(s.total - s.fundPayment),
    acct_pay: toYuan(s.accountPayment - s.mutualAidPayment),
    acct_mulaid_pay: toYuan(s.mutualAidPayment),
    psn_cash_pay: toYuan(s.cashPayment),
    balc: toYuan(s.balanceAfter),
    insutype: s.insuranceType,
    med_type: s.medicalType,
    pol_ver: s.policyVersion, // ext: the policy version the settlement used
    accu_grp: s.accumulatorGroup, // ext
  };
}

function splitFrom(o: any): Split {
  const acct = toFen(o.acct_pay, 'acct_pay');
  const mulaid = toFen(o.acct_mulaid_pay, 'acct_mulaid_pay');
  return {
    total: toFen(o.medfee_sumamt, 'medfee_sumamt'),
    fullySelfPaid: toFen(o.fulamt_ownpay_amt, 'fulamt_ownpay_amt'),
    overPriceCap: toFen(o.overlmt_selfpay, 'overlmt_selfpay'),
    preSelfPay: toFen(o.preselfpay_amt, 'preselfpay_amt'),
    inScope: toFen(o.inscp_scp_amt, 'inscp_scp_amt'),
    deductibleApplied: toFen(o.act_pay_dedc, 'act_pay_dedc'),
    fundPayment: toFen(o.hifp_pay, 'hifp_pay'),
    accountPayment: acct + mulaid,
    mutualAidPayment: mulaid,
    cashPayment: toFen(o.psn_cash_pay, 'psn_cash_pay'),
    balanceAfter: toFen(o.balc, 'balc'),
    policyVersion: o.pol_ver,
    insuranceType: o.insutype,
    medicalType: o.med_type,
    accumulatorGroup: o.accu_grp,
  };
}

export function preSettleOutput(p: PreSettlement): Record<string, unknown> {
  return {
    setlinfo: { mdtrt_id: p.visitId, ...splitNational(p) },
    setldetail: [],
    feedetail: p.lines.map(feeLineNational),
  };
}

export function preSettleFrom(out: any): PreSettlement {
  return { ...splitFrom(out.setlinfo), visitId: out.setlinfo.mdtrt_id, lines: (out.feedetail ?? []).map(feeLineFrom) };
}

export function settleOutput(s: Settlement): Record<string, unknown> {
  return {
    setlinfo: {
      setl_id: s.settlementId,
      mdtrt_id: s.visitId,
      psn_no: s.personNo,
      fixmedins_code: s.institutionCode, // ext
      insuplc_admdvs: s.regionCode,
      setl_time: s.settledAt,
      ...splitNational(s),
      msgid: s.requestId, // ext: the msgid the settlement was made under
      mulaid_psn_no: s.mutualAidPayerPersonNo, // ext
      setl_stas: s.state, // ext
      revs_time: s.reversedAt, // ext
    },
    setldetail: [],
  };
}

export function settlementFrom(out: any): Settlement {
  const o = out.setlinfo;
  return {
    ...splitFrom(o),
    settlementId: o.setl_id,
    visitId: o.mdtrt_id,
    requestId: o.msgid,
    regionCode: o.insuplc_admdvs,
    personNo: o.psn_no,
    institutionCode: o.fixmedins_code,
    mutualAidPayerPersonNo: o.mulaid_psn_no ?? null,
    state: o.setl_stas,
    settledAt: o.setl_time,
    reversedAt: o.revs_time ?? null,
  };
}

// ---------------------------------------------------------------------------------------------------- 2208

/** As nationally, the reversal carries the settled amounts negated. */
export function reversalOutput(r: Reversal): Record<string, unknown> {
  return {
    setlinfo: {
      setl_id: r.settlementId,
      insuplc_admdvs: r.regionCode,
      medfee_sumamt: toYuan(-r.total),
      fund_pay_sumamt: toYuan(-r.fundRefund),
      acct_pay: toYuan(-(r.accountRefund - r.mutualAidRefund)),
      acct_mulaid_pay: toYuan(-r.mutualAidRefund),
      psn_cash_pay: toYuan(-r.cashRefund),
      setl_time: r.reversedAt,
    },
  };
}

const negFen = (v: unknown, field: string) => 0 - toFen(v, field);

export function reversalFrom(out: any): Reversal {
  const o = out.setlinfo;
  const mulaid = negFen(o.acct_mulaid_pay, 'acct_mulaid_pay');
  return {
    settlementId: o.setl_id,
    regionCode: o.insuplc_admdvs,
    total: negFen(o.medfee_sumamt, 'medfee_sumamt'),
    fundRefund: negFen(o.fund_pay_sumamt, 'fund_pay_sumamt'),
    accountRefund: negFen(o.acct_pay, 'acct_pay') + mulaid,
    mutualAidRefund: mulaid,
    cashRefund: negFen(o.psn_cash_pay, 'psn_cash_pay'),
    reversedAt: o.setl_time,
  };
}
