process.env.USER_ARGON2_PROFILE ??= 'test';

/**
 * 到期提醒 through the real message center: 经办授权 once per grant, to the agent and the unit's other admins; 工作人员密码
 * once per password, to the staff member's alert address.
 */
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
  'user center: 到期提醒',
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

    test('staff with an alert address hear a week ahead that their password ages out, once per password', async () => {
      const users = service(get().ctx, 'user');
      const staff = (username: string, contact: { email?: string; mobile?: string }) =>
        users.createStaff({ regionCode: DH, username, password: 'Aging#Pass2026', displayName: username, ...contact });
      const age = (id: string, days: number) =>
        get().ctx.db.q(sql`update staff_account set password_changed_at = now() - make_interval(days => ${days})
          where id = ${id}`);
      const due = await staff('pwdue01', { email: 'due01@example.gov.cn' });
      const fresh = await staff('pwfresh01', { email: 'fresh01@example.gov.cn' });
      const silent = await staff('pwsilent01', {});
      const gone = await staff('pwgone01', { mobile: '13900005555' });
      await Promise.all([age(due.id, 85), age(fresh.id, 10), age(silent.id, 85), age(gone.id, 95)]);

      assert.equal(
        await users.remindStaffPasswords(),
        1,
        'the one within a week with an address (an aged-out one is asked at login)',
      );
      assert.equal(await users.remindStaffPasswords(), 0, 'once per password');
      await get().ctx.jobs.drain();
      const told = await get().ctx.db.q<{ type_code: string; channel: string; status: string; body: string }>(sql`
        select m.type_code, d.channel, d.status, d.body from message m
          join message_delivery d on d.region_code = m.region_code and d.message_id = m.id
        where m.to_staff_id = ${due.id} and d.status <> 'skipped'`);
      assert.deepEqual(
        told.map((t) => `${t.type_code} ${t.channel} ${t.status}`),
        ['user.staff_password_expiring email sent'],
      );
      const expires = (await users.getStaff(due.id)).passwordExpiresAt!;
      assert.equal(new Date(expires).getTime() - Date.now() < 6 * 86_400_000, true);
      assert.match(told[0]!.body, /pwdue01 的密码将于 .+ 到期/);

      // a new password starts the clock again, and is announced in its turn
      await users.changeStaffPassword(due.id, 'Renewed#Pass2026');
      assert.equal(await users.remindStaffPasswords(), 0);
      await age(due.id, 84);
      assert.equal(await users.remindStaffPasswords(), 1);
    });
  },
  { centers: [userCenter, messageCenter] },
);
