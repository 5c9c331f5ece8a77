import { after, before, describe } from 'node:test';
import { buildPlatform, type Platform } from '../app.ts';
import type { Principal } from '../platform/auth.ts';
import type { Center } from '../platform/center.ts';
import { loadConfig } from '../platform/config.ts';
import { createTestDatabase, type DatabaseKind, databaseKinds } from '../platform/db/testing.ts';

export interface TestPlatform extends Platform {
  kind: DatabaseKind;
  /** A signed access token for this principal (the same format the OIDC provider issues). */
  tokenFor(p: Pick<Principal, 'kind' | 'subject' | 'regionCode'> & Partial<Principal>): Promise<string>;
  /** Authorization header for `inject`. */
  auth(p: Pick<Principal, 'kind' | 'subject' | 'regionCode'> & Partial<Principal>): Promise<{ authorization: string }>;
}

/** A platform on a fresh test database; no job workers (tests drain jobs with ctx.jobs.drain()), no demo seed. */
export async function createTestPlatform(
  kind: DatabaseKind,
  opts: { centers?: Center[]; env?: Record<string, string>; seed?: boolean } = {},
): Promise<TestPlatform> {
  const db = await createTestDatabase(kind);
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JOB_WORKERS: 'false',
    DEMO_SEED: 'false',
    PORT: '0',
    ...opts.env,
  });
  const platform = await buildPlatform(config, { db, centers: opts.centers });
  await platform.start({ seed: opts.seed ?? false });
  const tokenFor: TestPlatform['tokenFor'] = (p) =>
    platform.ctx.tokens.issue({
      sub: p.subject,
      kind: p.kind,
      region: p.regionCode,
      acr: p.acr ?? 'pwd',
      amr: p.amr ?? ['pwd'],
      ...(p.sessionId ? { sid: p.sessionId } : {}),
      ...(p.unitId ? { unit: p.unitId } : {}),
      ...(p.scopes ? { scope: p.scopes.join(' ') } : {}),
    });
  return {
    ...platform,
    kind,
    tokenFor,
    auth: async (p) => ({ authorization: `Bearer ${await tokenFor(p)}` }),
  };
}

/** Declares the suite once per database kind with a started test platform. */
export function forEachPlatform(
  name: string,
  suite: (get: () => TestPlatform, kind: DatabaseKind) => void,
  opts: Parameters<typeof createTestPlatform>[1] = {},
): void {
  for (const kind of databaseKinds()) {
    describe(`${name} [${kind}]`, () => {
      let platform: TestPlatform;
      before(async () => {
        platform = await createTestPlatform(kind, opts);
      });
      after(async () => {
        await platform?.close();
      });
      suite(() => platform, kind);
    });
  }
}
