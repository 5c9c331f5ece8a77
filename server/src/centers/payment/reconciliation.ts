/**
 * Reconciliation (对账) of one business day (China time): the platform's orders and refunds against the core zone's
 * settlements and the provider's statement file. Lists what is missing on one side, what differs in amount and what
 * differs in status; staff resolve each item (audited), optionally driving the order through recovery first.
 */

import type { CoreZone } from '../../integration/core-zone/port.ts';
import { appendAudit } from '../../platform/audit.ts';
import type { Context } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { businessDate, type StatementLine } from './provider/port.ts';
import { type Order, type PaymentService, toOrder } from './service.ts';

export type MismatchKind =
  | 'missing_in_platform'
  | 'missing_in_core'
  | 'missing_in_provider'
  | 'amount_differs'
  | 'status_differs';

export interface Mismatch {
  orderId: string;
  kind: MismatchKind;
  detail: Record<string, unknown>;
  status?: 'open' | 'resolved';
  resolution?: string | null;
  resolvedBy?: string | null;
  resolvedAt?: string | null;
}

export interface DayTotals {
  orders: number;
  completed: number;
  total: number;
  fund: number;
  account: number;
  cash: number;
  cashRefunded: number;
  providerPaid: number;
  providerRefunded: number;
  coreSettled: number;
}

export interface ReconciliationReport {
  regionCode: string;
  date: string;
  ranAt: string;
  totals: DayTotals;
  mismatches: Mismatch[];
}

/** day boundaries of a China-time business date, as UTC instants */
const dayRange = (date: string) => {
  const start = new Date(`${date}T00:00:00+08:00`);
  return { from: start.toISOString(), to: new Date(start.getTime() + 86_400_000).toISOString() };
};

const SETTLED_STATES = new Set(['completed', 'partially_refunded']);

export class Reconciler {
  private readonly ctx: Context;
  private readonly payments: PaymentService;
  private readonly core: () => CoreZone;

  constructor(ctx: Context, payments: PaymentService, core: () => CoreZone) {
    this.ctx = ctx;
    this.payments = payments;
    this.core = core;
  }

  async run(regionCode: string, date: string): Promise<ReconciliationReport> {
    if (date > businessDate(Date.now()))
      throw new AppError(422, 'PAYMENT_RECONCILIATION_FUTURE', '该日期尚未开始，不能对账', `营业日 ${date}`);
    const { from, to } = dayRange(date);
    const orders = (
      await this.ctx.db.q<Record<string, unknown>>(sql`select * from payment_order where region_code = ${regionCode}
        and ((created_at >= ${from} and created_at < ${to}) or (cash_paid_at >= ${from} and cash_paid_at < ${to})
          or (settled_at >= ${from} and settled_at < ${to}))`)
    ).map(toOrder);
    const refundRows = await this.ctx.db.q<{ order_id: string; id: string; cash_amount: number; kind: string }>(sql`
      select order_id, id, cash_amount, kind from payment_refund where region_code = ${regionCode}
        and status = 'succeeded' and cash_status = 'succeeded' and finished_at >= ${from} and finished_at < ${to}`);
    const statement = await this.payments.provider.statement(date);
    const byId = new Map(orders.map((o) => [o.id, o]));
    const mismatches: Mismatch[] = [];
    const add = (orderId: string, kind: MismatchKind, detail: Record<string, unknown>) =>
      mismatches.push({ orderId, kind, detail });

    // provider statement ↔ platform (cash leg)
    const providerPay = new Map<string, StatementLine>();
    const providerRefund = new Map<string, number>();
    for (const line of statement) {
      if (line.type === 'PAY') providerPay.set(line.outTradeNo, line);
      else providerRefund.set(line.outTradeNo, (providerRefund.get(line.outTradeNo) ?? 0) + line.amount);
    }
    const platformRefund = new Map<string, number>();
    for (const r of refundRows)
      platformRefund.set(r.order_id, (platformRefund.get(r.order_id) ?? 0) + Number(r.cash_amount));
    for (const [orderId, line] of providerPay) {
      let order = byId.get(orderId);
      if (!order) {
        const row = await this.ctx.db.one<Record<string, unknown>>(
          sql`select * from payment_order where region_code = ${regionCode} and id = ${orderId}`,
        );
        if (row) {
          order = toOrder(row);
          byId.set(orderId, order);
        }
      }
      if (!order || (!order.cashPaidAt && !order.providerTxnId)) {
        add(orderId, 'missing_in_platform', {
          providerAmount: line.amount,
          transactionId: line.transactionId,
          platformStatus: order?.status ?? null,
        });
        continue;
      }
      if (order.cashPayment !== line.amount) {
        add(orderId, 'amount_differs', { leg: 'cash', platform: order.cashPayment, provider: line.amount });
      }
      const providerNet = line.amount - (providerRefund.get(orderId) ?? 0);
      const keptByPlatform = ['completed', 'partially_refunded', 'cash_paid', 'insurance_settled'].includes(
        order.status,
      );
      if (!keptByPlatform && providerNet > 0 && order.status !== 'refunding' && order.status !== 'abnormal') {
        add(orderId, 'status_differs', {
          leg: 'cash',
          platformStatus: order.status,
          providerNet,
          note: '第三方已收款但平台订单未完成且未退回',
        });
      }
    }
    for (const o of byId.values()) {
      if (o.cashPaidAt && (o.cashPayment ?? 0) > 0 && inDay(o.cashPaidAt, from, to) && !providerPay.has(o.id)) {
        add(o.id, 'missing_in_provider', { leg: 'cash', platform: o.cashPayment, platformStatus: o.status });
      }
    }
    for (const [orderId, amount] of platformRefund) {
      const provider = providerRefund.get(orderId) ?? 0;
      if (provider !== amount)
        add(orderId, provider === 0 ? 'missing_in_provider' : 'amount_differs', {
          leg: 'cash-refund',
          platform: amount,
          provider,
        });
    }
    for (const [orderId, amount] of providerRefund) {
      if (!platformRefund.has(orderId)) add(orderId, 'missing_in_platform', { leg: 'cash-refund', provider: amount });
    }

    // core zone settlements ↔ platform (fund and account legs)
    let coreSettled = 0;
    for (const o of byId.values()) {
      const expectSettled = SETTLED_STATES.has(o.status);
      const expectReversed = o.status === 'refunded' || (o.status === 'failed' && o.settlementId !== null);
      if (!o.settlementId) {
        if (expectSettled || o.status === 'refunded') add(o.id, 'missing_in_core', { platformStatus: o.status });
        continue;
      }
      let s: Awaited<ReturnType<CoreZone['getSettlement']>>;
      try {
        s = await this.core().getSettlement(regionCode, o.settlementId);
      } catch (err) {
        if (err instanceof AppError && err.code === 'CORE_SETTLEMENT_NOT_FOUND') {
          add(o.id, 'missing_in_core', { settlementId: o.settlementId, platformStatus: o.status });
          continue;
        }
        throw err;
      }
      if (s.state === 'settled') coreSettled += s.fundPayment + s.accountPayment;
      if (s.fundPayment !== o.fundPayment || s.accountPayment !== o.accountPayment || s.total !== o.total) {
        add(o.id, 'amount_differs', {
          leg: 'insurance',
          platform: { fund: o.fundPayment, account: o.accountPayment, total: o.total },
          core: { fund: s.fundPayment, account: s.accountPayment, total: s.total },
        });
      }
      if ((expectSettled && s.state !== 'settled') || (expectReversed && s.state !== 'reversed')) {
        add(o.id, 'status_differs', { leg: 'insurance', platformStatus: o.status, coreState: s.state });
      }
    }

    const inDayOrders = [...byId.values()].filter((o) => inDay(o.createdAt, from, to));
    const done = inDayOrders.filter((o) => SETTLED_STATES.has(o.status) || o.status === 'refunded');
    const totals: DayTotals = {
      orders: inDayOrders.length,
      completed: done.length,
      total: done.reduce((s, o) => s + o.total, 0),
      fund: done.reduce((s, o) => s + (o.fundPayment ?? 0), 0),
      account: done.reduce((s, o) => s + (o.accountPayment ?? 0), 0),
      cash: done.reduce((s, o) => s + (o.cashPayment ?? 0), 0),
      cashRefunded: [...platformRefund.values()].reduce((s, v) => s + v, 0),
      providerPaid: [...providerPay.values()].reduce((s, l) => s + l.amount, 0),
      providerRefunded: [...providerRefund.values()].reduce((s, v) => s + v, 0),
      coreSettled,
    };
    const ranAt = new Date().toISOString();
    await this.ctx.db.tx(async (tx) => {
      await tx.q(sql`insert into payment_reconciliation_run(region_code, business_date, ran_at, totals, mismatch_count)
        values (${regionCode}, ${date}, ${ranAt}, ${JSON.stringify(totals)}::jsonb, ${mismatches.length})
        on conflict (region_code, business_date) do update set ran_at = excluded.ran_at, totals = excluded.totals,
          mismatch_count = excluded.mismatch_count`);
      // open items that no longer show up were fixed in the meantime: close them
      const keys = mismatches.map((m) => `${m.orderId}|${m.kind}`);
      const open = await tx.q<{
        order_id: string;
        kind: string;
      }>(sql`select order_id, kind from payment_reconciliation_item
        where region_code = ${regionCode} and business_date = ${date} and status = 'open'`);
      for (const item of open) {
        if (!keys.includes(`${item.order_id}|${item.kind}`)) {
          await tx.q(sql`update payment_reconciliation_item set status = 'resolved', resolution = '复核时已一致',
              resolved_by = 'system', resolved_at = now()
            where region_code = ${regionCode} and business_date = ${date} and order_id = ${item.order_id} and kind = ${item.kind}`);
        }
      }
      for (const m of mismatches) {
        await tx.q(sql`insert into payment_reconciliation_item(region_code, business_date, order_id, kind, detail)
          values (${regionCode}, ${date}, ${m.orderId}, ${m.kind}, ${JSON.stringify(m.detail)}::jsonb)
          on conflict (region_code, business_date, order_id, kind) do update set detail = excluded.detail`);
      }
    });
    return { regionCode, date, ranAt, totals, mismatches: await this.items(regionCode, date) };
  }

  async report(regionCode: string, date: string): Promise<ReconciliationReport | undefined> {
    const run = await this.ctx.db.one<{ ran_at: Date | string; totals: DayTotals }>(sql`select ran_at, totals
      from payment_reconciliation_run where region_code = ${regionCode} and business_date = ${date}`);
    if (!run) return undefined;
    return {
      regionCode,
      date,
      ranAt: new Date(run.ran_at).toISOString(),
      totals: run.totals,
      mismatches: await this.items(regionCode, date),
    };
  }

  async recentRuns(regionCode: string, days = 30) {
    const rows = await this.ctx.db.q<{
      business_date: string;
      ran_at: Date | string;
      totals: DayTotals;
      mismatch_count: number;
      open: number;
    }>(sql`
      select r.business_date::text as business_date, r.ran_at, r.totals, r.mismatch_count,
        (select count(*)::int from payment_reconciliation_item i where i.region_code = r.region_code
          and i.business_date = r.business_date and i.status = 'open') as open
      from payment_reconciliation_run r where r.region_code = ${regionCode}
      order by r.business_date desc limit ${days}`);
    return rows.map((r) => ({
      date: r.business_date,
      ranAt: new Date(r.ran_at).toISOString(),
      totals: r.totals,
      mismatchCount: r.mismatch_count,
      open: r.open,
    }));
  }

  private async items(regionCode: string, date: string): Promise<Mismatch[]> {
    const rows = await this.ctx.db.q<Record<string, any>>(sql`select * from payment_reconciliation_item
      where region_code = ${regionCode} and business_date = ${date} order by status, order_id, kind`);
    return rows.map((r) => ({
      orderId: r.order_id,
      kind: r.kind,
      detail: r.detail,
      status: r.status,
      resolution: r.resolution,
      resolvedBy: r.resolved_by,
      resolvedAt: r.resolved_at ? new Date(r.resolved_at).toISOString() : null,
    }));
  }

  /** Staff resolution of one item (audited). `recover` first drives the order to a final state through recovery. */
  async resolve(
    regionCode: string,
    date: string,
    orderId: string,
    kind: MismatchKind,
    input: { action: 'recover' | 'accept'; note: string },
    staff: { id: string; ip?: string; userAgent?: string },
  ): Promise<Mismatch> {
    let order: Order | undefined;
    if (input.action === 'recover') {
      order = await this.payments.getOrder(regionCode, orderId).catch(() => undefined);
      if (order) await this.payments.recover({ regionCode, idleMs: 0 });
    }
    await this.ctx.db.tx(async (tx) => {
      const rows = await tx.q(sql`update payment_reconciliation_item set status = 'resolved',
          resolution = ${`${input.action === 'recover' ? '已执行恢复' : '确认无误'}：${input.note}`},
          resolved_by = ${`staff:${staff.id}`}, resolved_at = now()
        where region_code = ${regionCode} and business_date = ${date} and order_id = ${orderId} and kind = ${kind}
          and status = 'open' returning order_id`);
      if (rows.length === 0) throw new AppError(404, 'PAYMENT_RECON_ITEM_NOT_FOUND', '未找到待处理的对账差异');
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: staff.id,
        action: 'payment.reconciliation.resolve',
        targetType: 'payment_order',
        targetId: orderId,
        result: 'success',
        ip: staff.ip,
        userAgent: staff.userAgent,
        detail: { date, kind, action: input.action, note: input.note, orderStatus: order?.status ?? null },
      });
    });
    return (await this.items(regionCode, date)).find((m) => m.orderId === orderId && m.kind === kind)!;
  }
}

function inDay(at: string, from: string, to: string): boolean {
  return at >= from && at < to;
}
