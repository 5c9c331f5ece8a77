// `npm run bench [-- name-filter]`: runs every registered benchmark, prints a table, writes bench/results/<timestamp>.json.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { measure } from './measure.ts';
import type { Benchmark, Result } from './types.ts';

const dir = new URL('./benchmarks/', import.meta.url).pathname;
const filter = process.argv
  .slice(2)
  .find((a) => !a.startsWith('-'))
  ?.toLowerCase();
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
process.env.TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';

const results: Result[] = [];
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()) {
  let list: Benchmark[];
  try {
    list = ((await import(join(dir, file))).default ?? []) as Benchmark[];
  } catch (err) {
    results.push(failed(file, err));
    continue;
  }
  for (const b of list) {
    if (filter && !b.name.toLowerCase().includes(filter) && !file.includes(filter)) continue;
    process.stderr.write(`… ${b.name}\n`);
    results.push(await runOne(b));
  }
}
printTable(results);
const outDir = new URL('../results/', import.meta.url).pathname;
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `${new Date().toISOString().replaceAll(':', '-').replace(/\..+/, '')}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      at: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      seconds,
      results,
    },
    null,
    2,
  ),
);
console.log(`\n结果已写入 ${file}`);
process.exit(0);

async function runOne(b: Benchmark): Promise<Result> {
  let ctx: unknown;
  try {
    ctx = await b.setup?.();
    // The floor is measured before and after the benchmark and averaged, so that load changing during the run
    // moves both sides of the ratio alike; both readings are kept.
    const before = b.floor ? await b.floor.opsPerSec(ctx) : undefined;
    const m = await measure(b, ctx, seconds);
    const after = b.floor ? await b.floor.opsPerSec(ctx) : undefined;
    const floor = before !== undefined && after !== undefined ? (before + after) / 2 : undefined;
    const ratio = floor && Number.isFinite(floor) ? m.opsPerSec / floor : undefined;
    return {
      name: b.name,
      ...m,
      floorName: b.floor?.name,
      floorOpsPerSec: floor,
      floorReadings: before !== undefined && after !== undefined ? [before, after] : undefined,
      ratio,
      goalRatio: b.goalRatio,
      met: b.goalRatio !== undefined && ratio !== undefined ? ratio >= b.goalRatio : undefined,
      facts: await b.facts?.(ctx),
    };
  } catch (err) {
    return {
      name: b.name,
      ops: 0,
      seconds: 0,
      opsPerSec: 0,
      p50Ms: Number.NaN,
      p99Ms: Number.NaN,
      error: String((err as Error)?.message ?? err),
    };
  } finally {
    await b.teardown?.(ctx as never)?.catch?.(() => {});
  }
}

function printTable(rows: Result[]): void {
  const fmt = (n: number | undefined, d = 0) =>
    n === undefined || !Number.isFinite(n)
      ? '—'
      : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  /** a rate below 10/s (a page load, a login under load) keeps two decimals instead of rounding to 0 */
  const rate = (n: number | undefined) => fmt(n, n !== undefined && n < 10 ? 2 : 0);
  const table = rows.map((r) => ({
    benchmark: r.name,
    'ops/s': r.error ? `ERROR: ${r.error.slice(0, 60)}` : rate(r.opsPerSec),
    'p50 ms': fmt(r.p50Ms, 2),
    'p99 ms': fmt(r.p99Ms, 2),
    floor: r.floorName
      ? `${r.floorName}: ${rate(r.floorOpsPerSec)}/s${r.floorReadings ? ` (${r.floorReadings.map((f) => rate(f)).join(' → ')})` : ''}`
      : '—',
    ratio: fmt(r.ratio, 2),
    goal: r.goalRatio === undefined ? '—' : `≥ ${r.goalRatio}${r.met === undefined ? '' : r.met ? ' ✓' : ' ✗'}`,
    facts: r.facts
      ? Object.entries(r.facts)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')
      : '',
  }));
  console.table(table);
}

function failed(name: string, err: unknown): Result {
  return {
    name,
    ops: 0,
    seconds: 0,
    opsPerSec: 0,
    p50Ms: Number.NaN,
    p99Ms: Number.NaN,
    error: String((err as Error)?.message ?? err),
  };
}
