/** The landing page and each portal's home, at phone and desktop widths: rendered in Chinese, axe clean, screenshots. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  checkA11y,
  launchBrowser,
  newContext,
  type RunningPlatform,
  screenshots,
  settled,
  startPlatform,
  type ViewportName,
} from './support/index.ts';

const JOURNEY = 'portals';
const pages = [
  { path: '/', name: 'landing', expect: '请选择您要进入的服务大厅' },
  { path: '/personal', name: 'personal', expect: '个人网厅' },
  { path: '/unit', name: 'unit', expect: '单位网厅' },
  { path: '/institution', name: 'institution', expect: '医药机构' },
  { path: '/console', name: 'console', expect: '管理后台' },
];

describe('portals (e2e)', () => {
  let platform: RunningPlatform;
  let browser: Browser;
  const shot = screenshots(JOURNEY);
  before(async () => {
    [platform, browser] = await Promise.all([startPlatform(JOURNEY), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await platform?.close();
  });

  for (const viewport of ['phone', 'desktop'] as ViewportName[]) {
    test(`every portal home at ${viewport} width`, async () => {
      const context = await newContext(browser, viewport, platform.url);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      try {
        for (const p of pages) {
          const res = await page.goto(p.path);
          assert.equal(res?.status(), 200, `${p.path} answers 200`);
          await settled(page);
          await page.getByText(p.expect).first().waitFor();
          assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN', 'the page is declared Chinese');
          // the region's branding is shown (demo region 990100's display name from region_config)
          await page.getByText('东湖市医疗保障局').first().waitFor();
          await checkA11y(page, p.path);
          await shot(page, p.name);
        }
        if (viewport === 'phone') {
          await page.goto('/personal');
          await settled(page);
          const tabbar = page.getByRole('navigation', { name: '底部导航' });
          await tabbar.waitFor();
          const box = await tabbar.boundingBox();
          assert.ok(box && box.y + box.height >= 844 - 1, 'the bottom navigation sits at the bottom of the phone');
          for (const link of await tabbar.getByRole('link').all()) {
            const b = await link.boundingBox();
            assert.ok(b && b.height >= 44 && b.width >= 44, 'touch targets are at least 44×44');
          }
        }
        assert.deepEqual(errors, [], 'no uncaught errors in the page');
      } finally {
        await context.close();
      }
    });
  }

  test('a region chosen by ?region= shows that region’s branding', async () => {
    const context = await newContext(browser, 'desktop', platform.url);
    const page = await context.newPage();
    try {
      await page.goto('/?region=980100');
      await settled(page);
      await page.getByText('北原市医疗保障局').first().waitFor();
      await shot(page, 'landing-980100');
    } finally {
      await context.close();
    }
  });
});
