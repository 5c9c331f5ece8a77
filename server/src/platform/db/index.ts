import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { type SQL, sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';

export type { SQL };
export { sql };

type Orm = PgDatabase<any, any, any>;

/** What a center needs to run queries; a transaction offers the same. */
export interface Executor {
  /** Drizzle, for the typed query builder over a center's `schema.ts`. */
  readonly orm: Orm;
  q<T = Record<string, unknown>>(query: SQL): Promise<T[]>;
  one<T = Record<string, unknown>>(query: SQL): Promise<T | undefined>;
}

export interface Database extends Executor {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction. Inside, use only the given executor (PGlite has a single connection). */
  tx<T>(fn: (tx: Executor) => Promise<T>): Promise<T>;
  /** Runs a multi-statement SQL script (migrations). */
  exec(script: string): Promise<void>;
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** PGlite only: the whole data directory as a tarball (tests reuse a migrated snapshot). */
  snapshot?: () => Promise<Blob>;
  /** Runs fn while holding a lock shared by every process on this database. */
  withLock<T>(id: number, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const INT8 = 20;
const DATE = 1082;
const NUMERIC = 1700;
const asNumber = (v: string) => Number(v);
const asIs = (v: string) => v;

/** Drizzle wraps driver errors: the driver's own (with its SQLSTATE `code`, e.g. 23505), else the error itself. */
function driverError(err: unknown): unknown {
  const cause = (err as { cause?: unknown })?.cause;
  return cause && typeof cause === 'object' && 'code' in cause ? cause : err;
}

function unwrap(err: unknown): never {
  throw driverError(err);
}

const preparedQueries = new WeakSet<SQL>();

/**
 * Marks a query to run as a named prepared statement on PostgreSQL: each connection parses it once and, after a few
 * runs, reuses a generic plan, so a hot query stops paying for parsing and planning on every call. The name comes from
 * the statement text, so any query may be marked (different texts get different statements); values stay parameters.
 * Mark only queries that run often with few distinct texts: each connection keeps every one it has seen. PGlite runs
 * it as an ordinary query. Returns the query itself: `tx.q(prepared(sql`...`))`.
 */
export function prepared(query: SQL): SQL {
  preparedQueries.add(query);
  return query;
}

const statementNames = new Map<string, string>();
/** Bumped when a statement's result type changed under it (a migration added a column to a `select *`). */
let statementGeneration = 0;
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    if (statementNames.size >= 2_000) statementNames.clear();
    name = `y${statementGeneration}_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * PostgreSQL refuses a prepared statement whose result columns changed since it was parsed (SQLSTATE 0A000, "cached
 * plan must not change result type" — e.g. `select *` after another instance's migration added a column). The text
 * then gets a new name, which every connection prepares afresh.
 */
const isStaleResultType = (err: unknown) => {
  const e = driverError(err) as { code?: string; message?: string };
  return e.code === '0A000' && /cached plan must not change result type/.test(e.message ?? '');
};

type Session = {
  prepareQuery(q: unknown, f: unknown, name: string, arrayMode: boolean): { execute(): Promise<unknown> };
};

function executor(orm: Orm, inTransaction = false): Executor {
  // a named statement: what orm.execute does, with the statement's name (drizzle passes it to node-postgres)
  const internals = orm as unknown as { dialect: { sqlToQuery(q: SQL): { sql: string } }; session: Session };
  const named = (query: SQL) => {
    const built = internals.dialect.sqlToQuery(query);
    return internals.session.prepareQuery(built, undefined, statementName(built.sql), false).execute();
  };
  const run = async (query: SQL) => {
    if (!preparedQueries.has(query)) return orm.execute(query);
    try {
      return await named(query);
    } catch (err) {
      if (!isStaleResultType(err)) throw err;
      statementGeneration++;
      statementNames.clear();
      if (inTransaction) throw err; // the transaction has failed already; its retry gets the new name
      return named(query);
    }
  };
  const q = async <T>(query: SQL) => ((await run(query).catch(unwrap)) as unknown as { rows: T[] }).rows;
  return { orm, q, one: async <T>(query: SQL) => (await q<T>(query))[0] };
}

function transactional(orm: Orm): Database['tx'] {
  return (fn) => orm.transaction((t) => fn(executor(t as unknown as Orm, true)));
}

export async function openPglite(dataDir?: string, loadDataDir?: Blob): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create({
    dataDir,
    loadDataDir,
    extensions: { pg_trgm },
    parsers: { [INT8]: asNumber, [DATE]: asIs, [NUMERIC]: asIs },
  });
  const orm = drizzlePglite(client) as unknown as Orm;
  const locks = new Map<number, Promise<unknown>>();
  return {
    kind: 'pglite',
    ...executor(orm),
    tx: transactional(orm),
    exec: async (script) => void (await client.exec(script)),
    listen: async (channel, cb) => {
      const unsubscribe = await client.listen(channel, cb);
      return async () => unsubscribe();
    },
    withLock: (id, fn) => inProcessLock(locks, id, fn), // one process owns a PGlite data directory
    snapshot: () => client.dumpDataDir('none'),
    close: () => client.close(),
  };
}

/** The advisory lock's meaning within one process: callers of the same id run one after another. */
function inProcessLock<T>(heldLocks: Map<number, Promise<unknown>>, id: number, fn: () => Promise<T>): Promise<T> {
  const previous = heldLocks.get(id) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.catch(() => {});
  heldLocks.set(id, tail);
  void tail.then(() => {
    if (heldLocks.get(id) === tail) heldLocks.delete(id);
  });
  return run;
}

export async function openPostgres(url: string, max = 10): Promise<Database> {
  const types = {
    getTypeParser: (oid: number, format?: any) => {
      if (oid === INT8) return asNumber;
      if (oid === DATE || oid === NUMERIC) return asIs;
      return pg.types.getTypeParser(oid, format);
    },
  };
  const pool = new pg.Pool({ connectionString: url, max, types: types as pg.CustomTypesConfig });
  pool.on('error', () => {}); // idle-client errors surface on the next query
  const orm = drizzlePg(pool) as unknown as Orm;
  return {
    kind: 'postgres',
    ...executor(orm),
    tx: transactional(orm),
    exec: async (script) => void (await pool.query(script)),
    listen: async (channel, cb) => {
      const client = await pool.connect();
      client.on('notification', (m) => m.channel === channel && cb(m.payload ?? ''));
      await client.query(`LISTEN "${channel.replaceAll('"', '')}"`);
      return async () => {
        await client.query(`UNLISTEN "${channel.replaceAll('"', '')}"`).catch(() => {});
        client.release();
      };
    },
    withLock: async (id, fn) => {
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [id]);
        return await fn();
      } finally {
        await client.query('select pg_advisory_unlock($1)', [id]).catch(() => {});
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

export function openDatabase(opts: { url?: string; dataDir?: string }): Promise<Database> {
  return opts.url ? openPostgres(opts.url) : openPglite(opts.dataDir);
}

/** A text[] parameter (one Postgres array literal, so it works the same on PGlite and node-postgres); null is NULL. */
export function textArray(values: readonly (string | null)[]): SQL {
  const element = (v: string | null) =>
    v === null ? 'NULL' : `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  return sql`${`{${values.map(element).join(',')}}`}::text[]`;
}

export async function notify(db: Executor, channel: string, payload: string): Promise<void> {
  await db.q(sql`select pg_notify(${channel}, ${payload})`);
}
