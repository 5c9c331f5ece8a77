import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import { type Database, openPglite, openPostgres } from './index.ts';
import { MIGRATIONS_DIR, migrate, migrationFiles, pendingMigrations } from './migrate.ts';

export type DatabaseKind = Database['kind'];

/** PGlite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it). */
export function databaseKinds(): DatabaseKind[] {
  return process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

export type TestDatabase = Database & {
  /** PostgreSQL only: the new database's URL, for child processes. */ url?: string;
};

/** A fresh, migrated database: in-memory PGlite, or a new database on the test PostgreSQL server. */
export async function createTestDatabase(kind: DatabaseKind, opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  if (kind === 'pglite' && opts.migrate !== false) return migratedPglite();
  const db = kind === 'pglite' ? await openPglite() : await createPostgresDatabase();
  if (opts.migrate !== false) await migrate(db);
  return db;
}

/**
 * A migrated PGlite, started from a snapshot of the migrated data directory that is cached on disk per migration
 * set (the test processes share it), so each suite skips re-running every migration.
 */
async function migratedPglite(): Promise<Database> {
  const file = join(tmpdir(), `yibao-pglite-${migrationsFingerprint()}.tar`);
  if (existsSync(file)) {
    const db = await openPglite(undefined, new Blob([readFileSync(file)]));
    if ((await pendingMigrations(db)).length === 0) return db;
    await db.close();
  }
  const db = await openPglite();
  await migrate(db);
  const tar = Buffer.from(await (await db.snapshot!()).arrayBuffer());
  const temp = `${file}.${process.pid}`;
  writeFileSync(temp, tar);
  renameSync(temp, file);
  return db;
}

function migrationsFingerprint(): string {
  const hash = createHash('sha256');
  for (const f of migrationFiles()) hash.update(f).update(readFileSync(join(MIGRATIONS_DIR, f)));
  return hash.digest('hex').slice(0, 16);
}

async function createPostgresDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `yibao_t_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = await openPostgres(url.toString(), 5);
  const close = db.close;
  return {
    ...db,
    url: url.toString(),
    close: async () => {
      await close();
      await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Declares the suite once per database kind; `getDb()` returns that suite's migrated database. */
export function forEachDatabase(name: string, suite: (getDb: () => Database, kind: DatabaseKind) => void): void {
  for (const kind of databaseKinds()) {
    describe(`${name} [${kind}]`, () => {
      let db: Database;
      before(async () => {
        db = await createTestDatabase(kind);
      });
      after(async () => {
        await db?.close();
      });
      suite(() => db, kind);
    });
  }
}
