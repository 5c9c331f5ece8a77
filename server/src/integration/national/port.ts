import { randomBytes } from 'node:crypto';
import { type Executor, sql } from '../../platform/db/index.ts';

/**
 * Vertical port to the national medical-insurance platform (国家医保信息平台), the part the e-bill center uses:
 * reporting issued medical-charge e-bills. National field names live only here, in `integration/`.
 */
export interface NationalBillReport {
  regionCode: string;
  billCode: string;
  billNumber: string;
  kind: 'blue' | 'red';
  institutionCode: string;
  total: number;
  fundPayment: number;
  accountPayment: number;
  cashPayment: number;
  issuedAt: string;
  /** Base64 SM2 signature of the fiscal issuer over the bill's canonical form. */
  signature: string;
}

export interface NationalReceipt {
  receipt: string;
  /** True when the platform had already recorded this bill (a retried report). */
  duplicate: boolean;
}

export interface NationalPlatform {
  readonly sandbox: boolean;
  reportBill(ex: Executor, report: NationalBillReport): Promise<NationalReceipt>;
}

/** The national message for a bill report (national names). */
export function toNationalMessage(r: NationalBillReport): Record<string, unknown> {
  return {
    infno: '5401',
    insuplc_admdvs: r.regionCode,
    fixmedins_code: r.institutionCode,
    elec_bill_code: r.billCode,
    elec_billno: r.billNumber,
    bill_type: r.kind === 'red' ? '2' : '1',
    medfee_sumamt: r.total,
    fund_pay_sumamt: r.fundPayment,
    acct_pay: r.accountPayment,
    psn_cash_pay: r.cashPayment,
    bill_date: r.issuedAt,
    sign_data: r.signature,
  };
}

export class NationalError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.name = 'NationalError';
    this.retryable = retryable;
  }
}

/**
 * 沙箱国家平台: validates the national message like the real receiver (codes, amounts add up) and records it,
 * idempotently by bill code + number. `failNext(n)` makes the next n reports fail (fault injection).
 */
export class SandboxNationalPlatform implements NationalPlatform {
  readonly sandbox = true;
  private failures = 0;

  failNext(n: number): void {
    this.failures = n;
  }

  async reportBill(ex: Executor, report: NationalBillReport): Promise<NationalReceipt> {
    if (this.failures > 0) {
      this.failures--;
      throw new NationalError('沙箱国家平台: 模拟网络超时', true);
    }
    const msg = toNationalMessage(report);
    if (!/^\d{8}$/.test(String(msg.elec_bill_code)) || !/^\d{10}$/.test(String(msg.elec_billno))) {
      throw new NationalError('沙箱国家平台: 票据代码或号码格式错误', false);
    }
    const sum = Number(msg.fund_pay_sumamt) + Number(msg.acct_pay) + Number(msg.psn_cash_pay);
    if (sum !== Number(msg.medfee_sumamt)) throw new NationalError('沙箱国家平台: 支付构成与总额不符', false);
    const receipt = `NAT${Date.now().toString(36).toUpperCase()}${randomBytes(4).toString('hex').toUpperCase()}`;
    const inserted = await ex.q<{ receipt: string }>(sql`insert into ebill_national_sandbox_record
        (region_code, bill_code, bill_number, receipt, payload)
      values (${report.regionCode}, ${report.billCode}, ${report.billNumber}, ${receipt}, ${JSON.stringify(msg)}::jsonb)
      on conflict do nothing returning receipt`);
    if (inserted.length === 1) return { receipt, duplicate: false };
    const [prev] = await ex.q<{ receipt: string }>(sql`select receipt from ebill_national_sandbox_record
      where region_code = ${report.regionCode} and bill_code = ${report.billCode} and bill_number = ${report.billNumber}`);
    return { receipt: prev.receipt, duplicate: true };
  }
}
