process.env.USER_ARGON2_PROFILE ??= 'test';

/**
 * The message center with the real user center: persons who register after the center started are reached by
 * region broadcasts, and the unit hall shows the announcements addressed to the unit the viewer acts for.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { sql } from '../../platform/db/index.ts';
import { forEachPlatform, type TestPlatform } from '../../testing/platform.ts';
import { userCenter } from '../user/index.ts';
import { createTestPerson, randomResidentId, randomUscc } from '../user/testing.ts';
import { messageCenter } from './index.ts';
import { flush } from './testing.ts';

const REGION = '990100';

forEachPlatform(
  'message center with the user center',
  (get) => {
    let p: TestPlatform;
    let admin: { authorization: string };
    before(async () => {
      p = get();
      p.ctx.permissions = { permissionsOf: async () => new Set(['*']) };
      admin = await p.auth({ kind: 'staff', subject: 'msg-admin', regionCode: REGION });
      await p.ctx.services.message!.saveSettings(REGION, { quietStart: 0, quietEnd: 0 }, 'test');
    });

    const broadcast = async (payload: Record<string, unknown>) => {
      const res = await p.app.inject({ method: 'POST', url: '/api/message/broadcasts', headers: admin, payload });
      assert.equal(res.statusCode, 201, res.body);
      await flush(p);
      return res.json() as { id: string };
    };

    test('a person who registers after the center started gets region broadcasts in the inbox', async () => {
      const person = await createTestPerson(p);
      // The registration made the person reachable, in its own transaction (no message was ever sent to them).
      const row = await p.ctx.db.one(sql`select 1 from message_recipient
        where region_code = ${REGION} and kind = 'person' and subject_id = ${person.id} and unit_id = ''`);
      assert.ok(row, 'registered as a recipient');
      const title = `参保缴费提醒 ${person.id.slice(0, 8)}`;
      await broadcast({
        title,
        body: '请于本月底前完成城乡居民医保缴费。',
        hall: 'personal',
        audience: { kind: 'region_persons' },
        toInbox: true,
      });
      const headers = await p.auth({ kind: 'person', subject: person.id, regionCode: REGION });
      const inbox = await p.app.inject({ url: '/api/message/inbox', headers });
      assert.equal(inbox.statusCode, 200, inbox.body);
      assert.ok(
        inbox.json().items.some((i: { title: string }) => i.title === title),
        'the announcement is in the new person’s inbox',
      );
    });

    test('the unit hall filter: unit-hall and unit-addressed announcements, only for the unit’s agents', async () => {
      const users = p.ctx.services.user!;
      const boss = await createTestPerson(p);
      const outsider = await createTestPerson(p);
      const actor = { kind: 'person' as const, id: boss.id };
      const unit = await users.registerUnit(
        {
          regionCode: REGION,
          uscc: randomUscc(),
          name: '东湖公告测试有限公司',
          unitType: 'insured_employer',
          legalRepName: '赵六',
          adminPersonId: boss.id,
        },
        actor,
      );
      const other = await users.registerUnit(
        {
          regionCode: REGION,
          uscc: randomUscc(),
          name: '东湖另一家公司',
          unitType: 'insured_employer',
          legalRepName: '钱七',
          adminPersonId: outsider.id,
        },
        { kind: 'person', id: outsider.id },
      );
      const tag = boss.id.slice(0, 8);
      const forUnits = `单位网厅公告 ${tag}`;
      const forOurUnit = `本单位缴费申报提醒 ${tag}`;
      const forPersons = `个人网厅公告 ${tag}`;
      await broadcast({
        title: forUnits,
        body: '单位参保登记业务调整。',
        hall: 'unit',
        audience: { kind: 'public' },
        toInbox: false,
      });
      await broadcast({
        title: forOurUnit,
        body: '请于本月25日前完成缴费申报。',
        hall: 'unit',
        audience: { kind: 'unit_staff', unitId: unit.id },
        toInbox: false,
      });
      await broadcast({
        title: forPersons,
        body: '个人业务通知。',
        hall: 'personal',
        audience: { kind: 'public' },
        toInbox: false,
      });

      const titles = async (hall: string, headers: Record<string, string>) => {
        const res = await p.app.inject({ url: `/api/message/announcements?hall=${hall}`, headers });
        assert.equal(res.statusCode, 200, res.body);
        return (res.json() as Array<{ title: string }>).map((a) => a.title);
      };
      const asAgent = await p.auth({ kind: 'person', subject: boss.id, regionCode: REGION, unitId: unit.id });
      const agentView = await titles('unit', asAgent);
      assert.ok(agentView.includes(forUnits));
      assert.ok(agentView.includes(forOurUnit), 'the unit’s own announcement');
      assert.ok(!agentView.includes(forPersons), 'personal-hall announcements stay in the personal hall');

      const anonymous = await titles('unit', { 'x-region-code': REGION });
      assert.ok(anonymous.includes(forUnits));
      assert.ok(!anonymous.includes(forOurUnit), 'not shown without acting for the unit');
      const otherUnit = await titles(
        'unit',
        await p.auth({ kind: 'person', subject: outsider.id, regionCode: REGION, unitId: other.id }),
      );
      assert.ok(!otherUnit.includes(forOurUnit), 'not shown to another unit');
      // A token claiming a unit the person is no agent of does not open it.
      const claimed = await titles(
        'unit',
        await p.auth({ kind: 'person', subject: outsider.id, regionCode: REGION, unitId: unit.id }),
      );
      assert.ok(!claimed.includes(forOurUnit), 'a unit claim without a grant');
      const personal = await titles('personal', asAgent);
      assert.ok(personal.includes(forPersons));
      assert.ok(!personal.includes(forUnits) && !personal.includes(forOurUnit));
    });

    const post = (audience: Record<string, unknown>, toInbox = true) =>
      p.app.inject({
        method: 'POST',
        url: '/api/message/broadcasts',
        headers: admin,
        payload: { title: '名单公告', body: '请核对参保信息。', hall: 'personal', audience, toInbox },
      });

    test('a clerk names people by resident ID number: those with an account are reached, the others counted', async () => {
      const [ann, bo] = [await createTestPerson(p), await createTestPerson(p)];
      const noAccount = randomResidentId();
      const title = `名单公告 ${ann.id.slice(0, 8)}`;
      const res = await p.app.inject({
        method: 'POST',
        url: '/api/message/broadcasts',
        headers: admin,
        payload: {
          title,
          body: '请核对参保信息。',
          hall: 'personal',
          audience: {
            kind: 'list',
            residentIds: [ann.residentId.toLowerCase(), ` ${bo.residentId}`, noAccount, ann.residentId],
          },
          toInbox: true,
        },
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().unmatched, 1);
      await flush(p);
      for (const person of [ann, bo]) {
        const headers = await p.auth({ kind: 'person', subject: person.id, regionCode: REGION });
        const inbox = (await p.app.inject({ url: '/api/message/inbox', headers })).json();
        assert.equal(inbox.items.filter((i: { title: string }) => i.title === title).length, 1, person.name);
      }
      // only account ids are stored, never the ID numbers
      const [stored] = await p.ctx.db.q<{ audience: string }>(
        sql`select audience::text as audience from message_announcement where id = ${res.json().id}`,
      );
      assert.doesNotMatch(stored.audience, new RegExp(`${ann.residentId}|${bo.residentId}|${noAccount}`, 'i'));
      assert.deepEqual(JSON.parse(stored.audience).personIds.sort(), [ann.id, bo.id].sort());

      const bad = await post({ kind: 'list', residentIds: ['110101199003071234'] });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().code, 'VALIDATION_FAILED');
      assert.match(bad.body, /身份证号码无效/);
      const nobody = await post({ kind: 'list', residentIds: [noAccount] });
      assert.equal(nobody.json().code, 'MESSAGE_AUDIENCE_EMPTY');
      assert.equal((await post({ kind: 'list' })).json().code, 'MESSAGE_AUDIENCE_INVALID');
    });

    test('a clerk names a unit by its Unified Social Credit Code', async () => {
      const users = p.ctx.services.user!;
      const boss = await createTestPerson(p);
      const uscc = randomUscc();
      const unit = await users.registerUnit(
        {
          regionCode: REGION,
          uscc,
          name: '东湖信用代码测试有限公司',
          unitType: 'insured_employer',
          legalRepName: '孙八',
          adminPersonId: boss.id,
        },
        { kind: 'person', id: boss.id },
      );
      const res = await post({ kind: 'unit_staff', uscc: uscc.toLowerCase() });
      assert.equal(res.statusCode, 201, res.body);
      const [stored] = await p.ctx.db.q<{ audience: { unitId: string; unitName: string } }>(
        sql`select audience from message_announcement where id = ${res.json().id}`,
      );
      assert.equal(stored.audience.unitId, unit.id);
      assert.equal(stored.audience.unitName, '东湖信用代码测试有限公司', 'the name as it was, for the list');
      await flush(p);
      const headers = await p.auth({ kind: 'person', subject: boss.id, regionCode: REGION, unitId: unit.id });
      const inbox = (await p.app.inject({ url: '/api/message/inbox', headers })).json();
      assert.ok(
        inbox.items.some((i: { title: string }) => i.title === '名单公告'),
        'the unit admin is reached',
      );

      const unknown = await post({ kind: 'unit_staff', uscc: randomUscc() });
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json().code, 'MESSAGE_UNIT_NOT_FOUND');
      assert.equal((await post({ kind: 'unit_staff', uscc: '91110000MA01234567' })).json().code, 'VALIDATION_FAILED');
      const both = await post({ kind: 'unit_staff', uscc, unitId: unit.id });
      assert.equal(both.json().code, 'MESSAGE_AUDIENCE_INVALID');
    });
  },
  { centers: [userCenter, messageCenter] },
);
