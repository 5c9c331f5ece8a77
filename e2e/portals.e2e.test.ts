/** The landing page and each portal's home, at phone and desktop widths: rendered in Chinese, axe clean, screenshots. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
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
  /** A page in a fresh context (own cookies and storage) at this viewport; the context is closed whatever happens. */
  const onPage = async (viewport: ViewportName, fn: (page: Page, context: BrowserContext) => Promise<void>) => {
    const context = await newContext(browser, viewport, platform.url);
    try {
      await fn(await context.newPage(), context);
    } finally {
      await context.close();
    }
  };

  for (const viewport of ['phone', 'desktop'] as ViewportName[]) {
    test(`every portal home at ${viewport} width`, async () => {
      await onPage(viewport, async (page) => {
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
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
      });
    });
  }

  test('a phone opening the personal hall downloads its home, compressed and cacheable, not every portal', async () => {
    await onPage('phone', async (page, context) => {
      const scripts: Array<{ url: string; encoding?: string; cache?: string; bytes: number }> = [];
      const pending: Promise<void>[] = [];
      page.on('response', (r) => {
        if (r.request().resourceType() !== 'script') return;
        pending.push(
          r.body().then((body) => {
            const h = r.headers();
            scripts.push({
              url: r.url(),
              encoding: h['content-encoding'],
              cache: h['cache-control'],
              bytes: body.length,
            });
          }),
        );
      });
      const doc = await page.goto('/personal');
      await page.getByText('登录后可查看参保状态').waitFor();
      await settled(page);
      await Promise.all(pending);
      assert.equal(
        doc?.headers()['cache-control'],
        'no-cache',
        'the page itself is asked anew, so a release shows at once',
      );
      const csp = doc?.headers()['content-security-policy'] ?? '';
      assert.match(csp, /script-src 'self'(;|$)/, 'scripts only from the platform, none inline');
      assert.match(csp, /frame-ancestors 'self'/, 'other sites cannot frame the hall');
      assert.equal(doc?.headers()['x-content-type-options'], 'nosniff');
      assert.ok(scripts.length > 0);
      for (const s of scripts) {
        if (s.bytes >= 1024) assert.match(s.encoding ?? '', /^(br|gzip)$/, `${s.url} is sent compressed`);
        assert.match(s.cache ?? '', /immutable/, `${s.url} is cached for good (its name changes with its content)`);
      }
      const total = scripts.reduce((n, s) => n + s.bytes, 0);
      // the whole app is about 2.3 MB of script; the home needs React, antd's core and the shell
      assert.ok(total < 1_200_000, `the home loads ${total} bytes of script, not the whole app`);
      assert.ok(!scripts.some((s) => /EChart|ConsolePages|Workstation/.test(s.url)), 'no console or workstation code');

      // while the person reads the home, the bottom tabs' pages are fetched: 我的 then opens even with the network gone
      await page.waitForFunction(
        () => performance.getEntriesByType('resource').some((e) => /\/assets\/Settings-/.test(e.name)),
        null,
        { timeout: 15_000 },
      );
      await context.setOffline(true);
      await page.getByRole('navigation', { name: '底部导航' }).getByRole('link', { name: '我的' }).click();
      await page.getByRole('heading', { name: '我的' }).waitFor();
    });
  });

  test('a page whose code does not arrive says so, is reported, and opens after 重新加载', async () => {
    await onPage('phone', async (page) => {
      const blocked = /\/assets\/Settings-[^/]*\.js$/;
      await page.route(blocked, (route) => route.abort('internetdisconnected'));
      const metric = async () =>
        Number(
          (await (await fetch(`${platform.url}/metrics`)).text()).match(
            /web_client_errors_total\{kind="chunk"\} (\d+)/,
          )?.[1] ?? 0,
        );
      const before = await metric();
      await page.goto('/personal');
      await page.getByText('登录后可查看参保状态').waitFor();
      const tabs = page.getByRole('navigation', { name: '底部导航' });
      await tabs.getByRole('link', { name: '我的' }).click();
      await page.getByText('页面未能打开').waitFor();
      await tabs.waitFor(); // the shell stays: the person can still use the tabs
      await checkA11y(page, 'page-load-failed');
      await shot(page, 'page-load-failed');
      for (let i = 0; i < 50 && (await metric()) === before; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await metric(), before + 1, 'the platform counts the failed page');
      // moving on to another page works without a reload
      await tabs.getByRole('link', { name: '首页' }).click();
      await page.getByText('登录后可查看参保状态').waitFor();

      await tabs.getByRole('link', { name: '我的' }).click();
      await page.getByText('页面未能打开').waitFor();
      await page.unroute(blocked);
      await page.getByRole('button', { name: '重新加载' }).click();
      await page.getByRole('heading', { name: '我的' }).waitFor();
    });
  });

  test('a page keeps what was typed when the window turns from desktop to phone width and back', async () => {
    // a clerk narrowing the window, a tablet turned, a browser re-measuring for a full-page screenshot: the frame
    // changes between side menu and bottom bar, the page inside it must not start over
    await onPage('desktop', async (page) => {
      await page.goto('/personal/register');
      const name = page.getByLabel('真实姓名');
      await name.fill('张三丰');
      const tabbar = page.getByRole('navigation', { name: '底部导航' });
      await page.setViewportSize({ width: 390, height: 844 });
      await tabbar.waitFor();
      assert.equal(await name.inputValue(), '张三丰', 'kept at phone width');
      await page.setViewportSize({ width: 1366, height: 900 });
      await tabbar.waitFor({ state: 'detached' });
      await page.screenshot({ fullPage: true });
      assert.equal(await name.inputValue(), '张三丰', 'kept at desktop width and through a full-page screenshot');
    });
  });

  test('an address no page answers says so inside its portal and leads back to its home', async () => {
    await onPage('phone', async (page) => {
      for (const portal of ['personal', 'unit', 'institution', 'console']) {
        await page.goto(`/${portal}/no-such-page/1`);
        await page.getByText('页面不存在', { exact: true }).waitFor();
        await page.getByText('东湖市医疗保障局').first().waitFor(); // inside the portal's shell, not a blank page
        await settled(page);
        const current = page.getByRole('navigation', { name: '底部导航' }).locator('[aria-current="page"]');
        assert.equal(await current.count(), 0, 'no tab claims to be this page');
        await checkA11y(page, `/${portal}/no-such-page/1`);
        await page.getByRole('button', { name: '返回首页' }).click();
        await page.waitForURL((u) => u.pathname === `/${portal}`);
      }
      await shot(page, 'not-found');
    });
  });

  test('the login page shows the typed password on request, and hides it again', async () => {
    const context = await newContext(browser, 'phone', platform.url);
    const page = await context.newPage();
    try {
      await page.goto('/login?portal=personal&return=%2Fpersonal');
      const password = page.locator('#password');
      await password.fill('Demo@2024pw');
      await page.getByRole('button', { name: '显示密码' }).click();
      assert.equal(await password.getAttribute('type'), 'text');
      assert.equal(await password.inputValue(), 'Demo@2024pw');
      await shot(page, 'login-password-shown');
      await page.getByRole('button', { name: '隐藏密码' }).click();
      assert.equal(await password.getAttribute('type'), 'password');
      // every login method's page passes axe-core (they are server-rendered, outside the web app)
      const methods = await page.locator('nav.tabs a').allTextContents();
      assert.ok(methods.length >= 4, methods.join('、'));
      for (const method of methods) {
        await page.locator('nav.tabs a', { hasText: method }).click();
        await page.locator('nav.tabs a.on', { hasText: method }).waitFor();
        await checkA11y(page, `login page: ${method}`);
      }
    } finally {
      await context.close();
    }
  });

  /** Signs the demo person in through the real login page and waits until the insurance page's calls are done. */
  const signInToInsurance = async (page: Page) => {
    // the user center's demo person (see its README): mobile 13800000001, password Demo@2024pw
    await page.goto('/login?portal=personal&return=%2Fpersonal%2Finsurance');
    await page.locator('#loginId').fill('13800000001');
    await page.locator('#password').fill('Demo@2024pw');
    await page.getByRole('button', { name: '登录', exact: true }).first().click();
    await page.waitForURL(/\/personal\/insurance/);
    await page.waitForLoadState('networkidle'); // the page's own calls are done before its token is spoiled
  };
  const storedSession = async (page: Page) =>
    JSON.parse((await page.evaluate(() => sessionStorage.getItem('yibao.session'))) ?? 'null') as {
      accessToken: string;
      refreshToken?: string;
    } | null;
  /** The insurance call of a page answered 200 with an access token other than the spoiled one. */
  const insuranceAnswered = (page: Page, spoiled: string) =>
    page.waitForResponse(
      (r) =>
        r.url().endsWith('/api/personal/insurance') &&
        r.status() === 200 &&
        r.request().headers().authorization !== `Bearer ${spoiled}`,
    );

  test('tabs holding one sign-in (a duplicated tab, a restored one) refresh it once, and none is signed out', async () => {
    const context = await newContext(browser, 'desktop', platform.url);
    const refreshes: string[] = [];
    context.on('request', (r) => {
      if (r.url().endsWith('/oidc/token') && (r.postData() ?? '').includes('grant_type=refresh_token'))
        refreshes.push(r.postData() ?? '');
    });
    /** A tab that starts with a copy of this session (what duplicating a tab does), its access token spoiled. */
    const tabWith = async (copy: object) => {
      const tab = await context.newPage();
      await tab.addInitScript(
        (s) => {
          if (!sessionStorage.getItem('yibao.session')) sessionStorage.setItem('yibao.session', s);
        },
        JSON.stringify({ ...copy, accessToken: `${(copy as { accessToken: string }).accessToken}x` }),
      );
      return tab;
    };
    try {
      const a = await context.newPage();
      await signInToInsurance(a);
      const first = (await storedSession(a))!;
      const b = await tabWith(first);
      await a.evaluate(() => {
        const s = JSON.parse(sessionStorage.getItem('yibao.session')!);
        sessionStorage.setItem('yibao.session', JSON.stringify({ ...s, accessToken: `${s.accessToken}x` }));
      });
      // both tabs find their access token refused at once and refresh
      const spoiled = `${first.accessToken}x`;
      const answered = Promise.all([insuranceAnswered(a, spoiled), insuranceAnswered(b, spoiled)]);
      await Promise.all([a.reload(), b.goto('/personal/insurance')]);
      await answered;
      const [sa, sb] = [await storedSession(a), await storedSession(b)];
      assert.equal(refreshes.length, 1, 'one refresh token spent, once');
      assert.ok(sa?.refreshToken && sa.refreshToken !== first.refreshToken, 'rotated');
      assert.equal(sb?.refreshToken, sa.refreshToken, 'the other tab took the rotated session');

      // a tab restored later with the first (spent) refresh token asks the others instead of spending it again
      const c = await tabWith(first);
      const restored = insuranceAnswered(c, `${first.accessToken}x`);
      await c.goto('/personal/insurance');
      await restored;
      assert.equal(refreshes.length, 1, 'the spent refresh token was not sent again');
      assert.equal((await storedSession(c))?.refreshToken, sa.refreshToken);

      // the sign-in is intact at the server: the current refresh token still works
      const res = await fetch(`${platform.url}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: sa.refreshToken,
          client_id: 'portal-personal',
        }),
      });
      assert.equal(res.status, 200, await res.text());
    } finally {
      await context.close();
    }
  });

  test('real login: an expired access token is refreshed once; logout ends the SSO session too', async () => {
    await onPage('desktop', async (page) => {
      const session = () => storedSession(page);
      await signInToInsurance(page);
      const first = await session();
      assert.ok(first?.refreshToken, 'the portal holds a refresh token (offline_access)');

      // the access token stops being accepted: the page refreshes once (rotation) and the call succeeds
      await page.evaluate(() => {
        const s = JSON.parse(sessionStorage.getItem('yibao.session')!);
        sessionStorage.setItem('yibao.session', JSON.stringify({ ...s, accessToken: `${s.accessToken}x` }));
      });
      const refreshed = page.waitForRequest(
        (r) => r.url().endsWith('/oidc/token') && (r.postData() ?? '').includes('grant_type=refresh_token'),
      );
      const insurance = insuranceAnswered(page, `${first.accessToken}x`);
      await page.reload();
      await refreshed;
      await insurance;
      const second = await session();
      assert.ok(second && second.accessToken !== `${first.accessToken}x`, 'a fresh access token');
      assert.notEqual(second.refreshToken, first.refreshToken, 'the refresh token rotated');
      await shot(page, 'refreshed');

      // 退出 in the portal header: RP-initiated logout at the authentication center, back to the portal signed out
      await page.getByRole('button', { name: /^退\s*出$/ }).click();
      await page.getByText('确定要退出统一身份认证吗？').waitFor();
      await page.getByRole('button', { name: '退出登录' }).click();
      await page.waitForURL((u) => u.pathname === '/personal');
      assert.equal(await session(), null, 'no session left in the portal');
      // signing in again asks for credentials: the SSO session is over
      await page.goto('/personal/insurance');
      await page.getByRole('button', { name: '统一身份认证登录' }).click();
      await page.locator('#loginId').waitFor();
      assert.match(new URL(page.url()).pathname, /^\/oidc\/interaction\//);
      // the refresh token of the ended session no longer works either
      const res = await fetch(`${platform.url}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: second.refreshToken!,
          client_id: 'portal-personal',
        }),
      });
      assert.equal(res.status, 400, 'refresh after logout is refused');
    });
  });

  test('a session whose refresh is refused goes to the login page', async () => {
    const context = await newContext(browser, 'desktop', platform.url);
    await context.addInitScript(() => {
      const session = {
        accessToken: 'expired.access.token',
        refreshToken: 'no-such-refresh-token',
        kind: 'person',
        subject: '00000000-0000-4000-8000-000000000000',
        regionCode: '990100',
        portal: 'personal',
      };
      if (!sessionStorage.getItem('yibao.session')) sessionStorage.setItem('yibao.session', JSON.stringify(session));
    });
    const page = await context.newPage();
    try {
      await page.goto('/personal/insurance');
      await page.locator('#loginId').waitFor();
      assert.match(new URL(page.url()).pathname, /^\/oidc\/interaction\//);
    } finally {
      await context.close();
    }
  });

  test('a region chosen by ?region= shows that region’s branding', async () => {
    await onPage('desktop', async (page) => {
      await page.goto('/?region=980100');
      await settled(page);
      await page.getByText('北原市医疗保障局').first().waitFor();
      await shot(page, 'landing-980100');
    });
  });
});
