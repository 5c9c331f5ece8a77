/**
 * Mobile payment end to end on PostgreSQL: completed mixed payments per second. One operation = fee upload + core
 * zone pre-settlement (6201) → place the order / prepay at the sandbox provider (6202, its own process, HTTP) → the
 * person pays at the sandbox → the provider's signed callback reaches the platform over loopback HTTP → the core zone
 * settles → order completed. Latency is measured until the order is completed. The sandbox runs with its defaults:
 * notifications asynchronous and retried, without added delay, one per payment once it is final (like WeChat Pay).
 * Floor: the core zone's bare pre-settle + settle rate (in-process reference core zone, visits prepared untimed) on
 * the same database in the same run and at the same concurrency.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { buildPlatform, type Platform } from '../../../server/src/app.ts';
import { authCenter } from '../../../server/src/centers/auth/index.ts';
import { createPaymentCenter } from '../../../server/src/centers/payment/index.ts';
import { SandboxPaymentProvider, sandboxAdmin } from '../../../server/src/centers/payment/provider/sandbox/client.ts';
import { type SandboxProcess, spawnSandbox } from '../../../server/src/centers/payment/provider/sandbox/process.ts';
import type { Order, PaymentService } from '../../../server/src/centers/payment/service.ts';
import { coreZoneModule } from '../../../server/src/integration/core-zone/index.ts';
import type { Visit } from '../../../server/src/integration/core-zone/port.ts';
import type { ReferenceCoreZone } from '../../../server/src/integration/core-zone/reference/core-zone.ts';
import { DEMO_INSTITUTIONS } from '../../../server/src/integration/core-zone/reference/demo-persons.ts';
import { catalogue, seedReference } from '../../../server/src/integration/core-zone/reference/seed.ts';
import { loadConfig } from '../../../server/src/platform/config.ts';
import { openPostgres, sql } from '../../../server/src/platform/db/index.ts';
import type { Benchmark } from '../types.ts';

const R = '990100';
const CONCURRENCY = 8;
const PERSONS = Number(process.env.PAYMENT_BENCH_PERSONS ?? 8000);
const INSTITUTION = DEMO_INSTITUTIONS[R].level2;
const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const cat = catalogue(R);
const pick = (cls: 'A' | 'B' | 'C') => cat.find((c) => c.itemClass === cls && c.priceCap === null)!.code;
/**
 * A visit whose split has all three legs: fund, personal account, cash. In 东湖 an employee's account may pay the
 * whole self-paid share, so the class-C (fully self-paid) line is larger than the persons' balances (selected below):
 * the account is spent and the rest is paid in cash through the provider. (With a small C line the accounts of the
 * seeded employees, ¥1,000–5,500, covered everything and most orders never reached the provider.)
 */
const C_AMOUNT = 600_000;
const LINES = [
  { lineNo: '1', code: pick('A'), quantity: 5, unitPrice: 30_000 },
  { lineNo: '2', code: pick('B'), quantity: 2, unitPrice: 45_000 },
  { lineNo: '3', code: pick('C'), quantity: 2, unitPrice: C_AMOUNT / 2 },
];

interface Ctx {
  platform: Platform;
  payment: PaymentService;
  core: ReferenceCoreZone;
  sandbox: SandboxProcess;
  dbName: string;
  /** payers of the timed orders, and (disjoint) of the floor's settlements: each settlement spends the account */
  persons: string[];
  floorPersons: string[];
  seq: number;
  floorSeq: number;
  legs: { all3: number; total: number };
  /** resolved with the order as the settling statement returned it */
  waiters: Map<string, (order: Order) => void>;
  /** CPU (ms) when the first timed operation started, and per operation of each side (see cpuNow) */
  cpuStart?: number;
  cpu: {
    e2eMsPerOp?: number;
    floorMsPerOp?: number;
    prepareMsPerVisit?: number;
    statementsPerOp?: number;
    floorStatementsPerOp?: number;
  };
}

/** utime + stime (ms) of a process from /proc (Linux; 100 ticks/s); 0 elsewhere. */
function processCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/**
 * CPU used so far by everything an order costs, load-independent unlike a rate on a shared machine: this process
 * (platform + core zone + load generator), the bench database's PostgreSQL backends (local server) and the sandbox.
 */
async function cpuNow(ctx: Ctx): Promise<number> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  const pids = await c
    .query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [ctx.dbName])
    .finally(() => c.end());
  const own = process.cpuUsage();
  return (
    (own.user + own.system) / 1000 +
    processCpuMs(ctx.sandbox.child.pid) +
    pids.rows.reduce((sum, r) => sum + processCpuMs(r.pid), 0)
  );
}

/** Statements this process sends to PostgreSQL (platform + core zone), counted from the first order on. */
const statements = { total: 0, installed: false };
function countStatements(): void {
  if (statements.installed) return;
  statements.installed = true;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    statements.total++;
    return original.apply(this, args);
  };
}

async function admin(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

async function setup(): Promise<Ctx> {
  const dbName = `yibao_bench_pay_${randomBytes(4).toString('hex')}`;
  await admin(`create database ${dbName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const db = await openPostgres(url.toString(), 20);
  const sandbox = await spawnSandbox();
  let base = '';
  const provider = new SandboxPaymentProvider({ baseUrl: sandbox.url, secret: sandbox.secret });
  const center = createPaymentCenter({
    provider,
    notifyBaseUrl: () => base,
    // every payer has a hall account (they pay in the app)
    persons: () => ({
      personIdFor: async (_r, residentId) => `bench-${residentId.slice(-6)}`,
      residentIndexOf: async () => undefined,
    }),
  });
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JOB_WORKERS: 'false',
    DEMO_SEED: 'false',
    PORT: '0',
  });
  const platform = await buildPlatform(config, { db, centers: [coreZoneModule, authCenter, center] });
  await platform.start({ seed: false });
  base = await platform.app.listen({ port: 0, host: '127.0.0.1' });
  const core = platform.ctx.services.coreZoneReference!;
  await seedReference(core, { regions: [R], persons: PERSONS, months: 2 });
  // persons whose account covers part of the self-paid share (at least the C line is left for cash). An order spends
  // the whole account, so each person pays one mixed order: the timed orders and the floor take disjoint halves (the
  // floor runs before and after the timed orders; sharing payers left the timed ones without an account leg).
  const query = (min: number, max: number) =>
    db.q<{ person_no: string }>(sql`select i.person_no from core_insurance i join core_account a
      on a.region_code = i.region_code and a.person_no = i.person_no
      where i.region_code = ${R} and i.insurance_type = '310' and i.status = 'active'
        and a.balance between ${min} and ${max} order by md5(i.person_no)`);
  let rows = await query(2_000, C_AMOUNT - 1);
  if (rows.length < 50) rows = await query(1, 1e12);
  const all = rows.map((r) => r.person_no);
  const persons = all.filter((_, k) => k % 2 === 0);
  const floorPersons = all.filter((_, k) => k % 2 === 1);
  // completion signal instead of polling the database: the callback handler settles through payment.settle
  const payment = platform.ctx.services.payment!;
  const waiters = new Map<string, (order: Order) => void>();
  const settle = payment.settle.bind(payment);
  payment.settle = async (order) => {
    const settled = await settle(order);
    waiters.get(order.id)?.(settled);
    return settled;
  };
  return {
    platform,
    payment,
    core,
    sandbox,
    dbName,
    persons,
    floorPersons,
    seq: 0,
    floorSeq: 0,
    legs: { all3: 0, total: 0 },
    waiters,
    cpu: {},
  };
}

async function run(ctx: Ctx): Promise<void> {
  if (ctx.cpuStart === undefined) {
    ctx.cpuStart = Number.NaN;
    ctx.cpuStart = await cpuNow(ctx);
    countStatements();
    statements.total = 0;
  }
  const i = ctx.seq++;
  const personNo = ctx.persons[i % ctx.persons.length];
  const actor = { kind: 'channel' as const, id: 'bench' };
  const order = await ctx.payment.upload(
    {
      regionCode: R,
      appId: 'bench',
      institutionCode: INSTITUTION,
      institutionOrderNo: `B${process.pid}-${i}-${Date.now()}`,
      credential: { type: '03', value: personNo },
      medicalType: '11',
      lines: LINES,
    },
    actor,
  );
  const settled = new Promise<Order>((resolve) => ctx.waiters.set(order.id, resolve));
  const placed = await ctx.payment.placeOrder(order, actor);
  let done: Order | undefined;
  if (placed.status === 'awaiting_payment') {
    await sandboxAdmin(ctx.sandbox.url, 'POST', `/admin/orders/${placed.id}/pay`, {});
    let timer: NodeJS.Timeout | undefined;
    done = await Promise.race([settled, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 5000)))]);
    clearTimeout(timer);
  }
  ctx.waiters.delete(order.id);
  let wait = 1;
  for (;;) {
    // the completing statement's row when the settlement finished it; else read until the order is final
    const o = done?.status === 'completed' ? done : await ctx.payment.getOrder(R, placed.id);
    done = undefined;
    if (o.status === 'completed') {
      ctx.legs.total++;
      if (o.fundPayment! > 0 && o.accountPayment! > 0 && o.cashPayment! > 0) ctx.legs.all3++;
      return;
    }
    if (o.status === 'failed' || o.status === 'abnormal' || o.status === 'cancelled') {
      throw new Error(`order ${o.id} ended ${o.status}: ${o.failureCode ?? ''}`);
    }
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 8);
  }
}

/** The core zone alone: pre-settle + settle of prepared visits (registration and fee upload untimed). */
async function bareSettleRate(ctx: Ctx): Promise<number> {
  ctx.cpu.e2eMsPerOp = ((await cpuNow(ctx)) - ctx.cpuStart!) / ctx.legs.total;
  ctx.cpu.statementsPerOp = statements.total / ctx.legs.total;
  const visits: Visit[] = [];
  const prepare = async (j: number) => {
    const visit = await ctx.core.registerVisit({
      regionCode: R,
      requestId: `FV${process.pid}-${j}-${Date.now()}`,
      personNo: ctx.floorPersons[(ctx.floorSeq + j) % ctx.floorPersons.length],
      institutionCode: INSTITUTION,
      medicalType: '11',
    });
    await ctx.core.uploadFees(R, visit.visitId, LINES);
    return visit;
  };
  const prep0 = await cpuNow(ctx);
  for (let j = 0; j < 1500; j += CONCURRENCY * 2) {
    visits.push(...(await Promise.all(Array.from({ length: CONCURRENCY * 2 }, (_, k) => prepare(j + k)))));
  }
  ctx.cpu.prepareMsPerVisit = ((await cpuNow(ctx)) - prep0) / visits.length;
  let n = 0;
  const end = performance.now() + 2500;
  const worker = async () => {
    while (performance.now() < end) {
      const v = visits.shift(); // in preparation order: the first n payers are the ones spent
      if (!v) return;
      await ctx.core.preSettle({ regionCode: R, visitId: v.visitId, useAccount: true });
      await ctx.core.settle({ regionCode: R, visitId: v.visitId, useAccount: true, requestId: `FS${v.visitId}` });
      n++;
    }
  };
  const cpu0 = await cpuNow(ctx);
  const statements0 = statements.total;
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  ctx.cpu.floorStatementsPerOp = (statements.total - statements0) / n;
  const rate = n / ((performance.now() - start) / 1000);
  ctx.floorSeq += n; // the next reading starts with payers whose account is untouched
  ctx.cpu.floorMsPerOp = ((await cpuNow(ctx)) - cpu0) / n;
  return rate;
}

async function teardown(ctx: Ctx): Promise<void> {
  await ctx.platform.close();
  await ctx.sandbox.stop();
  await admin(`drop database if exists ${ctx.dbName} with (force)`);
}

export default [
  {
    name: 'mobile payment end to end: 6201 + pre-settle → prepay → pay → signed callback → settle (PostgreSQL, 沙箱 provider)',
    unit: 'ops',
    setup,
    run: (_n: number, ctx: Ctx) => run(ctx),
    teardown,
    floor: { name: 'core zone bare pre-settle + settle (same DB, same concurrency)', opsPerSec: bareSettleRate },
    goalRatio: 0.5,
    concurrency: CONCURRENCY,
    facts: async (ctx: Ctx) => ({
      insured_persons_seeded: PERSONS,
      completed_orders: ctx.legs.total,
      orders_with_fund_account_and_cash: ctx.legs.all3,
      concurrency: CONCURRENCY,
      provider: 'sandbox process, loopback HTTP, HMAC-SM3 signed callbacks',
      // the sandbox's defaults: asynchronous, retried, no added delay; one notification per payment, when it is final
      // (as WeChat Pay; the USERPAYING progress notice is off unless behaviour.progressNotices / outOfOrder)
      sandbox_notifications: 'final state only (TRANSACTION.SUCCESS), notifyDelayMs 0',
      // CPU per operation (process + its PostgreSQL backends + sandbox), counted from the first (warm-up) order
      e2eCpuMsPerOp: Number((ctx.cpu.e2eMsPerOp ?? Number.NaN).toFixed(2)),
      floorCpuMsPerOp: Number((ctx.cpu.floorMsPerOp ?? Number.NaN).toFixed(2)),
      cpuRatio: Number(((ctx.cpu.floorMsPerOp ?? Number.NaN) / (ctx.cpu.e2eMsPerOp ?? Number.NaN)).toFixed(2)),
      // core-zone work every timed order does that the floor leaves out (its visits are prepared untimed): register
      // the visit + upload the fees, CPU per visit as measured while preparing the floor's visits
      floorExcludesCpuMsPerOp: Number((ctx.cpu.prepareMsPerVisit ?? Number.NaN).toFixed(2)),
      // SQL statements this process sent per completed order (payment center + core zone) and per floor operation
      statementsPerOrder: Number((ctx.cpu.statementsPerOp ?? Number.NaN).toFixed(1)),
      floorStatementsPerOp: Number((ctx.cpu.floorStatementsPerOp ?? Number.NaN).toFixed(1)),
    }),
  },
] satisfies Benchmark<Ctx>[];
