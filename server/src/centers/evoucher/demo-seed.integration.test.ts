/**
 * The demo seed on the full composition: 张伟's e-voucher is active, with two weeks of scans at the demo institutions
 * (shown by name) that the console's daily chart counts; starting again adds nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEMO_PERSONS } from '../../integration/core-zone/index.ts';
import { service } from '../../platform/context.ts';
import { forEachPlatform } from '../../testing/platform.ts';
import { evoucherCenter } from './index.ts';

forEachPlatform(
  'e-voucher demo seed',
  (get) => {
    test('张伟 has an active voucher with scans on several days; a second start adds none', async () => {
      const ctx = get().ctx;
      const person = await service(ctx, 'user').findPersonByResidentId('990100', DEMO_PERSONS.zhangWei.residentId);
      assert.ok(person, 'the user center seeded 张伟');
      const svc = service(ctx, 'evoucher');
      assert.equal((await svc.mine('990100', person.id)).status, 'active');
      const uses = await svc.myUses('990100', person.id);
      assert.equal(uses.length, 9);
      assert.ok(
        uses.every((u) => u.institutionName),
        'each scan names its institution',
      );
      assert.ok(new Set(uses.map((u) => u.businessType)).size >= 5, 'every business type appears');
      const scans = await svc.dailyScans('990100', 14);
      assert.equal(
        scans.reduce((n, s) => n + s.count, 0),
        9,
      );
      assert.ok(new Set(scans.map((s) => s.day)).size >= 5, 'spread over the fortnight');
      // today's scan sent twice: one real replay for 核验被拒
      const refused = await svc.dailyRefusals('990100', 1);
      assert.deepEqual(
        refused.daily.map((r) => [r.code, r.count]),
        [['EVOUCHER_TOKEN_REPLAYED', 1]],
      );
      const granted = await svc.authorizations('990100', person.id);
      assert.deepEqual(
        granted.map((a) => a.appId),
        ['demo-partner'],
      );
      await evoucherCenter.seed!(ctx);
      assert.equal((await svc.myUses('990100', person.id)).length, 9, 'no second activation or scans');
      assert.equal((await svc.authorizations('990100', person.id)).length, 1, 'nor a second authorisation');
    });
  },
  { seed: true },
);
