/**
 * The personal hall as people use it, in both demo regions, at phone and desktop widths: home (region branding and
 * enabled services), my insurance, my account (balance, ledger with filters), 我的 (settings; on a phone the way to
 * profile and security, and signed out to login and registration, by tapping), and the "not insured" empty state.
 * The person is signed in with a platform-minted token (see support/inprocess.ts); the pages read the real reference
 * core zone through the personal center.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator } from 'playwright-core';
import { createTestPerson } from '../server/src/centers/user/testing.ts';
import { service } from '../server/src/platform/context.ts';
import { residentIdCheckChar } from '../server/src/platform/privacy/index.ts';
import { checkA11y, launchBrowser, newContext, screenshots, settled, type ViewportName } from './support/index.ts';
import { type InProcessPlatform, signedInPage, startInProcessPlatform } from './support/inprocess.ts';

const rid = (first17: string) => `${first17}${residentIdCheckChar(first17)}`;
/** Demo insured persons of the reference core zone's seed (server/src/integration/core-zone/reference/demo-persons.ts). */
const REGIONS = [
  {
    code: '990100',
    brand: '东湖市医疗保障局',
    slogan: '东湖医保 · 掌上办、一次办',
    person: { name: '张伟', residentId: rid('99010219850312013'), mobile: '19912340001' },
  },
  {
    code: '980100',
    brand: '北原市医疗保障局',
    slogan: '北原医保 · 就近办、马上办',
    person: { name: '赵磊', residentId: rid('98010219760430017'), mobile: '19912340002' },
  },
];

/** Big enough to tap: at least 44 × 44 CSS pixels (WCAG 2.5.5, Apple/Android guidance). */
async function assertTouchTarget(target: Locator, name: string) {
  // a tab switch is a client-side navigation: the page may still be rendering when the URL has changed
  await target.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
  const box = await target.boundingBox();
  assert.ok(box, `${name} is visible`);
  assert.ok(box.height >= 44 && box.width >= 44, `${name} is a large touch target (${box.width}×${box.height})`);
}

describe('personal hall (e2e)', () => {
  let env: InProcessPlatform;
  let browser: Browser;
  const shot = screenshots('personal');
  const accounts = new Map<string, { id: string; name: string; regionCode: string }>();
  before(async () => {
    [env, browser] = await Promise.all([startInProcessPlatform(), launchBrowser()]);
    const users = service(env.platform.ctx, 'user');
    for (const r of REGIONS) {
      // the demo seed may already hold a hall account for this demo person (张伟 in 990100)
      const p =
        (await users.findPersonByResidentId(r.code, r.person.residentId)) ??
        (await users.createPerson({ regionCode: r.code, ...r.person, password: 'Yibao@2026pass' }));
      accounts.set(r.code, { id: p.id, name: p.name, regionCode: r.code });
    }
    const stranger = await users.createPerson({
      regionCode: '990100',
      name: '钱多多',
      residentId: rid('99010219990101123'),
      mobile: '19912340009',
      password: 'Yibao@2026pass',
    });
    accounts.set('stranger', { id: stranger.id, name: stranger.name, regionCode: '990100' });
  });
  after(async () => {
    await browser?.close();
    await env?.close();
  });

  for (const region of REGIONS) {
    for (const viewport of ['phone', 'desktop'] as ViewportName[]) {
      test(`${region.code} at ${viewport} width: home, my insurance, my account, settings`, async () => {
        const { context, page, errors } = await signedInPage(browser, viewport, env, accounts.get(region.code)!);
        try {
          await page.goto('/personal');
          await settled(page);
          await page.getByText(region.slogan).waitFor();
          await page.getByText(`您好，${region.person.name}`).waitFor();
          await page.getByText('正常参保').first().waitFor();
          const homeBalance = (await page.getByTestId('home-balance').textContent()) ?? '';
          assert.match(homeBalance, /^¥[\d,]+\.\d{2}$/, 'the balance is shown in yuan');
          await checkA11y(page, `/personal ${region.code}`);
          await shot(page, `home-${region.code}`);
          if (viewport === 'phone') {
            const tabbar = page.getByRole('navigation', { name: '底部导航' });
            assert.ok((await tabbar.getByRole('link').count()) >= 3, 'the phone has a bottom navigation');
          } else {
            // two columns on a PC: the summary sits beside the services, not under them
            const services = await page.getByRole('list', { name: '服务列表' }).boundingBox();
            const summary = await page.getByText('我的医保').boundingBox();
            assert.ok(services && summary && summary.x > services.x + services.width / 2, 'two-column layout');
          }

          await page.getByRole('link', { name: '我的参保' }).first().click();
          await settled(page);
          await page.getByText('职工基本医疗保险').first().waitFor();
          await page.getByText(region.brand).first().waitFor();
          const masked = await page
            .getByText(/\d{6}\*{8}[\dX]{4}/)
            .first()
            .textContent();
          assert.ok(!(masked ?? '').includes(region.person.residentId), 'the resident ID is masked');
          await checkA11y(page, `/personal/insurance ${region.code}`);
          await shot(page, `insurance-${region.code}`);

          await page.goto('/personal/account');
          await settled(page);
          const balance = (await page.getByTestId('account-balance').textContent()) ?? '';
          assert.equal(balance, homeBalance, 'the account page and the home page agree');
          const ledger = page.getByTestId('ledger');
          await ledger.getByText('缴费划入').first().waitFor();
          await checkA11y(page, `/personal/account ${region.code}`);
          await shot(page, `account-${region.code}`);
          // filter: only the opening balance (the page keeps the rows it has until the filtered ones arrive)
          const filtered = page.waitForResponse(
            (r) => r.url().includes('/api/personal/account/ledger?') && r.url().includes('kind='),
          );
          // under load the first click may land while the select re-renders: open it again if no list appeared
          const option = page.getByTitle('期初余额');
          await page.locator('#ledger-kind').click();
          await option.waitFor({ timeout: 5_000 }).catch(() => page.locator('#ledger-kind').click());
          await option.click({ timeout: 10_000 });
          const answer = await filtered;
          assert.equal(answer.status(), 200, `the filtered ledger: ${await answer.text()}`);
          await settled(page);
          await ledger.getByText('缴费划入').first().waitFor({ state: 'detached' });
          assert.ok((await ledger.getByText('期初余额').count()) >= 1, 'the opening entry stays');
          await page.keyboard.press('Escape');
          await shot(page, `account-filtered-${region.code}`);

          await page.goto('/personal/settings');
          await settled(page);
          await page.getByRole('button', { name: '退出登录' }).waitFor();
          await checkA11y(page, `/personal/settings ${region.code}`);
          await shot(page, `settings-${region.code}`);

          if (viewport === 'phone') {
            // on a phone, profile and security are reached by tapping: 我的 (bottom tab) → a large row
            for (const [label, path, title] of [
              ['个人资料', '/personal/profile', '个人资料'],
              ['账号安全', '/personal/security', '账号安全'],
            ] as const) {
              await page.goto('/personal');
              await settled(page);
              await page.getByRole('navigation', { name: '底部导航' }).getByRole('link', { name: '我的' }).tap();
              await page.waitForURL(/\/personal\/settings$/);
              const row = page.getByRole('navigation', { name: '账号' }).getByRole('link', { name: label });
              await assertTouchTarget(row, label);
              await row.tap();
              await page.waitForURL((u) => u.pathname === path);
              await page.getByRole('heading', { name: title }).waitFor();
            }
            await settled(page);
            await checkA11y(page, `/personal/security ${region.code}`);
          }
          assert.deepEqual(errors, []);
        } finally {
          await context.close();
        }
      });
    }
  }

  test('signed out on a phone: registration is reached by tapping (home, and the 我的 tab)', async () => {
    const context = await newContext(browser, 'phone', env.url);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto('/personal');
      await settled(page);
      const fromHome = page.getByRole('link', { name: '注册账号' });
      await assertTouchTarget(fromHome, '首页 注册账号');
      await fromHome.tap();
      await page.waitForURL((u) => u.pathname === '/personal/register');
      await page.getByRole('heading', { name: '个人注册' }).waitFor();

      await page.goto('/personal');
      await settled(page);
      await page.getByRole('navigation', { name: '底部导航' }).getByRole('link', { name: '我的' }).tap();
      await page.waitForURL(/\/personal\/settings$/);
      // the address changes at the tap, the page once its code is in: until then the home (with its own 登录) shows
      await page.getByRole('heading', { name: '我的' }).waitFor();
      await settled(page);
      const login = page.getByRole('main').getByRole('link', { name: /登\s*录/ });
      await assertTouchTarget(login, '我的 登录');
      assert.match((await login.getAttribute('href')) ?? '', /^\/login\?portal=personal/);
      await checkA11y(page, '/personal/settings (signed out)');
      await shot(page, 'settings-signed-out');
      const register = page.getByRole('main').getByRole('link', { name: '注册账号' });
      await assertTouchTarget(register, '我的 注册账号');
      await register.tap();
      await page.waitForURL((u) => u.pathname === '/personal/register');
      await page.getByLabel('真实姓名').waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the two regions differ in branding and enabled services', async () => {
    const colors: string[] = [];
    for (const region of REGIONS) {
      const res = await fetch(`${env.url}/api/regions/${region.code}/config`);
      const config = (await res.json()) as { brandColor: string; enabledServices: string[] };
      colors.push(config.brandColor);
      assert.equal(config.enabledServices.includes('unit'), region.code === '990100');
    }
    assert.notEqual(colors[0], colors[1]);
  });

  test('a person the core zone does not know sees a plain-Chinese empty state', async () => {
    const { context, page } = await signedInPage(browser, 'phone', env, accounts.get('stranger')!);
    const asked: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/personal/insurance') asked.push(r.url());
    });
    try {
      await page.goto('/personal/insurance');
      await settled(page);
      await page.getByText('未查询到您的参保信息').waitFor();
      // a refusal is an answer: not asked again (a retry kept the page loading a second longer)
      assert.equal(asked.length, 1, asked.join(', '));
      await checkA11y(page, '/personal/insurance (not insured)');
      await shot(page, 'not-insured');
    } finally {
      await context.close();
    }
  });

  test('用码记录 lists where and at which window the code was used, and says what to do about a stranger scan', async () => {
    // 张伟's voucher and its two weeks of scans come from the demo seed
    const { context, page, errors } = await signedInPage(browser, 'phone', env, accounts.get('990100')!);
    try {
      await page.goto('/personal/evoucher/uses');
      await settled(page);
      const rows = page.locator('.ant-list-item');
      await rows.first().waitFor();
      assert.equal(await rows.count(), 9);
      await rows.filter({ hasText: '东湖市第一人民医院' }).filter({ hasText: '门诊收费 5 号窗' }).waitFor();
      await checkA11y(page, '/personal/evoucher/uses');
      await shot(page, 'evoucher-uses');
      await page.getByRole('link', { name: '挂失医保码' }).click();
      await page.waitForURL((u) => u.pathname === '/personal/evoucher');
      await page.getByRole('button', { name: /挂\s*失/ }).waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('医保移动支付 keeps the chosen tab across a reload (in the address, not a step of the history)', async () => {
    const { context, page, errors } = await signedInPage(browser, 'phone', env, accounts.get('990100')!);
    try {
      await page.goto('/personal/payments');
      const tab = page.locator('.ant-segmented-item-selected');
      const steps = () => page.evaluate(() => history.length);
      const before = await steps();
      await page.getByText('支付记录', { exact: true }).click();
      await page.waitForURL((u) => u.searchParams.get('tab') === 'history');
      assert.equal(await steps(), before, 'choosing a tab is not a step of its own in the history');
      await page.reload();
      await page.getByRole('heading', { name: '医保移动支付' }).waitFor();
      assert.equal(await tab.textContent(), '支付记录', 'the tab survives a reload');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('支付记录 holds 张伟’s demo history, in China time on a phone set to another zone, naming only legs refunded', async () => {
    const zhang = accounts.get('990100')!;
    const { context, page, errors } = await signedInPage(browser, 'phone', env, zhang, 'personal', {
      timezoneId: 'America/New_York',
    });
    try {
      await page.goto('/personal/payments?tab=history');
      const payments = env.platform.ctx.services.payment!;
      const history = await payments.ordersOfPerson('990100', zhang.id, 'history');
      const refunded = history.find((o) => o.institutionOrderNo === 'DEMO-HIST-0003');
      assert.ok(refunded, 'the demo seed made 张伟 a refunded payment');
      const card = page.locator('.ant-card').filter({ hasText: '已退款' });
      const china = new Date(refunded.createdAt).toLocaleString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' });
      await card.getByText(china, { exact: true }).waitFor();
      const text = (await card.textContent()) ?? '';
      assert.ok(text.includes(`已退：自费 ¥${(refunded.refundedCash / 100).toFixed(2)}`), text);
      assert.equal(refunded.refundedFund, 0, 'the demo refund is the cash leg only (the fund paid nothing)');
      assert.ok(!text.includes('统筹 ¥0.00 ·'), 'a leg that returned nothing is not listed');
      assert.ok((await page.locator('.ant-card').count()) >= 3, 'the account payment, the cash payment, the refund');
      await shot(page, 'payment-history');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('账号安全 shows when each device signed in, in China time on a phone set to another zone', async () => {
    const person = await createTestPerson(env.platform, { name: '孙时区' });
    const context = await newContext(browser, 'phone', env.url, { timezoneId: 'America/New_York' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      const signedInAt = Date.now();
      await page.goto('/login?portal=personal&return=%2Fpersonal%2Fsecurity');
      await page.locator('#loginId').fill(person.mobile);
      await page.locator('#password').fill(person.password);
      await page.getByRole('button', { name: '登录', exact: true }).first().click();
      await page.waitForURL((u) => u.pathname === '/personal/security');
      const current = page.locator('.ant-list-item').filter({ hasText: '当前设备' });
      const text = (await current.textContent({ timeout: 30_000 })) ?? '';
      // China time is UTC+8 all year: "2026/11/28 05:26"
      const minute = (at: number) =>
        new Date(at + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ').replaceAll('-', '/');
      const around = [signedInAt - 60_000, signedInAt, Date.now()].map(minute);
      assert.ok(
        around.some((m) => text.includes(`登录于 ${m}`)),
        `${text} — expected China time, one of ${around}`,
      );
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the e-voucher pages before activation offer activation, not a fault to retry', async () => {
    const { context, page } = await signedInPage(browser, 'phone', env, accounts.get('stranger')!);
    try {
      for (const path of ['/personal/evoucher/uses', '/personal/evoucher/authorizations', '/personal/evoucher/code']) {
        await page.goto(path);
        await settled(page);
        await page.getByText('尚未激活医保电子凭证').waitFor();
        assert.equal(await page.getByText('暂时无法获取数据').count(), 0, `${path}: no error state`);
        assert.equal(await page.getByRole('button', { name: '新增授权' }).count(), 0, `${path}: nothing to grant yet`);
      }
      await checkA11y(page, '/personal/evoucher/code (not activated)');
      await page.getByRole('button', { name: '去激活' }).click();
      await page.waitForURL((u) => u.pathname === '/personal/evoucher');
      await page.getByRole('button', { name: '立即激活' }).waitFor();
    } finally {
      await context.close();
    }
  });
});
