import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { InstitutionNames, institutionLabel } from '../../integration/core-zone/institution-names.ts';
import type { NationalBillReport, NationalPlatform } from '../../integration/national/port.ts';
import { appendAudit } from '../../platform/audit.ts';
import type { Context } from '../../platform/context.ts';
import { sm2GenerateKeyPair, sm2Verify, sm3Hex, verifyEnvelopeDetailed } from '../../platform/crypto/index.ts';
import { type Database, type Executor, sql } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { enqueue, type JobRow, NotYet } from '../../platform/jobs.ts';
import { checkOutboundUrl, outboundPolicy } from '../../platform/outbound.ts';
import { maskMobile, maskName } from '../../platform/privacy/index.ts';
import { isoInstant } from '../../platform/time.ts';
import { type PaymentEvent, parsePaymentEvent } from '../payment/index.ts';
import { ChannelCallbacks } from './callbacks.ts';
import type { BillItem, FiscalIssuer } from './issuer/port.ts';
import {
  CHANNEL_APIS,
  type ChannelApi,
  type ChannelCreate,
  type ChannelUpdate,
  type StaffSearch,
  type VerifyInput,
} from './schema.ts';

export const NATIONAL_QUEUE = 'ebill.national-report';
/** Verification: attempts per IP per minute, and failures (15 min) after which a captcha is required. */
export const VERIFY_LIMIT_PER_MINUTE = 30;
export const VERIFY_FAILURES_BEFORE_CAPTCHA = 3;

export interface BillView {
  id: string;
  billCode: string;
  billNumber: string;
  checkCode: string;
  kind: 'blue' | 'red';
  status: 'valid' | 'partially_reversed' | 'reversed';
  refundedTotal: number;
  refundId: string | null;
  orderId: string;
  /** the hall account it was issued to; null for an insured person without one */
  personId: string | null;
  payerName: string;
  institutionCode: string;
  payeeName: string;
  total: number;
  fundPayment: number;
  accountPayment: number;
  cashPayment: number;
  items: BillItem[];
  settledAt: string;
  issuedAt: string;
  signature: string;
  keyId: string;
  originalBillId: string | null;
  issuer: { name: string; sandbox: boolean };
}

interface BillRow {
  id: string;
  region_code: string;
  bill_code: string;
  bill_number: string;
  check_code: string;
  kind: 'blue' | 'red';
  status: 'valid' | 'partially_reversed' | 'reversed';
  refunded_total: number;
  refund_id: string;
  order_id: string;
  person_id: string | null;
  payer_name_enc: string | null;
  institution_code: string;
  payee_name: string;
  total: number;
  fund_payment: number;
  account_payment: number;
  cash_payment: number;
  items: BillItem[];
  settled_at: Date | string;
  issued_at: Date | string;
  canonical: string;
  signature: string;
  key_id: string;
  original_bill_id: string | null;
}

export interface VerifyAnswer {
  result: 'valid' | 'reversed';
  bill: {
    billCode: string;
    billNumber: string;
    kind: 'blue' | 'red';
    issuedAt: string;
    total: number;
    /** Fen already reversed by red bills (partial refunds keep the bill valid). */
    refundedTotal: number;
    payeeName: string;
    signatureValid: true;
  };
}

export interface ChannelView {
  /** 'ebill': registered here (own keys); 'auth': the unified authentication center's channel with scope ebill. */
  source: 'ebill' | 'auth';
  appId: string;
  name: string;
  institutionCode: string | null;
  status: 'enabled' | 'disabled';
  contactName: string | null;
  contactMobile: string | null;
  callbackUrl: string | null;
  publicKey: string;
  createdAt: string;
  apis: Array<{ api: ChannelApi; name: string; enabled: boolean; dailyQuota: number; usedToday: number }>;
}

export interface Caller {
  ip: string;
  userAgent?: string;
}

/** What the e-bill center uses of the auth center's channel registry (structural: the auth center is optional). */
interface AuthChannels {
  verifier: {
    verify(
      envelope: unknown,
      opts?: { scope?: string },
    ): Promise<{ channel: { appId: string; regionCode: string; institutionCode?: string }; data: unknown }>;
  };
  listChannels(regionCode: string): Promise<
    Array<{
      appId: string;
      name: string;
      institutionCode: string | null;
      scopes: string[];
      status: 'active' | 'disabled';
      publicKeyHex: string;
      createdAt: string;
    }>
  >;
}

/** Auth-center channels holding this scope may call the bill APIs (with the grants and quotas set here). */
export const EBILL_SCOPE = 'ebill';
/** Grants of an auth-center channel that has none set here yet. */
const DEFAULT_DAILY_QUOTA = 10_000;

const notFoundBill = () => new AppError(404, 'EBILL_NOT_FOUND', '票据不存在');
/** One answer for unknown bill, wrong check code and wrong amount: nothing is leaked. */
export const verifyNotFound = () =>
  new AppError(404, 'EBILL_VERIFY_NOT_FOUND', '未查询到相符的票据', '请核对票据代码、号码、校验码和金额');

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class EbillService {
  readonly ctx: Context;
  readonly issuer: FiscalIssuer;
  readonly national: NationalPlatform;
  /** Signed notifications to the institution's channels when its bills are issued or reversed. */
  readonly callbacks: ChannelCallbacks;
  private readonly institutions: InstitutionNames;

  constructor(ctx: Context, issuer: FiscalIssuer, national: NationalPlatform) {
    this.ctx = ctx;
    this.issuer = issuer;
    this.national = national;
    this.callbacks = new ChannelCallbacks(ctx);
    this.institutions = new InstitutionNames(
      () => {
        const core = ctx.services.coreZone;
        if (!core) throw new Error('no core zone');
        return core;
      },
      (err, institution) => ctx.log.warn({ err, institution }, 'ebill: institution look-up failed'),
    );
  }

  private get db(): Database {
    return this.ctx.db;
  }

  // ---------------------------------------------------------------- issuing

  /** Event handler: `payment.completed` → a blue bill (once per order). */
  async onPaymentCompleted(job: JobRow): Promise<void> {
    await this.issueBlue(parsePaymentEvent(job.payload));
  }

  /** Event handler: `payment.refunded` → a red reversing bill for the order's blue bill. */
  async onPaymentRefunded(job: JobRow): Promise<void> {
    const event = parsePaymentEvent(job.payload);
    try {
      await this.issueRed(event);
    } catch (err) {
      // the refund's event overtook the payment's (independent jobs): the blue bill is on its way
      if (err instanceof AppError && err.code === 'EBILL_ORIGINAL_NOT_ISSUED') throw new NotYet(err.title);
      throw err;
    }
  }

  /** The insured person's name: their hall account's, else the core zone's (a person without an account). */
  private async payerName(ev: PaymentEvent): Promise<string> {
    const user = (this.ctx.services as Record<string, any>).user;
    const core = this.ctx.services.coreZone;
    try {
      if (ev.personId && user?.getPerson) return String((await user.getPerson(ev.regionCode, ev.personId)).name);
      if (ev.personNo && core) return (await core.findPerson(ev.regionCode, { personNo: ev.personNo })).name;
    } catch (err) {
      this.ctx.log.warn({ err, orderId: ev.orderId }, 'ebill: payer name look-up failed');
    }
    return '参保人';
  }

  /** The payee as printed: the event's name, else the core zone's registry, else the code. */
  private async payeeName(ev: PaymentEvent): Promise<string> {
    return institutionLabel(
      ev.institutionName ?? (await this.institutions.name(ev.regionCode, ev.institutionCode)),
      ev.institutionCode,
    );
  }

  /** Issues the blue bill of a completed settlement; repeated events return the existing bill. */
  async issueBlue(ev: PaymentEvent): Promise<BillView> {
    const existing = await this.byOrder(this.db, ev.regionCode, ev.orderId, 'blue');
    if (existing) return existing;
    const payerName = await this.payerName(ev);
    const payeeName = await this.payeeName(ev);
    const items: BillItem[] = ev.lines.map((l) => ({ ...l }));
    try {
      return await this.db.tx(async (tx) => {
        // Serialise concurrent deliveries of the same order (at most one bill per order and kind).
        const again = await this.byOrder(tx, ev.regionCode, ev.orderId, 'blue');
        if (again) return again;
        // Outbox first: the counter lock below is held until commit, so as little as possible happens after it.
        const id = randomUUID();
        await this.queueNationalReport(tx, ev.regionCode, id);
        await this.callbacks.queue(tx, ev.regionCode, id, 'bill.issued', ev.institutionCode);
        const issued = await this.issuer.issue(tx, {
          regionCode: ev.regionCode,
          kind: 'blue',
          orderId: ev.orderId,
          payerName,
          institutionCode: ev.institutionCode,
          payeeName,
          total: ev.total,
          fundPayment: ev.fundPayment,
          accountPayment: ev.accountPayment,
          cashPayment: ev.cashPayment,
          items,
          settledAt: ev.settledAt,
        });
        const [row] =
          await tx.q<BillRow>(sql`insert into ebill_bill(region_code, id, bill_code, bill_number, check_code, kind, order_id,
            person_id, resident_index, payer_name_enc, institution_code, payee_name, total, fund_payment, account_payment,
            cash_payment, items, settled_at, issued_at, canonical, signature, key_id)
          values (${ev.regionCode}, ${id}, ${issued.billCode}, ${issued.billNumber}, ${issued.checkCode}, 'blue',
            ${ev.orderId}, ${ev.personId ?? null}, ${ev.residentIndex ?? null},
            ${this.ctx.privacy.cipher.encrypt(payerName)}, ${ev.institutionCode},
            ${payeeName}, ${ev.total}, ${ev.fundPayment}, ${ev.accountPayment}, ${ev.cashPayment},
            ${JSON.stringify(items)}::jsonb, ${isoInstant(ev.settledAt)}, ${issued.issuedAt}, ${issued.canonical},
            ${issued.signature}, ${issued.keyId})
          returning *`);
        this.ctx.log.info({ billCode: issued.billCode, billNumber: issued.billNumber }, 'ebill issued (沙箱开票)');
        return this.view(row);
      });
    } catch (err) {
      // A concurrent delivery won the unique (region, order, kind): return its bill (its number was not consumed
      // by us: our transaction, counter update included, rolled back).
      const winner = await this.byOrder(this.db, ev.regionCode, ev.orderId, 'blue');
      if (winner) return winner;
      throw err;
    }
  }

  /**
   * Issues the red bill of one refund (whole or partial; keyed by the refund id). Its amounts are the refund's legs;
   * when the refunds add up to the whole order the blue bill becomes `reversed`, else `partially_reversed`.
   */
  async issueRed(ev: PaymentEvent): Promise<BillView> {
    const refundId = ev.refundId ?? 'full';
    const fund = ev.fundRefund ?? ev.fundPayment;
    const account = ev.accountRefund ?? ev.accountPayment;
    const cash = ev.cashRefund ?? ev.cashPayment;
    const total = fund + account + cash;
    const existing = await this.byRefund(this.db, ev.regionCode, ev.orderId, refundId);
    if (existing) return existing;
    const blue = await this.byOrder(this.db, ev.regionCode, ev.orderId, 'blue');
    if (!blue) {
      // The refund overtook the bill (events are independent jobs): retry later, the blue bill comes first.
      throw new AppError(409, 'EBILL_ORIGINAL_NOT_ISSUED', '原票据尚未开具，稍后重试');
    }
    try {
      return await this.db.tx(async (tx) => {
        const locked = await tx.one<{ status: string; refunded_total: number }>(sql`select status, refunded_total
          from ebill_bill where region_code = ${ev.regionCode} and id = ${blue.id} for update`);
        const again = await this.byRefund(tx, ev.regionCode, ev.orderId, refundId);
        if (again) return again;
        if (!locked || locked.status === 'reversed')
          throw new AppError(409, 'EBILL_ALREADY_REVERSED', '原票据已全额冲红');
        const refunded = Number(locked.refunded_total) + total;
        if (total <= 0) throw new AppError(422, 'EBILL_REFUND_EMPTY', '冲红金额须大于零');
        if (refunded > blue.total) {
          throw new AppError(422, 'EBILL_REFUND_EXCEEDS', '冲红金额超过原票据可冲销金额');
        }
        const full = refunded === blue.total;
        const items: BillItem[] =
          total === blue.total
            ? blue.items.map((l) => ({ ...l, amount: -Math.abs(l.amount) }))
            : [
                {
                  code: '-',
                  name: `退费冲红（原票据 ${blue.billCode}-${blue.billNumber}）`,
                  itemClass: '-',
                  quantity: 1,
                  amount: -total,
                },
              ];
        const id = randomUUID();
        await this.queueNationalReport(tx, ev.regionCode, id);
        await this.callbacks.queue(tx, ev.regionCode, id, 'bill.reversed', blue.institutionCode);
        const issued = await this.issuer.issue(tx, {
          regionCode: ev.regionCode,
          kind: 'red',
          orderId: ev.orderId,
          payerName: blue.payerName,
          institutionCode: blue.institutionCode,
          payeeName: blue.payeeName,
          total,
          fundPayment: fund,
          accountPayment: account,
          cashPayment: cash,
          items,
          settledAt: ev.refundedAt ?? ev.settledAt,
          original: { billCode: blue.billCode, billNumber: blue.billNumber, full },
        });
        await tx.q(sql`insert into ebill_bill(region_code, id, bill_code, bill_number, check_code, kind, order_id,
            person_id, resident_index, payer_name_enc, institution_code, payee_name, total, fund_payment,
            account_payment, cash_payment, items, settled_at, issued_at, canonical, signature, key_id, original_bill_id,
            refund_id)
          values (${ev.regionCode}, ${id}, ${issued.billCode}, ${issued.billNumber}, ${issued.checkCode}, 'red',
            ${ev.orderId}, ${blue.personId}, ${ev.residentIndex ?? null}, ${this.ctx.privacy.cipher.encrypt(blue.payerName)},
            ${blue.institutionCode}, ${blue.payeeName}, ${total}, ${fund}, ${account}, ${cash},
            ${JSON.stringify(items)}::jsonb, ${isoInstant(ev.refundedAt ?? ev.settledAt)}, ${issued.issuedAt},
            ${issued.canonical}, ${issued.signature}, ${issued.keyId}, ${blue.id}, ${refundId})`);
        await tx.q(sql`update ebill_bill set refunded_total = ${refunded},
            status = ${full ? 'reversed' : 'partially_reversed'}
          where region_code = ${ev.regionCode} and id = ${blue.id}`);
        return (await this.byId(tx, ev.regionCode, id))!;
      });
    } catch (err) {
      const winner = await this.byRefund(this.db, ev.regionCode, ev.orderId, refundId);
      if (winner) return winner;
      throw err;
    }
  }

  async byRefund(ex: Executor, regionCode: string, orderId: string, refundId: string): Promise<BillView | undefined> {
    const r = await ex.one<BillRow>(sql`select * from ebill_bill
      where region_code = ${regionCode} and order_id = ${orderId} and kind = 'red' and refund_id = ${refundId}`);
    return r ? this.view(r) : undefined;
  }

  // ---------------------------------------------------------------- reading

  private view(r: BillRow): BillView {
    return {
      id: r.id,
      billCode: r.bill_code,
      billNumber: r.bill_number,
      checkCode: r.check_code,
      kind: r.kind,
      status: r.status,
      refundedTotal: Number(r.refunded_total),
      refundId: r.refund_id || null,
      orderId: r.order_id,
      personId: r.person_id,
      payerName: r.payer_name_enc ? this.ctx.privacy.cipher.decrypt(r.payer_name_enc) : '',
      institutionCode: r.institution_code,
      payeeName: r.payee_name,
      total: Number(r.total),
      fundPayment: Number(r.fund_payment),
      accountPayment: Number(r.account_payment),
      cashPayment: Number(r.cash_payment),
      items: r.items,
      settledAt: isoInstant(r.settled_at),
      issuedAt: isoInstant(r.issued_at),
      signature: r.signature,
      keyId: r.key_id,
      originalBillId: r.original_bill_id,
      issuer: { name: this.issuer.sandbox ? '沙箱财政电子票据平台' : '财政电子票据平台', sandbox: this.issuer.sandbox },
    };
  }

  async byId(ex: Executor, regionCode: string, id: string): Promise<BillView | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const r = await ex.one<BillRow>(sql`select * from ebill_bill where region_code = ${regionCode} and id = ${id}`);
    return r ? this.view(r) : undefined;
  }

  async byOrder(
    ex: Executor,
    regionCode: string,
    orderId: string,
    kind: 'blue' | 'red',
  ): Promise<BillView | undefined> {
    const r = await ex.one<BillRow>(sql`select * from ebill_bill
      where region_code = ${regionCode} and order_id = ${orderId} and kind = ${kind}
      order by issued_at desc limit 1`);
    return r ? this.view(r) : undefined;
  }

  async byNumber(ex: Executor, regionCode: string, billCode: string, billNumber: string) {
    const r = await ex.one<BillRow>(sql`select * from ebill_bill
      where region_code = ${regionCode} and bill_code = ${billCode} and bill_number = ${billNumber}`);
    return r ? this.view(r) : undefined;
  }

  /**
   * A person's own bills, newest first: those issued to their account and those issued to them as an insured person
   * before they had one (by the resident ID's blind index).
   */
  async listForPerson(regionCode: string, personId: string, page = 1, pageSize = 20) {
    const mine = await this.ownedBy(regionCode, personId);
    const rows = await this.db.q<BillRow>(sql`select * from ebill_bill where region_code = ${regionCode} and ${mine}
      order by issued_at desc, bill_number desc limit ${pageSize} offset ${(page - 1) * pageSize}`);
    const [{ n }] = await this.db.q<{ n: number }>(sql`select count(*)::int as n from ebill_bill
      where region_code = ${regionCode} and ${mine}`);
    return { total: n, items: rows.map((r) => this.view(r)) };
  }

  async getForPerson(regionCode: string, personId: string, id: string): Promise<BillView> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFoundBill();
    const mine = await this.ownedBy(regionCode, personId);
    const [r] = await this.db.q<BillRow>(sql`select * from ebill_bill
      where region_code = ${regionCode} and id = ${id} and ${mine}`);
    if (!r) throw notFoundBill();
    return this.view(r);
  }

  /** The condition that a bill is this person's. */
  private async ownedBy(regionCode: string, personId: string) {
    const index: string | undefined = await this.ctx.services.user?.residentIndexOf(regionCode, personId);
    return index ? sql`(person_id = ${personId} or resident_index = ${index})` : sql`person_id = ${personId}`;
  }

  /** Staff search: every call is audited with its purpose; payer names come back masked. */
  async staffSearch(regionCode: string, staffId: string, q: StaffSearch, caller: Caller) {
    const where = [sql`region_code = ${regionCode}`];
    if (q.billCode) where.push(sql`bill_code = ${q.billCode}`);
    if (q.billNumber) where.push(sql`bill_number = ${q.billNumber}`);
    if (q.orderId) where.push(sql`order_id = ${q.orderId}`);
    if (q.institutionCode) where.push(sql`institution_code = ${q.institutionCode}`);
    if (q.personId) where.push(sql`person_id = ${q.personId}`);
    if (q.kind) where.push(sql`kind = ${q.kind}`);
    if (q.from) where.push(sql`issued_at >= ${q.from}`);
    if (q.to) where.push(sql`issued_at < ${q.to}`);
    const cond = sql.join(where, sql` and `);
    return this.db.tx(async (tx) => {
      const rows = await tx.q<BillRow>(sql`select * from ebill_bill where ${cond}
        order by issued_at desc, bill_number desc limit ${q.pageSize} offset ${(q.page - 1) * q.pageSize}`);
      const [{ n }] = await tx.q<{ n: number }>(sql`select count(*)::int as n from ebill_bill where ${cond}`);
      const { purpose, page, pageSize, ...filters } = q;
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'ebill.search',
        targetType: 'ebill',
        purpose,
        ip: caller.ip,
        userAgent: caller.userAgent,
        result: 'success',
        detail: { filters, page, pageSize, returned: rows.length },
      });
      return {
        total: n,
        items: rows.map((r) => {
          const v = this.view(r);
          return { ...v, payerName: maskName(v.payerName), checkCode: '******' };
        }),
      };
    });
  }

  /** The structured (machine) form of a bill. */
  toJson(bill: BillView, qr: string) {
    return {
      format: 'yibao.ebill/1' as const,
      billType: '医疗收费电子票据',
      billCode: bill.billCode,
      billNumber: bill.billNumber,
      checkCode: bill.checkCode,
      kind: bill.kind,
      status: bill.status,
      refundedTotal: bill.refundedTotal,
      refundId: bill.refundId,
      issuedAt: bill.issuedAt,
      settledAt: bill.settledAt,
      orderId: bill.orderId,
      payer: { name: bill.payerName },
      payee: { institutionCode: bill.institutionCode, name: bill.payeeName },
      amounts: {
        total: bill.total,
        fundPayment: bill.fundPayment,
        accountPayment: bill.accountPayment,
        cashPayment: bill.cashPayment,
        unit: 'fen' as const,
      },
      items: bill.items,
      issuer: { ...bill.issuer, keyId: bill.keyId, signature: bill.signature, algorithm: 'SM2-with-SM3' as const },
      verification: { qr },
    };
  }

  // ---------------------------------------------------------------- QR and verification

  /** The QR text: a link to the public verification page carrying a payload signed by the issuer. */
  async qrText(bill: BillView, regionCode: string): Promise<string> {
    const payload = [
      'EB1',
      regionCode,
      bill.billCode,
      bill.billNumber,
      bill.checkCode,
      String(bill.total),
      String(Date.parse(bill.issuedAt)),
    ].join('~');
    const { signature, keyId } = await this.issuer.signPayload(this.db, regionCode, payload);
    const q = `${payload}~${keyId}~${signature}`;
    return `${this.ctx.publicUrl}/public/ebill/verify?qr=${encodeURIComponent(q)}`;
  }

  /** Checks the signature and the issuer's register; throws the same not-found for every mismatch. */
  private async checkBill(
    regionCode: string,
    input: Omit<VerifyInput, 'captchaId' | 'captchaAnswer'>,
  ): Promise<VerifyAnswer> {
    const [record, bill] = await Promise.all([
      this.issuer.record(this.db, regionCode, input.billCode, input.billNumber),
      this.db.one<BillRow>(sql`select bill_code, bill_number, kind, status, issued_at, total, refunded_total, payee_name,
          canonical, signature
        from ebill_bill where region_code = ${regionCode} and bill_code = ${input.billCode}
          and bill_number = ${input.billNumber}`),
    ]);
    const checkOk =
      !!record &&
      record.checkCode.toUpperCase() === input.checkCode.toUpperCase() &&
      record.total === input.amount &&
      !!bill;
    if (!checkOk || !record || !bill) throw verifyNotFound();
    const publicKey = await this.issuer.publicKey(this.db, regionCode, record.keyId);
    const signatureValid =
      !!publicKey &&
      sm3Hex(bill.canonical) === record.digest &&
      record.signature === bill.signature &&
      sm2Verify(bill.canonical, Buffer.from(record.signature, 'base64'), publicKey);
    if (!signatureValid) {
      this.ctx.log.error({ billCode: input.billCode, billNumber: input.billNumber }, 'ebill: signature check failed');
      throw new AppError(409, 'EBILL_SIGNATURE_INVALID', '票据签名验证失败，请联系开票单位');
    }
    return {
      result: record.reversed || bill.status === 'reversed' ? 'reversed' : 'valid',
      bill: {
        billCode: bill.bill_code,
        billNumber: bill.bill_number,
        kind: bill.kind,
        issuedAt: isoInstant(bill.issued_at),
        total: Number(bill.total),
        refundedTotal: Number(bill.refunded_total),
        payeeName: bill.payee_name,
        signatureValid: true,
      },
    };
  }

  /** Public verification by code + number + check code + amount, rate-limited per IP with a captcha after failures. */
  async verifyPublic(regionCode: string, input: VerifyInput, caller: Caller): Promise<VerifyAnswer> {
    await this.gate(regionCode, caller.ip, input.captchaId, input.captchaAnswer);
    try {
      return await this.checkBill(regionCode, input);
    } catch (err) {
      if ((err as AppError).code === 'EBILL_VERIFY_NOT_FOUND') await this.recordFailure(regionCode, caller.ip);
      throw err;
    }
  }

  /** Verification by the QR text (or just its `qr` parameter): the issuer's signature first, then the register. */
  async verifyQr(
    regionCode: string,
    qr: string,
    caller: Caller,
    captcha: { captchaId?: string; captchaAnswer?: string } = {},
    gate = true,
  ): Promise<VerifyAnswer> {
    if (gate) await this.gate(regionCode, caller.ip, captcha.captchaId, captcha.captchaAnswer);
    let q = qr.trim();
    const m = /[?&]qr=([^&#]+)/.exec(q);
    if (m) q = decodeURIComponent(m[1]);
    const parts = q.split('~');
    const forged = () => new AppError(400, 'EBILL_QR_INVALID', '票据二维码无效或已被篡改');
    if (parts.length !== 9 || parts[0] !== 'EB1') {
      if (gate) await this.recordFailure(regionCode, caller.ip);
      throw forged();
    }
    const [, region, billCode, billNumber, checkCode, amount, , keyId, signature] = parts;
    const payload = parts.slice(0, 7).join('~');
    const publicKey = /^\d{6}$/.test(region) ? await this.issuer.publicKey(this.db, region, keyId) : undefined;
    let ok = false;
    try {
      ok = !!publicKey && sm2Verify(payload, Buffer.from(signature, 'base64url'), publicKey);
    } catch {
      ok = false;
    }
    // The QR names its own region (a bill scanned in another region's hall still verifies with that region's key).
    if (!ok || !/^\d+$/.test(amount)) {
      if (gate) await this.recordFailure(regionCode, caller.ip);
      throw forged();
    }
    return this.checkBill(region, { billCode, billNumber, checkCode, amount: Number(amount) });
  }

  /** Channel verification (quota-counted, no captcha). */
  async verifyForChannel(regionCode: string, input: Omit<VerifyInput, 'captchaId' | 'captchaAnswer'>) {
    return this.checkBill(regionCode, input);
  }

  private window(): string {
    const d = new Date();
    d.setUTCSeconds(0, 0);
    return d.toISOString();
  }

  /** Per-IP limit (in the database, so every app process shares it) and the captcha after repeated failures. */
  private async gate(regionCode: string, ip: string, captchaId?: string, captchaAnswer?: string): Promise<void> {
    const [row] = await this.db.q<{
      attempts: number;
    }>(sql`insert into ebill_verify_ip(region_code, ip, window_start, attempts)
      values (${regionCode}, ${ip}, ${this.window()}, 1)
      on conflict (region_code, ip, window_start) do update set attempts = ebill_verify_ip.attempts + 1
      returning attempts`);
    if (row.attempts > VERIFY_LIMIT_PER_MINUTE) {
      throw new AppError(429, 'EBILL_VERIFY_RATE_LIMITED', '查验过于频繁，请稍后再试', undefined, {
        extra: { retryAfterSeconds: 60 },
      });
    }
    const [{ failures }] = await this.db.q<{ failures: number }>(sql`select coalesce(sum(failures), 0)::int as failures
      from ebill_verify_ip where region_code = ${regionCode} and ip = ${ip}
        and window_start > now() - interval '15 minutes'`);
    if (failures < VERIFY_FAILURES_BEFORE_CAPTCHA) return;
    if (!captchaId || !captchaAnswer) {
      throw new AppError(403, 'EBILL_CAPTCHA_REQUIRED', '请先完成图形验证码', '查验失败次数较多，需要输入验证码');
    }
    const used = await this.db.q(sql`update ebill_captcha set used = true
      where region_code = ${regionCode} and id = ${captchaId} and ip = ${ip} and not used and expires_at > now()
        and answer_hash = ${sha256(`${captchaId}:${captchaAnswer.trim()}`)}
      returning id`);
    if (used.length !== 1) {
      // A wrong answer burns the challenge too: no brute force of one challenge.
      await this.db.q(
        sql`update ebill_captcha set used = true where region_code = ${regionCode} and id = ${captchaId}`,
      );
      throw new AppError(403, 'EBILL_CAPTCHA_INVALID', '验证码错误或已过期，请刷新后重试');
    }
  }

  private async recordFailure(regionCode: string, ip: string): Promise<void> {
    await this.db.q(sql`insert into ebill_verify_ip(region_code, ip, window_start, attempts, failures)
      values (${regionCode}, ${ip}, ${this.window()}, 0, 1)
      on conflict (region_code, ip, window_start) do update set failures = ebill_verify_ip.failures + 1`);
  }

  /** A new arithmetic captcha (SVG), bound to the caller's IP, valid 5 minutes, single use. */
  async newCaptcha(regionCode: string, ip: string): Promise<{ id: string; svg: string; expiresInSeconds: number }> {
    const a = randomInt(2, 20);
    const b = randomInt(1, 10);
    const plus = randomInt(2) === 0 || a < b;
    const answer = plus ? a + b : a - b;
    const id = randomUUID();
    await this.db.q(sql`insert into ebill_captcha(region_code, id, ip, answer_hash, expires_at)
      values (${regionCode}, ${id}, ${ip}, ${sha256(`${id}:${answer}`)}, now() + interval '5 minutes')`);
    return { id, svg: captchaSvg(`${a} ${plus ? '+' : '−'} ${b} = ?`), expiresInSeconds: 300 };
  }

  // ---------------------------------------------------------------- channels (接入渠道) and API management

  async registerChannel(regionCode: string, staffId: string, input: ChannelCreate, caller: Caller) {
    if (input.callbackUrl) checkOutboundUrl(input.callbackUrl, outboundPolicy(this.ctx.config), 'callbackUrl');
    const appId = `eb${regionCode}${randomBytes(6).toString('hex')}`;
    const pair = sm2GenerateKeyPair();
    const appSecret = randomBytes(24).toString('base64url');
    const apis =
      input.apis ??
      (Object.keys(CHANNEL_APIS) as ChannelApi[]).map((api) => ({ api, enabled: true, dailyQuota: 10_000 }));
    await this.db.tx(async (tx) => {
      await tx.q(sql`insert into ebill_channel(region_code, app_id, name, institution_code, contact_name,
          contact_mobile_enc, callback_url, public_key, app_secret_enc)
        values (${regionCode}, ${appId}, ${input.name}, ${input.institutionCode ?? null}, ${input.contactName ?? null},
          ${input.contactMobile ? this.ctx.privacy.cipher.encrypt(input.contactMobile) : null},
          ${input.callbackUrl ?? null}, ${pair.publicKey}, ${this.ctx.privacy.cipher.encrypt(appSecret)})`);
      for (const a of apis) {
        await tx.q(sql`insert into ebill_channel_api(region_code, app_id, api, enabled, daily_quota)
          values (${regionCode}, ${appId}, ${a.api}, ${a.enabled}, ${a.dailyQuota})`);
      }
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'ebill.channel.register',
        targetType: 'ebill_channel',
        targetId: appId,
        ip: caller.ip,
        result: 'success',
        detail: { name: input.name, institutionCode: input.institutionCode ?? null },
      });
    });
    // The private key and secret are shown once; only the public key and the encrypted secret are kept.
    return { appId, appSecret, privateKeyHex: pair.privateKey, publicKeyHex: pair.publicKey };
  }

  async updateChannel(regionCode: string, staffId: string, appId: string, patch: ChannelUpdate, caller: Caller) {
    if (patch.callbackUrl) checkOutboundUrl(patch.callbackUrl, outboundPolicy(this.ctx.config), 'callbackUrl');
    await this.db.tx(async (tx) => {
      const row = await tx.one(sql`select app_id from ebill_channel
        where region_code = ${regionCode} and app_id = ${appId} for update`);
      if (!row) throw new AppError(404, 'EBILL_CHANNEL_NOT_FOUND', '接入渠道不存在');
      const sets = [sql`updated_at = now()`];
      if (patch.name !== undefined) sets.push(sql`name = ${patch.name}`);
      if (patch.status !== undefined) sets.push(sql`status = ${patch.status}`);
      if (patch.contactName !== undefined) sets.push(sql`contact_name = ${patch.contactName}`);
      if (patch.contactMobile !== undefined)
        sets.push(
          sql`contact_mobile_enc = ${patch.contactMobile ? this.ctx.privacy.cipher.encrypt(patch.contactMobile) : null}`,
        );
      if (patch.callbackUrl !== undefined) sets.push(sql`callback_url = ${patch.callbackUrl}`);
      await tx.q(sql`update ebill_channel set ${sql.join(sets, sql`, `)}
        where region_code = ${regionCode} and app_id = ${appId}`);
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'ebill.channel.update',
        targetType: 'ebill_channel',
        targetId: appId,
        ip: caller.ip,
        result: 'success',
        detail: { fields: Object.keys(patch), status: patch.status ?? null },
      });
    });
    return this.channel(regionCode, appId);
  }

  /** New SM2 key pair and app secret for a channel (the old ones stop working at once); shown once. */
  async rotateChannelKeys(regionCode: string, staffId: string, appId: string, caller: Caller) {
    const pair = sm2GenerateKeyPair();
    const appSecret = randomBytes(24).toString('base64url');
    await this.db.tx(async (tx) => {
      const rows = await tx.q(sql`update ebill_channel set public_key = ${pair.publicKey},
          app_secret_enc = ${this.ctx.privacy.cipher.encrypt(appSecret)}, updated_at = now()
        where region_code = ${regionCode} and app_id = ${appId} returning app_id`);
      if (rows.length !== 1) throw new AppError(404, 'EBILL_CHANNEL_NOT_FOUND', '接入渠道不存在');
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'ebill.channel.rotate-keys',
        targetType: 'ebill_channel',
        targetId: appId,
        ip: caller.ip,
        result: 'success',
      });
    });
    return { appId, appSecret, privateKeyHex: pair.privateKey, publicKeyHex: pair.publicKey };
  }

  async setChannelApis(
    regionCode: string,
    staffId: string,
    appId: string,
    apis: Array<{ api: ChannelApi; enabled: boolean; dailyQuota: number }>,
    caller: Caller,
  ) {
    const authChannel = (await this.authChannels(regionCode)).find((c) => c.appId === appId);
    await this.db.tx(async (tx) => {
      const row = await tx.one(
        sql`select app_id from ebill_channel where region_code = ${regionCode} and app_id = ${appId}`,
      );
      if (!row && !authChannel) throw new AppError(404, 'EBILL_CHANNEL_NOT_FOUND', '接入渠道不存在');
      await tx.q(sql`delete from ebill_channel_api where region_code = ${regionCode} and app_id = ${appId}`);
      for (const a of apis) {
        await tx.q(sql`insert into ebill_channel_api(region_code, app_id, api, enabled, daily_quota)
          values (${regionCode}, ${appId}, ${a.api}, ${a.enabled}, ${a.dailyQuota})
          on conflict (region_code, app_id, api) do update set enabled = excluded.enabled, daily_quota = excluded.daily_quota`);
      }
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'ebill.channel.apis',
        targetType: 'ebill_channel',
        targetId: appId,
        ip: caller.ip,
        result: 'success',
        detail: { apis },
      });
    });
    return this.channel(regionCode, appId);
  }

  /** The auth center's channels holding the ebill scope (none when the auth center is not deployed). */
  private async authChannels(regionCode: string) {
    const auth = this.auth;
    if (!auth) return [];
    return (await auth.listChannels(regionCode)).filter((c) => c.scopes.includes(EBILL_SCOPE));
  }

  async channels(regionCode: string): Promise<ChannelView[]> {
    const rows = await this.db.q<{ app_id: string }>(sql`select app_id from ebill_channel
      where region_code = ${regionCode} order by created_at, app_id`);
    const own = await Promise.all(rows.map((r) => this.channel(regionCode, r.app_id)));
    const fromAuth = await Promise.all(
      (await this.authChannels(regionCode)).map(async (c): Promise<ChannelView> => {
        const grants = await this.grantsOf(regionCode, c.appId);
        return {
          source: 'auth',
          appId: c.appId,
          name: c.name,
          institutionCode: c.institutionCode,
          status: c.status === 'active' ? 'enabled' : 'disabled',
          contactName: null,
          contactMobile: null,
          callbackUrl: null,
          publicKey: c.publicKeyHex,
          createdAt: c.createdAt,
          apis:
            grants.length > 0
              ? grants
              : (Object.keys(CHANNEL_APIS) as ChannelApi[]).map((api) => ({
                  api,
                  name: CHANNEL_APIS[api],
                  enabled: true,
                  dailyQuota: DEFAULT_DAILY_QUOTA,
                  usedToday: 0,
                })),
        };
      }),
    );
    return [...own, ...fromAuth];
  }

  private async grantsOf(regionCode: string, appId: string) {
    const apis = await this.db.q<{ api: ChannelApi; enabled: boolean; daily_quota: number; used: number }>(sql`
      select a.api, a.enabled, a.daily_quota, coalesce(u.calls, 0)::int as used
      from ebill_channel_api a left join ebill_channel_usage u
        on u.region_code = a.region_code and u.app_id = a.app_id and u.api = a.api and u.day = current_date
      where a.region_code = ${regionCode} and a.app_id = ${appId} order by a.api`);
    return apis.map((a) => ({
      api: a.api,
      name: CHANNEL_APIS[a.api] ?? a.api,
      enabled: a.enabled,
      dailyQuota: Number(a.daily_quota),
      usedToday: Number(a.used),
    }));
  }

  async channel(regionCode: string, appId: string): Promise<ChannelView> {
    const r = await this.db.one<{
      app_id: string;
      name: string;
      institution_code: string | null;
      status: 'enabled' | 'disabled';
      contact_name: string | null;
      contact_mobile_enc: string | null;
      callback_url: string | null;
      public_key: string;
      created_at: Date | string;
    }>(sql`select * from ebill_channel where region_code = ${regionCode} and app_id = ${appId}`);
    if (!r) {
      const fromAuth = (await this.channels(regionCode)).find((c) => c.appId === appId && c.source === 'auth');
      if (fromAuth) return fromAuth;
      throw new AppError(404, 'EBILL_CHANNEL_NOT_FOUND', '接入渠道不存在');
    }
    return {
      source: 'ebill',
      appId: r.app_id,
      name: r.name,
      institutionCode: r.institution_code,
      status: r.status,
      contactName: r.contact_name,
      contactMobile: r.contact_mobile_enc ? maskMobile(this.ctx.privacy.cipher.decrypt(r.contact_mobile_enc)) : null,
      callbackUrl: r.callback_url,
      publicKey: r.public_key,
      createdAt: isoInstant(r.created_at),
      apis: await this.grantsOf(regionCode, appId),
    };
  }

  /** Daily calls per channel (for the usage chart). */
  async usage(regionCode: string, days: number) {
    const rows = await this.db.q<{ app_id: string; name: string; day: string; calls: number; refused: number }>(sql`
      select u.app_id, c.name, to_char(u.day, 'YYYY-MM-DD') as day, sum(u.calls)::int as calls,
        sum(u.refused)::int as refused
      from ebill_channel_usage u left join ebill_channel c on c.region_code = u.region_code and c.app_id = u.app_id
      where u.region_code = ${regionCode} and u.day > current_date - ${days}::int
      group by u.app_id, c.name, u.day order by u.day, u.app_id`);
    const names = new Map((await this.authChannels(regionCode)).map((c) => [c.appId, c.name]));
    return rows.map((r) => ({
      ...r,
      name: r.name ?? names.get(r.app_id) ?? r.app_id,
      calls: Number(r.calls),
      refused: Number(r.refused),
    }));
  }

  /**
   * Verifies a channel's signed envelope (SM2 over the sign string, ±5 min timestamp, nonce replay in the DB),
   * that the channel is enabled and granted `api`, and counts the call against its daily quota (atomically).
   */
  private get auth(): AuthChannels | undefined {
    return (this.ctx.services as { auth?: AuthChannels }).auth;
  }

  async authenticateChannel(envelope: unknown, api: ChannelApi) {
    const appId = (envelope as { appId?: unknown })?.appId;
    if (typeof appId === 'string' && !/^eb\d{6}[0-9a-f]{12}$/.test(appId) && this.auth) {
      // A channel of the unified authentication center: it verifies signature, window, nonce and the ebill scope.
      const { channel, data } = await this.auth.verifier.verify(envelope, { scope: EBILL_SCOPE });
      await this.countCall(channel.regionCode, channel.appId, api, true);
      return {
        appId: channel.appId,
        regionCode: channel.regionCode,
        institutionCode: channel.institutionCode ?? null,
        data,
      };
    }
    if (typeof appId !== 'string' || !/^eb\d{6}[0-9a-f]{12}$/.test(appId)) {
      throw new AppError(401, 'EBILL_CHANNEL_UNKNOWN', '接入渠道不存在或未登记');
    }
    const regionCode = appId.slice(2, 8);
    const ch = await this.db.one<{
      status: string;
      public_key: string;
      app_secret_enc: string;
      institution_code: string | null;
    }>(sql`select status, public_key, app_secret_enc, institution_code from ebill_channel
      where region_code = ${regionCode} and app_id = ${appId}`);
    if (!ch) throw new AppError(401, 'EBILL_CHANNEL_UNKNOWN', '接入渠道不存在或未登记');
    const verified = verifyEnvelopeDetailed(envelope, {
      publicKey: ch.public_key,
      appSecret: this.ctx.privacy.cipher.decrypt(ch.app_secret_enc),
      now: Date.now(),
      windowSeconds: 300,
    });
    if (ch.status !== 'enabled') throw new AppError(403, 'EBILL_CHANNEL_DISABLED', '接入渠道已停用');
    await this.db.tx(async (tx) => {
      const fresh = await tx.q(sql`insert into ebill_channel_nonce(region_code, app_id, nonce)
        values (${regionCode}, ${appId}, ${verified.nonce}) on conflict do nothing returning nonce`);
      if (fresh.length !== 1) throw new AppError(401, 'EBILL_CHANNEL_REPLAY', '重复的请求（nonce 已使用）');
    });
    await this.countCall(regionCode, appId, api, false);
    return { appId, regionCode, institutionCode: ch.institution_code, data: verified.data };
  }

  /** The channel must be granted `api`; the call is counted against its daily quota atomically (one statement). */
  private async countCall(regionCode: string, appId: string, api: ChannelApi, defaults: boolean): Promise<void> {
    const grants = await this.db.q<{ api: string; enabled: boolean; daily_quota: number }>(sql`select api, enabled,
        daily_quota from ebill_channel_api where region_code = ${regionCode} and app_id = ${appId}`);
    const grant =
      grants.find((g) => g.api === api) ??
      (defaults && grants.length === 0 ? { api, enabled: true, daily_quota: DEFAULT_DAILY_QUOTA } : undefined);
    if (!grant?.enabled) {
      throw new AppError(403, 'EBILL_API_NOT_GRANTED', '该渠道未开通此票据接口', `接口 ${api}`);
    }
    const counted = await this.db.q(sql`insert into ebill_channel_usage(region_code, app_id, api, day, calls)
      values (${regionCode}, ${appId}, ${api}, current_date, 1)
      on conflict (region_code, app_id, api, day) do update set calls = ebill_channel_usage.calls + 1
        where ebill_channel_usage.calls < ${grant.daily_quota}
      returning calls`);
    if (counted.length !== 1 || Number(grant.daily_quota) === 0) {
      await this.db.q(sql`insert into ebill_channel_usage(region_code, app_id, api, day, calls, refused)
        values (${regionCode}, ${appId}, ${api}, current_date, 0, 1)
        on conflict (region_code, app_id, api, day) do update set refused = ebill_channel_usage.refused + 1`);
      throw new AppError(
        429,
        'EBILL_QUOTA_EXCEEDED',
        '今日接口调用次数已达上限',
        `接口 ${api} 每日配额 ${grant.daily_quota}`,
      );
    }
  }

  async billsForInstitution(
    regionCode: string,
    institutionCode: string,
    q: { from?: string; to?: string; page: number; pageSize: number },
  ) {
    const where = [sql`region_code = ${regionCode}`, sql`institution_code = ${institutionCode}`];
    if (q.from) where.push(sql`issued_at >= ${q.from}`);
    if (q.to) where.push(sql`issued_at < ${q.to}`);
    const cond = sql.join(where, sql` and `);
    const rows = await this.db.q<BillRow>(sql`select * from ebill_bill where ${cond}
      order by issued_at desc, bill_number desc limit ${q.pageSize} offset ${(q.page - 1) * q.pageSize}`);
    const [{ n }] = await this.db.q<{ n: number }>(sql`select count(*)::int as n from ebill_bill where ${cond}`);
    return { total: n, items: rows.map((r) => this.view(r)) };
  }

  /** The bill of an order, or EBILL_ORDER_NOT_SETTLED when no settlement has been completed for it. */
  async billOfOrder(regionCode: string, orderId: string): Promise<BillView> {
    const bill = await this.byOrder(this.db, regionCode, orderId, 'blue');
    if (bill) return bill;
    // Say what the payment center knows about the order (if it is deployed): still open, or unknown.
    const payment = (
      this.ctx.services as { payment?: { getOrder(r: string, id: string): Promise<{ status: string }> } }
    ).payment;
    const status = payment
      ? await payment.getOrder(regionCode, orderId).then(
          (o) => o.status,
          () => undefined,
        )
      : undefined;
    throw new AppError(
      409,
      'EBILL_ORDER_NOT_SETTLED',
      '该订单尚未完成结算，无法开具票据',
      status ? `订单 ${orderId} 当前状态：${status}` : `订单 ${orderId} 无已完成的结算`,
    );
  }

  // ---------------------------------------------------------------- national reporting (outbox)

  private async queueNationalReport(tx: Executor, regionCode: string, billId: string): Promise<void> {
    await tx.q(sql`insert into ebill_national_report(region_code, bill_id) values (${regionCode}, ${billId})
      on conflict do nothing`);
    await enqueue(tx, NATIONAL_QUEUE, { billId }, { regionCode, dedupeKey: `${regionCode}:${billId}`, maxAttempts: 8 });
  }

  /** Job: report one bill through the national port; failures are recorded and retried by the queue. */
  async reportToNational(job: JobRow): Promise<void> {
    const regionCode = job.region_code!;
    const billId = String((job.payload as { billId: string }).billId);
    const bill = await this.byId(this.db, regionCode, billId);
    if (!bill) return;
    const report: NationalBillReport = {
      regionCode,
      billCode: bill.billCode,
      billNumber: bill.billNumber,
      kind: bill.kind,
      institutionCode: bill.institutionCode,
      total: bill.total,
      fundPayment: bill.fundPayment,
      accountPayment: bill.accountPayment,
      cashPayment: bill.cashPayment,
      issuedAt: bill.issuedAt,
      signature: bill.signature,
    };
    try {
      const receipt = await this.national.reportBill(this.db, report);
      await this.db.q(sql`update ebill_national_report set status = 'reported', attempts = attempts + 1,
          receipt = ${receipt.receipt}, reported_at = now(), last_error = null
        where region_code = ${regionCode} and bill_id = ${billId}`);
      this.ctx.log.info(
        { billId, receipt: receipt.receipt, sandbox: this.national.sandbox },
        'ebill reported (沙箱国家平台)',
      );
    } catch (err) {
      const dead = job.attempts >= job.max_attempts;
      await this.db.q(sql`update ebill_national_report set status = ${dead ? 'failed' : 'pending'},
          attempts = attempts + 1, last_error = ${String((err as Error).message).slice(0, 500)}
        where region_code = ${regionCode} and bill_id = ${billId}`);
      throw err;
    }
  }

  async nationalStatus(regionCode: string) {
    const counts = await this.db.q<{ status: string; n: number }>(sql`select status, count(*)::int as n
      from ebill_national_report where region_code = ${regionCode} group by status`);
    const recent = await this.db.q<{
      bill_id: string;
      bill_code: string;
      bill_number: string;
      kind: string;
      status: string;
      attempts: number;
      last_error: string | null;
      receipt: string | null;
      created_at: Date | string;
      reported_at: Date | string | null;
    }>(sql`select r.bill_id, b.bill_code, b.bill_number, b.kind, r.status, r.attempts, r.last_error, r.receipt,
        r.created_at, r.reported_at
      from ebill_national_report r join ebill_bill b on b.region_code = r.region_code and b.id = r.bill_id
      where r.region_code = ${regionCode} order by r.created_at desc limit 50`);
    return {
      sandbox: this.national.sandbox,
      counts: Object.fromEntries(counts.map((c) => [c.status, Number(c.n)])),
      recent: recent.map((r) => ({
        billId: r.bill_id,
        billCode: r.bill_code,
        billNumber: r.bill_number,
        kind: r.kind,
        status: r.status,
        attempts: Number(r.attempts),
        lastError: r.last_error,
        receipt: r.receipt,
        createdAt: isoInstant(r.created_at),
        reportedAt: r.reported_at ? isoInstant(r.reported_at) : null,
      })),
    };
  }
}

/** An arithmetic challenge drawn as SVG text with noise (no external font, no canvas). */
export function captchaSvg(text: string): string {
  const noise = Array.from({ length: 6 }, () => {
    const c = `hsl(${randomInt(360)},60%,60%)`;
    return `<line x1="${randomInt(140)}" y1="${randomInt(44)}" x2="${randomInt(140)}" y2="${randomInt(44)}" stroke="${c}" stroke-width="1.5"/>`;
  }).join('');
  const glyphs = [...text]
    .map((ch, i) => {
      const rot = randomInt(-18, 19);
      const x = 10 + i * 13;
      const y = 30 + randomInt(-3, 4);
      return `<text x="${x}" y="${y}" transform="rotate(${rot} ${x} ${y})" font-family="monospace" font-size="22" fill="#333">${ch === '<' ? '&lt;' : ch}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="150" height="44" viewBox="0 0 150 44"><rect width="150" height="44" fill="#f4f6f8"/>${noise}${glyphs}</svg>`;
}
