/**
 * What a citizen's phone pays to open the personal hall: cold loads of `/personal` (signed out, no cache) in
 * Chromium at a phone viewport over a throttled mobile network, until the home's sign-in card shows. The floor is
 * the same network's bare cost: the same address with every script and style refused (index.html alone). Facts: the
 * bytes over the wire, the script bytes the phone must parse, requests, first contentful paint.
 *
 * The platform is the real server (`server/src/main.ts`, embedded database, demo seed) serving a fresh build of web/.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { launchBrowser, newContext } from '../../../e2e/support/browser.ts';
import { ROOT, type RunningPlatform, startPlatform } from '../../../e2e/support/platform.ts';
import type { Benchmark } from '../types.ts';

/** Lighthouse's mobile profile ("Slow 4G"): 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up. */
const MOBILE = { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: 96_000 };
const READY_TEXT = '登录后可查看参保状态';

interface Ctx {
  platform: RunningPlatform;
  browser: Browser;
  last?: LoadFacts;
}

interface LoadFacts {
  wireBytes: number;
  scriptBytes: number;
  requests: number;
  fcpMs: number;
}

async function throttledPage(ctx: Ctx): Promise<{ context: BrowserContext; page: Page; cdp: CDPSession }> {
  const context = await newContext(ctx.browser, 'phone', ctx.platform.url);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', MOBILE);
  return { context, page, cdp };
}

/** One cold load of the personal hall; what went over the wire is kept as the run's facts. */
async function coldLoad(ctx: Ctx): Promise<void> {
  const { context, page, cdp } = await throttledPage(ctx);
  const scripts = new Set<string>();
  let wireBytes = 0;
  let scriptBytes = 0;
  let requests = 0;
  cdp.on('Network.responseReceived', (e) => {
    if (e.type === 'Script') scripts.add(e.requestId);
  });
  cdp.on('Network.dataReceived', (e) => {
    if (scripts.has(e.requestId)) scriptBytes += e.dataLength;
  });
  cdp.on('Network.loadingFinished', (e) => {
    wireBytes += e.encodedDataLength;
    requests++;
  });
  try {
    await page.goto('/personal');
    await page.getByText(READY_TEXT).waitFor({ timeout: 60_000 });
    const fcpMs = await page.evaluate(
      () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
    );
    ctx.last = { wireBytes, scriptBytes, requests, fcpMs };
  } finally {
    await context.close();
  }
}

/** index.html alone over the same network: scripts and styles are refused, so nothing renders past the shell. */
async function bareLoadsPerSec(ctx: Ctx): Promise<number> {
  const n = 3;
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const { context, page } = await throttledPage(ctx);
    await page.route(/\.(js|css)$/, (route) => route.abort());
    await page.goto('/personal', { waitUntil: 'load' });
    await context.close();
  }
  return n / ((performance.now() - start) / 1000);
}

const kb = (bytes: number) => Number((bytes / 1024).toFixed(1));

const personalHome: Benchmark<Ctx> = {
  name: 'web: personal hall cold load on a phone, Slow 4G (Chromium, until the home shows)',
  unit: 'ops',
  setup: async () => {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
      {
        cwd: join(ROOT, 'web'),
        stdio: 'inherit',
      },
    );
    const postgres = process.env.TEST_DATABASE_URL;
    delete process.env.TEST_DATABASE_URL; // the embedded database, as `npm start` runs it
    try {
      return { platform: await startPlatform('bench-web'), browser: await launchBrowser() };
    } finally {
      if (postgres !== undefined) process.env.TEST_DATABASE_URL = postgres;
    }
  },
  run: async (_n, ctx) => coldLoad(ctx),
  floor: { name: 'index.html alone over the same network (loads/s)', opsPerSec: bareLoadsPerSec },
  facts: async (ctx) => ({
    wireKB: kb(ctx.last?.wireBytes ?? Number.NaN),
    scriptKB: kb(ctx.last?.scriptBytes ?? Number.NaN),
    requests: ctx.last?.requests ?? Number.NaN,
    firstContentfulPaintMs: Math.round(ctx.last?.fcpMs ?? Number.NaN),
  }),
  teardown: async (ctx) => {
    await ctx.browser.close();
    await ctx.platform.close();
  },
};

export default [personalHome];
