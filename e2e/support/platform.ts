/**
 * Starts the real platform (`server/src/main.ts`) as a child process on a fresh database, seeded with the demo data,
 * and waits until `/readyz` answers. PGlite in a temporary directory by default; a fresh PostgreSQL database (created
 * through `createTestDatabase`) when TEST_DATABASE_URL is set.
 *
 * The port: the platform's public URL is part of its demo seed (OIDC redirect URIs), so instead of PORT=0 we ask the
 * kernel for a free port first and hand it over as PORT and PUBLIC_URL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../../server/src/platform/db/testing.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = join(ROOT, 'e2e', 'artifacts');

export interface RunningPlatform {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  database: 'pglite' | 'postgres';
  /** the server's stdout+stderr */
  logFile: string;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts the platform for one journey; `env` overrides the server's configuration. */
export async function startPlatform(
  journey: string,
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunningPlatform> {
  if (!existsSync(join(ROOT, 'web', 'dist', 'index.html')))
    throw new Error('web/dist is missing: run `npm run build -w web` first (scripts/test.ts does it before e2e)');
  const dir = join(ARTIFACTS, journey);
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'server.log');
  let pgDb: TestDatabase | undefined;
  let dataDir: string | undefined;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
    DEMO_SEED: 'true',
    JOB_POLL_MS: '50',
    HOST: '127.0.0.1',
  };
  delete env.DATABASE_URL;
  if (process.env.TEST_DATABASE_URL) {
    pgDb = await createTestDatabase('postgres', { migrate: false });
    env.DATABASE_URL = pgDb.url!;
  } else {
    dataDir = mkdtempSync(join(tmpdir(), `yibao-e2e-${journey}-`));
    env.DATA_DIR = dataDir;
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  Object.assign(env, { PORT: String(port), PUBLIC_URL: url, CORE_ZONE_PORT: String(await freePort()) }, opts.env);

  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'server', 'src', 'main.ts')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let exited: number | null | undefined;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve();
    }),
  );

  const cleanup = async () => {
    if (exited === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(timer);
    }
    log.end();
    await pgDb?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  for (;;) {
    if (exited !== undefined) {
      await cleanup();
      throw new Error(`the platform exited with code ${exited} before it was ready; see ${logFile}`);
    }
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await cleanup();
      throw new Error(`the platform was not ready within ${opts.timeoutMs ?? 90_000} ms; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, database: pgDb ? 'postgres' : 'pglite', logFile, close: cleanup };
}
