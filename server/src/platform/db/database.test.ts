import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { openPglite, prepared, sql, textArray } from './index.ts';
import { migrate, pendingMigrations } from './migrate.ts';
import { forEachDatabase } from './testing.ts';

/** Small shared tables exempt from the region-key rule (DESIGN §4), each with its reason. */
const REFERENCE_TABLES: Record<string, string> = {
  schema_migration: 'migration bookkeeping',
  region: 'the region catalogue itself',
  job: 'platform queue, not business data',
  signing_key: 'platform token keys',
};
const isReference = (t: string) => t in REFERENCE_TABLES || /_catalog(ue)?$|^code_/.test(t);

forEachDatabase('schema rules', (getDb) => {
  test('every business table has region_code in its primary key and in every unique constraint', async () => {
    const db = getDb();
    const constraints = await db.q<{
      table_name: string;
      constraint_name: string;
      constraint_type: string;
      columns: string[];
    }>(sql`
      select tc.table_name, tc.constraint_name, tc.constraint_type,
             array_agg(kcu.column_name::text order by kcu.ordinal_position) as columns
      from information_schema.table_constraints tc
      join information_schema.key_column_usage kcu
        on kcu.constraint_name = tc.constraint_name and kcu.table_schema = tc.table_schema and kcu.table_name = tc.table_name
      where tc.table_schema = 'public' and tc.constraint_type in ('PRIMARY KEY', 'UNIQUE')
      group by tc.table_name, tc.constraint_name, tc.constraint_type`);
    const uniqueIndexes = await db.q<{ tablename: string; indexname: string; indexdef: string }>(sql`
      select tablename, indexname, indexdef from pg_indexes
      where schemaname = 'public' and indexdef ilike 'create unique index%'`);
    const tables = await db.q<{ table_name: string }>(sql`
      select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`);
    const offenders: string[] = [];
    for (const { table_name } of tables) {
      if (isReference(table_name)) continue;
      const own = constraints.filter((c) => c.table_name === table_name);
      if (!own.some((c) => c.constraint_type === 'PRIMARY KEY')) offenders.push(`${table_name}: no primary key`);
      for (const c of own) if (!c.columns.includes('region_code')) offenders.push(`${table_name}.${c.constraint_name}`);
      for (const i of uniqueIndexes.filter((x) => x.tablename === table_name)) {
        if (own.some((c) => c.constraint_name === i.indexname)) continue;
        if (!/\bregion_code\b/.test(i.indexdef)) offenders.push(`${table_name}.${i.indexname}`);
      }
    }
    assert.deepEqual(offenders, [], `region_code missing from keys: ${offenders.join(', ')}`);
  });

  test('migrations are all applied and re-running applies nothing', async () => {
    const db = getDb();
    assert.deepEqual(await pendingMigrations(db), []);
    assert.deepEqual(await migrate(db), []);
  });

  test('a failed transaction leaves nothing behind', async () => {
    const db = getDb();
    await db.exec('create table if not exists t_tx (region_code char(6), id int, primary key (region_code, id))');
    await assert.rejects(
      db.tx(async (tx) => {
        await tx.q(sql`insert into t_tx values ('990100', 1)`);
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal((await db.q(sql`select * from t_tx`)).length, 0);
    await db.exec('drop table t_tx');
  });

  test('LISTEN/NOTIFY delivers payloads', async () => {
    const db = getDb();
    const got: string[] = [];
    const stop = await db.listen('t_channel', (p) => got.push(p));
    await db.q(sql`select pg_notify('t_channel', 'hello')`);
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await stop();
    assert.deepEqual(got, ['hello']);
  });

  test('a prepared query answers as the plain one, in and out of transactions, with the same types', async () => {
    const db = getDb();
    const query = (n: number) =>
      sql`select ${n}::int8 as big, ${`v${n}`}::text as t, now() as at, current_date as d, 1.5::numeric as x`;
    const shape = (r: Record<string, unknown> | undefined) =>
      Object.fromEntries(Object.entries(r ?? {}).map(([k, v]) => [k, typeof v]));
    const plain = await db.one(query(1));
    for (const n of [1, 2, 3, 4, 5, 6, 7]) {
      const row = await db.one(prepared(query(n)));
      assert.equal(String(row?.big), String(n));
      assert.equal(row?.t, `v${n}`);
      assert.deepEqual(shape(row), shape(plain));
    }
    // another text on the same connections is another statement; inside a transaction too
    await db.tx(async (tx) => {
      const [a] = await tx.q<{ s: string }>(prepared(sql`select ${'a'}::text || 'x' as s`));
      const [b] = await tx.q<{ s: string }>(prepared(sql`select ${'a'}::text || 'y' as s`));
      assert.deepEqual([a.s, b.s], ['ax', 'ay']);
      if (db.kind === 'postgres') {
        // on PostgreSQL they are named statements of this connection
        const named = await tx.q<{ name: string }>(sql`select name from pg_prepared_statements
          where statement like ${"select $1::text || 'x' as s"}`);
        assert.equal(named.length, 1);
        assert.match(named[0].name, /^y\d+_/);
      }
    });
    await assert.rejects(
      db.q(prepared(sql`select 1/${0}::int as boom`)),
      (err: { code?: string }) => err.code === '22012',
    );
  });

  test('a prepared `select *` keeps answering after a migration adds a column (its result type changed)', async () => {
    const db = getDb();
    const table = `t_stale_${Math.random().toString(36).slice(2, 8)}`;
    await db.exec(`create table ${table} (id int primary key, a text); insert into ${table} values (1, 'x')`);
    try {
      const read = () => db.q<Record<string, unknown>>(prepared(sql`select * from ${sql.raw(table)} where id = ${1}`));
      // every pooled connection has it prepared with two columns
      await Promise.all(Array.from({ length: 8 }, read));
      await db.exec(`alter table ${table} add column b text default 'y'`);
      const answers = await Promise.all(Array.from({ length: 8 }, read));
      for (const rows of answers) assert.deepEqual(rows, [{ id: 1, a: 'x', b: 'y' }]);
      // inside a transaction the statement fails (the transaction is lost either way); the retry of it works
      await db.exec(`alter table ${table} add column c int default 3`);
      const inTx = () =>
        db.tx((tx) => tx.q<Record<string, unknown>>(prepared(sql`select * from ${sql.raw(table)} where id = ${1}`)));
      await Promise.allSettled(Array.from({ length: 8 }, inTx));
      assert.deepEqual(await inTx(), [{ id: 1, a: 'x', b: 'y', c: 3 }]);
    } finally {
      await db.exec(`drop table ${table}`);
    }
  });

  test('textArray carries any text and NULL through unchanged', async () => {
    const db = getDb();
    const element = fc.oneof(
      fc.constant(null),
      fc.constantFrom('NULL', '', ' ', '{}', ',', '"', '\\', '\\"', '医保 电子凭证'),
      fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\u0000')),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(element, { maxLength: 8 }), async (values) => {
        const [row] = await db.q<{ v: (string | null)[] }>(sql`select ${textArray(values)} as v`);
        assert.deepEqual(row.v, values);
      }),
      { numRuns: 60 },
    );
  });

  test('pg_trgm is available for fuzzy search', async () => {
    const [row] = await getDb().q<{ s: number }>(sql`select similarity('医疗保障局', '医疗保障') as s`);
    assert.ok(Number(row.s) > 0.3);
  });
});

test('PGlite data survives a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'yibao-pglite-'));
  try {
    const first = await openPglite(dir);
    await migrate(first);
    await first.q(sql`update region_config set display_name = '持久化测试' where region_code = '990100'`);
    await first.close();
    const second = await openPglite(dir);
    assert.deepEqual(await pendingMigrations(second), []);
    const [row] = await second.q<{ display_name: string }>(
      sql`select display_name from region_config where region_code = '990100'`,
    );
    assert.equal(row.display_name, '持久化测试');
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
