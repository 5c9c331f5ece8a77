/**
 * The unit hall's agent management as a unit administrator uses it, on a phone and at a desk: the unit's agents with
 * role and validity, 授权经办人 for a registered person, and 撤销 — each agent whole on a phone, the action within
 * reach (not in a table that scrolls sideways). 张伟 is the demo unit's administrator (demo seed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DEMO_PERSONS } from '../server/src/integration/core-zone/index.ts';
import { service } from '../server/src/platform/context.ts';
import { residentIdCheckChar } from '../server/src/platform/privacy/index.ts';
import { checkA11y, launchBrowser, screenshots, settled, type ViewportName } from './support/index.ts';
import { type InProcessPlatform, signedInPage, startInProcessPlatform } from './support/inprocess.ts';

const REGION = '990100';

describe('unit hall (e2e)', () => {
  let env: InProcessPlatform;
  let browser: Browser;
  const shot = screenshots('unit');
  let admin: { id: string; name: string; regionCode: string };
  before(async () => {
    [env, browser] = await Promise.all([startInProcessPlatform(), launchBrowser()]);
    const p = await service(env.platform.ctx, 'user').findPersonByResidentId(REGION, DEMO_PERSONS.zhangWei.residentId);
    assert.ok(p, 'the demo seed holds 张伟');
    admin = { id: p.id, name: p.name, regionCode: REGION };
  });
  after(async () => {
    await browser?.close();
    await env?.close();
  });

  test('the home names the units a person acts for, with the role; a person with none is shown how to register one', async () => {
    const stranger17 = '99010219911111112';
    const newcomer = await service(env.platform.ctx, 'user').createPerson({
      regionCode: REGION,
      name: '郑洁',
      residentId: `${stranger17}${residentIdCheckChar(stranger17)}`,
      mobile: '19912340077',
    });
    for (const [who, expect] of [
      [
        admin,
        async (page: Page) => {
          const mine = page.locator('.ant-card', { hasText: '我的单位' }).first();
          await mine.getByText('东湖示范科技有限公司').waitFor();
          await mine.getByText('管理员').waitFor();
        },
      ],
      [
        { id: newcomer.id, name: newcomer.name, regionCode: REGION },
        async (page: Page) => {
          await page.getByText('您还不是任何单位的经办人', { exact: false }).waitFor();
          await page.getByRole('button', { name: '单位注册' }).click();
          await page.waitForURL((u) => u.pathname === '/unit/register');
        },
      ],
    ] as const) {
      const { context, page, errors } = await signedInPage(browser, 'phone', env, who, 'unit');
      try {
        await page.goto('/unit');
        await settled(page);
        await page.getByRole('list', { name: '服务列表' }).getByRole('link', { name: '经办人管理' }).waitFor();
        await checkA11y(page, `/unit (${who.name})`);
        await shot(page, `home-${who === admin ? 'admin' : 'newcomer'}`);
        await expect(page);
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    }
  });

  test('on a phone, 我的单位: the admin acts for the unit and back, with buttons big enough to tap', async () => {
    const { context, page, errors } = await signedInPage(browser, 'phone', env, admin, 'unit');
    try {
      await page.goto('/unit/units');
      await settled(page);
      for (const name of ['代办该单位', '管理经办人']) {
        const box = await page.getByRole('button', { name }).first().boundingBox();
        assert.ok(box && box.height >= 40, `${name} is big enough to tap (${box?.height}px)`);
      }
      await page.getByRole('button', { name: '代办该单位' }).first().click();
      await page.getByText('当前代办').waitFor();
      await page.getByRole('button', { name: '回到个人身份' }).click();
      await page.getByText('当前代办').waitFor({ state: 'detached' });
      await checkA11y(page, '/unit/units (phone)');
      await shot(page, 'units');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  for (const [i, viewport] of (['phone', 'desktop'] as ViewportName[]).entries()) {
    test(`at ${viewport} width: the admin grants an agent, sees role and validity, and revokes`, async () => {
      const first17 = `990102199001011${i}2`;
      const newcomer = await service(env.platform.ctx, 'user').createPerson({
        regionCode: REGION,
        name: viewport === 'phone' ? '周敏' : '吴刚',
        residentId: `${first17}${residentIdCheckChar(first17)}`,
        mobile: `1991234010${i}`,
        password: 'Yibao@2026pass',
      });
      const { context, page, errors } = await signedInPage(browser, viewport, env, admin, 'unit');
      try {
        await page.goto('/unit/agents');
        await settled(page);
        // the demo unit's handler, with her role, masked
        const lina = page.getByText(`${DEMO_PERSONS.liNa.name[0]}*`, { exact: true }).first();
        await lina.waitFor();
        await page.getByText('经办', { exact: true }).first().waitFor();
        // the admin's own row says so; as the unit's only admin it cannot be revoked, and says why before a press
        const own = viewport === 'phone' ? page.locator('.ant-list-item') : page.locator('tr');
        const ownRow = own.filter({ hasText: `${DEMO_PERSONS.zhangWei.name[0]}*（本人）` });
        assert.equal(await ownRow.getByRole('button', { name: /撤\s*销/ }).isDisabled(), true, 'the only admin');
        await checkA11y(page, `/unit/agents (${viewport})`);
        await shot(page, 'agents');

        await page.getByRole('button', { name: '授权经办人' }).click();
        const dialog = page.getByRole('dialog', { name: '授权经办人' });
        await dialog.getByLabel('姓名').fill(newcomer.name);
        await dialog.getByLabel('身份证号码').fill(newcomer.residentId);
        await dialog.getByRole('button', { name: /确\s*定|OK/ }).click();
        await page.getByText('已授权').waitFor();
        const masked = `${newcomer.name[0]}*`;
        await page.getByText(masked, { exact: true }).waitFor();

        // the revoke control is on screen without scrolling sideways
        const revoke = page.getByRole('button', { name: /撤\s*销/ }).last();
        const box = await revoke.boundingBox();
        const width = page.viewportSize()!.width;
        assert.ok(box && box.x >= 0 && box.x + box.width <= width, `撤销 is within the ${width}px screen`);
        if (viewport === 'phone') assert.ok(box.height >= 40, `撤销 is big enough to tap (${box.height}px)`);
        await revoke.click();
        await page.getByRole('button', { name: /确\s*定|OK/ }).click();
        await page.getByText('已撤销授权').waitFor();
        await page.getByText(masked, { exact: true }).waitFor({ state: 'detached' });
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });
  }

  test('a grant ending within a week is flagged in 经办人管理 and adjusted there without the ID number', async () => {
    const users = service(env.platform.ctx, 'user');
    const first17 = '99010219900101132';
    const temp = await users.createPerson({
      regionCode: REGION,
      name: '郑临期',
      residentId: `${first17}${residentIdCheckChar(first17)}`,
      mobile: '19912340199',
      password: 'Yibao@2026pass',
    });
    const unitId = (await users.unitsOf(REGION, admin.id))[0]!.unit.id;
    const system = { kind: 'system' as const, id: 'e2e' };
    await users.grantAgent(
      {
        regionCode: REGION,
        unitId,
        personId: temp.id,
        role: 'handler',
        expiresAt: new Date(Date.now() + 3 * 86_400_000),
      },
      system,
    );
    const { context, page, errors } = await signedInPage(browser, 'phone', env, admin, 'unit');
    try {
      await page.goto('/unit/agents');
      const row = page.locator('.ant-list-item').filter({ hasText: '郑*' });
      await row.getByText('授权 3 天后到期').waitFor();
      // 调整: the terms change without the person's ID number (here the role; the date picker keeps the expiry)
      await row.getByRole('button', { name: /调\s*整/ }).click();
      const dialog = page.getByRole('dialog', { name: /^调整 郑\*+ 的授权$/ });
      await dialog.getByRole('combobox').first().click();
      await page.getByTitle('查看', { exact: true }).click();
      await dialog.getByRole('button', { name: /确\s*定|OK/ }).click();
      await page.getByText('已更新授权').waitFor();
      await row.getByText('查看', { exact: true }).waitFor();
      assert.equal(await users.agentRole(REGION, unitId, temp.id), 'viewer');
      assert.deepEqual(errors, []);
      // the agent sees it too, on the unit hall's home
      const own = await signedInPage(
        browser,
        'phone',
        env,
        { id: temp.id, name: temp.name, regionCode: REGION },
        'unit',
      );
      await own.page.goto('/unit');
      await own.page.getByText('授权 3 天后到期').waitFor();
      await own.context.close();
    } finally {
      await context.close();
      await users.revokeAgent(REGION, unitId, temp.id, system);
    }
  });
});
