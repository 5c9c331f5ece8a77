/**
 * The platform in this process (fresh database, demo seed, listening on a free port), for journeys that need a
 * signed-in person before the login UI exists: `signIn(context, …)` puts an access token minted by the platform's own
 * key store (the same format the OIDC provider issues) into the portal's session storage. Everything after the login
 * is real: the browser talks HTTP to the real server, the real centers and the reference core zone.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { sql } from '../../server/src/platform/db/index.ts';
import { maskMobile } from '../../server/src/platform/privacy/index.ts';
import { createTestPlatform, type TestPlatform } from '../../server/src/testing/platform.ts';
import { newContext, type ViewportName } from './browser.ts';
import { freePort, ROOT } from './platform.ts';

export interface InProcessPlatform {
  platform: TestPlatform;
  url: string;
  close(): Promise<void>;
}

/** `jobs`: run the job workers (events, messages, bills, payment callbacks) as a deployed server does. */
export async function startInProcessPlatform(opts: { jobs?: boolean } = {}): Promise<InProcessPlatform> {
  // WEB_DIST: a private build (`vite build --outDir …`), so a rebuild of web/dist by someone else mid-run cannot
  // pull the page's assets away
  const dist = process.env.WEB_DIST;
  if (!existsSync(join(dist ?? join(ROOT, 'web', 'dist'), 'index.html')))
    throw new Error('web/dist is missing: run `npm run build -w web` first (scripts/test.ts does it before e2e)');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const kind = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';
  const platform = await createTestPlatform(kind, {
    seed: true,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      ...(opts.jobs ? { JOB_WORKERS: 'true', JOB_POLL_MS: '50' } : {}),
      ...(dist ? { WEB_DIST: dist } : {}),
    },
  });
  await platform.listen();
  return { platform, url, close: () => platform.close() };
}

/** Signs a person into the portal of this browser context (session storage, as the login callback would). */
export async function signIn(
  context: BrowserContext,
  platform: TestPlatform,
  person: { id: string; name: string; regionCode: string },
  portal = 'personal',
  kind: 'person' | 'staff' = 'person',
): Promise<void> {
  const accessToken = await platform.tokenFor({ kind, subject: person.id, regionCode: person.regionCode });
  const session = {
    accessToken,
    kind,
    subject: person.id,
    name: person.name,
    regionCode: person.regionCode,
    portal,
  };
  await context.addInitScript((s) => {
    sessionStorage.setItem('yibao.session', s);
  }, JSON.stringify(session));
}

/** A fresh context at this viewport with the person signed in to the portal, its page, and the page's uncaught errors. */
export async function signedInPage(
  browser: Browser,
  viewport: ViewportName,
  env: InProcessPlatform,
  person: { id: string; name: string; regionCode: string },
  portal = 'personal',
  contextOptions: Parameters<typeof newContext>[3] = {},
) {
  const context = await newContext(browser, viewport, env.url, contextOptions);
  await signIn(context, env.platform, person, portal);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

/**
 * The code in the latest verification SMS the sandbox gateway accepted for `mobile` in this region after `since`
 * (someone reading their phone). `drain`: a platform without job workers delivers it when its queue is drained.
 */
export async function sandboxSmsCode(
  platform: TestPlatform,
  regionCode: string,
  mobile: string,
  since: Date,
  opts: { drain?: boolean } = {},
): Promise<string> {
  for (let i = 0; i < 100; i++) {
    if (opts.drain) await platform.ctx.jobs.drain();
    // other messages may reach the same phone meanwhile (a payment notice): only a code counts
    const [row] = await platform.ctx.db.q<{ content: string }>(sql`select content from message_sandbox_outbox
      where region_code = ${regionCode} and channel = 'sms' and address = ${maskMobile(mobile)}
        and created_at >= ${since.toISOString()} and content like '%验证码为%'
      order by created_at desc limit 1`);
    const code = row && /验证码为\s*(\d{6})/.exec(row.content)?.[1];
    if (code) return code;
    await new Promise((r) => setTimeout(r, 100));
  }
  // what became of it: the messages since, their deliveries, and what still waits in the job queue
  const messages = await platform.ctx.db.q(sql`select m.type_code, m.status, d.channel, d.status as delivery,
      d.reason from message m left join message_delivery d on d.region_code = m.region_code and d.message_id = m.id
    where m.region_code = ${regionCode} and m.created_at >= ${since.toISOString()}`);
  const waiting = await platform.ctx.db.q(sql`select queue, state, count(*)::int as n, min(run_at) as first
    from job where state in ('queued', 'running') group by queue, state`);
  throw new Error(`no SMS code reached the sandbox gateway: ${JSON.stringify({ messages, waiting })}`);
}
