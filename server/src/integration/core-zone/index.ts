/**
 * The core-zone boundary module (横向业务对接 · 核心区). Registers `ctx.services.coreZone`: the HTTP adapter when
 * CORE_ZONE_URL is set, else the in-process reference core zone (which also gets its scheduled ledger check, demo seed
 * and console routes). Centers import types from `./port.ts` and call `service(ctx, 'coreZone')`.
 */
import type { Center } from '../../platform/center.ts';
import type { Context } from '../../platform/context.ts';
import { enqueue } from '../../platform/jobs.ts';
import { HttpCoreZone } from './http/adapter.ts';
import type { CoreZone } from './port.ts';
import { ReferenceCoreZone } from './reference/core-zone.ts';
import { isSeeded, seedReference } from './reference/seed.ts';
import { coreZoneRoutes } from './routes.ts';

export { HttpCoreZone } from './http/adapter.ts';
export type * from './port.ts';
export { CORE_ERRORS } from './port.ts';
export { ReferenceCoreZone } from './reference/core-zone.ts';
export { DEMO_INSTITUTIONS, DEMO_PERSONS } from './reference/demo-persons.ts';

declare module '../../platform/context.ts' {
  interface Services {
    coreZone: CoreZone;
    /** set only when the in-process reference core zone is used */
    coreZoneReference?: ReferenceCoreZone;
  }
}

export const COREZONE_PERMISSIONS = [
  { code: 'corezone:policy.read', name: '查看待遇政策与台账核对' },
  { code: 'corezone:policy.write', name: '新建待遇政策版本' },
  { code: 'corezone:person.read', name: '查询参保人（脱敏）' },
];

export const LEDGER_CHECK_QUEUE = 'core.ledger-check';
const SEED_LOCK = 7_310_100;
const LEDGER_CHECK_EVERY_MS = 24 * 3600_000;

export interface LedgerCheckReport {
  at: string;
  accounts: number;
  mismatches: { regionCode: string; personNo: string; balance: number; ledgerSum: number }[];
  unbalancedTransactions: string[];
}

/** Runs the ledger check, logs and remembers mismatches (metric core_ledger_mismatches). */
export async function runLedgerCheck(ctx: Context, core: ReferenceCoreZone): Promise<LedgerCheckReport> {
  const result = await core.checkLedger();
  const report = { at: new Date().toISOString(), ...result };
  lastReports.set(ctx, report);
  if (report.mismatches.length > 0 || report.unbalancedTransactions.length > 0) {
    ctx.log.error(
      { mismatches: report.mismatches.slice(0, 20), unbalanced: report.unbalancedTransactions.slice(0, 20) },
      '核心区个人账户台账核对不平：账户余额与分录合计不符',
    );
  } else {
    ctx.log.info({ accounts: report.accounts }, '核心区个人账户台账核对通过');
  }
  return report;
}

const lastReports = new WeakMap<Context, LedgerCheckReport>();
export const lastLedgerCheck = (ctx: Context) => lastReports.get(ctx);

async function scheduleLedgerCheck(ctx: Context, runAt: Date): Promise<void> {
  await enqueue(
    ctx.db,
    LEDGER_CHECK_QUEUE,
    {},
    {
      runAt,
      dedupeKey: `${LEDGER_CHECK_QUEUE}:${runAt.toISOString().slice(0, 10)}`,
    },
  );
}

export const coreZoneModule: Center = {
  name: 'corezone',
  description: '核心区对接: 参保、账户、结算的端口与示范核心区（沙箱）',
  async init(ctx) {
    if (ctx.config.CORE_ZONE_URL) {
      ctx.services.coreZone = new HttpCoreZone({
        baseUrl: ctx.config.CORE_ZONE_URL,
        secret: ctx.config.CORE_ZONE_SECRET,
      });
      ctx.log.info({ url: ctx.config.CORE_ZONE_URL }, '核心区：HTTP 适配器');
      return;
    }
    const core = new ReferenceCoreZone({ db: ctx.db, privacy: ctx.privacy });
    ctx.services.coreZone = core;
    ctx.services.coreZoneReference = core;
    for (const column of ['resident_id_enc', 'name_enc']) {
      ctx.privacy.registerEncryptedColumn({ table: 'core_person', column, key: ['region_code', 'person_no'] });
    }
    ctx.jobs.register(
      LEDGER_CHECK_QUEUE,
      async () => {
        await runLedgerCheck(ctx, core);
        await scheduleLedgerCheck(ctx, new Date(Date.now() + LEDGER_CHECK_EVERY_MS));
      },
      '个人账户余额与流水核对（参考核心区）',
    );
    ctx.metrics.addCollector(async () => {
      const r = lastReports.get(ctx);
      return [
        '# HELP core_ledger_mismatches Personal accounts whose balance differs from their ledger (last check).',
        '# TYPE core_ledger_mismatches gauge',
        `core_ledger_mismatches ${r ? r.mismatches.length : 0}`,
      ];
    });
    ctx.log.info('核心区：进程内示范核心区（沙箱）');
  },
  async routes(app, ctx) {
    // declared here, not in init: this module comes before the user center in the list
    const user = (ctx.services as { user?: { declarePermissions?: (p: unknown, center?: string) => Promise<void> } })
      .user;
    await user?.declarePermissions?.(COREZONE_PERMISSIONS, 'corezone');
    coreZoneRoutes(app, ctx);
  },
  async seed(ctx) {
    const core = ctx.services.coreZoneReference;
    if (!core) return;
    // one seeder at a time when several processes start on one PostgreSQL
    await ctx.db.withLock(SEED_LOCK, async () => {
      if (!(await isSeeded(core))) await seedReference(core);
    });
    await scheduleLedgerCheck(ctx, new Date(Date.now() + 60_000));
  },
};
