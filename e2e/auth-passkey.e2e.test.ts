/**
 * The unified login in Chromium: the personal hall sends the browser through OIDC (code + PKCE) to the login page,
 * the person signs in with a password, adds a passkey on 账号安全 (DevTools virtual authenticator), signs out, and
 * signs in again with the passkey only. WebAuthn needs a secure context and a domain RP ID, so the platform's public
 * URL is http://localhost:<port> (Chromium maps localhost to 127.0.0.1).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { DEMO_WORKSTATION_PASSWORD, demoWorkstationUsername } from '../server/src/centers/institution/index.ts';
import { DEMO_PERSON_PASSWORD } from '../server/src/centers/user/index.ts';
import { service } from '../server/src/platform/context.ts';
import { residentIdCheckChar } from '../server/src/platform/privacy/index.ts';
import { createTestPlatform, type TestPlatform } from '../server/src/testing/platform.ts';
import { reportingPages } from './support/browser.ts';
import { freePort } from './support/platform.ts';

const PASSWORD = 'Yibao@2026pass';

describe('unified login with a passkey (e2e)', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let url: string;

  const createPerson = (name: string, first17: string, mobile: string) =>
    service(platform.ctx, 'user').createPerson({
      regionCode: '990100',
      name,
      residentId: first17 + residentIdCheckChar(first17),
      mobile,
      password: PASSWORD,
    });

  /** From a page of the personal hall that asks for a login: the unified login page, password, back to `back`. */
  async function passwordLogin(page: Page, loginId: string, back: RegExp, password = PASSWORD): Promise<void> {
    await page.getByRole('button', { name: '统一身份认证登录' }).click();
    await page.waitForURL(/\/oidc\/interaction\//);
    await page.getByLabel('手机号 / 身份证号 / 用户名').fill(loginId);
    await page.getByLabel('密码', { exact: true }).fill(password);
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL(back);
  }

  /** A browser context at `viewport` whose page has a DevTools virtual authenticator (fingerprint, always verified). */
  async function withAuthenticator(viewport: { width: number; height: number }) {
    const context = await browser.newContext({ baseURL: url, locale: 'zh-CN', viewport });
    context.setDefaultTimeout(30_000);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return { context, page, cdp, authenticatorId };
  }

  /** On a page with the 通行密钥 panel: add one named `name`, confirming with `password` (a wrong one first). */
  async function addPasskey(page: Page, name: string, password: string): Promise<void> {
    await page.getByRole('button', { name: '添加通行密钥' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByPlaceholder('例如：我的手机、办公电脑').fill(name);
    await dialog.getByRole('button', { name: '下一步' }).click();
    const confirm = dialog.getByLabel('登录密码');
    await confirm.fill('Wrong#Guess2026');
    await dialog.getByRole('button', { name: '下一步' }).click();
    await dialog.getByText('密码不正确').waitFor();
    await confirm.fill(password);
    await dialog.getByRole('button', { name: '下一步' }).click();
    await page.locator('.ant-list-item').filter({ hasText: name }).waitFor();
  }

  before(async () => {
    const port = await freePort();
    url = `http://localhost:${port}`;
    const kind = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';
    platform = await createTestPlatform(kind, {
      seed: true,
      env: { PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: url },
    });
    await platform.listen();
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--host-resolver-rules=MAP localhost 127.0.0.1',
      ],
    });
    await createPerson('孙通行', '99010219900101123', '19912345678');
  });
  after(async () => {
    await browser?.close();
    await platform?.close();
  });

  test('password login through OIDC, add a passkey, then log in with the passkey alone', async () => {
    const { context, page, cdp, authenticatorId } = await withAuthenticator({ width: 390, height: 844 });

    // 1. The hall asks for a login; the button starts the OIDC flow.
    await page.goto('/personal/security');
    await passwordLogin(page, '19912345678', /\/personal\/security/);
    await page.getByRole('button', { name: '添加通行密钥' }).waitFor();

    // 2. Add a passkey, named; a password sign-in shows the password again first (a new way in needs the owner).
    await addPasskey(page, '测试手机', PASSWORD);
    const stored = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(stored.credentials.length, 1);
    assert.equal(stored.credentials[0]?.isResidentCredential, true);

    // 3. Sign out everywhere in this browser (provider cookies and the portal session).
    await context.clearCookies();
    await page.evaluate(() => sessionStorage.clear());

    // 4. Log in with the passkey only.
    await page.goto('/personal/security');
    await page.getByRole('button', { name: '统一身份认证登录' }).click();
    await page.waitForURL(/\/oidc\/interaction\//);
    await page.getByRole('link', { name: '通行密钥' }).click();
    await page.getByRole('button', { name: '使用通行密钥登录' }).click();
    await page.waitForURL(/\/personal\/security/);
    await page.getByText('登录设备与会话').waitFor();
    await page.getByText('通行密钥', { exact: false }).first().waitFor();

    const session = await page.evaluate(() => JSON.parse(sessionStorage.getItem('yibao.session') ?? 'null'));
    assert.equal(session.kind, 'person');
    const claims = await platform.ctx.tokens.verify(session.accessToken);
    assert.equal(claims.acr, 'passkey');
    assert.deepEqual(claims.amr, ['hwk', 'user']);

    // 5. Rename, then remove the passkey.
    await page.getByRole('button', { name: '重命名' }).click();
    const renameDialog = page.getByRole('dialog');
    await renameDialog.getByPlaceholder('例如：我的手机、办公电脑').fill('旧手机');
    await renameDialog.getByRole('button', { name: /^保\s?存$/ }).click();
    await page.getByText('旧手机').waitFor();
    await page.getByRole('button', { name: /^删\s?除$/ }).click();
    await page.getByRole('button', { name: /确\s?定|OK/ }).click();
    await page.getByText('尚未添加通行密钥').waitFor();
    await context.close();
  });

  test('a password changed on 账号安全 keeps this browser signed in and signs the other one out', async () => {
    await createPerson('钱换密', '99010219900101124', '19912345679');
    const signedIn = async (viewport: { width: number; height: number }) => {
      const context = await browser.newContext({ baseURL: url, locale: 'zh-CN', viewport });
      context.setDefaultTimeout(30_000);
      const page = await context.newPage();
      await page.goto('/personal/security');
      await passwordLogin(page, '19912345679', /\/personal\/security/);
      await page.getByText('登录设备与会话').waitFor();
      return { context, page };
    };
    const phone = await signedIn({ width: 390, height: 844 });
    const desktop = await signedIn({ width: 1366, height: 900 });
    try {
      const page = desktop.page;
      const sessionsListed = (n: number) =>
        page.waitForFunction((count) => {
          const card = [...document.querySelectorAll('.ant-card')].find((c) =>
            c.textContent?.includes('登录设备与会话'),
          );
          return card?.querySelectorAll('.ant-list-item').length === count;
        }, n);
      await sessionsListed(2);
      await page.getByLabel('原密码').fill(PASSWORD);
      await page.getByLabel('新密码', { exact: true }).fill('Changed@2026pw');
      await page.getByLabel('确认新密码').fill('Changed@2026pw!');
      await page.getByRole('button', { name: '修改密码' }).click();
      await page.getByText('两次输入的密码不一致').waitFor();
      await page.getByLabel('确认新密码').fill('Changed@2026pw');
      await page.getByRole('button', { name: '修改密码' }).click();
      await page.getByText('密码已修改，其他设备上的登录已退出').waitFor();
      await sessionsListed(1);
      await page.getByText('当前设备').waitFor();

      await phone.page.reload(); // its sign-in is over: the hall sends it to the login page
      await phone.page.waitForURL(/\/oidc\/interaction\//);
      await phone.page.getByLabel('手机号 / 身份证号 / 用户名').waitFor();
      await page.reload();
      await page.getByText('当前设备').waitFor();
    } finally {
      await phone.context.close();
      await desktop.context.close();
    }
  });

  test('挂失 from another device can sign the lost phone out as well', async () => {
    const open = async (viewport: { width: number; height: number }) => {
      const context = await browser.newContext({ baseURL: url, locale: 'zh-CN', viewport });
      context.setDefaultTimeout(30_000);
      return { context, page: await context.newPage() };
    };
    const signIn = async (page: Page) => {
      await page.goto('/personal/evoucher');
      await passwordLogin(page, 'zhangwei', /\/personal\/evoucher/, DEMO_PERSON_PASSWORD);
      await page.getByRole('button', { name: /挂\s*失/ }).waitFor();
    };
    const lost = await open({ width: 390, height: 844 });
    const laptop = await open({ width: 1366, height: 900 });
    try {
      await reportingPages({ lost: lost.page, laptop: laptop.page }, async () => {
        await signIn(lost.page);
        await signIn(laptop.page);
        const page = laptop.page;
        await page.getByRole('button', { name: /挂\s*失/ }).click();
        const dialog = page.getByRole('dialog');
        assert.equal(await dialog.getByRole('checkbox', { name: /同时让其他设备退出登录/ }).isChecked(), true);
        await dialog.getByRole('button', { name: '确认挂失' }).click();
        await page.getByText('其他 1 台设备已退出登录').waitFor();
        await page.getByText('电子凭证已挂失/暂停，恢复后才能出示和使用').waitFor();
        await lost.page.reload(); // the lost phone's sign-in is over
        await lost.page.waitForURL(/\/oidc\/interaction\//, { waitUntil: 'commit' });
      });
    } finally {
      await lost.context.close();
      await laptop.context.close();
      // resume only what the test suspended, so a failure above is the one reported
      const zhang = await service(platform.ctx, 'user').findPersonByLogin('990100', 'zhangwei');
      const evoucher = service(platform.ctx, 'evoucher');
      if ((await evoucher.mine('990100', zhang!.id)).status === 'suspended')
        await evoucher.setStatus('990100', { personId: zhang!.id }, 'active', { kind: 'system', id: 'e2e' });
    }
  });

  test('staff sign in to the console and register a channel; the credentials are shown once', async () => {
    const context = await browser.newContext({ baseURL: url, locale: 'zh-CN', viewport: { width: 1366, height: 900 } });
    context.setDefaultTimeout(30_000);
    const page = await context.newPage();
    await page.goto('/console/auth/channels');
    await page.getByRole('button', { name: '统一身份认证登录' }).click();
    await page.waitForURL(/\/oidc\/interaction\//);
    await page.getByText('工作人员登录').waitFor();
    await page.getByLabel('工作人员账号').fill(platform.ctx.config.SUPERADMIN_USERNAME);
    await page.getByLabel('密码', { exact: true }).fill(platform.ctx.config.SUPERADMIN_PASSWORD);
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL(/\/console\/auth\/channels/);
    await page.getByRole('button', { name: '注册渠道' }).click();
    await page.getByLabel('渠道名称').fill('东湖市第二人民医院 HIS');
    await page.getByRole('button', { name: /^注\s?册$/ }).click();
    const dialog = page.getByRole('dialog', { name: '请立即保存以下凭据' });
    await dialog.waitFor();
    const appId = ((await dialog.locator('td').first().textContent()) ?? '').trim();
    assert.match(appId, /^ch\d{6}[0-9a-f]{12}$/);
    await dialog.getByText('SM2 私钥').waitFor();
    await dialog.getByRole('button', { name: '我已保存' }).click();
    const channels = await service(platform.ctx, 'auth').channels.find(appId);
    assert.equal(channels?.name, '东湖市第二人民医院 HIS');
    await context.close();
  });

  test('a workstation cashier adds a passkey on 我的账号 and signs in to the workstation with it', async () => {
    const { context, page } = await withAuthenticator({ width: 1366, height: 900 });
    const username = demoWorkstationUsername('990100');
    await reportingPages({ workstation: page }, async () => {
      await page.goto('/institution');
      await page.getByRole('button', { name: '统一身份认证登录' }).click();
      await page.getByLabel('工作人员账号').fill(username);
      await page.getByLabel('密码', { exact: true }).fill(DEMO_WORKSTATION_PASSWORD);
      await page.getByRole('button', { name: '登录' }).click();
      await page.getByRole('button', { name: '我的账号' }).click();
      await page.waitForURL((u) => u.pathname === '/institution/me');
      await page.getByText(username).waitFor();
      await addPasskey(page, '收费台电脑', DEMO_WORKSTATION_PASSWORD);

      await context.clearCookies();
      await page.evaluate(() => sessionStorage.clear());
      await page.goto('/institution/me');
      await page.getByRole('button', { name: '统一身份认证登录' }).click();
      await page.getByRole('link', { name: '通行密钥' }).click();
      await page.getByRole('button', { name: '使用通行密钥登录' }).click();
      await page.waitForURL((u) => u.pathname === '/institution/me');
      await page
        .locator('.ant-list-item')
        .filter({ hasText: '收费台电脑' })
        .getByText(/最近使用 \d/)
        .waitFor();
      const session = await page.evaluate(() => JSON.parse(sessionStorage.getItem('yibao.session') ?? 'null'));
      const claims = await platform.ctx.tokens.verify(session.accessToken);
      assert.deepEqual([claims.kind, claims.acr], ['staff', 'passkey']);
    });
    await context.close();
  });
});
