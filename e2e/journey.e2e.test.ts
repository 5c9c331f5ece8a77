/**
 * The journey, in Chromium, for both demo regions: a new individual who exists in the core zone registers (SMS code
 * from the sandbox gateway) → logs in (OIDC + PKCE, password) → activates the e-voucher (sandbox real-person check,
 * Chromium's synthetic camera) → shows the code → the institution workstation reads it and uploads fees (signed
 * channel calls through the relay) → the person confirms and pays (sandbox cashier) → the order completes → the bill
 * appears and its PDF downloads → the bill verifies on the public page (the drawer's 在线查验 link with its signed QR
 * payload, and the numbers typed in as read off the bill) → the inbox shows the payment message → the institution
 * refunds → the account balance is restored. Every step is screenshotted at phone and desktop widths and checked with
 * axe-core: a serious or critical violation on any page of the journey fails it.
 *
 * Each step is a subtest; once one fails the rest are reported as skipped (with the failing step named), so the
 * run shows exactly how far the journey gets.
 *
 * Staff sign-in: the workstation's operator (the institution center's demo staff account of the region) logs in at
 * the unified authentication like everyone else (`portal-institution` is a staff client).
 */
import assert from 'node:assert/strict';
import { after, before, describe, type TestContext, test } from 'node:test';
import type { BrowserContext, Page, Response } from 'playwright-core';
import { DEMO_WORKSTATION_PASSWORD, demoWorkstationUsername } from '../server/src/centers/institution/index.ts';
import type { CoreZone } from '../server/src/integration/core-zone/port.ts';
import { seedPerson } from '../server/src/integration/core-zone/reference/seed.ts';
import {
  a11yReport,
  describePage,
  findA11yViolations,
  launchBrowser,
  newContext,
  screenshots,
  settled,
  viewportName,
} from './support/index.ts';
import { type InProcessPlatform, sandboxSmsCode, startInProcessPlatform } from './support/inprocess.ts';

const REGIONS = [
  { code: '990100', brand: '东湖市医疗保障局', slogan: '东湖医保 · 掌上办、一次办', city: '示范省·东湖市' },
  { code: '980100', brand: '北原市医疗保障局', slogan: '北原医保 · 就近办、马上办', city: '样例省·北原市' },
];
const PASSWORD = 'Journey#2026ok';
const fenOf = (text: string) => {
  const m = /(-?)¥?([\d,]+)\.(\d{2})/.exec(text);
  assert.ok(m, `a money amount in "${text}"`);
  return (m[1] ? -1 : 1) * (Number(m[2].replaceAll(',', '')) * 100 + Number(m[3]));
};

type Step = (name: string, fn: () => Promise<void>) => Promise<void>;
/** Runs the journey's steps as subtests; after the first failure the rest are skipped, and `onFail`'s account of the
 * pages (what CI prints of a failure is its message) is added to the error. */
function stepper(t: TestContext, onFail: (name: string) => Promise<string>): Step {
  let failed: string | undefined;
  return async (name, fn) => {
    if (failed) {
      await t.test(name, { skip: `前一步「${failed}」未通过` }, () => {});
      return;
    }
    await t.test(name, async () => {
      try {
        await fn();
      } catch (err) {
        failed = name;
        const account = await onFail(name).catch((e) => `(no account of the pages: ${e})`);
        if (err instanceof Error && account) {
          err.message += `\n${account}`;
          err.stack = `${err.stack}\n${account}`; // what the reporter prints
        }
        throw err;
      }
    });
  };
}

describe('journey (e2e)', () => {
  let env: InProcessPlatform;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  const splits = new Map<string, { total: number; fund: number; account: number; cash: number }>();

  before(async () => {
    [env, browser] = await Promise.all([startInProcessPlatform({ jobs: true }), launchBrowser({ fakeMedia: true })]);
  });
  after(async () => {
    await browser?.close();
    await env?.close();
  });

  /** A generated insured employee of the core-zone seed with a modest account balance and no hall account yet. */
  async function newcomer(regionCode: string) {
    const core = env.platform.ctx.services.coreZone as CoreZone;
    for (let i = 30; i < 400; i++) {
      const p = seedPerson(regionCode, i, 1);
      if (p.personType !== 'employee' || p.status !== 'active' || !p.openingBalance) continue;
      const known = await core.findPerson(regionCode, { residentId: p.residentId }).catch(() => undefined);
      if (!known || known.name !== p.name) continue;
      // a modest balance, so the account pays part and the rest goes through the (sandbox) cashier
      const { balance } = await core.accountBalance(regionCode, known.personNo);
      if (balance < 50_000 || balance > 600_000) continue;
      const users = env.platform.ctx.services.user as unknown as {
        findPersonByResidentId(r: string, id: string): Promise<unknown>;
      };
      if (await users.findPersonByResidentId(regionCode, p.residentId).catch(() => undefined)) continue;
      return {
        name: p.name,
        residentId: p.residentId,
        mobile: `199${regionCode.slice(0, 2)}${String(i).padStart(6, '0')}`,
      };
    }
    throw new Error(`no unregistered insured employee found in ${regionCode}`);
  }

  for (const region of REGIONS) {
    // a whole journey is many steps (each under the suite's 180 s): on a slow 2-core machine it needs more than one step's
    test(`journey in ${region.code} (${region.brand})`, { timeout: 600_000 }, async (t) => {
      const shot = screenshots(`journey-${region.code}`);
      // what the workstation page went through (a page found back at its start once: was it reloaded, and after what?)
      const workstationLog: string[] = [];
      const step = stepper(t, async () => {
        const lines: string[] = [];
        for (const page of [P, W].filter((x): x is Page => !!x)) {
          await shot(page, 'FAILED');
          lines.push(`${page === P ? 'person' : 'workstation'} at ${page.url()}: ${await describePage(page)}`);
        }
        if (workstationLog.length) lines.push(`workstation went through: ${workstationLog.join(' | ')}`);
        return lines.join('\n');
      });
      const contexts: BrowserContext[] = [];
      const open = async (viewport: 'phone' | 'desktop') => {
        const c = await newContext(browser, viewport, env.url);
        contexts.push(c);
        return c;
      };
      const pc = await open('phone');
      const P = await pc.newPage();
      const pdc = await open('desktop');
      let PD: Page | undefined;
      const wc = await open('desktop');
      const wpc = await open('phone');
      let W: Page | undefined;
      let WP: Page | undefined;
      const errors: string[] = [];
      P.on('pageerror', (e) => errors.push(`person: ${e.message}`));

      /** axe-core violations by page, collected as the journey goes: every page must be clean (see the end). */
      const a11y: Array<{ path: string; report: string }> = [];
      const checkA11y = async (page: Page, name: string) => {
        const path = new URL(page.url()).pathname;
        const bad = await findA11yViolations(page);
        if (bad.length > 0) a11y.push({ path, report: a11yReport(bad, `${name} ${path}`, viewportName(page)) });
      };
      /** Screenshot + axe of the page, and of the same address at the other width. */
      const both = async (name: string, page: Page, mirror: Page | undefined) => {
        await settled(page);
        await checkA11y(page, name);
        await shot(page, name);
        if (mirror) {
          const target = new URL(page.url()).pathname + new URL(page.url()).search;
          await mirror.goto(target);
          await settled(mirror);
          if (!(await mirror.locator('html[lang]').count())) {
            await mirror.waitForTimeout(1000);
            await mirror.goto(target);
            await settled(mirror);
          }
          await checkA11y(mirror, name);
          await shot(mirror, name);
        }
      };

      const person = await newcomer(region.code);
      /** Steps that only got through by a documented detour (another center's page not ready). */
      const issues: string[] = [];
      let balanceBefore = 0;
      let orderId = '';
      let code = '';
      try {
        await step('home: the region’s branding and services', async () => {
          await P.goto(`/personal?region=${region.code}`);
          await P.getByText(region.slogan).waitFor();
          await P.getByText(region.brand).first().waitFor();
          const pdTmp = await pdc.newPage();
          await pdTmp.goto(`/personal?region=${region.code}`);
          await pdTmp.getByText(region.slogan).waitFor();
          await both('home', P, undefined);
          await shot(pdTmp, 'home');
          await pdTmp.close();
        });

        await step('register a new individual who exists in the core zone', async () => {
          await P.goto('/personal/register');
          await P.getByLabel('真实姓名').fill(person.name);
          await P.getByLabel('居民身份证号码').fill(person.residentId);
          await P.getByLabel('手机号码').fill(person.mobile);
          const since = new Date(Date.now() - 1000);
          await P.getByRole('button', { name: '获取验证码' }).click();
          const sms = await sandboxSmsCode(env.platform, region.code, person.mobile, since);
          await P.locator('input[autocomplete="one-time-code"]').fill(sms);
          await P.getByLabel('登录密码', { exact: true }).fill(PASSWORD);
          await P.getByLabel('确认登录密码').fill(PASSWORD);
          await both('register-form', P, undefined);
          await P.getByRole('button', { name: /^注\s*册$/ }).click();
          const ok = await P.getByText('注册成功')
            .waitFor({ timeout: 10_000 })
            .then(() => true)
            .catch(() => false);
          if (!ok) {
            // The registration page did not get through: note what it said, then register through the same API
            // with a fresh SMS code so the rest of the journey can run.
            const said = (await P.locator('.ant-form-item-explain-error, .ant-alert').allTextContents()).join('；');
            await shot(P, 'register-refused');
            issues.push(
              `个人注册页面未能完成注册（页面提示：${said || '无'}）；旅程改用同一接口 POST /api/user/persons 注册`,
            );
            const res = await P.request.post(`${env.url}/api/user/persons`, {
              headers: { 'x-region-code': region.code },
              data: { ...person, smsCode: sms, password: PASSWORD },
            });
            assert.equal(res.status(), 200, await res.text());
            return;
          }
          await both('registered', P, undefined);
        });

        await step('log in (unified authentication, password)', async () => {
          await P.goto('/login?portal=personal&return=%2Fpersonal');
          await P.locator('#loginId').waitFor();
          await P.getByText(region.brand.replace('医疗保障局', ''))
            .first()
            .waitFor({ timeout: 5000 })
            .catch(() => {});
          await P.locator('#loginId').fill(person.mobile);
          await P.locator('#password').fill(PASSWORD);
          await shot(P, 'login');
          await P.getByRole('button', { name: '登录', exact: true }).first().click();
          await P.waitForURL(/\/personal/, { waitUntil: 'commit' });
          await P.getByText(`您好，${person.name[0]}`).waitFor();
          const session = await P.evaluate(() => sessionStorage.getItem('yibao.session'));
          assert.ok(session, 'the portal holds a session');
          assert.equal(JSON.parse(session).regionCode, region.code, 'signed in in the chosen region');
          await pdc.addInitScript((s) => sessionStorage.setItem('yibao.session', s), session);
          PD = await pdc.newPage();
          await both('home-signed-in', P, PD);
        });

        await step('my insurance and my account', async () => {
          await P.goto('/personal/insurance');
          await P.getByText('职工基本医疗保险').first().waitFor();
          await both('insurance', P, PD);
          await P.goto('/personal/account');
          const text = (await P.getByTestId('account-balance').textContent()) ?? '';
          balanceBefore = fenOf(text);
          assert.ok(balanceBefore > 0, 'an employee with a personal account balance');
          await both('account-before', P, PD);
        });

        await step('activate the e-voucher (sandbox real-person check)', async () => {
          await P.goto('/personal/evoucher');
          await settled(P);
          await shot(P, 'evoucher');
          const begin = P.getByRole('button', { name: '开始实人认证' });
          if (!(await begin.isVisible())) await P.getByRole('button', { name: /激活/ }).first().click();
          await begin.click();
          await P.getByRole('button', { name: '打开摄像头' }).click();
          await P.waitForFunction(() => {
            const v = document.querySelector('video');
            return !!v && v.readyState >= 2 && v.videoWidth > 0;
          });
          await shot(P, 'evoucher-camera');
          await P.getByRole('button', { name: /采集/ }).click();
          await P.getByText(/激活成功|已激活/)
            .first()
            .waitFor({ timeout: 30_000 });
          await both('evoucher-activated', P, PD);
        });

        await step('show the code', async () => {
          const codes = P.waitForResponse(
            (r: Response) => r.url().endsWith('/api/evoucher/me/codes') && r.request().method() === 'POST',
          );
          await P.goto('/personal/evoucher/code');
          const res = await codes;
          assert.equal(res.status(), 200);
          code = ((await res.json()) as { token: string }).token;
          await P.getByLabel('医保电子凭证动态码').waitFor();
          assert.ok(code.length > 16, 'the QR carries the signed code');
          await both('evoucher-code', P, undefined);
        });

        await step('the institution workstation scans it and uploads fees', async () => {
          // the operator signs in at the unified authentication (the staff login page of portal-institution)
          W = await wc.newPage();
          W.on('pageerror', (e) => errors.push(`workstation: ${e.message}`));
          const at = () => new Date().toISOString().slice(11, 23);
          W.on('framenavigated', (f) => {
            if (f === W!.mainFrame()) workstationLog.push(`${at()} → ${f.url()}`);
          });
          W.on('console', (m) => {
            if (m.type() === 'error') workstationLog.push(`${at()} console: ${m.text().slice(0, 200)}`);
          });
          W.on('response', (r) => {
            if (r.status() >= 400 && new URL(r.url()).pathname.match(/^\/(api|oidc)\//))
              workstationLog.push(`${at()} ${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`);
          });
          await W.goto('/login?portal=institution&return=%2Finstitution%2Fworkstation');
          await W.locator('#loginId').fill(demoWorkstationUsername(region.code));
          await W.locator('#password').fill(DEMO_WORKSTATION_PASSWORD);
          await W.getByRole('button', { name: '登录', exact: true }).first().click();
          await W.waitForURL(/\/institution\/workstation/, { waitUntil: 'commit' });
          await W.getByText('① 识别参保人').waitFor();
          const staffSession = await W.evaluate(() => sessionStorage.getItem('yibao.session'));
          assert.ok(staffSession, 'the workstation holds a session');
          assert.equal(JSON.parse(staffSession).kind, 'staff', 'signed in as staff');
          assert.equal(JSON.parse(staffSession).regionCode, region.code, 'in the institution’s region');
          await wpc.addInitScript((s) => sessionStorage.setItem('yibao.session', s), staffSession);
          WP = await wpc.newPage();
          await both('workstation', W, WP);
          // the phone mirror holds a copy of the desktop tab's session (a duplicated tab): with refresh tokens used once,
          // two live pages rotating one token would sign each other out — close it once its picture is taken
          await WP.close();
          // the scanner gun types the QR content into the code field
          await W.getByLabel(/医保电子凭证码/).fill(code);
          // listening before the scan: on a loaded machine the phone may fetch its fresh code before the click returns
          const fresh = P.waitForResponse(
            (r: Response) => r.url().endsWith('/api/evoucher/me/codes') && r.request().method() === 'POST',
          );
          await W.getByRole('button', { name: /核\s*验/ }).click();
          await W.getByLabel('参保人信息').getByText(`${person.name[0]}*`).waitFor();
          await W.getByLabel('参保人信息').getByText(region.city).waitFor(); // the insured region by name, not code
          await shot(W, 'workstation-verified');
          // the phone at the counter, still showing the code, tells of the scan and shows a fresh code
          await P.getByText(/^已扫码：/).waitFor({ timeout: 15_000 });
          assert.notEqual(((await (await fresh).json()) as { token: string }).token, code, 'a fresh code');
          await both('evoucher-scanned', P, undefined);
          for (const idx of [0, 1]) {
            await W.locator('#catalogue-item').click();
            const option = W.locator('.ant-select-dropdown:visible .ant-select-item-option').nth(idx);
            await option.waitFor();
            await option.click();
            if (!(await W.locator('#fee-price').inputValue())) await W.locator('#fee-price').fill('25.00');
            // past the deductible (起付线) and the fund's ceiling (封顶线): the regions' policies show in the split and
            // the person's account cannot pay all the rest, so the cash part goes through the cashier
            const [yuanPart, centPart = ''] = (await W.locator('#fee-price').inputValue()).split('.');
            const unit = Number(yuanPart) * 100 + Number(centPart.padEnd(2, '0').slice(0, 2));
            await W.locator('#fee-qty').fill(String(Math.min(999, Math.ceil(750_000 / unit))));
            await W.getByRole('button', { name: /添\s*加/ }).click();
          }
          const total = fenOf((await W.getByTestId('fee-total').textContent()) ?? '');
          assert.ok(total > 0);
          await shot(W, 'workstation-fees');
          const created = W.waitForResponse(
            (r) => r.url().endsWith('/api/institution/orders') && r.request().method() === 'POST',
          );
          await W.getByRole('button', { name: '上传费用' }).click();
          const res = await created;
          assert.equal(res.status(), 200, await res.text());
          orderId = ((await res.json()) as { payOrdId: string }).payOrdId;
          await W.getByTestId('order-status').waitFor();
          await both('workstation-uploaded', W, undefined);
        });

        await step('the person confirms and pays (sandbox cashier)', async () => {
          // the hall's home says a bill waits, and takes the person to it
          await P.goto('/personal');
          const notice = P.getByRole('status').filter({ hasText: '您有 1 笔医疗费用账单待处理' });
          await notice.getByText(/您需支付 ¥[\d,.]+；请于 .+ 前确认/).waitFor();
          await notice.getByRole('button', { name: '去处理' }).click();
          await P.waitForURL((u) => u.searchParams.get('order') === orderId);
          const pay = P.getByRole('button', { name: /确认并支付|确认结算/ });
          await pay.waitFor();
          const dialog = P.getByRole('dialog');
          const drawer = (await dialog.count()) > 0 ? dialog.first() : P.locator('body');
          const splitText = (await drawer.textContent()) ?? '';
          await both('payment-confirm', P, PD);
          assert.match(splitText, /统筹|基金/);
          assert.match(splitText, /请于 (\d+月\d+日 )?\d{2}:\d{2} 前确认，逾期自动取消/, 'until when the bill waits');
          // the bill names its hospital as the core zone's registry does, not by its code
          const { institutionCode, accountPayment } = await env.platform.ctx.services.payment!.getOrder(
            region.code,
            orderId,
          );
          const hospital = await (env.platform.ctx.services.coreZone as CoreZone).getInstitution(
            region.code,
            institutionCode,
          );
          assert.ok(splitText.includes(hospital.name), `the bill names ${hospital.name}`);
          await pay.click();
          if (accountPayment) {
            // the personal account pays only with a second factor: an SMS code, then back to the bill to pay
            const ask = P.getByRole('dialog', { name: '使用个人账户支付，请再次验证身份' });
            await ask.getByRole('button', { name: '去验证' }).click();
            await P.getByText('使用个人账户支付需要更高等级的身份认证（第二因素）。').waitFor();
            await P.locator('.sandbox').getByText('沙箱').waitFor(); // the demo's SMS gateway is the sandbox
            const since = new Date(Date.now() - 1000);
            await P.getByRole('button', { name: '获取验证码' }).click();
            await P.getByLabel('短信验证码').fill(
              await sandboxSmsCode(env.platform, region.code, person.mobile, since),
            );
            await shot(P, 'payment-step-up');
            await P.getByRole('button', { name: '验证', exact: true }).click();
            await P.waitForURL((u) => u.pathname === '/personal/payments' && u.searchParams.get('order') === orderId);
            await pay.click();
          }
          // the cash part: the sandbox provider's own cashier page, then back to the hall
          await P.waitForURL(/\/cashier\//, { waitUntil: 'domcontentloaded' });
          await P.getByText(/沙箱/).first().waitFor();
          await shot(P, 'cashier');
          await P.getByRole('button', { name: /确认支付/ }).click();
          await P.getByText('支付成功').waitFor();
          await shot(P, 'cashier-paid');
          await P.getByRole('link', { name: '返回医保平台' }).click();
          await P.waitForURL(/\/personal\/payments/, { waitUntil: 'domcontentloaded' });
        });

        await step('the order completes', async () => {
          await P.getByText('支付完成').first().waitFor({ timeout: 30_000 });
          await both('payment-completed', P, PD);
          const order = (await (
            await P.request.get(`${env.url}/api/payment/my/orders/${orderId}`, {
              headers: {
                authorization: `Bearer ${JSON.parse((await P.evaluate(() => sessionStorage.getItem('yibao.session')))!).accessToken}`,
              },
            })
          ).json()) as {
            total: number;
            fundPayment: number;
            accountPayment: number;
            cashPayment: number;
            status: string;
          };
          assert.equal(order.status, 'completed');
          assert.equal(order.fundPayment + order.accountPayment + order.cashPayment, order.total);
          splits.set(region.code, {
            total: order.total,
            fund: order.fundPayment,
            account: order.accountPayment,
            cash: order.cashPayment,
          });
          await W!.getByTestId('order-status').getByText('已完成').waitFor({ timeout: 30_000 });
          await both('workstation-completed', W!, undefined);
          // the open order is in the address: a reload of the workstation comes back to it
          assert.match(W!.url(), /[?&]order=/);
          await W!.reload();
          await W!.getByTestId('order-status').getByText('已完成').waitFor({ timeout: 30_000 });
          // and shows what was uploaded: the two lines, priced
          const uploaded = W!.locator('[aria-label="已上传的费用明细"] tbody tr.ant-table-row');
          await uploaded.first().waitFor();
          assert.equal(await uploaded.count(), 2, 'the two uploaded lines');
          // and whose order it is (masked), which the reload would otherwise have lost
          const holder = W!.locator('.ant-descriptions tr').filter({ hasText: '参保人' });
          assert.match((await holder.textContent()) ?? '', new RegExp(`参保人${person.name[0]}\\*`));
          // the fee panel says why it waits (not "identify the person first", whom the order already names)
          await W!.getByText('本单已上传，支付进度见「③ 订单状态」').waitFor();
          // the home page counts it among today's completed orders, and opens it again
          await W!.goto('/institution');
          const completed = W!.getByTestId('today-orders').locator('.ant-statistic').filter({ hasText: '已完成' });
          assert.equal(Number.parseInt((await completed.locator('.ant-statistic-content').textContent()) ?? '', 10), 1);
          await both('institution-home', W!, undefined);
          await W!.getByRole('row').filter({ hasText: '已完成' }).getByRole('button', { name: '查看' }).click();
          await W!.waitForURL((u) => u.searchParams.get('order') === orderId);
          await W!.getByTestId('order-status').getByText('已完成').waitFor({ timeout: 30_000 });
        });

        await step('the bill appears and its PDF downloads', async () => {
          await P.goto('/personal/ebills');
          await P.getByText(/票据/).first().waitFor();
          const bill = P.getByText('查看').first();
          for (let i = 0; i < 20 && (await bill.count()) === 0; i++) {
            await P.waitForTimeout(500);
            await P.reload();
            await settled(P);
          }
          await both('ebills', P, PD);
          await P.getByText('查看').first().click();
          const drawer = P.getByRole('dialog');
          await drawer.getByText('票据号码').waitFor();
          const text = (await drawer.textContent()) ?? '';
          assert.match(text, /校验码/);
          await settled(P);
          await checkA11y(P, 'ebill-detail');
          await shot(P, 'ebill-detail');
          const download = P.waitForEvent('download');
          await drawer.getByRole('button', { name: /下载 PDF/ }).click();
          const file = await (await download).path();
          const { readFileSync } = await import('node:fs');
          const pdf = readFileSync(file);
          assert.equal(pdf.subarray(0, 5).toString(), '%PDF-', 'a PDF');
          assert.ok(pdf.length > 2_000, 'a PDF with content');
        });

        await step('the bill verifies: the drawer’s 在线查验 link, and typed into the public page', async () => {
          // what the person reads off the bill (the drawer is still open)
          const drawer = P.getByRole('dialog');
          const field = async (label: string) => {
            const cell = drawer.locator('th', { hasText: label }).first().locator('xpath=following-sibling::td[1]');
            return ((await cell.textContent()) ?? '').trim();
          };
          const bill = {
            code: await field('票据代码'),
            number: await field('票据号码'),
            check: await field('校验码'),
            amount: await field('合计（元）'),
          };
          assert.match(bill.code, /^\d{8}$/);
          assert.match(bill.number, /^\d{10}$/);
          assert.match(bill.check, /^[0-9A-Za-z]{6}$/);
          // as printed, with thousands separators: the public page takes it as the bill shows it
          assert.match(bill.amount, /^\d{1,3}(,\d{3})*\.\d{2}$/);
          const valid = async (page: Page) => {
            const result = page.locator('.ant-result-success');
            await result.getByText('票据真实有效').waitFor({ timeout: 15_000 });
            const text = (await result.textContent()) ?? '';
            assert.ok(text.includes(bill.number), 'the answer names the bill');
            assert.equal(fenOf(text.slice(text.indexOf('金额'))), fenOf(bill.amount), 'the answer shows its amount');
          };

          // (a) the link in the drawer: the public page checks the bill's signed QR payload
          const link = drawer.getByRole('link', { name: /在线查验/ });
          await link.scrollIntoViewIfNeeded();
          await shot(P, 'ebill-verify-button');
          await link.click();
          await P.waitForURL(/\/public\/ebill\/verify\?qr=/, { waitUntil: 'domcontentloaded' });
          await valid(P);
          await both('ebill-verify-link', P, PD);
          if (PD) await valid(PD);

          // (b) the public page opened fresh (no session, the region's own link): typed bill code, number, check code
          // and amount
          const vc = await open('phone');
          const V = await vc.newPage();
          V.on('pageerror', (e) => errors.push(`verify: ${e.message}`));
          await V.goto(`/public/ebill/verify?region=${region.code}`);
          await V.getByLabel('票据代码').fill(bill.code);
          await V.getByLabel('票据号码').fill(bill.number);
          await V.getByLabel('校验码').fill(bill.check);
          await V.getByLabel('开票金额（元）').fill(bill.amount);
          const vdc = await open('desktop');
          await both('ebill-verify-form', V, await vdc.newPage());
          await V.getByRole('button', { name: /^查\s*验$/ }).click();
          await valid(V);
          await both('ebill-verified', V, undefined);
        });

        await step('the inbox shows the bill and payment messages; a message leads to its page', async () => {
          await P.goto('/personal/messages');
          const paid = P.locator('.ant-list-item').filter({ hasText: '医保支付成功' });
          await paid.waitFor({ timeout: 30_000 });
          await P.getByText('您有一笔待确认的医疗费用账单').waitFor();
          await both('inbox', P, PD);
          await paid.focus(); // opened from the keyboard as well as by a tap
          await P.keyboard.press('Enter');
          await paid.getByRole('link', { name: /查看支付记录/ }).click();
          await P.waitForURL((u) => u.pathname === '/personal/payments' && u.searchParams.get('tab') === 'history');
        });

        await step('the institution refunds', async () => {
          // a refund is asked for in a dialog that shows what goes back and takes a reason; 返回 leaves the order be
          await W!.getByRole('button', { name: '全额退款' }).click();
          let dialog = W!.getByRole('dialog', { name: '确认全额退款' });
          await dialog.getByText('将原路退回参保人').waitFor();
          // as a person would, read it once it has opened (a press during the opening animation was lost on slow runs)
          await settled(W!);
          await dialog.getByRole('button', { name: /返\s*回/ }).click();
          await dialog.waitFor({ state: 'hidden' });
          assert.equal((await env.platform.ctx.services.payment!.getOrder(region.code, orderId)).status, 'completed');
          await W!.getByRole('button', { name: '全额退款' }).click();
          dialog = W!.getByRole('dialog', { name: '确认全额退款' });
          await dialog.getByRole('radio', { name: '收费项目有误' }).check();
          await both('workstation-refund-confirm', W!, undefined);
          await dialog.getByRole('button', { name: /确认退款/ }).click();
          await W!.getByTestId('order-status').getByText('已退款').waitFor({ timeout: 30_000 });
          const refunds = await env.platform.ctx.services.payment!.refunds(region.code, orderId);
          assert.deepEqual(
            refunds.map((r) => r.reason),
            ['收费项目有误'],
            'one refund, with the reason chosen',
          );
          await both('workstation-refunded', W!, undefined);
        });

        await step('the account balance is restored', async () => {
          await P.goto('/personal/account');
          await P.getByTestId('account-balance').waitFor();
          let now = 0;
          for (let i = 0; i < 40; i++) {
            now = fenOf((await P.getByTestId('account-balance').textContent()) ?? '');
            if (now === balanceBefore) break;
            await P.waitForTimeout(250);
            await P.reload();
            await P.getByTestId('account-balance').waitFor();
          }
          assert.equal(now, balanceBefore, 'the refund restored the balance');
          await both('account-after', P, PD);
          assert.deepEqual(errors, [], 'no uncaught errors in the pages');
        });
      } finally {
        for (const c of contexts) await c.close();
      }
      await t.test('accessibility: every page of the journey (axe-core, serious/critical)', () => {
        assert.deepEqual(
          a11y.map((v) => v.report),
          [],
        );
      });
      await t.test('every step through the web pages (no detours)', () => {
        assert.deepEqual(issues, []);
      });
    });
  }

  test('the two regions apply different policy to the same kind of visit', (t) => {
    const a = splits.get('990100');
    const b = splits.get('980100');
    if (!a || !b) return assert.fail('both journeys must reach payment to compare splits');
    for (const [code, x] of splits)
      t.diagnostic(`${code}: total ${x.total} = fund ${x.fund} + account ${x.account} + cash ${x.cash} (fen)`);
    const share = (s: { fund: number; total: number }) => s.fund / s.total;
    assert.notEqual(share(a), share(b), `fund share 990100 ${share(a)} vs 980100 ${share(b)}`);
  });
});
