/**
 * The staff console as the super-admin sees it: sign in through the unified authentication (password), then open
 * every page of the side menu — each renders in Chinese without an error state or an uncaught exception, and passes
 * axe-core (serious/critical). Screenshots of every page are kept as artifacts.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  ARTIFACTS,
  a11yReport,
  findA11yViolations,
  launchBrowser,
  newContext,
  screenshots,
  settled,
} from './support/index.ts';
import { type InProcessPlatform, startInProcessPlatform } from './support/inprocess.ts';

describe('console (e2e)', () => {
  let env: InProcessPlatform;
  let browser: Browser;
  const shot = screenshots('console');
  before(async () => {
    [env, browser] = await Promise.all([startInProcessPlatform(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await env?.close();
  });

  // ~28 pages, each rendered, checked by axe-core and photographed: ~100 s alone on a 2-core machine, more under load
  test('the super-admin opens every page of the menu', { timeout: 480_000 }, async (t) => {
    const context = await newContext(browser, 'desktop', env.url);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const config = env.platform.ctx.config;
    try {
      await page.goto('/login?portal=console&return=%2Fconsole');
      await page.locator('#loginId').fill(config.SUPERADMIN_USERNAME);
      await page.locator('#password').fill(config.SUPERADMIN_PASSWORD);
      await page.getByRole('button', { name: '登录', exact: true }).first().click();
      await page.waitForURL((u) => u.pathname === '/console');
      await settled(page);
      const items = await page.getByRole('menuitem').allTextContents();
      assert.ok(items.length >= 15, `the menu lists the centers' pages (${items.join('、')})`);
      const problems: string[] = [];
      for (const [i, label] of items.entries()) {
        await page.getByRole('menuitem').nth(i).click();
        await settled(page);
        const path = new URL(page.url()).pathname;
        assert.match(path, /^\/console/, `${label} stays in the console`);
        if (await page.getByText(/出错了|加载失败|无权限|登录已失效/).count())
          problems.push(
            `${label} (${path}) shows an error: ${((await page.locator('main').textContent()) ?? '').slice(0, 200)}`,
          );
        const bad = await findA11yViolations(page);
        if (bad.length) problems.push(a11yReport(bad, `${label} ${path}`, 'desktop'));
        await shot(page, path.slice(1).replaceAll('/', '-'));
        t.diagnostic(`${label} → ${path}`);
      }
      if (problems.length) writeFileSync(join(ARTIFACTS, 'console', 'problems.txt'), problems.join('\n\n'));
      assert.deepEqual(problems, []);
      assert.deepEqual(errors, [], 'no uncaught errors in the pages');
    } finally {
      await context.close();
    }
  });
});
