import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEMO_INSTITUTIONS, DEMO_PERSONS } from '../../integration/core-zone/index.ts';
import type { CoreZone } from '../../integration/core-zone/port.ts';
/** 移动支付中心 — mixed payment (fund + personal account + cash), refunds per leg, reconciliation. */
import type { Center } from '../../platform/center.ts';
import type { Context } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { sendHttp } from '../../platform/http-client.ts';
import { enqueue } from '../../platform/jobs.ts';
import { businessDate, type PaymentProvider } from './provider/port.ts';
import { SandboxPaymentProvider } from './provider/sandbox/client.ts';
import { spawnSandbox } from './provider/sandbox/process.ts';
import { startSandbox } from './provider/sandbox/server.ts';
import { Reconciler } from './reconciliation.ts';
import { paymentRoutes } from './routes.ts';
import { type Actor, type FaultHook, PaymentService, type PersonDirectory } from './service.ts';

export type { MismatchKind, ReconciliationReport } from './reconciliation.ts';
export { type Order, type OrderLine, PaymentService, type Refund, type Step } from './service.ts';
export { ORDER_STATUSES, type OrderStatus, STATUS_LABELS } from './state-machine.ts';

declare module '../../platform/context.ts' {
  interface Services {
    payment: PaymentService;
    paymentReconciler: Reconciler;
  }
}

export const PAYMENT_PERMISSIONS = [
  { code: 'payment:read', name: '查看支付订单' },
  { code: 'payment:refund', name: '支付冲正与异常处理' },
  { code: 'payment:reconcile', name: '支付对账' },
];

export { type PaymentEvent, parsePaymentEvent, paymentEventSchema } from './events.ts';

export interface PaymentCenterOptions {
  /** the provider; default: the sandbox at PAYMENT_PROVIDER_URL, or a sandbox process started on demand */
  provider?: PaymentProvider;
  coreZone?: () => CoreZone;
  persons?: () => PersonDirectory;
  /** base URL the provider reaches us at (default ctx.publicUrl) */
  notifyBaseUrl?: () => string;
  faults?: FaultHook;
  recoverEveryMs?: number;
}

const RECOVER_QUEUE = 'payment.recover';
const DEMO_BILLS_QUEUE = 'payment.demo-bills';
const DEMO_BILLS_EVERY_MS = 5 * 60_000;
const RECONCILE_QUEUE = 'payment.reconcile';

export function createPaymentCenter(opts: PaymentCenterOptions = {}): Center {
  let provider = opts.provider;
  return {
    name: 'payment',
    description: '移动支付中心：医保移动支付（统筹 + 个人账户 + 自费）、退款、对账',
    async init(ctx: Context) {
      if (!provider) provider = await defaultProvider(ctx);
      const p = provider;
      const payment = new PaymentService(ctx, {
        provider: () => p,
        coreZone: opts.coreZone,
        persons: opts.persons,
        notifyUrl: () => `${opts.notifyBaseUrl?.() ?? ctx.publicUrl}/api/payment/notify/sandbox`,
        faults: opts.faults,
      });
      const core = () => opts.coreZone?.() ?? (ctx.services as { coreZone?: CoreZone }).coreZone!;
      ctx.services.payment = payment;
      ctx.services.paymentReconciler = new Reconciler(ctx, payment, core);
      ctx.regions.declareSettings(
        'payment',
        z.strictObject({ partialCashRefund: z.boolean().describe('允许只退还部分现金（按项目退费）') }),
      );
      const user = (ctx.services as { user?: { declarePermissions?: (p: unknown, center?: string) => Promise<void> } })
        .user;
      await user?.declarePermissions?.(PAYMENT_PERMISSIONS, 'payment');
      ctx.log.info({ provider: p.label, sandbox: p.sandbox }, '移动支付中心：第三方支付通道');
      ctx.metrics.addCollector(() => moneyAtRisk(ctx));

      const every = opts.recoverEveryMs ?? 60_000;
      ctx.jobs.register(
        RECOVER_QUEUE,
        async () => {
          await payment.recover({ idleMs: every });
          await scheduleRecovery(ctx, every);
        },
        '支付订单恢复：把中断的订单推进到一致的终态',
      );
      ctx.jobs.register(
        RECONCILE_QUEUE,
        async (job) => {
          const date = (job.payload as { date?: string }).date ?? businessDate(Date.now() - 86_400_000);
          const regions = await ctx.db.q<{ region_code: string }>(sql`select region_code from region_config
          where enabled_services ? 'payment'`);
          for (const r of regions) await ctx.services.paymentReconciler!.run(r.region_code, date);
          await scheduleReconciliation(ctx);
        },
        '每日支付对账（平台订单、核心区结算、支付渠道对账单）',
      );
      await scheduleRecovery(ctx, every);
      await scheduleReconciliation(ctx);
      ctx.jobs.register(
        DEMO_BILLS_QUEUE,
        async () => {
          await bringBackDemoBills(ctx);
          await scheduleDemoBills(ctx);
        },
        '演示：补回待支付的演示账单',
      );
    },
    /**
     * Demo: a pending bill (pre-settled through the core zone) for each of two demo insured persons of 东湖市, on every
     * start that finds none pending, and again every few minutes while the demo runs (recovery cancels a bill nobody
     * confirmed within its window; whoever opens the hall later still finds one to pay).
     */
    async seed(ctx: Context) {
      await seedDemoHistory(ctx);
      await bringBackDemoBills(ctx);
      await scheduleDemoBills(ctx);
    },
    routes(app, ctx) {
      paymentRoutes(
        app,
        ctx,
        () => ctx.services.payment!,
        () => ctx.services.paymentReconciler!,
      );
    },
  };
}

/** Catalogue codes of each class without a price cap, for the demo's fee lines; none if the catalogue lacks one. */
async function demoCodes(core: CoreZone): Promise<[string, string, string] | undefined> {
  const codes = await core.searchCatalogue('990100', { pageSize: 30 });
  const byClass = (c: 'A' | 'B' | 'C') => codes.items.find((i) => i.itemClass === c && i.priceCap === null)?.code;
  const [a, b, c] = [byClass('A'), byClass('B'), byClass('C')];
  return a && b && c ? [a, b, c] : undefined;
}

const demoLines = (lines: ReadonlyArray<readonly [string, number, number]>) =>
  lines.map(([code, quantity, unitPrice], i) => ({ lineNo: String(i + 1), code, quantity, unitPrice }));

/**
 * Demo, once: 张伟's payment history, made through the same steps as a real one — a clinic visit paid with the
 * personal account, a pharmacy purchase paid in cash at the sandbox cashier, and a visit paid and then refunded in
 * full — so that 支付记录, the order timeline, reconciliation and the e-bills have something to show.
 */
async function seedDemoHistory(ctx: Context): Promise<void> {
  const payment = ctx.services.payment;
  const core = (ctx.services as { coreZone?: CoreZone }).coreZone;
  if (!payment?.provider.sandbox || !core) return;
  try {
    const [done] = await ctx.db.q(sql`select 1 from payment_order
      where region_code = '990100' and app_id = 'demo-his' and institution_order_no like 'DEMO-HIST-%' limit 1`);
    const codes = done ? undefined : await demoCodes(core);
    if (!codes) return;
    const [a, b, c] = codes;
    const at = DEMO_INSTITUTIONS['990100'];
    const visits = [
      {
        no: 'DEMO-HIST-0001',
        institution: at.level1,
        type: '11',
        useAccount: true,
        lines: [
          [a, 2, 1_500],
          [b, 1, 3_200],
        ],
      },
      {
        no: 'DEMO-HIST-0002',
        institution: at.pharmacy1,
        type: '41',
        useAccount: false,
        lines: [
          [a, 3, 4_500],
          [c, 1, 6_800],
        ],
      },
      {
        no: 'DEMO-HIST-0003',
        institution: at.level3,
        type: '11',
        useAccount: false,
        lines: [[b, 2, 9_000]],
        refund: '重复收费，全额退费',
      },
    ] as const;
    const channel: Actor = { kind: 'channel', id: 'demo-his' };
    for (const v of visits) {
      let order = await payment.upload(
        {
          regionCode: '990100',
          appId: 'demo-his',
          institutionCode: v.institution,
          institutionOrderNo: v.no,
          credential: { type: '02', value: DEMO_PERSONS.zhangWei.residentId },
          medicalType: v.type,
          lines: demoLines(v.lines),
        },
        channel,
      );
      const person: Actor = { kind: 'person', id: order.personId ?? 'demo' };
      if (!v.useAccount) order = await payment.choosePersonalAccount(order, false, person);
      order = await payment.placeOrder(order, person);
      if (order.cashierUrl) {
        // the person pays at the sandbox cashier, as in the browser; the query settles it without awaiting the notice
        await sendHttp(`${order.cashierUrl}/pay`, { method: 'POST', timeoutMs: 5000 });
        order = await payment.syncWithProvider(order);
      }
      if ('refund' in v && order.status === 'completed') {
        await payment.requestRefund(
          '990100',
          order.id,
          { appRefundSn: `${v.no}-R1`, kind: 'full', reason: v.refund },
          channel,
        );
      }
    }
    // the day reconciled, so 支付对账 has a run to show from the start (the nightly job runs the day again)
    await ctx.services.paymentReconciler?.run('990100', businessDate(Date.now()));
  } catch (err) {
    ctx.log.warn({ err }, '移动支付中心：演示支付记录未生成');
  }
}

/** The demo's pending bills (see `seed`): one per demo person unless one is pending. */
async function bringBackDemoBills(ctx: Context): Promise<void> {
  const payment = ctx.services.payment;
  const core = (ctx.services as { coreZone?: CoreZone }).coreZone;
  if (!payment || !core) return;
  try {
    const codes = await demoCodes(core);
    if (!codes) return;
    const [a, b, c] = codes;
    // a bill whose confirmation window has run out (while the platform was down, or since the last check): let
    // recovery cancel it now rather than at its next sweep, so that the check below brings a fresh one
    await payment.recover({ regionCode: '990100' });
    const demo = [
      // employee with a well-funded account: fund + account
      {
        no: 'DEMO-PAY-0001',
        residentId: DEMO_PERSONS.zhangWei.residentId,
        lines: [
          [a, 5, 30_000],
          [b, 1, 45_000],
          [c, 1, 8_000],
        ],
      },
      // small account: fund + account + cash (the mixed payment)
      {
        no: 'DEMO-PAY-0002',
        residentId: DEMO_PERSONS.chenJing.residentId,
        lines: [
          [a, 4, 30_000],
          [b, 2, 26_000],
          [c, 1, 12_000],
        ],
      },
    ] as const;
    for (const d of demo) {
      const person = await core.findPerson('990100', { residentId: d.residentId }).catch(() => undefined);
      if (!person) continue;
      // one pending bill per demo person, no more
      const [pending] = await ctx.db.q(sql`select 1 from payment_order
        where region_code = '990100' and app_id = 'demo-his' and institution_order_no like ${`${d.no}%`}
          and status in ('pre_settled', 'awaiting_payment') limit 1`);
      if (pending) continue;
      await payment.upload(
        {
          regionCode: '990100',
          appId: 'demo-his',
          institutionCode: DEMO_INSTITUTIONS['990100'].level2,
          institutionOrderNo: `${d.no}-${Date.now().toString(36).toUpperCase()}`,
          credential: { type: '02', value: d.residentId },
          medicalType: '11',
          lines: demoLines(d.lines),
        },
        { kind: 'system', id: 'seed' },
      );
    }
  } catch (err) {
    ctx.log.warn({ err }, '移动支付中心：演示账单未生成');
  }
}

/** the demo bills' next check (only a demo start schedules the first) */
async function scheduleDemoBills(ctx: Context): Promise<void> {
  const slot = Math.floor(Date.now() / DEMO_BILLS_EVERY_MS) + 1;
  const runAt = new Date(slot * DEMO_BILLS_EVERY_MS);
  await enqueue(ctx.db, DEMO_BILLS_QUEUE, {}, { runAt, dedupeKey: `demo-bills:${slot}` });
}

/** the next recovery sweep (one per time slot, whichever process enqueues it first) */
async function scheduleRecovery(ctx: Context, every: number): Promise<void> {
  const slot = Math.floor(Date.now() / every) + 1;
  await enqueue(ctx.db, RECOVER_QUEUE, {}, { runAt: new Date(slot * every), dedupeKey: `recover:${every}:${slot}` });
}

/** daily at 02:00 China time, for the day before */
async function scheduleReconciliation(ctx: Context): Promise<void> {
  const today = businessDate(Date.now());
  let at = new Date(`${today}T02:00:00+08:00`);
  if (at.getTime() <= Date.now()) at = new Date(at.getTime() + 86_400_000);
  await enqueue(
    ctx.db,
    RECONCILE_QUEUE,
    { date: businessDate(at.getTime() - 86_400_000) },
    { runAt: at, dedupeKey: `reconcile:${businessDate(at)}` },
  );
}

/**
 * PAYMENT_PROVIDER_URL + PAYMENT_PROVIDER_SECRET name a running sandbox service. Otherwise a sandbox is started on
 * first use: its own child process (the demo server, its state in DATA_DIR/sandbox-pay.json), or in this process
 * when NODE_ENV=test (no stray processes, nothing kept).
 */
async function defaultProvider(ctx: Context): Promise<PaymentProvider> {
  const url = process.env.PAYMENT_PROVIDER_URL;
  const secret = process.env.PAYMENT_PROVIDER_SECRET ?? `sandbox-${randomBytes(8).toString('hex')}`;
  if (url) return new SandboxPaymentProvider({ baseUrl: url, secret });
  let started: Promise<SandboxPaymentProvider> | undefined;
  const start = async () => {
    if (ctx.config.NODE_ENV === 'test') {
      const handle = await startSandbox({ secret, log: () => {} });
      handle.server.unref();
      return new SandboxPaymentProvider({ baseUrl: handle.url, secret });
    }
    // the sandbox keeps its orders beside the embedded database, so payments survive a restart of the demo
    mkdirSync(ctx.config.DATA_DIR, { recursive: true });
    const stateFile = resolve(ctx.config.DATA_DIR, 'sandbox-pay.json');
    const sandbox = await spawnSandbox({ secret, quiet: false, stateFile });
    process.once('exit', () => sandbox.child.kill());
    sandbox.child.unref();
    ctx.log.warn({ url: sandbox.url }, '沙箱支付服务已作为子进程启动（非真实支付）');
    return new SandboxPaymentProvider({ baseUrl: sandbox.url, secret });
  };
  const get = () => (started ??= start());
  return {
    name: 'sandbox',
    label: '沙箱支付',
    sandbox: true,
    createPrepay: async (r) => (await get()).createPrepay(r),
    queryOrder: async (id) => (await get()).queryOrder(id),
    closeOrder: async (id) => (await get()).closeOrder(id),
    refund: async (r) => (await get()).refund(r),
    queryRefund: async (id) => (await get()).queryRefund(id),
    statement: async (d) => (await get()).statement(d),
    // the secret is known before the sandbox starts, so notifications verify without starting it
    verifyNotification: (h, body) => new SandboxPaymentProvider({ baseUrl: '', secret }).verifyNotification(h, body),
  };
}

export const paymentCenter = createPaymentCenter();

/**
 * What an operator is paged for (all regions, from the database, so every instance says the same): orders the saga
 * could not finish by itself, reconciliation differences nobody resolved, and how long the oldest order has waited
 * with the person's money taken (cash paid or a refund started) — recovery settles those within minutes.
 */
async function moneyAtRisk(ctx: Context): Promise<string[]> {
  const row = await ctx.db.one<{ abnormal: number; open: number; oldest: number | null }>(sql`select
      (select count(*)::int from payment_order where status = 'abnormal') as abnormal,
      (select count(*)::int from payment_reconciliation_item where status = 'open') as open,
      (select extract(epoch from now() - min(updated_at))::float8 from payment_order
        where status in ('cash_paid', 'insurance_settled', 'refunding')) as oldest`);
  return [
    '# HELP payment_orders_abnormal Orders the saga could not bring to a final state: a person must act.',
    '# TYPE payment_orders_abnormal gauge',
    `payment_orders_abnormal ${Number(row?.abnormal ?? 0)}`,
    '# HELP payment_reconciliation_open_items Reconciliation differences not yet resolved.',
    '# TYPE payment_reconciliation_open_items gauge',
    `payment_reconciliation_open_items ${Number(row?.open ?? 0)}`,
    "# HELP payment_money_in_flight_oldest_seconds Age of the oldest order holding a person's money mid-saga (0: none).",
    '# TYPE payment_money_in_flight_oldest_seconds gauge',
    `payment_money_in_flight_oldest_seconds ${Math.round(Number(row?.oldest ?? 0))}`,
  ];
}
