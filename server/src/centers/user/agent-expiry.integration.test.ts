process.env.USER_ARGON2_PROFILE ??= 'test';

/** 经办授权到期提醒 through the real message center: once per grant, to the agent and the unit's other admins. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { service } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { forEachPlatform } from '../../testing/platform.ts';
import { messageCenter } from '../message/index.ts';
import { userCenter } from './index.ts';
import { createTestPerson, randomUscc } from './testing.ts';

const DH = '990100';
const system = { kind: 'system' as const, id: 'test' };
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);

forEachPlatform(
  'user center: 经办授权到期提醒',
  (get) => {
    const inbox = async (personId: string) => {
      await get().ctx.jobs.drain();
      return get().ctx.db.q<{ type_code: string; body: string }>(sql`select type_code, body from message_inbox
        where region_code = ${DH} and person_id = ${personId} order by created_at`);
    };

    test('a grant ending within 7 days is announced once to the agent and the other admins; a renewal again', async () => {
      const users = service(get().ctx, 'user');
      const [boss, deputy, soon, later, forever] = await Promise.all(
        ['单老板', '单副手', '钱快到', '孙还早', '李长期'].map((name) => createTestPerson(get(), { name })),
      );
      const unit = await users.registerUnit(
        {
          regionCode: DH,
          uscc: randomUscc(),
          name: '到期测试有限公司',
          unitType: 'insured_employer',
          legalRepName: '单老板',
          adminPersonId: boss!.id,
        },
        system,
      );
      const grant = (personId: string, role: 'admin' | 'handler', expiresAt: Date | null) =>
        users.grantAgent({ regionCode: DH, unitId: unit.id, personId, role, expiresAt }, system);
      await grant(deputy!.id, 'admin', null);
      await grant(soon!.id, 'handler', inDays(3));
      await grant(later!.id, 'handler', inDays(30));
      await grant(forever!.id, 'handler', null);

      assert.equal(await users.remindExpiringAgents(), 1, 'only the grant ending within a week');
      assert.equal(await users.remindExpiringAgents(), 0, 'announced once');
      const told = await inbox(soon!.id);
      assert.deepEqual(
        told.map((m) => m.type_code),
        ['user.agent_expiring'],
      );
      assert.match(told[0]!.body, /您在到期测试有限公司的经办授权（经办）将于 .+ 到期/);
      for (const admin of [boss!, deputy!]) {
        const got = await inbox(admin.id);
        assert.equal(got.filter((m) => m.type_code === 'user.agent_expiring_unit').length, 1);
        assert.match(got.at(-1)!.body, /钱\*\*在到期测试有限公司的经办授权（经办）将于/);
      }
      assert.equal((await inbox(later!.id)).length, 0);
      assert.equal((await inbox(forever!.id)).length, 0);

      // renewed for two more days: a new expiry, announced in its turn
      await grant(soon!.id, 'handler', inDays(5));
      assert.equal(await users.remindExpiringAgents(), 1);
      assert.equal((await inbox(soon!.id)).length, 2);
    });
  },
  { centers: [userCenter, messageCenter] },
);
