/**
 * `npm run seed -- --persons N [--regions 990100,980100] [--months 6] [--reset]`
 *
 * Loads the reference core zone's deterministic demo data (policies, institutions, catalogue, units, N insured persons
 * per region with accounts and contributions) into DATABASE_URL (or the embedded PGlite of DATA_DIR). A region that
 * already has data is skipped unless --reset (which deletes that region's core_* rows first). Progress on stderr.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ReferenceCoreZone } from '../src/integration/core-zone/reference/core-zone.ts';
import { DEMO_REGIONS, seedReference } from '../src/integration/core-zone/reference/seed.ts';
import { loadConfig } from '../src/platform/config.ts';
import { openDatabase, sql } from '../src/platform/db/index.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { createPrivacy } from '../src/platform/privacy/index.ts';

const { values } = parseArgs({
  options: {
    persons: { type: 'string' },
    regions: { type: 'string', default: DEMO_REGIONS.join(',') },
    months: { type: 'string', default: '6' },
    reset: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.error('用法: npm run seed -- --persons 100000 [--regions 990100,980100] [--months 6] [--reset]');
  process.exit(0);
}
const persons = values.persons === undefined ? undefined : Number(values.persons);
if (persons !== undefined && (!Number.isInteger(persons) || persons < 1 || persons > 10_000_000)) {
  console.error('--persons 应为 1..10000000 的整数');
  process.exit(2);
}
const regions = values.regions.split(',').map((r) => r.trim());
for (const r of regions) {
  if (!DEMO_REGIONS.includes(r)) {
    console.error(`没有统筹区 ${r} 的示范数据（可选: ${DEMO_REGIONS.join(', ')}）`);
    process.exit(2);
  }
}

const config = loadConfig();
const db = await openDatabase({ url: config.DATABASE_URL, dataDir: join(config.DATA_DIR, 'pglite') });
await migrate(db);
const core = new ReferenceCoreZone({ db, privacy: createPrivacy(config.DATA_KEYS, config.BLIND_INDEX_KEY) });

const CORE_TABLES = [
  'core_policy',
  'core_unit',
  'core_person',
  'core_insurance',
  'core_enrolment',
  'core_enrolment_event',
  'core_contribution',
  'core_account',
  'core_ledger_entry',
  'core_mutual_aid',
  'core_institution',
  'core_catalogue',
  'core_visit',
  'core_fee_line',
  'core_settlement',
  'core_accumulator',
];

if (values.reset) {
  for (const region of regions) {
    await db.tx(async (tx) => {
      for (const t of CORE_TABLES) await tx.q(sql`delete from ${sql.raw(t)} where region_code = ${region}`);
    });
    process.stderr.write(`已清空统筹区 ${region} 的核心区数据\n`);
  }
}

const started = Date.now();
let lastDraw = 0;
function bar(done: number, total: number, region: string): void {
  const now = Date.now();
  if (done < total && now - lastDraw < 100) return;
  lastDraw = now;
  const width = 30;
  const filled = Math.round((done / total) * width);
  const secs = (now - started) / 1000;
  const rate = secs > 0 ? Math.round(done / secs) : 0;
  const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
  const line = `统筹区 ${region} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done}/${total} 人 · ${rate} 人/秒 · 剩余约 ${eta} 秒`;
  process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
  if (done >= total && process.stderr.isTTY) process.stderr.write('\n');
}

await seedReference(core, {
  regions,
  ...(persons === undefined ? {} : { persons }),
  months: Number(values.months),
  onProgress: (done, total, region) => bar(done, total, region),
});
const counts = await db.q<{ region_code: string; n: number | string }>(
  sql`select region_code, count(*) as n from core_person group by 1 order by 1`,
);
process.stderr.write(
  `完成，用时 ${((Date.now() - started) / 1000).toFixed(1)} 秒。参保人数: ${counts.map((c) => `${c.region_code}=${c.n}`).join(', ')}\n`,
);
await db.close();
