/**
 * The e2e harness. A journey file (e2e/<name>.e2e.test.ts, run with `node --test`):
 *
 *   const platform = await startPlatform('my-journey');          // fresh DB, demo seed, waits for /readyz
 *   const browser = await launchBrowser();
 *   const context = await newContext(browser, 'phone', platform.url);
 *   const page = await context.newPage();
 *   const shot = screenshots('my-journey');
 *   await page.goto('/personal'); await settled(page);
 *   await checkA11y(page);  await shot(page, 'home');          // e2e/artifacts/my-journey/01-home-phone.png
 *
 * Build the web app first (`npm run build -w web`); `npm run test:e2e` does.
 */
export * from './browser.ts';
export * from './platform.ts';
