/** Chromium (Debian's, through playwright-core), phone and desktop contexts, screenshots and the axe-core check. */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ARTIFACTS } from './platform.ts';

export type ViewportName = 'phone' | 'desktop';

export const VIEWPORTS: Record<ViewportName, Parameters<Browser['newContext']>[0]> = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  desktop: { viewport: { width: 1366, height: 900 } },
};

/** `fakeMedia`: Chromium's synthetic camera (a moving test pattern) stands in for a real one, permission granted. */
export async function launchBrowser(opts: { fakeMedia?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(opts.fakeMedia ? ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] : []),
    ],
  });
}

const viewportOf = new WeakMap<BrowserContext, ViewportName>();

/** A fresh context (own cookies and storage) at this viewport, Chinese locale, with the platform as base URL. */
export async function newContext(
  browser: Browser,
  viewport: ViewportName,
  baseURL: string,
  extra: Parameters<Browser['newContext']>[0] = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({
    ...VIEWPORTS[viewport],
    baseURL,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    // no opening animations: a press while a dialog zoomed in could land beside its target on a slow machine
    reducedMotion: 'reduce',
    ...extra,
  });
  context.setDefaultTimeout(30_000);
  // a resource the page's Content-Security-Policy blocks becomes an uncaught error, which the journeys collect
  await context.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (e) =>
      setTimeout(() => {
        throw new Error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
      }),
    ),
  );
  viewportOf.set(context, viewport);
  return context;
}

export function viewportName(page: Page): ViewportName {
  return viewportOf.get(page.context()) ?? ((page.viewportSize()?.width ?? 1366) < 768 ? 'phone' : 'desktop');
}

/**
 * Screenshots for one journey: `shot(page, name)` writes e2e/artifacts/<journey>/<nn-name>-<viewport>.png, where nn
 * numbers the steps in order (the phone and desktop pictures of one step share its number).
 */
export function screenshots(journey: string): (page: Page, name: string) => Promise<string> {
  const dir = join(ARTIFACTS, journey);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (/\.png(\.missing\.txt)?$/.test(f)) rmSync(join(dir, f)); // no stale pictures of an earlier run
  const numbers = new Map<string, number>();
  return async (page, name) => {
    const vp = viewportName(page);
    let n = numbers.get(name);
    if (n === undefined) {
      n = numbers.size + 1;
      numbers.set(name, n);
    }
    const file = join(dir, `${String(n).padStart(2, '0')}-${name}-${vp}.png`);
    // a picture is an artifact, not what a test checks: when a loaded machine's Chromium gives no full-page frame in
    // time, the visible part will do, and failing that a note says the picture is missing
    const timeout = 15_000;
    try {
      await page.screenshot({ path: file, fullPage: true, animations: 'disabled', timeout });
    } catch (full) {
      try {
        await page.screenshot({ path: file, animations: 'disabled', timeout });
      } catch (visible) {
        writeFileSync(`${file}.missing.txt`, `${(full as Error).message}\n\n${(visible as Error).message}\n`);
      }
    }
    return file;
  };
}

export interface A11yViolation {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/** The serious and critical axe-core violations on the page (does not throw). */
export async function findA11yViolations(page: Page): Promise<A11yViolation[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact ?? '',
      help: v.help,
      nodes: v.nodes
        .slice(0, 5)
        .map((n) => `${n.target.join(' ')} ${n.html.slice(0, 160)} — ${n.failureSummary ?? ''}`.slice(0, 400)),
    }));
}

/** Human-readable list of violations. */
export function a11yReport(bad: A11yViolation[], label: string, viewport: string): string {
  const text = bad.map((v) => `  [${v.impact}] ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`).join('\n');
  return `axe-core: ${bad.length} serious/critical violation(s) on ${label} (${viewport}):\n${text}`;
}

/** Runs axe-core on the page; throws when a serious or critical violation is found (listing them). */
export async function checkA11y(page: Page, label = page.url()): Promise<A11yViolation[]> {
  // colours are measured at rest: a button a tap just re-rendered may still be fading between its states
  await animationsDone(page);
  const bad = await findA11yViolations(page);
  if (bad.length > 0) throw new Error(a11yReport(bad, label, viewportName(page)));
  return bad;
}

/** Waits until the SPA has rendered and the network is quiet (no spinner left). */
export async function settled(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle');
  await page
    .locator('.ant-spin-spinning, [aria-busy="true"]')
    .first()
    .waitFor({ state: 'detached', timeout: 10_000 })
    .catch(() => undefined);
  await animationsDone(page);
}

/** No fade or colour transition half way (axe would measure a toast's or a button's colour mid-animation). */
async function animationsDone(page: Page): Promise<void> {
  await page
    .waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'), undefined, {
      timeout: 3_000,
    })
    .catch(() => undefined);
  // the page's own after-layout work (e.g. scrollRegions) runs in the next frames
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}

/** A failure's account of what a page showed: its dialogs (open or hidden), alerts and the start of its text. */
export async function describePage(page: Page): Promise<string> {
  return page.evaluate(() => {
    const visible = (e: Element) =>
      (e as HTMLElement).offsetParent !== null || getComputedStyle(e).position === 'fixed';
    const named = (e: Element) => {
      const by = e.getAttribute('aria-labelledby');
      return (by && document.getElementById(by)?.textContent) || e.getAttribute('aria-label') || '';
    };
    const dialogs = [...document.querySelectorAll('[role="dialog"]')].map(
      (d) => `「${named(d)}」${visible(d) ? 'open' : 'hidden'}`,
    );
    const alerts = [...document.querySelectorAll('[role="alert"]')].map((a) => a.textContent?.trim()).filter(Boolean);
    const text = (document.querySelector('main') ?? document.body).textContent?.replace(/\s+/g, ' ').slice(0, 300);
    return `dialogs [${dialogs.join(', ')}]; alerts [${alerts.join(' / ')}]; text: ${text}`;
  });
}

/** Runs a test's steps; when one fails, the error also tells where each page was and what it showed. */
export async function reportingPages(pages: Record<string, Page>, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } catch (e) {
    const seen = await Promise.all(
      Object.entries(pages).map(async ([name, page]) => {
        const shown = await describePage(page).catch((err: Error) => `(not readable: ${err.message})`);
        return `${name} at ${page.url()}: ${shown}`;
      }),
    );
    if (e instanceof Error) e.message = `${e.message}\n${seen.join('\n')}`;
    throw e;
  }
}
