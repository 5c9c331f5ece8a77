/**
 * The staff console as the super-admin sees it: sign in through the unified authentication (password), then open
 * every page of the side menu — each renders in Chinese without an error state or an uncaught exception, and passes
 * axe-core (serious/critical). Screenshots of every page are kept as artifacts.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createTestPerson, randomResidentId } from '../server/src/centers/user/testing.ts';
import { DEMO_PERSONS } from '../server/src/integration/core-zone/index.ts';
import { service } from '../server/src/platform/context.ts';
import { sql } from '../server/src/platform/db/index.ts';
import { enqueue } from '../server/src/platform/jobs.ts';
import {
  ARTIFACTS,
  a11yReport,
  checkA11y,
  findA11yViolations,
  launchBrowser,
  newContext,
  reportingPages,
  screenshots,
  settled,
} from './support/index.ts';
import { type InProcessPlatform, sandboxSmsCode, startInProcessPlatform } from './support/inprocess.ts';

/** Types a login id and password into the unified authentication's login page and presses 登录. */
async function submitLogin(page: Page, loginId: string, password: string): Promise<void> {
  await page.locator('#loginId').fill(loginId);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: '登录', exact: true }).first().click();
}

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

  /** The password login of the unified authentication into the console. */
  async function signIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto('/login?portal=console&return=%2Fconsole');
    await submitLogin(page, username, password);
    await page.waitForURL((u) => u.pathname === '/console');
  }

  /** As the super-admin seeded from configuration. */
  const signInAsSuperAdmin = (page: Page) =>
    signIn(page, env.platform.ctx.config.SUPERADMIN_USERNAME, env.platform.ctx.config.SUPERADMIN_PASSWORD);

  /**
   * A new staff member of 东湖市 with one role, signed in to the console on a desktop; `refused` collects every
   * request the console made that the server refused (403).
   */
  async function signedInWithRole(role: string, username: string, displayName: string, mobile?: string) {
    const password = 'Staff@2026pw';
    await service(env.platform.ctx, 'user').createStaff({
      regionCode: '990100',
      username,
      password,
      displayName,
      roles: [role],
      mobile,
    });
    const context = await newContext(browser, 'desktop', env.url);
    const page = await context.newPage();
    const refused: string[] = [];
    page.on('response', (r) => {
      if (r.status() === 403) refused.push(new URL(r.url()).pathname);
    });
    await signIn(page, username, password);
    return { context, page, refused };
  }

  // ~28 pages, each rendered, checked by axe-core and photographed: ~100 s alone on a 2-core machine, more under load
  test('the super-admin opens every page of the menu', { timeout: 480_000 }, async (t) => {
    const context = await newContext(browser, 'desktop', env.url);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await signInAsSuperAdmin(page);
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

  test('查看明文: an officer steps up with an SMS code to the mobile kept for alerts, then reads the record (audited)', async () => {
    const person = await createTestPerson(env.platform, { name: '孙明文' });
    const { context, page } = await signedInWithRole('user-admin', 'unmask_e2e', '信息核查员', '13900007777');
    const openPerson = async () => {
      await page.goto('/console/user/persons');
      await page.getByPlaceholder('身份证号 / 手机号（精确）、用户名或姓名开头').fill(person.mobile);
      await page.keyboard.press('Enter');
      await page.getByRole('row').filter({ hasText: '孙*' }).click();
      await page.getByRole('dialog', { name: '个人用户详情' }).getByRole('button', { name: '查看明文' }).click();
      const ask = page.getByRole('dialog', { name: '查看明文' });
      await ask.getByLabel('查看用途').fill('核对参保登记信息');
      await ask.getByRole('button', { name: /查\s*看/ }).click();
    };
    try {
      await reportingPages({ console: page }, async () => {
        await openPerson();
        await page.getByRole('dialog', { name: '需要二次认证' }).getByRole('button', { name: '去验证' }).click();
        await page.getByText('需要进一步验证身份').waitFor();
        await page.getByText('查看个人信息明文需要更高等级的身份认证（第二因素）。').waitFor();
        await page.getByText('验证码将发送至 139****7777').waitFor();
        const since = new Date(Date.now() - 1000);
        await page.getByRole('button', { name: '获取验证码' }).click();
        const code = await sandboxSmsCode(env.platform, '990100', '13900007777', since, { drain: true });
        await page.getByLabel('短信验证码').fill(code);
        await page.getByRole('button', { name: '验证', exact: true }).click();
        // back to the same record, which shows in plain with the purpose given before the step-up
        await page.waitForURL(
          (u) => u.pathname === '/console/user/persons' && u.searchParams.get('person') === person.id,
        );
        const drawer = page.getByRole('dialog', { name: '个人用户详情' });
        await drawer.getByText('正在显示明文，本次查看已记入审计日志').waitFor();
        await drawer.getByText(person.residentId).waitFor();
        await shot(page, 'person-unmasked');
      });
      const audits = await env.platform.ctx.db.q<{ purpose: string }>(sql`select purpose from audit_event
        where action = 'user.person.unmask' and target_id = ${person.id}`);
      assert.deepEqual(
        audits.map((a) => a.purpose),
        ['核对参保登记信息'],
        'one read, audited with its purpose',
      );
    } finally {
      await context.close();
    }
  });

  test('a clerk whose role only searches is offered only that, and is told what a page needs', async () => {
    const person = await createTestPerson(env.platform, { name: '钱查询' });
    const { context, page, refused } = await signedInWithRole('clerk', 'counter_e2e', '窗口经办员'); // user:read
    try {
      await page.getByText('您好，窗口经办员').waitFor();
      await settled(page);
      assert.deepEqual(await page.getByRole('menuitem').allTextContents(), ['首页', '个人用户', '单位', '经办人']);
      await shot(page, 'clerk-home');

      await page.goto('/console/user/persons');
      await page.getByPlaceholder('身份证号 / 手机号（精确）、用户名或姓名开头').fill(person.mobile);
      await page.keyboard.press('Enter');
      await page.getByRole('row').filter({ hasText: '钱*' }).click();
      const drawer = page.getByRole('dialog', { name: '个人用户详情' });
      await drawer.getByText('您的角色可以查询，不能查看明文、停用或重置账号。').waitFor();
      for (const action of ['查看明文', '停用', '重置密码'])
        assert.equal(await drawer.getByRole('button', { name: action }).count(), 0, action);
      assert.equal(await drawer.getByText('登录中的设备').count(), 0, 'sessions need auth:session');
      await page.goto('/console/user/units');
      await page.getByRole('table').waitFor();
      assert.equal(await page.getByRole('button', { name: '窗口登记单位' }).count(), 0);
      assert.deepEqual(refused, [], 'nothing offered was refused');

      // an address outside the role (a bookmark, a colleague's link) says what it needs instead of failing
      await page.goto('/console/payment/orders');
      await page.getByText('无权访问此页面').waitFor();
      await page.getByText(/「支付订单」需要权限 payment:read/).waitFor();
      await shot(page, 'clerk-forbidden');
      assert.deepEqual(refused, [], 'the page asked for nothing it would be refused');
    } finally {
      await context.close();
    }
  });

  test('an auditor sees the audit chain check of 审计与密钥, not the key rotation that needs ops permissions', async () => {
    const { context, page, refused } = await signedInWithRole('auditor', 'auditor_e2e', '审计员'); // user:read, audit:read
    try {
      // when the permissions cannot be read the console says so and tries again on request, instead of loading forever
      const me = '**/api/user/admin/me';
      await page.route(me, (route) => route.fulfill({ status: 503, body: '' }));
      await page.reload();
      await page.getByText('暂时无法确认您的权限').waitFor();
      await page.unroute(me);
      await page.getByRole('button', { name: /重\s*试/ }).click();
      await page.getByText('您好，审计员').waitFor();
      await page.getByRole('menuitem', { name: '审计与密钥' }).click();
      await page.getByRole('button', { name: '校验本统筹区审计链' }).click();
      await page
        .getByText(/哈希链完整|尚无审计记录/)
        .first()
        .waitFor();
      assert.equal(await page.getByText(/个人数据加密密钥/).count(), 0);
      assert.equal(await page.getByRole('menuitem', { name: '任务队列' }).count(), 0);
      assert.deepEqual(refused, []);
    } finally {
      await context.close();
    }
  });

  test('the duty overview counts abnormal payment orders and opens them filtered; the filter survives a reload', async () => {
    // one demo order found abnormal (as recovery leaves an order it cannot bring to a final state)
    const [order] = await env.platform.ctx.db.q<{ id: string }>(sql`update payment_order set status = 'abnormal'
      where region_code = '990100' and institution_order_no like 'DEMO-PAY-0001-%' returning id`);
    assert.ok(order, 'the demo seed holds its pending bill');
    const context = await newContext(browser, 'desktop', env.url);
    const page = await context.newPage();
    try {
      await signInAsSuperAdmin(page);
      const card = page.locator('.ant-card', { hasText: '异常支付订单' });
      await card.getByText('待人工处理').waitFor();
      assert.equal((await card.locator('.ant-statistic-content').textContent())?.trim(), '1');
      const listed = page.waitForResponse((r) => r.url().includes('/api/payment/admin/orders?'));
      await card.getByRole('link', { name: '查看' }).click();
      assert.match((await listed).url(), /status=abnormal/);
      await page.getByRole('cell', { name: order.id }).waitFor();
      await page.reload();
      await page.getByRole('cell', { name: order.id }).waitFor();
      assert.equal(await page.getByRole('row').count(), 2, 'the header and the one abnormal order');
      await page.locator('.ant-select', { hasText: '异常' }).waitFor();
    } finally {
      await context.close();
      await env.platform.ctx.db.q(sql`update payment_order set status = 'pre_settled'
        where region_code = '990100' and id = ${order.id}`);
    }
  });

  test('the duty overview tells a backlog from jobs scheduled for later; 任务队列 shows each queue’s wait', async () => {
    // no workers run here: a due job waits; one scheduled for tomorrow is not a backlog
    const due = new Date(Date.now() - 5 * 60_000);
    const later = new Date(Date.now() + 86_400_000);
    await enqueue(env.platform.ctx.db, 'e2e.backlog', {}, { runAt: due });
    await enqueue(env.platform.ctx.db, 'e2e.later', {}, { runAt: later });
    const context = await newContext(browser, 'desktop', env.url);
    const page = await context.newPage();
    try {
      await signInAsSuperAdmin(page);
      const card = page.locator('.ant-card', { hasText: '任务队列' });
      await card.getByText(/最久已等待 \d+ 分钟，请检查任务执行进程/).waitFor();
      await card.getByText(/另有 \d+ 个定时任务未到执行时间/).waitFor();
      await card.getByRole('link', { name: '查看' }).click();
      // 队列 · 待执行 · 最久等待 · 定时 · 执行中 · 已完成 · 死信
      const cells = async (queue: string) => {
        const row = page.getByRole('row', { name: new RegExp(queue.replace('.', '\\.')) });
        await row.waitFor();
        return row.getByRole('cell').allTextContents();
      };
      const [, dueCount, wait, scheduledCount] = await cells('e2e.backlog');
      assert.deepEqual([dueCount, scheduledCount], ['1', '0']);
      assert.match(wait, /^[56] 分钟$/, 'waiting since five minutes ago');
      assert.deepEqual((await cells('e2e.later')).slice(0, 4), ['e2e.later', '0', '—', '1']);
      // a queue a center registered is named by what it does, its technical name below
      await page
        .getByRole('row', { name: /^支付订单恢复：把中断的订单推进到一致的终态\s*payment\.recover / })
        .waitFor();
    } finally {
      await context.close();
      await env.platform.ctx.db.q(sql`delete from job where queue in ('e2e.backlog', 'e2e.later')`);
    }
  });

  test('支付订单: the timeline says who moved the order; 人工冲正 with a reason returns every leg and is audited', async () => {
    // 张伟's pharmacy purchase, paid in cash at the sandbox cashier by the demo seed
    const payments = env.platform.ctx.services.payment!;
    const { id } = await payments.findByInstitutionOrderNo('990100', 'demo-his', 'DEMO-HIST-0002');
    const paid = await payments.getOrder('990100', id);
    assert.equal(paid.status, 'completed');
    const context = await newContext(browser, 'desktop', env.url);
    const page = await context.newPage();
    try {
      await signInAsSuperAdmin(page);
      await page.goto(`/console/payment/orders?q=${id}`);
      await page.getByRole('cell', { name: id }).click();
      const drawer = page.getByRole('dialog', { name: `订单 ${id}` });
      await drawer.getByText('6202 支付下单').waitFor();
      // who moved it, in words: the institution's channel uploaded, the person chose and paid, the system settled
      await drawer.getByText('机构渠道 demo-his').first().waitFor();
      await drawer.getByText('参保人本人').first().waitFor();
      await drawer.getByText('系统（自动）').first().waitFor();
      await drawer.getByRole('button', { name: '人工冲正' }).click();
      const modal = page.getByRole('dialog', { name: /人工冲正/ });
      await modal.getByRole('button', { name: /确\s*认/ }).click();
      await modal.getByText('请填写原因').waitFor();
      const reason = '患者投诉重复收费，经核实全额冲正';
      await modal.getByLabel('原因（记入审计）').fill(reason);
      await modal.getByRole('button', { name: /确\s*认/ }).click();
      await page.getByText('已提交冲正').waitFor();
      await drawer.locator('.ant-tag', { hasText: '已退款' }).waitFor();
      const row = drawer.getByRole('row', { name: new RegExp(reason) });
      await row.getByText('全额退款').waitFor();
      await row.getByText(/^工作人员 /).waitFor();
      await settled(page);
      await shot(page, 'payment-order-reversed');
      const done = await payments.getOrder('990100', id);
      assert.equal(done.refundedCash, paid.cashPayment);
      assert.equal(done.refundedFund, paid.fundPayment);
      const audited = await env.platform.ctx.db.q<{ detail: { reason: string; cash: number } }>(sql`select detail
        from audit_event where region_code = '990100' and action = 'payment.manual_reversal' and target_id = ${id}`);
      assert.equal(audited.length, 1, 'one audit entry for the reversal');
      assert.equal(audited[0]!.detail.reason, reason);
      assert.equal(audited[0]!.detail.cash, paid.cashPayment);
    } finally {
      await context.close();
    }
  });

  test('用码统计 charts the demo scans and its refused scans, and states the totals; 近 7 天 counts only the last week', async () => {
    const scans = async (days: number) => {
      const [row] = await env.platform.ctx.db.q<{ n: number }>(sql`select count(*)::int as n from evoucher_use
        where region_code = '990100' and used_at >= now() - make_interval(days => ${days})`);
      return Number(row!.n);
    };
    const [month, week] = [await scans(30), await scans(7)];
    assert.ok(week > 0 && month > week, `the demo scans span more than a week (${week} of ${month})`);
    const context = await newContext(browser, 'phone', env.url);
    const page = await context.newPage();
    try {
      await signInAsSuperAdmin(page);
      await page.goto('/console/evoucher/stats');
      const totals = page.getByTestId('scan-totals');
      await totals.getByText(`近 30 天共 ${month} 次`).waitFor();
      await page
        .getByRole('img', { name: /每日用码量/ })
        .locator('canvas')
        .waitFor();
      assert.ok((await totals.locator('.ant-tag').count()) >= 5, 'each business type with its count');
      // the demo's replayed scan, by reason and institution
      const refused = page.locator('.ant-card').filter({ hasText: '核验被拒（按原因）' });
      await refused.getByRole('img', { name: '每日核验被拒次数（按原因）图表' }).locator('canvas').waitFor();
      await refused.getByText(/近 30 天共 \d+ 次；被拒最多的机构/).waitFor();
      await page.getByLabel('统计天数').click();
      await page.getByTitle('近 7 天').click();
      await totals.getByText(`近 7 天共 ${week} 次`).waitFor();
      await settled(page);
      await shot(page, 'evoucher-stats-phone');
    } finally {
      await context.close();
    }
  });

  test('on a phone every page of the menu is one tap away under 全部功能', async () => {
    const context = await newContext(browser, 'phone', env.url);
    const page = await context.newPage();
    try {
      await signInAsSuperAdmin(page);
      await page.getByRole('button', { name: '全部功能' }).click();
      const drawer = page.getByRole('dialog', { name: '全部功能' });
      const items = drawer.getByRole('menuitem');
      await items.first().waitFor();
      assert.ok((await items.count()) >= 15, 'the whole menu, not just the bottom bar');
      for (const item of await items.all()) {
        const box = await item.boundingBox();
        assert.ok(box && box.height >= 44, `${await item.textContent()}: a touch target of at least 44 px`);
      }
      await settled(page);
      await shot(page, 'menu-drawer-phone');
      await drawer.getByRole('menuitem', { name: '支付订单' }).click();
      await page.waitForURL((u) => u.pathname === '/console/payment/orders');
      await drawer.waitFor({ state: 'hidden' });
      // each order whole on the phone: status, institution and the legs, without scrolling sideways
      const order = page.locator('.ant-list-item').first();
      await order.getByText(/总额 ¥[\d,]+\.\d{2} · 统筹/).waitFor();
      await order.locator('.ant-tag').waitFor();
      const box = await order.boundingBox();
      assert.ok(box && box.x + box.width <= 390, 'within the width of the phone');
      await settled(page);
      await shot(page, 'payment-orders-phone');
      await order.click();
      await page.getByRole('dialog', { name: /^订单 / }).waitFor();
    } finally {
      await context.close();
    }
  });

  test('统筹区配置: the code validity is set per region, kept, and cleared back to the default', async () => {
    const context = await newContext(browser, 'desktop', env.url);
    const page = await context.newPage();
    const stored = async () => (await env.platform.ctx.regions.config('990100')).settings;
    const before = await stored();
    try {
      await signInAsSuperAdmin(page);
      await page.goto('/console/region');
      const ttl = page.getByLabel('医保码有效期（秒）');
      await ttl.fill('45');
      await page.getByRole('button', { name: /保\s*存/ }).click();
      await page.getByText('已保存').waitFor();
      assert.deepEqual((await stored()).evoucher, { qrTtlSeconds: 45 });
      await page.reload();
      assert.equal(await page.getByLabel('医保码有效期（秒）').inputValue(), '45');
      await page.getByLabel('医保码有效期（秒）').fill('');
      await page.getByRole('button', { name: /保\s*存/ }).click();
      await page.getByText('已保存').first().waitFor();
      await page.waitForTimeout(300);
      assert.deepEqual((await stored()).evoucher ?? {}, {}, 'an emptied field goes back to the default');
    } finally {
      await context.close();
      await env.platform.ctx.regions.updateConfig('990100', { settings: before });
    }
  });

  test('a clerk sees where a person is signed in and signs them out on every device', async () => {
    const person = await createTestPerson(env.platform, { name: '赵丢机' });
    const phone = await newContext(browser, 'phone', env.url);
    const desk = await newContext(browser, 'desktop', env.url);
    try {
      const P = await phone.newPage();
      await P.goto('/login?portal=personal&return=%2Fpersonal');
      await submitLogin(P, person.mobile, person.password);
      await P.getByText('您好，赵').waitFor();

      const page = await desk.newPage();
      await signInAsSuperAdmin(page);
      await page.goto('/console/user/persons');
      await page.getByPlaceholder('身份证号 / 手机号（精确）、用户名或姓名开头').fill(person.mobile);
      await page.keyboard.press('Enter');
      // the row opens from the keyboard too: Tab to it, Enter
      await page.getByRole('row').filter({ hasText: '赵*' }).focus();
      await page.keyboard.press('Enter');
      const drawer = page.getByRole('dialog', { name: '个人用户详情' });
      const devices = drawer.locator('.ant-card').filter({ hasText: '登录中的设备' });
      await devices.getByText('个人网厅').waitFor();
      await drawer.locator('.ant-card').filter({ hasText: '登录记录' }).getByText('成功').first().waitFor();
      await shot(page, 'person-sessions');
      await devices.getByRole('button', { name: '全部退出登录' }).click();
      await page.getByRole('button', { name: /确\s*定|OK/ }).click();
      await page.getByText('已在 1 台设备上退出登录').waitFor();
      await devices.getByText('没有登录中的设备').waitFor();

      await P.reload(); // the phone's sign-in is over: the hall sends it to the login page
      await P.waitForURL(/\/oidc\/interaction\//);
    } finally {
      await phone.close();
      await desk.close();
    }
  });

  test('登录监控: a person who mistyped their password is seen locked, unlocked by a clerk, logs in and is told of the failures', async () => {
    const person = await createTestPerson(env.platform, { name: '钱忘记' });
    const phone = await newContext(browser, 'phone', env.url);
    const desk = await newContext(browser, 'desktop', env.url);
    try {
      const P = await phone.newPage();
      await P.goto('/login?portal=personal&return=%2Fpersonal');
      const attempt = (password: string) => submitLogin(P, person.mobile, password);
      for (let i = 0; i < 5; i++) {
        await attempt(`Wrong#Pass${i}`);
        await P.getByRole('alert').getByText('账号或密码错误').waitFor();
      }
      await attempt(person.password);
      await P.getByRole('alert')
        .getByText(/登录失败次数过多/)
        .waitFor();

      const page = await desk.newPage();
      await signInAsSuperAdmin(page);
      // the person's details say why they cannot log in
      await page.goto('/console/user/persons');
      await page.getByPlaceholder('身份证号 / 手机号（精确）、用户名或姓名开头').fill(person.mobile);
      await page.keyboard.press('Enter');
      await page.getByRole('row').filter({ hasText: '钱**' }).click();
      const lock = page
        .getByRole('dialog', { name: '个人用户详情' })
        .locator('.ant-card')
        .filter({ hasText: '登录锁定' });
      await lock.getByText(/暂停至/).waitFor();
      await lock.getByText('连续失败 6 次').waitFor();
      await page.goto('/console');
      const card = page.locator('.ant-card').filter({ hasText: '登录安全（近 24 小时）' });
      await card.getByText('锁定中的账号').waitFor();
      await card.getByRole('link', { name: '查看' }).click();
      await page.getByRole('heading', { name: '登录监控' }).waitFor();
      await page.getByRole('img', { name: '每小时登录成功、失败与被拒绝次数图表' }).waitFor();
      const row = page
        .locator('.ant-card')
        .filter({ hasText: '锁定中的账号' })
        .getByRole('row', { name: /钱\*\*/ });
      await row.getByText(/暂停至/).waitFor();
      await shot(page, 'login-monitor');
      await row.getByRole('button', { name: /解\s*锁/ }).click();
      await page.getByRole('button', { name: /确\s*定|OK/ }).click();
      await page.getByText('已解除锁定，对方可以重新登录').waitFor();
      await row.waitFor({ state: 'detached' });

      await attempt(person.password);
      await P.getByText('您好，钱').waitFor();
      // the hall's home tells them what happened meanwhile: five wrong passwords and the refused sixth
      const notice = P.getByRole('status').filter({ hasText: '自上次登录以来，您的账户有 6 次登录失败' });
      await notice.waitFor();
      await checkA11y(P, 'personal home with the failed-logins notice');
      await notice.getByRole('button', { name: /知\s*道\s*了/ }).click();
      await notice.waitFor({ state: 'detached' });
      await P.reload();
      await P.getByText('您好，钱').waitFor();
      assert.equal(await P.getByText(/次登录失败/).count(), 0, 'dismissed on this device');
      // someone tries again while the person is signed in: the notice comes back
      const other = await (await newContext(browser, 'desktop', env.url)).newPage();
      await other.goto('/login?portal=personal&return=%2Fpersonal');
      await submitLogin(other, person.mobile, 'Wrong#Again1');
      await other.getByRole('alert').getByText('账号或密码错误').waitFor();
      await other.context().close();
      await P.reload();
      await P.getByRole('status').filter({ hasText: '自上次登录以来，您的账户有 7 次登录失败' }).waitFor();
    } finally {
      await phone.close();
      await desk.close();
    }
  });

  test('a staff member whose password is past its age sets a new one on the login page and goes on to the console', async () => {
    const users = service(env.platform.ctx, 'user');
    const staff = await users.createStaff({
      regionCode: '990100',
      username: 'agingclerk02',
      password: 'Aging#Pass2025',
      displayName: '久未改密',
      roles: ['auditor'],
    });
    await env.platform.ctx.db.q(
      sql`update staff_account set password_changed_at = now() - interval '120 days' where id = ${staff.id}`,
    );
    const context = await newContext(browser, 'desktop', env.url);
    try {
      const page = await context.newPage();
      await page.goto('/login?portal=console&return=%2Fconsole');
      await submitLogin(page, 'agingclerk02', 'Aging#Pass2025');
      await page.getByRole('status').getByText('您的密码已使用超过 90 天').waitFor();
      await page.locator('#newPassword').fill('Renewed#Pass2026');
      await page.locator('#confirmPassword').fill('Renewed#Pass2026');
      await page.getByRole('button', { name: '修改密码并登录' }).click();
      await page.waitForURL((u) => u.pathname === '/console');
      assert.equal((await users.getStaff(staff.id)).passwordExpiredAfterDays, undefined);
    } finally {
      await context.close();
    }
  });

  test('工作人员与角色: a new staff member gets an alert address; 设置 adds a mobile; both are shown masked', async () => {
    const context = await newContext(browser, 'desktop', env.url);
    try {
      const page = await context.newPage();
      await signInAsSuperAdmin(page);
      await page.goto('/console/user/staff');
      await page.getByRole('button', { name: '新建工作人员' }).click();
      const create = page.getByRole('dialog', { name: '新建工作人员' });
      await create.getByLabel('用户名').fill('alertclerk03');
      await create.getByLabel('名称').fill('提醒测试');
      await create.getByLabel('初始密码').fill('Start#Pass2026');
      await create.getByLabel('接收提醒的电子邮箱').fill('clerk03@example.gov.cn');
      await create.getByLabel('接收提醒的手机号').fill('1390000');
      await create.getByRole('button', { name: /确\s*定|OK/ }).click();
      await create.getByText('应为 1 开头的 11 位手机号码').waitFor();
      await create.getByLabel('接收提醒的手机号').clear();
      await create.getByRole('button', { name: /确\s*定|OK/ }).click();
      const row = page.getByRole('row').filter({ hasText: 'alertclerk03' });
      await row.getByText('c******@example.gov.cn').waitFor();
      await row.getByRole('button', { name: '设置 alertclerk03 的提醒方式' }).click();
      const contact = page.getByRole('dialog', { name: /安全提醒/ });
      await contact.getByText('当前：c******@example.gov.cn，留空则不变').waitFor();
      await contact.getByLabel('接收提醒的手机号').fill('13900003333');
      await contact.getByRole('button', { name: /保\s*存/ }).click();
      await row.getByText('139****3333，c******@example.gov.cn').waitFor();
      await settled(page);
      await checkA11y(page, 'console-staff-contact');
      const users = service(env.platform.ctx, 'user');
      const staff = await users.findStaffByUsername('alertclerk03');
      assert.deepEqual(await users.getStaffContact(staff!.id), {
        mobile: '13900003333',
        email: 'clerk03@example.gov.cn',
      });
    } finally {
      await context.close();
    }
  });

  test('我的账号: a clerk changes their own password and sets where alerts go; other sign-ins end, this one stays', async () => {
    const { context, page } = await signedInWithRole('clerk', 'selfclerk04', '自助经办');
    const other = await newContext(browser, 'phone', env.url);
    try {
      const phone = await other.newPage();
      await signIn(phone, 'selfclerk04', 'Staff@2026pw');
      await page.getByRole('button', { name: '我的账号' }).click();
      await page.waitForURL((u) => u.pathname === '/console/me');
      // a password 85 days old (of 90): the home page says so, and leads here
      await env.platform.ctx.db.q(sql`update staff_account set password_changed_at = now() - interval '85 days'
        where username = 'selfclerk04'`);
      await page.goto('/console');
      await page.getByText('您的密码将于 5 天后到期').waitFor();
      await page.getByRole('button', { name: '修改密码' }).click();
      await page.waitForURL((u) => u.pathname === '/console/me');
      await page.getByText('selfclerk04').waitFor();
      const sessions = page.locator('.ant-card').filter({ hasText: '登录设备与会话' });
      await sessions.getByText('当前设备').waitFor();
      await sessions.locator('.ant-list-item').nth(1).waitFor();

      const pw = page.locator('.ant-card').filter({ hasText: '修改密码' });
      await pw.getByLabel('原密码').fill('Wrong#Pass2026');
      await pw.getByLabel('新密码', { exact: true }).fill('Mine#Pass2026');
      await pw.getByLabel('确认新密码').fill('Mine#Pass2026');
      await pw.getByRole('button', { name: '修改密码' }).click();
      await pw.getByText('原密码不正确').waitFor();
      await pw.getByLabel('原密码').fill('Staff@2026pw');
      await pw.getByRole('button', { name: '修改密码' }).click();
      await page.getByText('密码已修改，其他设备上的登录已退出').waitFor();
      await page.getByText(/您的密码将于/).waitFor({ state: 'detached' });
      await phone.reload();
      await phone.waitForURL((u) => u.pathname !== '/console', { waitUntil: 'commit' });

      const alerts = page.locator('.ant-card').filter({ hasText: '安全提醒' });
      await alerts.getByLabel('接收提醒的电子邮箱').fill('selfclerk04@example.gov.cn');
      await alerts.getByLabel('当前密码').fill('Staff@2026pw');
      await alerts.getByRole('button', { name: /保\s*存/ }).click();
      await alerts.getByText('密码不正确').waitFor();
      await alerts.getByLabel('当前密码').fill('Mine#Pass2026');
      await alerts.getByRole('button', { name: /保\s*存/ }).click();
      await alerts.getByText('当前：s**********@example.gov.cn，留空则不变').waitFor();
      await settled(page);
      await checkA11y(page, 'console-me');
      await shot(page, 'console-me');
      const users = service(env.platform.ctx, 'user');
      const me = await users.findStaffByUsername('selfclerk04');
      assert.equal((await users.getStaffContact(me!.id))?.email, 'selfclerk04@example.gov.cn');
      assert.ok(await users.verifyStaffLogin('selfclerk04', 'Mine#Pass2026'));
    } finally {
      await other.close();
      await context.close();
    }
  });

  test('公告与群发: a clerk pastes resident ID numbers; the person with an account gets it, the others are counted', async () => {
    const person = await createTestPerson(env.platform, { name: '钱名单' });
    const noAccount = randomResidentId();
    const context = await newContext(browser, 'desktop', env.url);
    try {
      const page = await context.newPage();
      await signInAsSuperAdmin(page);
      await page.goto('/console/message/broadcasts');
      const form = page.locator('form');
      await form.getByLabel('标题').fill('参保信息核对通知');
      await form.getByLabel('正文').fill('请登录个人网厅核对您的参保信息。');
      await form.getByLabel('受众').click();
      await page.getByTitle('指定名单').click();
      await form.getByLabel('同时推送站内信').click();
      const list = form.getByLabel(/身份证号码名单/);
      await list.fill(`${person.residentId.toLowerCase()}，12345`);
      await form.getByRole('button', { name: /发\s*布/ }).click();
      await page.getByText('格式不对：12345').waitFor();
      await list.fill(`${person.residentId.toLowerCase()}\n${noAccount}`);
      await form.getByRole('button', { name: /发\s*布/ }).click();
      await page.getByText('名单中 1 个身份证号码尚未开通网厅账户，不会收到站内信').waitFor();
      // the list holds the one person with an account
      await page.getByRole('row').filter({ hasText: '参保信息核对通知' }).getByText('指定名单（1 人）').waitFor();
      await shot(page, 'broadcast-list');
      await env.platform.ctx.jobs.drain();
      const inbox = await service(env.platform.ctx, 'message').inbox('990100', person.id, { page: 1, size: 10 });
      assert.ok(inbox.items.some((i) => (i as { title: string }).title === '参保信息核对通知'));
    } finally {
      await context.close();
    }
  });

  test('支付对账: the last 30 days are charted, and a click on a day opens its report', async () => {
    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10); // China time
    const context = await newContext(browser, 'desktop', env.url);
    try {
      const page = await context.newPage();
      await signInAsSuperAdmin(page);
      await page.goto('/console/payment/reconciliation');
      // the page opens on yesterday; the demo reconciled today, the last of the chart's 30 columns
      const chart = page.getByRole('img', { name: /近 30 日对账/ });
      await chart.waitFor();
      await settled(page);
      const box = (await chart.boundingBox())!;
      const plot = { left: box.x + 48, width: box.width - 96 };
      await page.mouse.click(plot.left + (plot.width * 29.5) / 30, box.y + box.height / 3);
      await page.getByText(new RegExp(`^${today} 合计`)).waitFor();
      await shot(page, 'reconciliation');
    } finally {
      await context.close();
    }
  });

  test('支付订单: a clerk finds a caller’s orders by resident ID number, with a purpose, and the number stays out of the address', async () => {
    const residentId = DEMO_PERSONS.zhangWei.residentId;
    const context = await newContext(browser, 'desktop', env.url);
    try {
      const page = await context.newPage();
      await signInAsSuperAdmin(page);
      await page.goto('/console/payment/orders');
      const search = page.getByRole('searchbox', { name: '订单号、机构流水号或参保人身份证号' });
      await search.fill(residentId);
      await search.press('Enter');
      await page.getByText('按身份证号查询需先填写查询事由（记入审计）').waitFor();
      await page.getByRole('textbox', { name: '查询事由' }).fill('参保人来电询问退款');
      await search.press('Enter');
      // 张伟's demo history: the refunded order among them
      await page.getByRole('row').filter({ hasText: '已退款' }).first().waitFor();
      assert.ok(!page.url().includes(residentId.slice(6, 14)), page.url());
      const [audited] = await env.platform.ctx.db.q<{ purpose: string }>(sql`select purpose from audit_event
        where action = 'payment.orders.search_by_person' order by at desc limit 1`);
      assert.equal(audited?.purpose, '参保人来电询问退款');
    } finally {
      await context.close();
    }
  });

  // A refused form must be ready for its correction at once: the mutation used to wait for the error notice to
  // close (3 s) with 确定 still loading, so the clerk's first press after correcting the field did nothing.
  test('a refused form is corrected and sent with one press (channel registration, message template)', async () => {
    const context = await newContext(browser, 'desktop', env.url);
    const page = await context.newPage();
    try {
      await signInAsSuperAdmin(page);
      await page.goto('/console/ebill/channels');
      await page.getByRole('button', { name: '登记渠道' }).click();
      const dialog = page.getByRole('dialog', { name: '登记接入渠道' });
      const ok = dialog.getByRole('button', { name: /确\s*定/ });
      const answer = () =>
        page.waitForResponse((r) => r.url().endsWith('/api/ebill/admin/channels') && r.request().method() === 'POST');
      await dialog.getByLabel('渠道名称').fill('东湖市第一人民医院 HIS');
      await dialog.getByLabel('回调地址').fill('http://169.254.169.254/latest/meta-data');
      const refused = answer();
      await ok.click();
      assert.equal((await refused).status(), 400);
      await dialog.getByText(/回调地址不可用/).waitFor();
      await dialog.getByLabel('回调地址').fill('https://his.example.org/ebill/callback');
      const accepted = answer();
      await ok.click();
      assert.equal((await accepted).status(), 201);
      await page.getByRole('dialog', { name: '渠道已登记：请立即保存以下密钥（仅显示一次）' }).waitFor();

      // a refusal naming an item of a list field (redirectUris.0) is shown at the list's input
      await page.goto('/console/auth/channels');
      await page.getByRole('button', { name: '注册渠道' }).click();
      const panel = page.getByRole('dialog', { name: '注册渠道' });
      const registered = () =>
        page.waitForResponse((r) => r.url().endsWith('/api/auth/channels') && r.request().method() === 'POST');
      await panel.getByLabel('渠道名称').fill('东湖市第一人民医院 移动端');
      const uris = panel.getByLabel(/登录回调地址/);
      await uris.fill('his.example.org/callback');
      const wrong = registered();
      await panel.getByRole('button', { name: /注\s*册/ }).click();
      assert.equal((await wrong).status(), 400);
      await panel.locator('.ant-form-item-explain-error').first().waitFor();
      assert.equal(await page.locator('.ant-message-notice').count(), 0, 'at the field, not as a notice');
      await uris.fill('https://his.example.org/callback');
      const right = registered();
      await panel.getByRole('button', { name: /注\s*册/ }).click();
      assert.equal((await right).status(), 201);

      // a refusal at the field it names: a message template using a variable its type does not have (`body`)
      await page.goto('/console/message/types');
      // templates that arrive late: the editor waits for them (typing into it earlier was overwritten when they came)
      const templates = /\/api\/message\/types\/[^/]+\/templates$/;
      await page.route(templates, async (route) => {
        if (route.request().method() === 'GET') await new Promise((r) => setTimeout(r, 1500));
        await route.continue();
      });
      await page.getByRole('button', { name: '规则与模板' }).first().click();
      const drawer = page.locator('.ant-drawer');
      await drawer.getByText('正在加载模板…').waitFor();
      assert.equal(await drawer.locator('textarea').count(), 0, 'no editor before its template is in');
      await drawer.locator('textarea').waitFor();
      await page.unroute(templates);
      const saved = () =>
        page.waitForResponse(
          (r) => /\/api\/message\/types\/[^/]+\/templates$/.test(r.url()) && r.request().method() === 'POST',
        );
      const body = drawer.locator('textarea');
      await body.fill('您好 {{noSuchVariable}}');
      const unknown = saved();
      await drawer.getByRole('button', { name: '保存为新版本' }).click();
      assert.equal((await unknown).status(), 400);
      await drawer
        .locator('.ant-form-item-explain-error')
        .getByText(/未定义的变量.*noSuchVariable/)
        .waitFor();
      await body.fill('您好，您的消息已送达。');
      const stored = saved();
      await drawer.getByRole('button', { name: '保存为新版本' }).click();
      assert.equal((await stored).status(), 201);
    } finally {
      await context.close();
    }
  });
});
