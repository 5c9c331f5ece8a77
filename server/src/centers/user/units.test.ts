process.env.USER_ARGON2_PROFILE ??= 'test';

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Center } from '../../platform/center.ts';
import { service } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { usccCheckChar } from '../../platform/privacy/index.ts';
import { forEachPlatform } from '../../testing/platform.ts';
import { requireAgent, userCenter } from './index.ts';
import { createTestPerson, randomUscc } from './testing.ts';

const DH = '990100';

/** A stand-in for another center's unit-hall route that uses requireAgent. */
const probeCenter: Center = {
  name: 'probe',
  description: '测试: 经办人守卫',
  routes(app, ctx) {
    app.get('/api/probe/agent', { schema: { tags: ['probe'], summary: '经办人守卫测试' } }, async (req) =>
      requireAgent(ctx, req, ['admin', 'handler']),
    );
  },
};

forEachPlatform(
  'user center: units and agents',
  (get) => {
    const users = () => service(get().ctx, 'user');
    const as = (personId: string) => get().auth({ kind: 'person', subject: personId, regionCode: DH });
    const registerUnit = async (personId: string, over: Record<string, unknown> = {}) =>
      get().app.inject({
        method: 'POST',
        url: '/api/user/units',
        headers: await as(personId),
        payload: {
          uscc: randomUscc(),
          name: '东湖测试医药有限公司',
          unitType: 'pharma_company',
          legalRepName: '赵六',
          ...over,
        },
      });

    test('unit registration checks the USCC; the registrant becomes the admin agent', async () => {
      const boss = await createTestPerson(get());
      const uscc = randomUscc();
      const wrong = uscc.slice(0, 17) + (uscc[17] === '0' ? '1' : '0');
      for (const bad of [wrong, '91990100MA00000I1X', 'short']) {
        const res = await registerUnit(boss.id, { uscc: bad });
        assert.equal(res.statusCode, 400, bad);
        assert.equal(res.json().code, 'USER_USCC_INVALID');
        assert.equal(res.json().errors[0].field, 'uscc');
      }
      const badType = await registerUnit(boss.id, { unitType: 'bank' });
      assert.equal(badType.statusCode, 400);
      assert.equal(badType.json().errors[0].field, 'unitType');

      const ok = await registerUnit(boss.id, { uscc: uscc.toLowerCase() });
      assert.equal(ok.statusCode, 201, ok.body);
      assert.equal(ok.json().uscc, uscc);
      const dup = await registerUnit(boss.id, { uscc });
      assert.equal(dup.statusCode, 409);
      assert.equal(dup.json().code, 'USER_USCC_TAKEN');
      const mine = (await get().app.inject({ url: '/api/user/me/units', headers: await as(boss.id) })).json();
      assert.deepEqual(
        mine.map((m: { unit: { uscc: string }; role: string }) => [m.unit.uscc, m.role]),
        [[uscc, 'admin']],
      );
      const anon = await get().app.inject({
        method: 'POST',
        url: '/api/user/units',
        payload: { uscc: randomUscc(), name: '匿名单位', unitType: 'other', legalRepName: '赵六' },
      });
      assert.equal(anon.statusCode, 401);
    });

    test('agents: admin grants roles with expiry; one person acts for several units; non-admins are refused', async () => {
      const boss = await createTestPerson(get());
      const helper = await createTestPerson(get());
      const stranger = await createTestPerson(get());
      const unitA = (await registerUnit(boss.id, { name: '甲单位' })).json();
      const unitB = (await registerUnit(stranger.id, { name: '乙单位' })).json();
      const grant = async (by: string, unitId: string, body: Record<string, unknown>) =>
        get().app.inject({
          method: 'POST',
          url: `/api/user/units/${unitId}/agents`,
          headers: await as(by),
          payload: body,
        });
      const nameMismatch = await grant(boss.id, unitA.id, {
        residentId: helper.residentId,
        name: '不对',
        role: 'handler',
      });
      assert.equal(nameMismatch.statusCode, 404);
      assert.equal(nameMismatch.json().code, 'USER_AGENT_PERSON_NOT_FOUND');
      const past = await grant(boss.id, unitA.id, {
        residentId: helper.residentId,
        name: helper.name,
        role: 'handler',
        expiresAt: new Date(Date.now() - 60_000).toISOString(),
      });
      assert.equal(past.json().code, 'USER_AGENT_EXPIRY_INVALID');
      const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
      const ok = await grant(boss.id, unitA.id, {
        residentId: helper.residentId,
        name: helper.name,
        role: 'handler',
        expiresAt,
      });
      assert.equal(ok.statusCode, 201, ok.body);
      assert.ok(!ok.body.includes(helper.residentId), 'the answer is masked');
      const okB = await grant(stranger.id, unitB.id, {
        residentId: helper.residentId,
        name: helper.name,
        role: 'viewer',
      });
      assert.equal(okB.statusCode, 201);

      // switching: a token for unit A (handler) passes the guard; unit B (viewer) is refused by role
      const switchTo = async (unitId: string | null) =>
        get().app.inject({
          method: 'POST',
          url: '/api/user/me/acting-unit',
          headers: await as(helper.id),
          payload: { unitId },
        });
      const probe = async (token: string) =>
        get().app.inject({ url: '/api/probe/agent', headers: { authorization: `Bearer ${token}` } });
      const asA = await switchTo(unitA.id);
      assert.equal(asA.statusCode, 200, asA.body);
      assert.equal(asA.json().role, 'handler');
      assert.equal((await get().ctx.tokens.verify(asA.json().accessToken)).unit, unitA.id);
      const okProbe = await probe(asA.json().accessToken);
      assert.equal(okProbe.statusCode, 200, okProbe.body);
      assert.deepEqual(okProbe.json(), { unitId: unitA.id, personId: helper.id, role: 'handler' });
      const asB = await switchTo(unitB.id);
      assert.equal((await probe(asB.json().accessToken)).json().code, 'USER_AGENT_ROLE_FORBIDDEN');
      assert.equal((await probe((await switchTo(null)).json().accessToken)).json().code, 'USER_UNIT_NOT_SELECTED');
      const foreign = await get().app.inject({
        method: 'POST',
        url: '/api/user/me/acting-unit',
        headers: await as(boss.id),
        payload: { unitId: unitB.id },
      });
      assert.equal(foreign.statusCode, 403);
      assert.equal(foreign.json().code, 'USER_NOT_AGENT');

      const units = await users().unitsOf(DH, helper.id);
      assert.deepEqual(units.map((u) => `${u.unit.name}:${u.role}`).sort(), ['乙单位:viewer', '甲单位:handler']);
      assert.equal(units.find((u) => u.role === 'handler')?.expiresAt, expiresAt);

      // a handler may not manage agents, nor may the admin of another unit
      const byHandler = await get().app.inject({
        url: `/api/user/units/${unitA.id}/agents`,
        headers: await as(helper.id),
      });
      assert.equal(byHandler.statusCode, 403);
      assert.equal(byHandler.json().code, 'USER_UNIT_ADMIN_REQUIRED');
      const crossUnit = await grant(stranger.id, unitA.id, {
        residentId: stranger.residentId,
        name: stranger.name,
        role: 'admin',
      });
      assert.equal(crossUnit.statusCode, 403);

      const list = await get().app.inject({ url: `/api/user/units/${unitA.id}/agents`, headers: await as(boss.id) });
      assert.equal(list.statusCode, 200);
      assert.deepEqual(
        list
          .json()
          .map((a: { role: string }) => a.role)
          .sort(),
        ['admin', 'handler'],
      );
      assert.ok(!list.body.includes(helper.mobile));

      // expiry: once the grant's time has passed, the role is gone
      await get().ctx.db.q(sql`update agent set expires_at = now() - interval '1 second'
        where region_code = ${DH} and unit_id = ${unitA.id} and person_id = ${helper.id}`);
      assert.equal(await users().agentRole(DH, unitA.id, helper.id), undefined);
      assert.equal(
        (await probe(asA.json().accessToken)).json().code,
        'USER_NOT_AGENT',
        'an expired grant stops at once',
      );
      assert.deepEqual(
        (await users().unitsOf(DH, helper.id)).map((u) => u.unit.name),
        ['乙单位'],
      );
      const listed = (await users().listAgents(DH, unitA.id)).find((a) => a.personId === helper.id);
      assert.equal(listed?.active, false);

      // revoke
      const del = await get().app.inject({
        method: 'DELETE',
        url: `/api/user/units/${unitB.id}/agents/${helper.id}`,
        headers: await as(stranger.id),
      });
      assert.equal(del.statusCode, 204);
      assert.equal(await users().agentRole(DH, unitB.id, helper.id), undefined);
      const audit = await get().ctx.db.q<{ action: string }>(sql`select action from audit_event
        where region_code = ${DH} and target_id = ${unitB.id} order by seq`);
      assert.deepEqual(
        audit.map((a) => a.action),
        ['user.unit.register', 'user.agent.grant', 'user.agent.switch', 'user.agent.revoke'],
      );
    });

    test('an admin renews an agent or changes the role without the ID number again (PATCH)', async () => {
      const boss = await createTestPerson(get());
      const helper = await createTestPerson(get());
      const stranger = await createTestPerson(get());
      const unit = (await registerUnit(boss.id)).json();
      const soon = new Date(Date.now() + 2 * 86_400_000).toISOString();
      await users().grantAgent(
        { regionCode: DH, unitId: unit.id, personId: helper.id, role: 'handler', expiresAt: soon },
        { kind: 'system', id: 't' },
      );
      const patch = async (by: string, personId: string, body: Record<string, unknown>) =>
        get().app.inject({
          method: 'PATCH',
          url: `/api/user/units/${unit.id}/agents/${personId}`,
          headers: await as(by),
          payload: body,
        });
      const later = new Date(Date.now() + 90 * 86_400_000).toISOString();
      const renewed = await patch(boss.id, helper.id, { role: 'viewer', expiresAt: later });
      assert.equal(renewed.statusCode, 200, renewed.body);
      assert.deepEqual([renewed.json().role, renewed.json().expiresAt], ['viewer', later]);
      assert.match(renewed.json().person.residentId, /\*{8}/, 'masked');
      assert.equal(await users().agentRole(DH, unit.id, helper.id), 'viewer');
      const forever = await patch(boss.id, helper.id, { role: 'handler', expiresAt: null });
      assert.equal(forever.json().expiresAt, undefined, '长期');

      const refusals = await Promise.all([
        patch(boss.id, stranger.id, { role: 'handler', expiresAt: null }),
        patch(helper.id, helper.id, { role: 'admin', expiresAt: null }),
        patch(boss.id, boss.id, { role: 'viewer', expiresAt: null }),
        patch(boss.id, helper.id, { role: 'handler', expiresAt: new Date(Date.now() - 60_000).toISOString() }),
        patch(boss.id, helper.id, { role: 'owner', expiresAt: null }),
      ]);
      assert.deepEqual(
        refusals.map((r) => [r.statusCode, r.json().code]),
        [
          [404, 'USER_AGENT_NOT_FOUND'],
          [403, 'USER_UNIT_ADMIN_REQUIRED'],
          [409, 'USER_LAST_UNIT_ADMIN'],
          [400, 'USER_AGENT_EXPIRY_INVALID'],
          [400, 'VALIDATION_FAILED'],
        ],
      );
    });

    test('a unit always keeps an admin', async () => {
      const boss = await createTestPerson(get());
      const deputy = await createTestPerson(get());
      const unit = (await registerUnit(boss.id)).json();
      const self = await get().app.inject({
        method: 'DELETE',
        url: `/api/user/units/${unit.id}/agents/${boss.id}`,
        headers: await as(boss.id),
      });
      assert.equal(self.statusCode, 409);
      assert.equal(self.json().code, 'USER_LAST_UNIT_ADMIN');
      await assert.rejects(
        users().grantAgent(
          { regionCode: DH, unitId: unit.id, personId: boss.id, role: 'viewer' },
          { kind: 'system', id: 't' },
        ),
        /USER_LAST_UNIT_ADMIN/,
      );
      await assert.rejects(users().deactivate(DH, boss.id, { kind: 'person', id: boss.id }), /USER_LAST_UNIT_ADMIN/);
      await users().grantAgent(
        { regionCode: DH, unitId: unit.id, personId: deputy.id, role: 'admin' },
        { kind: 'system', id: 't' },
      );
      const demote = await users().grantAgent(
        { regionCode: DH, unitId: unit.id, personId: boss.id, role: 'viewer' },
        { kind: 'system', id: 't' },
      );
      assert.equal(demote.role, 'viewer');
    });

    test('staff console: units and agents search; a pilot code that fails the check needs a staff override', async () => {
      const admin = (await users().findStaffByUsername('admin'))!;
      const h = await get().auth({ kind: 'staff', subject: admin.id, regionCode: DH });
      const boss = await createTestPerson(get());
      const first17 = '11990100MB0000001';
      const check = usccCheckChar(first17)!;
      const pilot = first17 + (check === 'A' ? 'B' : 'A');
      const body = {
        uscc: pilot,
        name: '东湖早期试点单位',
        unitType: 'medical_institution',
        legalRepName: '孙七',
        adminResidentId: boss.residentId,
      };
      const refused = await get().app.inject({
        method: 'POST',
        url: '/api/user/admin/units',
        headers: h,
        payload: body,
      });
      assert.equal(refused.json().code, 'USER_USCC_INVALID');
      const accepted = await get().app.inject({
        method: 'POST',
        url: '/api/user/admin/units',
        headers: h,
        payload: { ...body, usccOverride: true },
      });
      assert.equal(accepted.statusCode, 201, accepted.body);
      assert.equal(accepted.json().usccOverrideBy, admin.id);
      assert.equal(accepted.json().legalRepName, '孙*');

      const found = (await get().app.inject({ url: `/api/user/admin/units?q=${pilot}`, headers: h })).json();
      assert.equal(found.total, 1);
      const byName = (
        await get().app.inject({ url: `/api/user/admin/units?q=${encodeURIComponent('试点')}`, headers: h })
      ).json();
      assert.ok(byName.items.some((u: { uscc: string }) => u.uscc === pilot));
      const agents = await get().app.inject({ url: `/api/user/admin/agents?q=${boss.residentId}`, headers: h });
      assert.equal(agents.statusCode, 200);
      assert.equal(agents.json()[0].unit.uscc, pilot);
      assert.ok(!agents.body.includes(boss.residentId) && !agents.body.includes(boss.name));
      const otherRegion = await get().app.inject({
        url: `/api/user/admin/units?q=${pilot}`,
        headers: {
          ...(await get().auth({ kind: 'staff', subject: admin.id, regionCode: '980100' })),
          'x-region-code': '980100',
        },
      });
      assert.equal(otherRegion.json().total, 0);
    });

    test('fuzz: random input to the other endpoints never causes a 500', async () => {
      const boss = await createTestPerson(get());
      const unit = (await registerUnit(boss.id)).json();
      const admin = (await users().findStaffByUsername('admin'))!;
      const person = await as(boss.id);
      const staff = await get().auth({ kind: 'staff', subject: admin.id, regionCode: DH, acr: 'mfa' });
      const value = fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.integer(),
        fc.constant(null),
        fc.boolean(),
        fc.constant('2999-01-01T00:00:00Z'),
      );
      const body = fc.oneof(
        fc.dictionary(
          fc.constantFrom(
            'uscc',
            'name',
            'unitType',
            'legalRepName',
            'residentId',
            'role',
            'expiresAt',
            'username',
            'email',
            'purpose',
            'x',
          ),
          value,
        ),
        fc.jsonValue({ maxDepth: 2 }),
      );
      const targets: Array<[string, string, Record<string, string>]> = [
        ['POST', '/api/user/units', person],
        ['POST', `/api/user/units/${unit.id}/agents`, person],
        ['PATCH', '/api/user/me', person],
        ['POST', '/api/user/password-reset', {}],
        ['POST', '/api/user/admin/units', staff],
        ['POST', `/api/user/admin/persons/${boss.id}/unmask`, staff],
        ['PUT', '/api/user/admin/roles/fuzzrole', staff],
      ];
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...targets), body, async ([method, url, headers], payload) => {
          const res = await get().app.inject({ method: method as 'POST', url, headers, payload: payload as object });
          assert.ok(
            res.statusCode < 500,
            `${method} ${url} ${res.statusCode} ${res.body} for ${JSON.stringify(payload)}`,
          );
        }),
        { numRuns: 150 },
      );
      await fc.assert(
        fc.asyncProperty(
          fc.string({ maxLength: 80 }),
          fc.constantFrom('persons', 'units', 'agents'),
          async (q, what) => {
            const res = await get().app.inject({
              url: `/api/user/admin/${what}?q=${encodeURIComponent(q)}`,
              headers: staff,
            });
            assert.ok(res.statusCode < 500, `${what} ${res.statusCode} ${res.body} for ${JSON.stringify(q)}`);
          },
        ),
        { numRuns: 100 },
      );
    });
  },
  { centers: [userCenter, probeCenter], seed: true },
);
