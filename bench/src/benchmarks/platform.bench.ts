import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { type Database, openPglite, openPostgres } from '../../../server/src/platform/db/index.ts';
import { get, rate, startServer, stop, type Target } from '../http-load.ts';
import type { Benchmark } from '../types.ts';

const SERVER = new URL('../servers/healthz.ts', import.meta.url).pathname;
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const CONCURRENCY = 32;

const healthz: Benchmark<{ platform: Target; bare: Target }> = {
  name: 'GET /healthz (platform, keep-alive, 32 callers)',
  unit: 'ops',
  concurrency: CONCURRENCY,
  setup: async () => ({ platform: await startServer(SERVER, ['platform']), bare: await startServer(SERVER, ['bare']) }),
  run: async (_n, ctx) => get(ctx.platform, '/healthz'),
  floor: { name: 'bare node:http', opsPerSec: (ctx) => rate(ctx.bare, '/', seconds, CONCURRENCY) },
  goalRatio: 0.9,
  teardown: async (ctx) => {
    await stop(ctx.platform);
    await stop(ctx.bare);
  },
};

const ROUND_TRIP_TABLE = `create table if not exists bench_round_trip (id uuid primary key, region_code char(6), v int)`;

async function roundTrip(db: Database): Promise<void> {
  const id = randomUUID();
  await db.q(sql`insert into bench_round_trip(id, region_code, v) values (${id}, '990100', 1)`);
  const rows = await db.q(sql`select v from bench_round_trip where id = ${id}`);
  if (rows.length !== 1) throw new Error('round trip lost a row');
}

async function openBenchDb(kind: 'pglite' | 'postgres'): Promise<Database> {
  const db = kind === 'pglite' ? await openPglite() : await openPostgres(process.env.TEST_DATABASE_URL!, 4);
  await db.exec(ROUND_TRIP_TABLE);
  return db;
}

async function roundTripRate(db: Database): Promise<number> {
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  while (performance.now() < end) {
    await roundTrip(db);
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

const pglite: Benchmark<{ db: Database; pg: Database }> = {
  name: 'insert+select round trip (PGlite, embedded)',
  unit: 'ops',
  setup: async () => ({ db: await openBenchDb('pglite'), pg: await openBenchDb('postgres') }),
  run: async (_n, ctx) => roundTrip(ctx.db),
  floor: { name: 'same on PostgreSQL (loopback)', opsPerSec: (ctx) => roundTripRate(ctx.pg) },
  teardown: async (ctx) => {
    await ctx.pg.exec('drop table if exists bench_round_trip');
    await ctx.db.close();
    await ctx.pg.close();
  },
};

export default [healthz, pglite];
