/**
 * TEST ONLY: a small in-memory CoreZone for the saga's unit tests, computing splits with the real pure settlement
 * engine (reference/settlement) and keeping balances, settlements and reversals in memory. Integration tests use
 * the reference core zone itself.
 */

import type {
  CorePerson,
  CoreZone,
  FeeLineInput,
  FeeLineResult,
  PreSettlement,
  Reversal,
  SettleInput,
  Settlement,
  Visit,
  VisitInput,
} from '../../integration/core-zone/port.ts';
import {
  DEMO_POLICIES,
  settle as engineSettle,
  type FeeLine,
} from '../../integration/core-zone/reference/settlement/index.ts';
import { AppError } from '../../platform/errors.ts';

const CATALOGUE: Record<string, { name: string; itemClass: 'A' | 'B' | 'C' }> = {
  XA01: { name: '阿莫西林胶囊', itemClass: 'A' },
  XB02: { name: '布洛芬缓释胶囊', itemClass: 'B' },
  ZC03: { name: '营养保健品', itemClass: 'C' },
  S004: { name: '普通门诊诊查费', itemClass: 'A' },
};
export const FAKE_CODES = Object.keys(CATALOGUE);

const err = (status: number, code: string, title: string) => new AppError(status, code, title);

export class FakeCoreZone {
  readonly kind = 'reference' as const;
  readonly balances = new Map<string, number>();
  readonly initial = new Map<string, number>();
  readonly persons = new Map<string, CorePerson>();
  private readonly visits = new Map<string, { visit: Visit; lines: FeeLineInput[]; preSettled: boolean }>();
  readonly settlements = new Map<string, Settlement>();
  private readonly byRequest = new Map<string, string>();
  private readonly reversals = new Map<string, Reversal>();
  private seq = 0;
  /** make settle fail: 'unavailable' (502, outcome unknown) or a definite refusal */
  settleFailure?: 'unavailable' | 'refuse';
  /** delay (ms) inside settle, to widen race windows */
  settleDelayMs = 0;
  calls: string[] = [];

  addPerson(regionCode: string, residentId: string, balance: number): CorePerson {
    const p: CorePerson = {
      personNo: `${regionCode}${String(this.persons.size + 1).padStart(12, '0')}`,
      regionCode,
      name: '测试',
      residentId,
      sex: '1',
      birthDate: '1985-03-12',
      personType: 'employee',
    };
    this.persons.set(p.personNo, p);
    this.balances.set(p.personNo, balance);
    this.initial.set(p.personNo, balance);
    return p;
  }

  useEcTokenResolver(): void {}

  async findPerson(
    _regionCode: string,
    key: { residentId?: string; personNo?: string; ecToken?: string },
  ): Promise<CorePerson> {
    for (const p of this.persons.values()) if (p.residentId === key.residentId || p.personNo === key.personNo) return p;
    throw err(404, 'CORE_PERSON_NOT_FOUND', '未找到参保人');
  }

  async registerVisit(input: VisitInput): Promise<Visit> {
    const existing = this.byRequest.get(input.requestId);
    if (existing) return this.visits.get(existing)!.visit;
    const visit: Visit = {
      visitId: `V${++this.seq}`,
      regionCode: input.regionCode,
      personNo: input.personNo,
      institutionCode: input.institutionCode,
      institutionLevel: 2,
      insuranceType: '310',
      medicalType: input.medicalType,
      beginAt: new Date().toISOString(),
      state: 'open',
    };
    this.byRequest.set(input.requestId, visit.visitId);
    this.visits.set(visit.visitId, { visit, lines: [], preSettled: false });
    return visit;
  }

  async uploadFees(_regionCode: string, visitId: string, lines: FeeLineInput[]): Promise<FeeLineResult[]> {
    const v = this.visits.get(visitId)!;
    if (v.visit.state !== 'open') throw err(409, 'CORE_VISIT_CLOSED', '就诊已撤销或已结算');
    for (const l of lines) if (!CATALOGUE[l.code]) throw err(422, 'CORE_UNKNOWN_ITEM_CODE', '医保目录中无此项目编码');
    v.lines = lines;
    return this.compute(v.visit, lines, true).lines;
  }

  async cancelFees(_regionCode: string, visitId: string): Promise<void> {
    const v = this.visits.get(visitId);
    if (v?.visit.state !== 'open') throw err(409, 'CORE_VISIT_CLOSED', '就诊已撤销或已结算');
    v.lines = [];
  }

  async cancelVisit(_regionCode: string, visitId: string): Promise<Visit> {
    const v = this.visits.get(visitId)!;
    if (v.visit.state !== 'open') throw err(409, 'CORE_VISIT_CLOSED', '就诊已撤销或已结算');
    v.visit.state = 'cancelled';
    return v.visit;
  }

  private compute(visit: Visit, lines: FeeLineInput[], useAccount: boolean): PreSettlement {
    const feeLines: FeeLine[] = lines.map((l) => ({
      code: l.code,
      name: CATALOGUE[l.code].name,
      itemClass: CATALOGUE[l.code].itemClass,
      unitPriceFen: l.unitPrice,
      quantity: l.quantity,
    }));
    const s = engineSettle({
      policy: DEMO_POLICIES.find((p) => p.regionCode === '990100')!,
      insuranceType: '310',
      medicalType: visit.medicalType,
      institutionLevel: 2,
      age: 40,
      lines: feeLines,
      accumulators: { deductiblePaidYtd: 0, fundPaidYtd: 0 },
      accountBalance: this.balances.get(visit.personNo) ?? 0,
      useAccount,
    });
    return {
      visitId: visit.visitId,
      total: s.total,
      fullySelfPaid: s.fullySelfPaid,
      overPriceCap: s.overPriceCap,
      preSelfPay: s.preSelfPay,
      inScope: s.inScope,
      deductibleApplied: s.deductibleApplied,
      fundPayment: s.fundPayment,
      accountPayment: s.accountPayment,
      mutualAidPayment: 0,
      cashPayment: s.cashPayment,
      balanceAfter: s.accountBalanceAfter,
      policyVersion: s.policyVersion,
      insuranceType: '310',
      medicalType: visit.medicalType,
      accumulatorGroup: s.accumulatorGroup,
      lines: s.lines.map((l, i) => ({
        lineNo: lines[i].lineNo,
        code: l.code,
        name: l.name,
        itemClass: l.itemClass,
        quantity: lines[i].quantity,
        unitPrice: lines[i].unitPrice,
        amount: l.amount,
        selfPayRatioBp: l.selfPayRatioBp,
        priceCap: null,
        overPriceCap: l.overPriceCap,
        preSelfPay: l.preSelfPay,
        fullySelfPaid: l.fullySelfPaid,
        inScope: l.inScope,
      })),
    };
  }

  async preSettle(input: SettleInput): Promise<PreSettlement> {
    const v = this.visits.get(input.visitId)!;
    if (v.lines.length === 0) throw err(409, 'CORE_NO_FEES', '尚未上传费用明细');
    v.preSettled = true;
    return this.compute(v.visit, v.lines, input.useAccount);
  }

  async settle(input: SettleInput & { requestId: string }): Promise<Settlement> {
    this.calls.push(`settle:${input.requestId}`);
    if (this.settleFailure === 'unavailable') throw err(502, 'CORE_UNAVAILABLE', '核心区服务暂不可用');
    if (this.settleDelayMs) await new Promise((r) => setTimeout(r, this.settleDelayMs));
    const done = this.byRequest.get(input.requestId);
    if (done) return this.settlements.get(done)!;
    if (this.settleFailure === 'refuse') throw err(409, 'CORE_INSURANCE_PAUSED', '参保状态为暂停或终止，不能结算');
    const v = this.visits.get(input.visitId)!;
    if (v.visit.state !== 'open') throw err(409, 'CORE_VISIT_CLOSED', '就诊已撤销或已结算');
    if (!v.preSettled) throw err(409, 'CORE_NOT_PRESETTLED', '未预结算，不能结算');
    // computed against the balance now: a concurrent settlement may have spent it
    const split = this.compute(v.visit, v.lines, input.useAccount);
    const balance = this.balances.get(v.visit.personNo)!;
    if (split.accountPayment > balance) throw err(409, 'CORE_INSUFFICIENT_BALANCE', '个人账户余额不足');
    this.balances.set(v.visit.personNo, balance - split.accountPayment);
    v.visit.state = 'settled';
    const { lines: _l, visitId: _v, ...rest } = split;
    const s: Settlement = {
      ...rest,
      settlementId: `S${++this.seq}`,
      visitId: v.visit.visitId,
      requestId: input.requestId,
      regionCode: input.regionCode,
      personNo: v.visit.personNo,
      institutionCode: v.visit.institutionCode,
      mutualAidPayerPersonNo: null,
      state: 'settled',
      settledAt: new Date().toISOString(),
      reversedAt: null,
    };
    this.settlements.set(s.settlementId, s);
    this.byRequest.set(input.requestId, s.settlementId);
    return s;
  }

  async getSettlement(_regionCode: string, id: string): Promise<Settlement> {
    const s = this.settlements.get(id);
    if (!s) throw err(404, 'CORE_SETTLEMENT_NOT_FOUND', '未找到结算记录');
    return s;
  }

  async reverse(input: { regionCode: string; settlementId: string; requestId: string }): Promise<Reversal> {
    const previous = this.reversals.get(input.requestId);
    if (previous) return previous;
    const s = this.settlements.get(input.settlementId);
    if (!s) throw err(404, 'CORE_SETTLEMENT_NOT_FOUND', '未找到结算记录');
    if (s.state === 'reversed') throw err(409, 'CORE_ALREADY_REVERSED', '该结算已冲正');
    s.state = 'reversed';
    s.reversedAt = new Date().toISOString();
    this.balances.set(s.personNo, this.balances.get(s.personNo)! + s.accountPayment);
    const r: Reversal = {
      settlementId: s.settlementId,
      regionCode: s.regionCode,
      total: s.total,
      fundRefund: s.fundPayment,
      accountRefund: s.accountPayment,
      mutualAidRefund: 0,
      cashRefund: s.cashPayment,
      reversedAt: s.reversedAt,
    };
    this.reversals.set(input.requestId, r);
    return r;
  }

  readonly institutionName = '测试市第二人民医院';

  async getInstitution(regionCode: string, code: string) {
    return { code, regionCode, kind: 'hospital' as const, name: this.institutionName, level: 2 as const };
  }

  asCoreZone(): CoreZone {
    return this as unknown as CoreZone;
  }
}
