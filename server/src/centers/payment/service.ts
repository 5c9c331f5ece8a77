/**
 * Mobile payment center (移动支付中心): mixed payment of one visit — fund + personal account through the core zone,
 * the cash part through a third-party payment provider — as a saga over a stored state machine.
 *
 * Ordering (as in WeChat's mixed payment): pre-settle → the person pays the cash part → the core zone settles. If
 * the settlement is refused after the cash was paid, the cash leg is refunded (冲正) automatically. Every external
 * call carries a request id derived from the order (core zone msgid, provider outTradeNo / outRefundNo), so repeating
 * any step after a crash is harmless; `recover()` repeats the step each open order is at until it is final.
 */
import { randomBytes } from 'node:crypto';
import { InstitutionNames } from '../../integration/core-zone/institution-names.ts';
import type {
  CoreZone,
  CredentialType,
  FeeLineInput,
  MedicalType,
  PreSettlement,
  Settlement,
} from '../../integration/core-zone/port.ts';
import { appendAudit } from '../../platform/audit.ts';
import type { Context } from '../../platform/context.ts';
import { type Database, type Executor, prepared, type SQL, sql } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { isValidResidentId } from '../../platform/privacy/index.ts';
import type { PaymentEvent } from './events.ts';
import {
  type PaymentProvider,
  type ProviderNotification,
  ProviderRejectedError,
  ProviderSignatureError,
  ProviderUnavailableError,
} from './provider/port.ts';
import { assertTransition, type OrderStatus } from './state-machine.ts';

export type Step =
  | 'after-order-inserted'
  | 'after-presettle'
  | 'after-prepay-created'
  | 'after-cash-paid-stored'
  | 'before-core-settle'
  | 'after-core-settle'
  | 'after-insurance-settled-stored'
  | 'after-compensation-started'
  | 'after-core-reverse'
  | 'after-provider-refund';

/** Fault injection: called between the saga's steps; throwing simulates the process dying there. */
export type FaultHook = (step: Step, orderId: string) => void;

export interface OrderLine {
  lineNo: string;
  code: string;
  name: string;
  itemClass: 'A' | 'B' | 'C';
  quantity: number;
  unitPrice: number;
  amount: number;
  selfPayRatioBp: number;
  fullySelfPaid: number;
  overPriceCap: number;
  preSelfPay: number;
  inScope: number;
}

export interface Order {
  regionCode: string;
  id: string;
  payToken: string;
  appId: string;
  institutionCode: string;
  /** the core zone registry's name of the institution at upload; null when it could not be asked */
  institutionName: string | null;
  institutionOrderNo: string;
  personNo: string;
  /** blind index of the person's resident ID (look-ups only) */
  residentIndex: string;
  personId: string | null;
  visitId: string | null;
  medicalType: MedicalType;
  lines: OrderLine[];
  total: number;
  useAccount: boolean;
  fundPayment: number | null;
  accountPayment: number | null;
  cashPayment: number | null;
  accountBalanceAfter: number | null;
  status: OrderStatus;
  version: number;
  settleRequestId: string;
  settlementId: string | null;
  provider: string | null;
  prepayId: string | null;
  cashierUrl: string | null;
  providerTxnId: string | null;
  providerSeq: number;
  cashPaidAt: string | null;
  payExpiresAt: string | null;
  settledAt: string | null;
  refundedFund: number;
  refundedAccount: number;
  refundedCash: number;
  failureCode: string | null;
  failureReason: string | null;
  recoveryAttempts: number;
  createdAt: string;
  updatedAt: string;
}

export interface Refund {
  regionCode: string;
  id: string;
  orderId: string;
  kind: 'full' | 'partial' | 'compensation' | 'late_payment';
  appRefundSn: string;
  reason: string;
  requestedBy: string;
  status: 'pending' | 'succeeded' | 'failed';
  fundAmount: number;
  accountAmount: number;
  cashAmount: number;
  insuranceStatus: 'none' | 'pending' | 'succeeded' | 'failed';
  cashStatus: 'none' | 'pending' | 'succeeded' | 'failed';
  providerRefundId: string | null;
  lastError: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface Transition {
  seq: number;
  fromStatus: OrderStatus | null;
  toStatus: OrderStatus;
  reason: string;
  actor: string;
  detail: Record<string, unknown>;
  at: string;
}

export interface Actor {
  kind: 'person' | 'staff' | 'channel' | 'system';
  id: string;
}

export interface UploadInput {
  regionCode: string;
  appId: string;
  institutionCode: string;
  institutionOrderNo: string;
  credential: { type: CredentialType; value: string };
  medicalType: MedicalType;
  lines: FeeLineInput[];
}

/** How the platform's person accounts relate to the core zone's insured persons (the user center in production). */
export interface PersonDirectory {
  /** the platform person id for a resident ID, if the person has an account */
  personIdFor(regionCode: string, residentId: string): Promise<string | undefined>;
  /** the blind index of a platform person's resident ID (user center `residentIndexOf`) */
  residentIndexOf(regionCode: string, personId: string): Promise<string | undefined>;
}

export interface PaymentServiceOptions {
  provider: () => PaymentProvider;
  coreZone?: () => CoreZone;
  persons?: () => PersonDirectory;
  /** where the provider posts notifications */
  notifyUrl: () => string;
  faults?: FaultHook;
  /** how long the person has to pay the cash part (default 15 min) */
  payWindowMs?: number;
  /** an unconfirmed pre-settled order is cancelled after this (default 30 min) */
  confirmWindowMs?: number;
  /** whether a region's policy allows a partial refund of the cash leg */
  partialRefundAllowed?: (regionCode: string) => Promise<boolean>;
}

const OPEN_STATUSES: OrderStatus[] = [
  'created',
  'pre_settled',
  'awaiting_payment',
  'cash_paid',
  'insurance_settled',
  'refunding',
];

const newId = (prefix: string, regionCode: string) => {
  const now = new Date();
  const stamp = now
    .toISOString()
    .replace(/[-:TZ.]/g, '')
    .slice(2, 14);
  return `${prefix}${regionCode}${stamp}${randomBytes(5).toString('hex').toUpperCase()}`;
};

/** Order and refund ids carry their region (characters 2–7), so a provider notification finds its region. */
export function regionOfId(id: string): string | undefined {
  const m = /^[A-Z](\d{6})\d{12}[0-9A-F]{10}$/.exec(id);
  return m?.[1];
}

const isAppError = (err: unknown): err is AppError => err instanceof AppError;
/** thrown inside the notification transaction to roll it back when the notification was already stored */
const DUPLICATE_NOTIFICATION = new Error('duplicate provider notification');
/** A definite answer from the core zone (4xx); anything else (5xx, network) leaves the outcome unknown. */
const isDefinite = (err: unknown) => isAppError(err) && err.status < 500;

export class PaymentService {
  private readonly ctx: Context;
  private readonly opts: PaymentServiceOptions;
  faults?: FaultHook;

  constructor(ctx: Context, opts: PaymentServiceOptions) {
    this.ctx = ctx;
    this.opts = opts;
    this.faults = opts.faults;
  }

  private get db(): Database {
    return this.ctx.db;
  }

  get provider(): PaymentProvider {
    return this.opts.provider();
  }

  private get core(): CoreZone {
    const core = this.opts.coreZone?.() ?? (this.ctx.services as { coreZone?: CoreZone }).coreZone;
    if (!core) throw new AppError(503, 'PAYMENT_CORE_ZONE_UNAVAILABLE', '核心区服务暂不可用');
    return core;
  }

  /**
   * When the person's turn on an order runs out: a pre-settled bill not confirmed by then is cancelled by recovery,
   * a payment not made by then is closed at the provider. Null when nothing waits for the person.
   */
  dueAt(order: Order): string | null {
    if (order.status === 'pre_settled')
      return new Date(Date.parse(order.updatedAt) + (this.opts.confirmWindowMs ?? 30 * 60_000)).toISOString();
    return order.status === 'awaiting_payment' ? order.payExpiresAt : null;
  }

  private fault(step: Step, orderId: string): void {
    this.faults?.(step, orderId);
  }

  private readonly institutions = new InstitutionNames(
    () => this.core,
    (err, institution) => this.ctx.log.warn({ err, institution }, 'payment: institution look-up failed'),
  );

  // ------------------------------------------------------------------------------------------------ reading

  async getOrder(regionCode: string, id: string, ex: Executor = this.db): Promise<Order> {
    const row = await ex.one<Record<string, unknown>>(
      prepared(sql`select * from payment_order where region_code = ${regionCode} and id = ${id}`),
    );
    if (!row) throw new AppError(404, 'PAYMENT_ORDER_NOT_FOUND', '未找到支付订单', `订单号 ${id}`);
    return toOrder(row);
  }

  private async lockOrder(tx: Executor, regionCode: string, id: string): Promise<Order> {
    const row = await tx.one<Record<string, unknown>>(
      sql`select * from payment_order where region_code = ${regionCode} and id = ${id} for update`,
    );
    if (!row) throw new AppError(404, 'PAYMENT_ORDER_NOT_FOUND', '未找到支付订单', `订单号 ${id}`);
    return toOrder(row);
  }

  async transitions(regionCode: string, orderId: string): Promise<Transition[]> {
    const rows = await this.db.q<Record<string, any>>(sql`select * from payment_order_transition
      where region_code = ${regionCode} and order_id = ${orderId} order by seq`);
    return rows.map((r) => ({
      seq: r.seq,
      fromStatus: r.from_status,
      toStatus: r.to_status,
      reason: r.reason,
      actor: r.actor,
      detail: r.detail,
      at: iso(r.at)!,
    }));
  }

  async refunds(regionCode: string, orderId: string): Promise<Refund[]> {
    const rows = await this.db.q<Record<string, unknown>>(sql`select * from payment_refund
      where region_code = ${regionCode} and order_id = ${orderId} order by created_at, id`);
    return rows.map(toRefund);
  }

  async notifications(regionCode: string, orderId: string) {
    return this.db.q<Record<string, unknown>>(sql`select id, event_type, seq, effect, received_at, payload
      from payment_provider_notification where region_code = ${regionCode} and order_id = ${orderId} order by received_at`);
  }

  async findByInstitutionOrderNo(regionCode: string, appId: string, no: string): Promise<Order> {
    const row = await this.db.one<Record<string, unknown>>(sql`select * from payment_order
      where region_code = ${regionCode} and app_id = ${appId} and institution_order_no = ${no}`);
    if (!row) throw new AppError(404, 'PAYMENT_ORDER_NOT_FOUND', '未找到支付订单', `机构业务流水号 ${no}`);
    return toOrder(row);
  }

  /** Orders of a person (by the blind index of the resident ID): pending bills and history. */
  async ordersOfPerson(regionCode: string, personId: string, filter: 'pending' | 'history' | 'all'): Promise<Order[]> {
    const index = await this.persons().residentIndexOf(regionCode, personId);
    if (!index) return [];
    const statuses =
      filter === 'pending'
        ? sql`and status in ('pre_settled', 'awaiting_payment')`
        : filter === 'history'
          ? sql`and status not in ('created', 'pre_settled', 'awaiting_payment')`
          : sql``;
    const rows = await this.db.q<Record<string, unknown>>(sql`select * from payment_order
      where region_code = ${regionCode} and resident_index = ${index} ${statuses}
      order by created_at desc limit 100`);
    return rows.map(toOrder);
  }

  /** The order if it belongs to this person; else 404 (no hint that it exists). */
  async orderOfPerson(regionCode: string, personId: string, orderId: string): Promise<Order> {
    const order = await this.getOrder(regionCode, orderId);
    if (order.personId === personId) return order;
    if ((await this.persons().residentIndexOf(regionCode, personId)) !== order.residentIndex)
      throw new AppError(404, 'PAYMENT_ORDER_NOT_FOUND', '未找到支付订单', `订单号 ${orderId}`);
    return order;
  }

  /**
   * The console's order search. `id` is an order number, an institution's serial number or an insured person's
   * resident ID number (matched by its blind index; such a search needs the staff member's purpose and is audited,
   * as it tells one person's visits).
   */
  async searchOrders(
    regionCode: string,
    q: {
      status?: OrderStatus;
      id?: string;
      institutionCode?: string;
      from?: string;
      to?: string;
      page: number;
      pageSize: number;
    },
    staff?: Actor & { purpose?: string; ip?: string; userAgent?: string },
  ): Promise<{ items: Order[]; total: number }> {
    const residentId = q.id?.trim().toUpperCase();
    const personIndex =
      residentId !== undefined && isValidResidentId(residentId)
        ? this.ctx.privacy.blindIndex(residentId, 'resident_id')
        : undefined;
    if (personIndex && staff && !staff.purpose)
      throw new AppError(400, 'PAYMENT_PURPOSE_REQUIRED', '按身份证号查询需填写查询事由', '查询事由记入审计日志', {
        errors: [{ field: 'purpose', message: '请填写查询事由' }],
      });
    const where = sql.join(
      [
        sql`region_code = ${regionCode}`,
        ...(q.status ? [sql`status = ${q.status}`] : []),
        ...(personIndex
          ? [sql`resident_index = ${personIndex}`]
          : q.id
            ? [sql`(id = ${q.id.trim()} or institution_order_no = ${q.id.trim()})`]
            : []),
        ...(q.institutionCode ? [sql`institution_code = ${q.institutionCode}`] : []),
        ...(q.from ? [sql`created_at >= ${q.from}::date - interval '8 hours'`] : []),
        ...(q.to ? [sql`created_at < ${q.to}::date + interval '16 hours'`] : []),
      ],
      sql` and `,
    );
    const [{ n }] = await this.db.q<{ n: number }>(sql`select count(*)::int as n from payment_order where ${where}`);
    const rows = await this.db.q<Record<string, unknown>>(sql`select * from payment_order where ${where}
      order by created_at desc, id limit ${q.pageSize} offset ${(q.page - 1) * q.pageSize}`);
    if (personIndex && staff)
      await this.db.tx((tx) =>
        appendAudit(tx, {
          regionCode,
          actorKind: staff.kind,
          actorId: staff.id,
          action: 'payment.orders.search_by_person',
          targetType: 'resident_index',
          targetId: personIndex,
          purpose: staff.purpose,
          result: 'success',
          ip: staff.ip,
          userAgent: staff.userAgent,
          detail: { found: n },
        }),
      );
    return { items: rows.map(toOrder), total: n };
  }

  private persons(): PersonDirectory {
    const p = this.opts.persons?.();
    if (p) return p;
    const user = (this.ctx.services as Record<string, any>).user;
    if (!user) throw new AppError(503, 'PAYMENT_USER_CENTER_UNAVAILABLE', '用户中心暂不可用');
    return {
      personIdFor: async (regionCode, residentId) =>
        (await user.findPersonByResidentId(regionCode, residentId).catch(() => undefined))?.id,
      residentIndexOf: (regionCode, personId) => user.residentIndexOf(regionCode, personId),
    };
  }

  // ----------------------------------------------------------------------------------------- state changes

  /** The only way an order changes state: checks the transition, bumps the version, stores the transition. */
  private move(
    tx: Executor,
    order: Order,
    to: OrderStatus,
    reason: string,
    actor: string,
    patch: Record<string, unknown> = {},
    detail: Record<string, unknown> = {},
  ): Promise<Order> {
    return this.moveThrough(tx, order, [{ to, reason, detail }], actor, patch);
  }

  /**
   * One or more moves in a row (each checked and stored as its own transition) as ONE statement, atomic on its own:
   * the versioned update and, only if it matched, the transition rows — and, for a provider notification, the stored
   * notification, with the update guarded by the notification not being stored yet (a duplicate moves nothing). The
   * version check makes the transitions' seq safe: every move bumps the version, so a concurrent one finds no row.
   * Without a version (`guard` instead), the order must still be in `order.status`: safe as well for a status no move
   * leaves for itself (every other move out of it changes the status, so a concurrent one finds no row).
   */
  private async moveThrough(
    ex: Executor,
    order: Pick<Order, 'regionCode' | 'id' | 'status'> & { version?: number },
    steps: MoveStep[],
    actor: string,
    patch: Record<string, unknown> = {},
    notification?: StoredNotification,
    guard?: SQL,
  ): Promise<Order> {
    if (order.version === undefined && steps.some((s) => s.to === order.status))
      throw new Error('a move to the same status needs the version');
    let to = order.status;
    const transitions = steps.map((s, i) => {
      assertTransition(to, s.to);
      const row = sql`(${sql.raw(String(i + 1))}, ${to}, ${s.to}, ${s.reason}, ${JSON.stringify(s.detail ?? {})}::jsonb)`;
      to = s.to;
      return row;
    });
    const sets = Object.entries(patch).map(([column, value]) => {
      if (!/^[a-z_]+$/.test(column)) throw new Error(`bad column ${column}`);
      const v = value instanceof Date ? value.toISOString() : value;
      return typeof v === 'object' && v !== null
        ? sql`${sql.raw(column)} = ${JSON.stringify(v)}::jsonb`
        : sql`${sql.raw(column)} = ${v}`;
    });
    const r = order.regionCode;
    // prepared: one text per call site (its columns and number of moves), the values are parameters
    const rows = await ex.q<Record<string, unknown>>(
      prepared(sql`with moved as (
        update payment_order set status = ${to}, version = version + 1,
          updated_at = now() ${sets.length ? sql`, ${sql.join(sets, sql`, `)}` : sql``}
        where region_code = ${r} and id = ${order.id}
          and ${order.version === undefined ? sql`status = ${order.status}` : sql`version = ${order.version}`}
          ${notification ? notStored(r, notification.notification.id) : sql``} ${guard ?? sql``}
        returning *
      ), noted as (
        insert into payment_order_transition(region_code, order_id, seq, from_status, to_status, reason, actor, detail)
        select m.region_code, m.id, last.seq + t.n, t.from_status, t.to_status, t.reason, ${actor}, t.detail
        from moved m
          cross join (select coalesce(max(seq), 0) as seq from payment_order_transition
            where region_code = ${r} and order_id = ${order.id}) last
          cross join (values ${sql.join(transitions, sql`, `)}) as t(n, from_status, to_status, reason, detail)
      )${notification ? sql`, stored as (${storeNotification(notification, sql`moved`)})` : sql``}
      select * from moved`),
    );
    if (rows.length === 0) {
      throw new AppError(409, 'PAYMENT_CONCURRENT_UPDATE', '订单正被其他操作处理，请稍后重试', `订单号 ${order.id}`);
    }
    return toOrder(rows[0]);
  }

  /**
   * from → to with the order in hand (optimistic: one statement checks the version); if someone moved it meanwhile,
   * re-read under a row lock and move only if it is still in `from`. `within` runs in the same transaction.
   */
  private advance(
    order: Order,
    from: OrderStatus,
    to: OrderStatus,
    reason: string,
    actor: string,
    patch: Record<string, unknown> = {},
    detail: Record<string, unknown> = {},
    within?: (tx: Executor, moved: Order) => Promise<void>,
  ): Promise<Order> {
    return this.advanceThrough(order, from, [{ to, reason, detail }], actor, patch, within);
  }

  /** `advance` through several moves at once (one statement, each move stored as its own transition). */
  private async advanceThrough(
    order: Order,
    from: OrderStatus,
    steps: MoveStep[],
    actor: string,
    patch: Record<string, unknown> = {},
    within?: (tx: Executor, moved: Order) => Promise<void>,
  ): Promise<Order> {
    const go = async (tx: Executor, current: Order) => {
      const moved = await this.moveThrough(tx, current, steps, actor, patch);
      await within?.(tx, moved);
      return moved;
    };
    if (order.status === from) {
      try {
        // a lone move is one statement: no transaction round trips
        return await (within ? this.db.tx((tx) => go(tx, order)) : go(this.db, order));
      } catch (err) {
        if (!(isAppError(err) && err.code === 'PAYMENT_CONCURRENT_UPDATE')) throw err;
      }
    }
    return this.db.tx(async (tx) => {
      const current = await this.lockOrder(tx, order.regionCode, order.id);
      return current.status === from ? go(tx, current) : current;
    });
  }

  private async touch(order: Order, patch: Record<string, number | string | null>): Promise<void> {
    const sets = Object.entries(patch).map(([c, v]) => sql`${sql.raw(c)} = ${v}`);
    await this.db.q(sql`update payment_order set ${sql.join(sets, sql`, `)}, updated_at = now()
      where region_code = ${order.regionCode} and id = ${order.id}`);
  }

  // ---------------------------------------------------------------------------------------- 6201 upload

  /** 6201: fee details of a visit → an order (its id + pay token), pre-settled through the core zone. */
  async upload(input: UploadInput, actor: Actor): Promise<Order> {
    const total = input.lines.reduce((s, l) => s + l.unitPrice * l.quantity, 0);
    if (!Number.isSafeInteger(total) || total <= 0) {
      throw new AppError(422, 'PAYMENT_INVALID_AMOUNT', '费用金额无效', '费用合计须为正整数（分）');
    }
    const existing = await this.db.one<Record<string, unknown>>(
      prepared(sql`select * from payment_order
      where region_code = ${input.regionCode} and app_id = ${input.appId} and institution_order_no = ${input.institutionOrderNo}`),
    );
    if (existing) {
      const order = toOrder(existing);
      const same =
        order.total === total &&
        order.medicalType === input.medicalType &&
        order.institutionCode === input.institutionCode;
      if (!same) {
        throw new AppError(
          409,
          'PAYMENT_DUPLICATE_ORDER_NO',
          '机构业务流水号已被使用',
          `流水号 ${input.institutionOrderNo} 已对应其他费用`,
        );
      }
      return order.status === 'created' ? this.completePreSettle(order, input.lines) : order;
    }
    const key =
      input.credential.type === '01'
        ? { ecToken: input.credential.value }
        : input.credential.type === '02'
          ? { residentId: input.credential.value }
          : { personNo: input.credential.value };
    const [person, institutionName] = await Promise.all([
      this.core.findPerson(input.regionCode, key),
      this.institutions.name(input.regionCode, input.institutionCode),
    ]);
    const personId = await this.persons()
      .personIdFor(input.regionCode, person.residentId)
      .catch(() => undefined);
    const id = newId('P', input.regionCode);
    const placeholderLines = input.lines.map((l) => ({ ...l, amount: l.unitPrice * l.quantity }));
    // the order and its first transition in one (atomic) statement
    const [inserted] = await this.db.q<Record<string, unknown>>(
      prepared(sql`with created as (
        insert into payment_order(region_code, id, pay_token, app_id, institution_code, institution_name,
          institution_order_no, person_no, resident_index, person_id, medical_type, lines, total, status,
          settle_request_id, provider)
        values (${input.regionCode}, ${id}, ${randomBytes(16).toString('hex')}, ${input.appId}, ${input.institutionCode},
          ${institutionName}, ${input.institutionOrderNo}, ${person.personNo}, ${this.ctx.privacy.blindIndex(person.residentId, 'resident_id')},
          ${personId ?? null}, ${input.medicalType}, ${JSON.stringify(placeholderLines)}::jsonb, ${total}, 'created',
          ${`${id}S`}, ${this.provider.name})
        on conflict do nothing returning *
      ), noted as (
        insert into payment_order_transition(region_code, order_id, seq, from_status, to_status, reason, actor)
        select region_code, id, 1, null, 'created', '6201 费用明细上传', ${`${actor.kind}:${actor.id}`} from created
      )
      select * from created`),
    );
    // a concurrent upload of the same serial won the insert: continue with its order
    const order = inserted
      ? toOrder(inserted)
      : await this.findByInstitutionOrderNo(input.regionCode, input.appId, input.institutionOrderNo);
    this.fault('after-order-inserted', order.id);
    return this.completePreSettle(order, input.lines);
  }

  /** created → pre_settled: visit, fee upload and pre-settlement in the core zone (each repeatable). */
  private async completePreSettle(order: Order, lines?: FeeLineInput[]): Promise<Order> {
    const core = this.core;
    const feeLines: FeeLineInput[] =
      lines ??
      order.lines.map((l) => ({ lineNo: l.lineNo, code: l.code, quantity: l.quantity, unitPrice: l.unitPrice }));
    let pre: PreSettlement;
    let visitId = order.visitId;
    try {
      if (!visitId) {
        const visit = await core.registerVisit({
          regionCode: order.regionCode,
          requestId: `${order.id}V`,
          personNo: order.personNo,
          institutionCode: order.institutionCode,
          medicalType: order.medicalType,
        });
        visitId = visit.visitId;
      }
      await core.uploadFees(order.regionCode, visitId, feeLines);
      pre = await core.preSettle({ regionCode: order.regionCode, visitId, useAccount: order.useAccount });
    } catch (err) {
      if (isDefinite(err)) {
        await this.db.tx(async (tx) => {
          const current = await this.lockOrder(tx, order.regionCode, order.id);
          if (current.status === 'created')
            await this.move(tx, current, 'failed', '预结算被核心区拒绝', 'system', {
              visit_id: visitId,
              failure_code: (err as AppError).code,
              failure_reason: (err as AppError).title,
            });
        });
      }
      throw err;
    }
    this.fault('after-presettle', order.id);
    if (pre.total !== order.total) {
      throw new AppError(
        502,
        'PAYMENT_CORE_TOTAL_MISMATCH',
        '核心区预结算总额与上传费用不符',
        `${pre.total} ≠ ${order.total}`,
      );
    }
    return this.advance(
      order,
      'created',
      'pre_settled',
      '核心区预结算',
      'system',
      splitPatch(pre, visitId!),
      { fund: pre.fundPayment, account: pre.accountPayment, cash: pre.cashPayment },
      this.publishing('payment.bill_ready', (ready) => ({ dueAt: this.dueAt(ready) })),
    );
  }

  /** The person chooses (not) to use the personal account: pre-settle again. */
  async choosePersonalAccount(order: Order, useAccount: boolean, actor: Actor): Promise<Order> {
    if (order.status !== 'pre_settled') {
      throw new AppError(
        409,
        'PAYMENT_ILLEGAL_TRANSITION',
        '订单状态不允许此操作',
        '只有待确认的订单可以更改个人账户支付',
      );
    }
    if (order.useAccount === useAccount) return order;
    const pre = await this.core.preSettle({ regionCode: order.regionCode, visitId: order.visitId!, useAccount });
    return this.db.tx(async (tx) => {
      const current = await this.lockOrder(tx, order.regionCode, order.id);
      if (current.version !== order.version) {
        throw new AppError(409, 'PAYMENT_CONCURRENT_UPDATE', '订单正被其他操作处理，请稍后重试');
      }
      return this.move(
        tx,
        current,
        'pre_settled',
        useAccount ? '使用个人账户，重新预结算' : '不使用个人账户，重新预结算',
        `${actor.kind}:${actor.id}`,
        { ...splitPatch(pre, order.visitId!), use_account: useAccount },
        { useAccount, fund: pre.fundPayment, account: pre.accountPayment, cash: pre.cashPayment },
      );
    });
  }

  // ----------------------------------------------------------------------------------------- 6202 place order

  /** 6202 / the person's "confirm and pay": creates the provider's prepay order for the cash part. Repeatable. */
  async placeOrder(order: Order, actor: Actor): Promise<Order> {
    if (
      order.status === 'awaiting_payment' ||
      order.status === 'cash_paid' ||
      order.status === 'insurance_settled' ||
      order.status === 'completed'
    )
      return order;
    if (order.status !== 'pre_settled') assertTransition(order.status, 'awaiting_payment');
    if (order.cashPayment === 0) {
      const paid = await this.advance(
        order,
        'pre_settled',
        'cash_paid',
        '无自费部分，直接结算',
        `${actor.kind}:${actor.id}`,
        {
          cash_paid_at: new Date(),
        },
      );
      return paid.status === 'cash_paid' ? this.settle(paid) : paid;
    }
    const expiresAt = new Date(Date.now() + (this.opts.payWindowMs ?? 15 * 60_000));
    let prepay: { prepayId: string; cashierUrl: string };
    try {
      prepay = await this.provider.createPrepay({
        outTradeNo: order.id,
        amount: order.cashPayment!,
        description: `医保移动支付-个人自付 ${order.institutionCode}`,
        notifyUrl: this.opts.notifyUrl(),
        expiresAt,
      });
    } catch (err) {
      throw providerError(err);
    }
    this.fault('after-prepay-created', order.id);
    return this.advance(
      order,
      'pre_settled',
      'awaiting_payment',
      '6202 支付下单',
      `${actor.kind}:${actor.id}`,
      { prepay_id: prepay.prepayId, cashier_url: prepay.cashierUrl, pay_expires_at: expiresAt },
      { provider: this.provider.name, cash: order.cashPayment },
    );
  }

  // ---------------------------------------------------------------------------------- provider notifications

  /** A signed notification from the provider. Returns what it did; duplicates and stale ones change nothing. */
  async handleNotification(headers: Record<string, string | string[] | undefined>, rawBody: string): Promise<string> {
    let n: ProviderNotification;
    try {
      n = this.provider.verifyNotification(headers, rawBody);
    } catch (err) {
      if (err instanceof ProviderSignatureError)
        throw new AppError(401, 'PAYMENT_NOTIFY_SIGNATURE_INVALID', '支付通知签名无效');
      throw new AppError(400, 'PAYMENT_NOTIFY_MALFORMED', '支付通知格式错误');
    }
    const regionCode = regionOfId(n.outTradeNo);
    if (!regionCode) throw new AppError(404, 'PAYMENT_ORDER_NOT_FOUND', '未找到支付订单', n.outTradeNo);
    // The common cases (the payment succeeded; the person is paying) first, optimistically: one statement applies the
    // effect if the order is as expected and the notification is not stored yet, and stores the notification with
    // it. Anything else — a concurrent change, a duplicate, a stale or unusual notice — goes the
    // locked way: the order's row lock serialises the notifications of one order; the notification is stored with its
    // effect at the end, and if the same notification was stored meanwhile (a duplicate delivery), its unique key
    // refuses the insert and the transaction is rolled back: a duplicate changes nothing.
    const fast = await this.applyNotificationOptimistically(regionCode, n);
    let after = fast?.order;
    const effect =
      fast?.effect ??
      (await this.db
        .tx(async (tx) => {
          const order = await this.lockOrder(tx, regionCode, n.outTradeNo);
          const applied = await this.applyProviderState(tx, order, n, 'provider-notify');
          const inserted =
            await tx.q(sql`insert into payment_provider_notification(region_code, id, order_id, event_type, seq, payload, effect)
            values (${regionCode}, ${n.id}, ${n.outTradeNo}, ${n.eventType}, ${n.seq}, ${JSON.stringify(n)}::jsonb, ${applied.effect})
            on conflict do nothing returning id`);
          if (inserted.length === 0) throw DUPLICATE_NOTIFICATION;
          after = applied.order;
          return applied.effect;
        })
        .catch((err) => {
          if (err === DUPLICATE_NOTIFICATION) return 'duplicate';
          throw err;
        }));
    this.ctx.log.info({ orderId: n.outTradeNo, event: n.eventType, effect, provider: this.provider.label }, '支付通知');
    await this.afterProviderEvent(regionCode, n.outTradeNo, effect, after).catch((err) =>
      this.ctx.log.warn({ err, orderId: n.outTradeNo }, '通知后续处理失败，等待恢复任务'),
    );
    return effect;
  }

  /**
   * The optimistic way of `applyProviderState` for a SUCCESS that pays an order awaiting payment (one statement,
   * guarded by the status, the amount due, the provider's sequence and the notification not being stored) and for a
   * USERPAYING notice (the order read without a lock, then one statement guarded by its version and the notification
   * not being stored). Undefined when the case is another or a guard did not hold (nothing changed then; the caller
   * takes the locked way, which decides every case).
   */
  private async applyNotificationOptimistically(
    regionCode: string,
    n: ProviderNotification,
  ): Promise<{ effect: string; order?: Order } | undefined> {
    if (n.eventType === 'TRANSACTION.SUCCESS') {
      // the usual case without reading the order first: awaiting payment, the amount due, no later notice applied
      try {
        const paid = await this.moveThrough(
          this.db,
          { regionCode, id: n.outTradeNo, status: 'awaiting_payment' },
          [{ to: 'cash_paid', reason: '第三方支付成功' }],
          'provider-notify',
          { provider_seq: n.seq, provider_txn_id: n.transactionId ?? null, cash_paid_at: new Date() },
          { notification: n, effect: 'cash-paid' },
          sql`and cash_payment = ${n.amount} and provider_seq <= ${n.seq}`,
        );
        return { effect: 'cash-paid', order: paid };
      } catch (err) {
        if (isAppError(err) && err.code === 'PAYMENT_CONCURRENT_UPDATE') return undefined;
        throw err;
      }
    }
    if (n.eventType !== 'TRANSACTION.USERPAYING') return undefined;
    // a second try when the first lost a race (the progress notice and the final one of an order arrive together)
    for (let attempt = 0; attempt < 2; attempt++) {
      const order = await this.getOrder(regionCode, n.outTradeNo);
      if (n.seq < order.providerSeq) return undefined;
      const rows = await this.db.q(sql`with touched as (
          update payment_order set provider_seq = ${n.seq}, version = version + 1, updated_at = now()
          where region_code = ${regionCode} and id = ${order.id} and version = ${order.version}
            ${notStored(regionCode, n.id)}
          returning region_code, id
        ), stored as (${storeNotification({ notification: n, effect: 'noted' }, sql`touched`)})
        select 1 from touched`);
      if (rows.length) return { effect: 'noted' };
    }
    return undefined;
  }

  /** Applies what the provider says about the cash leg (from a notification or a query) inside the caller's tx. */
  private async applyProviderState(
    tx: Executor,
    order: Order,
    n: Pick<ProviderNotification, 'eventType' | 'seq' | 'amount' | 'transactionId' | 'outRefundNo'>,
    actor: string,
  ): Promise<{ effect: string; order?: Order }> {
    if (n.eventType === 'REFUND.SUCCESS') return { effect: 'refund-noted' };
    if (n.seq < order.providerSeq) return { effect: 'stale' };
    const seq = Math.max(n.seq, order.providerSeq);
    if (n.eventType === 'TRANSACTION.USERPAYING') {
      await this.touchTx(tx, order, { provider_seq: seq });
      return { effect: 'noted' };
    }
    if (n.eventType === 'TRANSACTION.FAIL') {
      if (order.status !== 'awaiting_payment') return { effect: 'ignored' };
      await this.move(tx, order, 'failed', '第三方支付失败', actor, {
        provider_seq: seq,
        failure_code: 'PAYMENT_CASH_FAILED',
        failure_reason: '第三方支付失败',
      });
      return { effect: 'failed' };
    }
    // TRANSACTION.SUCCESS
    if (order.status === 'awaiting_payment' || order.status === 'pre_settled' || order.status === 'abnormal') {
      if (n.amount !== order.cashPayment) {
        if (order.status === 'abnormal') return { effect: 'ignored' };
        await this.move(tx, order, 'abnormal', '第三方支付金额与应付不符', actor, {
          provider_seq: seq,
          provider_txn_id: n.transactionId ?? null,
          failure_code: 'PAYMENT_AMOUNT_MISMATCH',
          failure_reason: `支付 ${n.amount} 分，应付 ${order.cashPayment} 分`,
        });
        return { effect: 'amount-mismatch' };
      }
      const paid = await this.move(tx, order, 'cash_paid', '第三方支付成功', actor, {
        provider_seq: seq,
        provider_txn_id: n.transactionId ?? null,
        cash_paid_at: new Date(),
      });
      return { effect: 'cash-paid', order: paid };
    }
    if (order.status === 'cancelled' || order.status === 'failed') {
      // paid after we gave up on the order (pays late): give the money back
      await this.insertRefund(tx, order, {
        kind: 'late_payment',
        appRefundSn: 'LATE',
        reason: '订单已关闭后到账，自动退回',
        requestedBy: 'system',
        fund: 0,
        account: 0,
        cash: n.amount,
        insurance: 'none',
      });
      await this.touchTx(tx, order, { provider_seq: seq, provider_txn_id: n.transactionId ?? null });
      return { effect: 'late-refund' };
    }
    return { effect: 'duplicate-state' };
  }

  private async touchTx(tx: Executor, order: Order, patch: Record<string, number | string | null>): Promise<void> {
    const sets = Object.entries(patch).map(([c, v]) => sql`${sql.raw(c)} = ${v}`);
    await tx.q(sql`update payment_order set ${sql.join(sets, sql`, `)}, version = version + 1, updated_at = now()
      where region_code = ${order.regionCode} and id = ${order.id}`);
  }

  /** After a provider event committed: settle a paid order, run pending refunds. `paid`: the order as committed. */
  private async afterProviderEvent(regionCode: string, orderId: string, effect?: string, paid?: Order): Promise<void> {
    if (effect === 'stale' || effect === 'noted' || effect === 'failed' || effect === 'amount-mismatch') return;
    const order = effect === 'cash-paid' && paid ? paid : await this.getOrder(regionCode, orderId);
    if (order.status === 'cash_paid') await this.settle(order);
    if (effect === 'cash-paid') return;
    for (const r of await this.refunds(regionCode, orderId)) if (r.status === 'pending') await this.driveRefund(r);
  }

  // ------------------------------------------------------------------------------------------- settlement

  /** cash_paid → insurance_settled → completed; a refusal by the core zone refunds the cash leg (冲正). */
  async settle(order: Order): Promise<Order> {
    if (order.status === 'insurance_settled') return this.complete(order);
    if (order.status !== 'cash_paid') return order;
    this.fault('before-core-settle', order.id);
    let settlement: Settlement;
    try {
      settlement = await this.core.settle({
        regionCode: order.regionCode,
        visitId: order.visitId!,
        useAccount: order.useAccount,
        requestId: order.settleRequestId,
      });
    } catch (err) {
      if (isDefinite(err)) return this.compensate(order, (err as AppError).code, (err as AppError).title, false);
      await this.touch(order, { recovery_attempts: order.recoveryAttempts + 1 });
      throw err;
    }
    this.fault('after-core-settle', order.id);
    const agrees =
      settlement.fundPayment === order.fundPayment &&
      settlement.accountPayment === order.accountPayment &&
      settlement.cashPayment === order.cashPayment &&
      settlement.total === order.total;
    if (!agrees) {
      // the split changed since the person paid (e.g. the account was spent meanwhile): undo it and refund the cash
      await this.core.reverse({
        regionCode: order.regionCode,
        settlementId: settlement.settlementId,
        requestId: `${order.id}X`,
      });
      await this.touch(order, { settlement_id: settlement.settlementId });
      return this.compensate(
        { ...order, settlementId: settlement.settlementId },
        'PAYMENT_SPLIT_CHANGED',
        `结算结果与预结算不符（个人账户 ${settlement.accountPayment} ≠ ${order.accountPayment}）`,
        true,
      );
    }
    // cash_paid → insurance_settled → completed in one statement (both transitions stored), with the event in its
    // transaction: no state between the core zone's settlement and the completion is left for recovery to finish.
    const personId = order.personId ?? (await this.lookUpPersonId(order));
    const done = await this.advanceThrough(
      order,
      'cash_paid',
      [
        { to: 'insurance_settled', reason: '核心区结算成功', detail: { settlementId: settlement.settlementId } },
        { to: 'completed', reason: '支付完成' },
      ],
      'system',
      {
        settlement_id: settlement.settlementId,
        settled_at: settlement.settledAt,
        account_balance_after: settlement.balanceAfter,
        ...(personId && !order.personId ? { person_id: personId } : {}),
      },
      this.publishing('payment.completed'),
    );
    this.fault('after-insurance-settled-stored', order.id);
    // someone else moved it meanwhile (e.g. only to insurance_settled): finish from where it is
    return this.complete(done);
  }

  /** The insurance leg was settled and stored, the order not completed yet (a crash in between): complete it. */
  private async complete(order: Order): Promise<Order> {
    if (order.status !== 'insurance_settled') return order;
    // the person may have opened a hall account since the upload: link it, so the events reach them
    const personId = order.personId ?? (await this.lookUpPersonId(order));
    const patch = personId && !order.personId ? { person_id: personId } : {};
    return this.advance(
      order,
      'insurance_settled',
      'completed',
      '支付完成',
      'system',
      patch,
      {},
      this.publishing('payment.completed'),
    );
  }

  /**
   * An event about the order in the transaction that moves it (`payment.bill_ready` when it waits for its person,
   * `payment.completed`); none, and no transaction, when no center subscribes.
   */
  private publishing(
    event: 'payment.bill_ready' | 'payment.completed',
    extra: (o: Order) => Record<string, unknown> = () => ({}),
  ): ((tx: Executor, moved: Order) => Promise<void>) | undefined {
    if (!this.ctx.events.hasSubscribers(event)) return undefined;
    return async (tx, moved) => {
      await this.ctx.events.publish(
        tx,
        event,
        { ...eventPayload(moved), ...extra(moved) },
        {
          regionCode: moved.regionCode,
          dedupeKey: `${moved.id}:${event.slice('payment.'.length)}`,
        },
      );
    };
  }

  private async lookUpPersonId(order: Order): Promise<string | undefined> {
    try {
      const person = await this.core.findPerson(order.regionCode, { personNo: order.personNo });
      return await this.persons().personIdFor(order.regionCode, person.residentId);
    } catch {
      return undefined;
    }
  }

  /** The saga's compensation: the cash leg is refunded; the order ends failed. */
  private async compensate(order: Order, code: string, reason: string, insuranceReversed: boolean): Promise<Order> {
    const refund = await this.db.tx(async (tx) => {
      const current = await this.lockOrder(tx, order.regionCode, order.id);
      if (current.status !== 'cash_paid') return undefined;
      await this.move(tx, current, 'refunding', `医保结算失败，自动冲正自费部分：${reason}`, 'system', {
        failure_code: code,
        failure_reason: reason,
      });
      return this.insertRefund(tx, current, {
        kind: 'compensation',
        appRefundSn: 'COMPENSATION',
        reason: `医保结算失败自动冲正：${reason}`,
        requestedBy: 'system',
        fund: 0,
        account: 0,
        cash: current.cashPayment ?? 0,
        insurance: insuranceReversed ? 'succeeded' : 'none',
      });
    });
    this.fault('after-compensation-started', order.id);
    if (refund) await this.driveRefund(refund);
    if (order.visitId && !insuranceReversed) {
      // best effort: the visit stays open in the core zone otherwise; the institution may upload again
      await this.core.cancelVisit(order.regionCode, order.visitId).catch(() => undefined);
    }
    return this.getOrder(order.regionCode, order.id);
  }

  // ---------------------------------------------------------------------------------------------- refunds

  private async insertRefund(
    tx: Executor,
    order: Order,
    r: {
      kind: Refund['kind'];
      appRefundSn: string;
      reason: string;
      requestedBy: string;
      fund: number;
      account: number;
      cash: number;
      insurance: Refund['insuranceStatus'];
    },
  ): Promise<Refund> {
    const id = newId('R', order.regionCode);
    const rows = await tx.q<Record<string, unknown>>(sql`insert into payment_refund(region_code, id, order_id, kind,
        app_refund_sn, reason, requested_by, status, fund_amount, account_amount, cash_amount, insurance_status, cash_status)
      values (${order.regionCode}, ${id}, ${order.id}, ${r.kind}, ${r.appRefundSn}, ${r.reason}, ${r.requestedBy},
        'pending', ${r.fund}, ${r.account}, ${r.cash}, ${r.insurance},
        ${r.cash > 0 ? 'pending' : 'none'})
      on conflict (region_code, order_id, app_refund_sn) do nothing
      returning *`);
    if (rows.length === 0) {
      const existing = await tx.one<Record<string, unknown>>(sql`select * from payment_refund
        where region_code = ${order.regionCode} and order_id = ${order.id} and app_refund_sn = ${r.appRefundSn}`);
      return toRefund(existing!);
    }
    return toRefund(rows[0]);
  }

  /** 6203 / staff reversal: full (every leg) or partial (the cash leg only, where the region's policy allows). */
  async requestRefund(
    regionCode: string,
    orderId: string,
    req: { appRefundSn: string; kind: 'full' | 'partial'; cashAmount?: number; reason: string },
    actor: Actor,
    audit?: { ip?: string; userAgent?: string },
  ): Promise<Refund> {
    const existing = await this.db.one<Record<string, unknown>>(sql`select * from payment_refund
      where region_code = ${regionCode} and order_id = ${orderId} and app_refund_sn = ${req.appRefundSn}`);
    if (existing) return toRefund(existing);
    if (req.kind === 'partial' && !(await this.partialAllowed(regionCode))) {
      throw new AppError(422, 'PAYMENT_PARTIAL_REFUND_NOT_ALLOWED', '本统筹区政策不允许部分退款');
    }
    const refund = await this.db.tx(async (tx) => {
      const order = await this.lockOrder(tx, regionCode, orderId);
      if (order.status !== 'completed' && order.status !== 'partially_refunded') {
        throw new AppError(409, 'PAYMENT_ILLEGAL_TRANSITION', '订单状态不允许退款', `订单当前状态 ${order.status}`);
      }
      const cashLeft = order.cashPayment! - order.refundedCash;
      let fund = 0;
      let account = 0;
      let cash: number;
      if (req.kind === 'full') {
        fund = order.fundPayment! - order.refundedFund;
        account = order.accountPayment! - order.refundedAccount;
        cash = cashLeft;
      } else {
        cash = req.cashAmount ?? 0;
        if (!Number.isSafeInteger(cash) || cash <= 0 || cash > cashLeft) {
          throw new AppError(422, 'PAYMENT_REFUND_EXCEEDS_PAID', '退款金额超过可退金额', `自费部分可退 ${cashLeft} 分`);
        }
      }
      const moved = await this.move(
        tx,
        order,
        'refunding',
        `${req.kind === 'full' ? '全额退款' : '部分退款'}：${req.reason}`,
        `${actor.kind}:${actor.id}`,
        {},
        { fund, account, cash },
      );
      const r = await this.insertRefund(tx, moved, {
        kind: req.kind,
        appRefundSn: req.appRefundSn,
        reason: req.reason,
        requestedBy: `${actor.kind}:${actor.id}`,
        fund,
        account,
        cash,
        insurance: req.kind === 'full' ? 'pending' : 'none',
      });
      if (actor.kind === 'staff' || actor.kind === 'channel') {
        await appendAudit(tx, {
          regionCode,
          actorKind: actor.kind,
          actorId: actor.id,
          action: actor.kind === 'staff' ? 'payment.manual_reversal' : 'payment.refund',
          targetType: 'payment_order',
          targetId: orderId,
          result: 'success',
          ip: audit?.ip,
          userAgent: audit?.userAgent,
          detail: { refundId: r.id, kind: req.kind, reason: req.reason, fund, account, cash },
        });
      }
      return r;
    });
    await this.driveRefund(refund).catch((err) =>
      this.ctx.log.warn({ err, refundId: refund.id }, '退款执行失败，等待恢复任务'),
    );
    return this.getRefund(regionCode, refund.id);
  }

  private async partialAllowed(regionCode: string): Promise<boolean> {
    if (this.opts.partialRefundAllowed) return this.opts.partialRefundAllowed(regionCode);
    const config = await this.ctx.regions.config(regionCode);
    const setting = (config.settings.payment as { partialCashRefund?: boolean } | undefined)?.partialCashRefund;
    // demo policy: 东湖 (990100) allows partial refunds of the cash leg, 北原 (980100) only whole refunds
    return setting ?? regionCode !== '980100';
  }

  async getRefund(regionCode: string, id: string): Promise<Refund> {
    const row = await this.db.one<Record<string, unknown>>(
      sql`select * from payment_refund where region_code = ${regionCode} and id = ${id}`,
    );
    if (!row) throw new AppError(404, 'PAYMENT_REFUND_NOT_FOUND', '未找到退款记录');
    return toRefund(row);
  }

  /** Runs the pending legs of a refund (each repeatable with the refund id), then finishes it. */
  async driveRefund(refund: Refund): Promise<Refund> {
    let r = refund;
    if (r.status !== 'pending') return r;
    const order = await this.getOrder(r.regionCode, r.orderId);
    if (r.insuranceStatus === 'pending') {
      try {
        await this.core.reverse({ regionCode: r.regionCode, settlementId: order.settlementId!, requestId: r.id });
      } catch (err) {
        if (!(isAppError(err) && err.code === 'CORE_ALREADY_REVERSED')) {
          if (isDefinite(err)) return this.failRefund(r, 'insurance', (err as AppError).code);
          await this.noteRefundError(r, err);
          throw err;
        }
      }
      this.fault('after-core-reverse', order.id);
      await this.db.q(sql`update payment_refund set insurance_status = 'succeeded'
        where region_code = ${r.regionCode} and id = ${r.id}`);
      r = { ...r, insuranceStatus: 'succeeded' };
    }
    if (r.cashStatus === 'pending') {
      let result: Awaited<ReturnType<PaymentProvider['refund']>>;
      try {
        result = await this.provider.refund({
          outTradeNo: order.id,
          outRefundNo: r.id,
          amount: r.cashAmount,
          reason: r.reason,
        });
      } catch (err) {
        if (err instanceof ProviderRejectedError) return this.failRefund(r, 'cash', err.code);
        await this.noteRefundError(r, err);
        throw providerError(err);
      }
      this.fault('after-provider-refund', order.id);
      if (result.status !== 'SUCCESS') {
        if (result.status === 'FAILED') return this.failRefund(r, 'cash', 'PROVIDER_REFUND_FAILED');
        return r; // PROCESSING: the recovery job asks again
      }
      await this.db.q(sql`update payment_refund set cash_status = 'succeeded', provider_refund_id = ${result.refundId ?? null}
        where region_code = ${r.regionCode} and id = ${r.id}`);
      r = { ...r, cashStatus: 'succeeded' };
    }
    return this.finishRefund(r);
  }

  private async noteRefundError(r: Refund, err: unknown): Promise<void> {
    await this.db.q(sql`update payment_refund set attempts = attempts + 1, last_error = ${String((err as Error).message).slice(0, 500)}
      where region_code = ${r.regionCode} and id = ${r.id}`);
  }

  private async finishRefund(r: Refund): Promise<Refund> {
    await this.db.tx(async (tx) => {
      const row = await tx.one<Record<string, unknown>>(sql`select * from payment_refund
        where region_code = ${r.regionCode} and id = ${r.id} for update`);
      const current = toRefund(row!);
      if (current.status !== 'pending') return;
      const order = await this.lockOrder(tx, r.regionCode, r.orderId);
      await tx.q(sql`update payment_refund set status = 'succeeded', finished_at = now()
        where region_code = ${r.regionCode} and id = ${r.id}`);
      await tx.q(sql`update payment_order set refunded_fund = refunded_fund + ${r.fundAmount},
          refunded_account = refunded_account + ${r.accountAmount}, refunded_cash = refunded_cash + ${r.cashAmount}
        where region_code = ${r.regionCode} and id = ${r.orderId}`);
      const after = {
        ...order,
        refundedFund: order.refundedFund + r.fundAmount,
        refundedAccount: order.refundedAccount + r.accountAmount,
        refundedCash: order.refundedCash + r.cashAmount,
      };
      if (r.kind === 'late_payment') return;
      if (r.kind === 'compensation') {
        if (order.status === 'refunding')
          await this.move(
            tx,
            after,
            'failed',
            '自费部分已冲正退回',
            'system',
            {},
            { refundId: r.id, cash: r.cashAmount },
          );
        return;
      }
      const whole =
        after.refundedFund === order.fundPayment &&
        after.refundedAccount === order.accountPayment &&
        after.refundedCash === order.cashPayment;
      const to: OrderStatus = r.kind === 'full' || whole ? 'refunded' : 'partially_refunded';
      if (order.status === 'refunding') {
        const moved = await this.move(
          tx,
          after,
          to,
          to === 'refunded' ? '退款完成' : '部分退款完成',
          'system',
          {},
          { refundId: r.id },
        );
        await this.ctx.events.publish(
          tx,
          'payment.refunded',
          {
            ...eventPayload(moved),
            refundId: r.id,
            refundKind: r.kind,
            fundRefund: r.fundAmount,
            accountRefund: r.accountAmount,
            cashRefund: r.cashAmount,
            refundedAt: new Date().toISOString(),
          },
          { regionCode: r.regionCode, dedupeKey: `${r.id}:refunded` },
        );
      }
    });
    return this.getRefund(r.regionCode, r.id);
  }

  private async failRefund(r: Refund, leg: 'insurance' | 'cash', code: string): Promise<Refund> {
    await this.db.tx(async (tx) => {
      await tx.q(sql`update payment_refund set status = 'failed', finished_at = now(), last_error = ${code},
          ${sql.raw(leg === 'cash' ? 'cash_status' : 'insurance_status')} = 'failed'
        where region_code = ${r.regionCode} and id = ${r.id} and status = 'pending'`);
      const order = await this.lockOrder(tx, r.regionCode, r.orderId);
      if (order.status === 'refunding')
        await this.move(
          tx,
          order,
          'abnormal',
          `退款失败（${leg === 'cash' ? '自费' : '医保'}部分）：${code}，需人工处理`,
          'system',
          {
            failure_code: code,
          },
        );
    });
    return this.getRefund(r.regionCode, r.id);
  }

  // ---------------------------------------------------------------------------------------------- 6401 cancel

  /** 6401: cancels the upload of an order nobody has paid. */
  async cancel(order: Order, reason: string, actor: Actor): Promise<Order> {
    if (order.status === 'cancelled') return order;
    if (!['created', 'pre_settled', 'awaiting_payment'].includes(order.status))
      assertTransition(order.status, 'cancelled');
    if (order.status === 'awaiting_payment' || order.status === 'pre_settled') {
      let closed: Awaited<ReturnType<PaymentProvider['closeOrder']>>;
      try {
        closed = await this.provider.closeOrder(order.id);
      } catch (err) {
        throw providerError(err);
      }
      if (closed.result === 'ORDERPAID') {
        await this.syncWithProvider(order);
        throw new AppError(409, 'PAYMENT_ALREADY_PAID', '订单已支付，不能撤销', '请改为申请退款');
      }
    }
    if (order.visitId) {
      await this.core.cancelFees(order.regionCode, order.visitId).catch(ignoreClosedVisit);
      await this.core.cancelVisit(order.regionCode, order.visitId).catch(ignoreClosedVisit);
    }
    return this.db.tx(async (tx) => {
      const current = await this.lockOrder(tx, order.regionCode, order.id);
      if (current.status === 'cancelled') return current;
      return this.move(tx, current, 'cancelled', reason, `${actor.kind}:${actor.id}`);
    });
  }

  /** Asks the provider how the cash leg stands and applies it (lost notifications, late payments). */
  async syncWithProvider(order: Order): Promise<Order> {
    const p = await this.provider.queryOrder(order.id);
    if (p.status === 'SUCCESS' || p.status === 'PAYERROR') {
      await this.db.tx(async (tx) => {
        const current = await this.lockOrder(tx, order.regionCode, order.id);
        await this.applyProviderState(
          tx,
          current,
          {
            eventType: p.status === 'SUCCESS' ? 'TRANSACTION.SUCCESS' : 'TRANSACTION.FAIL',
            seq: p.seq,
            amount: p.amount,
            transactionId: p.transactionId,
          },
          'provider-query',
        );
      });
      await this.afterProviderEvent(order.regionCode, order.id);
    }
    return this.getOrder(order.regionCode, order.id);
  }

  // ---------------------------------------------------------------------------------------------- recovery

  /**
   * Drives every open order that has not moved for `idleMs` to its next consistent state (a crashed process, a
   * lost notification, an expired payment window). Safe to run any number of times, in several processes.
   */
  async recover(
    opts: { regionCode?: string; idleMs?: number; limit?: number } = {},
  ): Promise<{ examined: number; errors: number }> {
    const idle = opts.idleMs ?? 60_000;
    const rows = await this.db.q<Record<string, unknown>>(sql`select * from payment_order
      where status in (${sql.join(
        OPEN_STATUSES.map((s) => sql`${s}`),
        sql`, `,
      )})
        ${opts.regionCode ? sql`and region_code = ${opts.regionCode}` : sql``}
        and updated_at <= now() - make_interval(secs => ${idle / 1000})
      order by updated_at limit ${opts.limit ?? 500}`);
    let errors = 0;
    for (const row of rows) {
      try {
        await this.driveOrder(toOrder(row));
      } catch (err) {
        errors++;
        this.ctx.log.warn({ err, orderId: row.id }, '恢复任务: 订单处理失败，稍后重试');
      }
    }
    const refunds = await this.db.q<Record<string, unknown>>(sql`select * from payment_refund where status = 'pending'
      ${opts.regionCode ? sql`and region_code = ${opts.regionCode}` : sql``}
      and created_at <= now() - make_interval(secs => ${idle / 1000}) limit ${opts.limit ?? 500}`);
    for (const row of refunds) {
      try {
        await this.driveRefund(toRefund(row));
      } catch (err) {
        errors++;
        this.ctx.log.warn({ err, refundId: row.id }, '恢复任务: 退款处理失败，稍后重试');
      }
    }
    return { examined: rows.length + refunds.length, errors };
  }

  private async driveOrder(order: Order): Promise<void> {
    switch (order.status) {
      case 'created':
        await this.completePreSettle(order);
        return;
      case 'pre_settled': {
        // waiting for the person. When the confirmation window is over, cancel: cancel() first closes a prepay a
        // crashed 6202 may have left at the provider, and if that one was paid after all, takes the payment instead.
        if (Date.now() <= Date.parse(this.dueAt(order)!)) return;
        await this.cancel(order, '超时未确认，自动撤销', { kind: 'system', id: 'recovery' }).catch((err) => {
          if (!(isAppError(err) && err.code === 'PAYMENT_ALREADY_PAID')) throw err;
        });
        return;
      }
      case 'awaiting_payment': {
        const synced = await this.syncWithProvider(order);
        if (synced.status !== 'awaiting_payment') return;
        if (synced.payExpiresAt && Date.parse(synced.payExpiresAt) < Date.now()) {
          await this.cancel(synced, '支付超时，自动撤销', { kind: 'system', id: 'recovery' }).catch(async (err) => {
            if (!(isAppError(err) && err.code === 'PAYMENT_ALREADY_PAID')) throw err;
          });
        }
        return;
      }
      case 'cash_paid':
      case 'insurance_settled':
        await this.settle(order);
        return;
      case 'refunding':
        for (const r of await this.refunds(order.regionCode, order.id))
          if (r.status === 'pending') await this.driveRefund(r);
        return;
      default:
        return;
    }
  }

  /** Staff: put an abnormal order back on track or close it, with a reason (audited). */
  async resolveAbnormal(
    regionCode: string,
    orderId: string,
    action: 'refund_cash' | 'retry_settlement',
    reason: string,
    staffId: string,
  ): Promise<Order> {
    const order = await this.db.tx(async (tx) => {
      const current = await this.lockOrder(tx, regionCode, orderId);
      if (current.status !== 'abnormal')
        throw new AppError(409, 'PAYMENT_ILLEGAL_TRANSITION', '只有异常订单需要人工处理');
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'payment.resolve_abnormal',
        targetType: 'payment_order',
        targetId: orderId,
        result: 'success',
        detail: { action, reason },
      });
      if (action === 'retry_settlement' && current.cashPaidAt) {
        return this.move(tx, current, 'cash_paid', `人工处理：重试结算（${reason}）`, `staff:${staffId}`);
      }
      if (!current.cashPaidAt && !current.providerTxnId) {
        return this.move(tx, current, 'failed', `人工处理：${reason}`, `staff:${staffId}`);
      }
      const moved = await this.move(
        tx,
        current,
        'refunding',
        `人工处理：退回自费部分（${reason}）`,
        `staff:${staffId}`,
      );
      // a settled order (its refund failed) is refunded as a whole; otherwise only the cash leg goes back
      const wasSettled = current.settledAt !== null;
      await this.insertRefund(tx, moved, {
        kind: wasSettled ? 'full' : 'compensation',
        appRefundSn: `MANUAL-${Date.now()}`,
        reason,
        requestedBy: `staff:${staffId}`,
        fund: wasSettled ? current.fundPayment! - current.refundedFund : 0,
        account: wasSettled ? current.accountPayment! - current.refundedAccount : 0,
        cash: current.cashPayment! - current.refundedCash,
        insurance: current.settlementId ? 'pending' : 'none',
      });
      return moved;
    });
    await this.driveOrder(order).catch((err) =>
      this.ctx.log.warn({ err, orderId }, '人工处理后续步骤失败，等待恢复任务'),
    );
    return this.getOrder(regionCode, orderId);
  }
}

// ------------------------------------------------------------------------------------------------- helpers

function ignoreClosedVisit(err: unknown): void {
  if (
    isAppError(err) &&
    (err.code === 'CORE_VISIT_CLOSED' || err.code === 'CORE_VISIT_NOT_FOUND' || err.code === 'CORE_NO_FEES')
  )
    return;
  throw err;
}

interface MoveStep {
  to: OrderStatus;
  reason: string;
  detail?: Record<string, unknown>;
}

/** A provider notification to store together with its effect. */
interface StoredNotification {
  notification: ProviderNotification;
  effect: string;
}

const notStored = (regionCode: string, id: string) =>
  sql`and not exists (select 1 from payment_provider_notification where region_code = ${regionCode} and id = ${id})`;

/** The insert of a notification with its effect, one row per row of `from` (the order the effect was applied to). */
function storeNotification(s: StoredNotification, from: SQL) {
  const n = s.notification;
  return sql`insert into payment_provider_notification(region_code, id, order_id, event_type, seq, payload, effect)
    select region_code, ${n.id}, id, ${n.eventType}, ${n.seq}, ${JSON.stringify(n)}::jsonb, ${s.effect} from ${from}
    on conflict do nothing`;
}

function providerError(err: unknown): Error {
  if (err instanceof ProviderUnavailableError) {
    return new AppError(503, 'PAYMENT_PROVIDER_UNAVAILABLE', '第三方支付暂不可用，请稍后重试', err.message);
  }
  if (err instanceof ProviderRejectedError) {
    return new AppError(502, 'PAYMENT_PROVIDER_REJECTED', '第三方支付拒绝了请求', `${err.code} ${err.message}`);
  }
  return err as Error;
}

function splitPatch(pre: PreSettlement, visitId: string): Record<string, unknown> {
  const lines: OrderLine[] = pre.lines.map((l) => ({
    lineNo: l.lineNo,
    code: l.code,
    name: l.name,
    itemClass: l.itemClass,
    quantity: l.quantity,
    unitPrice: l.unitPrice,
    amount: l.amount,
    selfPayRatioBp: l.selfPayRatioBp,
    fullySelfPaid: l.fullySelfPaid,
    overPriceCap: l.overPriceCap,
    preSelfPay: l.preSelfPay,
    inScope: l.inScope,
  }));
  const { lines: _lines, ...split } = pre;
  return {
    visit_id: visitId,
    lines,
    fund_payment: pre.fundPayment,
    account_payment: pre.accountPayment,
    cash_payment: pre.cashPayment,
    account_balance_after: pre.balanceAfter,
    split,
  };
}

export function eventPayload(o: Order): PaymentEvent {
  return {
    regionCode: o.regionCode,
    orderId: o.id,
    ...(o.personId ? { personId: o.personId } : {}),
    personNo: o.personNo,
    residentIndex: o.residentIndex,
    institutionCode: o.institutionCode,
    ...(o.institutionName ? { institutionName: o.institutionName } : {}),
    total: o.total,
    fundPayment: o.fundPayment ?? 0,
    accountPayment: o.accountPayment ?? 0,
    cashPayment: o.cashPayment ?? 0,
    lines: o.lines.map((l) => ({
      code: l.code,
      name: l.name,
      itemClass: l.itemClass,
      quantity: l.quantity,
      amount: l.amount,
    })),
    settledAt: o.settledAt ?? new Date().toISOString(),
  };
}

function iso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export function toOrder(r: Record<string, any>): Order {
  return {
    regionCode: r.region_code,
    id: r.id,
    payToken: r.pay_token,
    appId: r.app_id,
    institutionCode: r.institution_code,
    institutionName: r.institution_name ?? null,
    institutionOrderNo: r.institution_order_no,
    personNo: r.person_no,
    residentIndex: r.resident_index,
    personId: r.person_id,
    visitId: r.visit_id,
    medicalType: r.medical_type,
    lines: r.lines,
    total: Number(r.total),
    useAccount: r.use_account,
    fundPayment: num(r.fund_payment),
    accountPayment: num(r.account_payment),
    cashPayment: num(r.cash_payment),
    accountBalanceAfter: num(r.account_balance_after),
    status: r.status,
    version: r.version,
    settleRequestId: r.settle_request_id,
    settlementId: r.settlement_id,
    provider: r.provider,
    prepayId: r.prepay_id,
    cashierUrl: r.cashier_url,
    providerTxnId: r.provider_txn_id,
    providerSeq: r.provider_seq,
    cashPaidAt: iso(r.cash_paid_at),
    payExpiresAt: iso(r.pay_expires_at),
    settledAt: iso(r.settled_at),
    refundedFund: Number(r.refunded_fund),
    refundedAccount: Number(r.refunded_account),
    refundedCash: Number(r.refunded_cash),
    failureCode: r.failure_code,
    failureReason: r.failure_reason,
    recoveryAttempts: r.recovery_attempts,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}

function toRefund(r: Record<string, any>): Refund {
  return {
    regionCode: r.region_code,
    id: r.id,
    orderId: r.order_id,
    kind: r.kind,
    appRefundSn: r.app_refund_sn,
    reason: r.reason,
    requestedBy: r.requested_by,
    status: r.status,
    fundAmount: Number(r.fund_amount),
    accountAmount: Number(r.account_amount),
    cashAmount: Number(r.cash_amount),
    insuranceStatus: r.insurance_status,
    cashStatus: r.cash_status,
    providerRefundId: r.provider_refund_id,
    lastError: r.last_error,
    createdAt: iso(r.created_at)!,
    finishedAt: iso(r.finished_at),
  };
}
