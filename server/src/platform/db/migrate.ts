import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Database, sql } from './index.ts';

export const MIGRATIONS_DIR = new URL('../../../migrations/', import.meta.url).pathname;
const MIGRATION_LOCK = 7_310_001;

export function migrationFiles(dir = MIGRATIONS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort();
}

/**
 * Applies pending migrations in filename order. Each file plus its bookkeeping row is sent as one
 * multi-statement simple query, which PostgreSQL (and PGlite) run as one implicit transaction.
 */
export async function migrate(db: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  return db.withLock(MIGRATION_LOCK, async () => {
    await db.exec(`create table if not exists schema_migration (
      name text primary key, applied_at timestamptz not null default now())`);
    const applied: string[] = [];
    for (const file of await pendingMigrations(db, dir)) {
      const script = readFileSync(join(dir, file), 'utf8');
      try {
        await db.exec(`${script}\n;\ninsert into schema_migration(name) values ('${file}');`);
      } catch (err) {
        throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(file);
    }
    return applied;
  });
}

export async function pendingMigrations(db: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  const rows = await db
    .q<{ name: string }>(sql`select name from schema_migration`)
    .catch(() => [] as { name: string }[]);
  const done = new Set(rows.map((r) => r.name));
  return migrationFiles(dir).filter((f) => !done.has(f));
}
