process.env.USER_ARGON2_PROFILE ??= 'test';

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getTableColumns, getTableName, type Table } from 'drizzle-orm';
import { verifyAuditChain } from '../../platform/audit.ts';
import { service } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { forEachPlatform } from '../../testing/platform.ts';
import { userCenter } from './index.ts';
import * as schema from './schema.ts';
import { createTestPerson } from './testing.ts';

const DH = '990100';
const BY = '980100';

forEachPlatform(
  'user center: staff, RBAC and the console',
  (get) => {
    const users = () => service(get().ctx, 'user');
    const staffHeaders = (subject: string, regionCode: string, acr = 'pwd', asRegion = regionCode) =>
      get()
        .auth({ kind: 'staff', subject, regionCode, acr })
        .then((h) => ({ ...h, 'x-region-code': asRegion }));
    let clerkId: string;
    let officerId: string;

    test('seed: the super-admin holds * in every demo city; demo roles exist', async () => {
      const admin = await users().findStaffByUsername(get().ctx.config.SUPERADMIN_USERNAME);
      assert.ok(admin);
      for (const region of [DH, '990200', BY]) {
        assert.ok((await users().permissionsOf(admin.id, region)).has('*'), region);
      }
      assert.equal(await users().verifyStaffPassword(admin.id, get().ctx.config.SUPERADMIN_PASSWORD), true);
      assert.equal((await users().verifyStaffLogin('ADMIN', get().ctx.config.SUPERADMIN_PASSWORD))?.id, admin.id);
      assert.equal(await users().verifyStaffLogin('admin', 'Wrong@pass1'), undefined);
      const roles = (await users().listRoles()).map((r) => r.code);
      for (const r of ['superadmin', 'clerk', 'auditor']) assert.ok(roles.includes(r), r);
      // seeding twice changes nothing
      await userCenter.seed!(get().ctx);
      const n = await get().ctx.db.one<{ n: number }>(sql`select count(*)::int as n from staff_account`);
      const again = await get().ctx.db.one<{ n: number }>(sql`select count(*)::int as n from staff_account`);
      assert.equal(n?.n, again?.n);
      const clerk = await users().createStaff({
        regionCode: DH,
        username: 'clerk_dh',
        password: 'Clerk@2024x',
        displayName: '东湖经办员',
        roles: ['clerk'],
      });
      clerkId = clerk.id;
      const officer = await users().createStaff({
        regionCode: DH,
        username: 'officer_dh',
        password: 'Officer@2024',
        displayName: '东湖核查员',
        roles: ['user-admin'],
      });
      officerId = officer.id;
    });

    test('lists mask name, ID number and mobile; search by exact ID/mobile and name prefix', async () => {
      const p = await createTestPerson(get(), { name: '欧阳明远' });
      const h = await staffHeaders(clerkId, DH);
      const search = async (q: string) => {
        const res = await get().app.inject({ url: `/api/user/admin/persons?q=${encodeURIComponent(q)}`, headers: h });
        assert.equal(res.statusCode, 200, res.body);
        return res;
      };
      for (const q of [p.residentId, p.mobile, '欧阳', '欧阳明远']) {
        const res = await search(q);
        const body = res.json();
        assert.ok(
          body.items.some((x: { id: string }) => x.id === p.id),
          `found by ${q}`,
        );
        for (const secret of [p.residentId, p.mobile, p.name]) assert.ok(!res.body.includes(secret), `masked (${q})`);
        const item = body.items.find((x: { id: string }) => x.id === p.id);
        assert.equal(item.name, '欧***');
        assert.equal(item.residentId, `${p.residentId.slice(0, 6)}********${p.residentId.slice(-4)}`);
      }
      assert.equal((await search('欧阳明近')).json().total, 0);
      assert.equal((await search('阳明')).json().total, 0, 'prefix, not infix');
      const detail = await get().app.inject({ url: `/api/user/admin/persons/${p.id}`, headers: h });
      assert.equal(detail.statusCode, 200);
      assert.ok(!detail.body.includes(p.residentId));
    });

    test('unmask: 403 without the permission, step-up required, then plaintext and an audit row with the purpose', async () => {
      const p = await createTestPerson(get());
      const url = `/api/user/admin/persons/${p.id}/unmask`;
      const purpose = '核对参保登记信息';
      const denied = await get().app.inject({
        method: 'POST',
        url,
        headers: await staffHeaders(clerkId, DH, 'mfa'),
        payload: { purpose },
      });
      assert.equal(denied.statusCode, 403);
      assert.equal(denied.json().code, 'PERMISSION_DENIED');
      assert.ok(!denied.body.includes(p.residentId));

      const stepUp = await get().app.inject({
        method: 'POST',
        url,
        headers: await staffHeaders(officerId, DH, 'pwd'),
        payload: { purpose },
      });
      assert.equal(stepUp.statusCode, 401);
      assert.equal(stepUp.json().code, 'STEP_UP_REQUIRED');

      const short = await get().app.inject({
        method: 'POST',
        url,
        headers: await staffHeaders(officerId, DH, 'mfa'),
        payload: { purpose: '看看' },
      });
      assert.equal(short.statusCode, 400);
      assert.equal(short.json().errors[0].field, 'purpose');

      const ok = await get().app.inject({
        method: 'POST',
        url,
        headers: await staffHeaders(officerId, DH, 'mfa'),
        payload: { purpose },
      });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().residentId, p.residentId);
      assert.equal(ok.json().mobile, p.mobile);
      assert.equal(ok.json().name, p.name);
      const rows = await get().ctx.db.q<{ actor_id: string; purpose: string; actor_kind: string }>(
        sql`select actor_id, purpose, actor_kind from audit_event where region_code = ${DH}
          and action = 'user.person.unmask' and target_id = ${p.id}`,
      );
      assert.deepEqual(rows, [{ actor_id: officerId, purpose, actor_kind: 'staff' }]);
      const [chain] = await verifyAuditChain(get().ctx.db, DH);
      assert.equal(chain.brokenAt, undefined);
    });

    test('region isolation: a grant in 990100 does not reach a 980100 person', async () => {
      const far = await createTestPerson(get(), { regionCode: BY });
      const inOther = await get().app.inject({
        url: `/api/user/admin/persons?q=${far.mobile}`,
        headers: await staffHeaders(officerId, DH, 'mfa', BY),
      });
      assert.equal(inOther.statusCode, 403);
      assert.equal(inOther.json().code, 'PERMISSION_DENIED');
      const h = await staffHeaders(officerId, DH, 'mfa');
      const list = await get().app.inject({ url: `/api/user/admin/persons?q=${far.mobile}`, headers: h });
      assert.equal(list.json().total, 0);
      const detail = await get().app.inject({ url: `/api/user/admin/persons/${far.id}`, headers: h });
      assert.equal(detail.statusCode, 404);
      const unmask = await get().app.inject({
        method: 'POST',
        url: `/api/user/admin/persons/${far.id}/unmask`,
        headers: h,
        payload: { purpose: '跨区查看尝试' },
      });
      assert.equal(unmask.statusCode, 404);
      assert.ok(!unmask.body.includes(far.residentId));
    });

    test('disable, enable and reset-password are audited; a disabled person cannot log in', async () => {
      const p = await createTestPerson(get());
      const h = await staffHeaders(officerId, DH);
      const post = (action: string, payload?: object) =>
        get().app.inject({ method: 'POST', url: `/api/user/admin/persons/${p.id}/${action}`, headers: h, payload });
      assert.equal((await post('disable', { reason: '冒用他人身份' })).json().status, 'disabled');
      assert.equal(await users().verifyLogin(DH, p.mobile, p.password), undefined);
      const selfService = await get().app.inject({
        method: 'POST',
        url: '/api/user/me/password',
        headers: await get().auth({ kind: 'person', subject: p.id, regionCode: DH }),
        payload: { oldPassword: p.password, newPassword: 'Other@pass2024' },
      });
      assert.equal(selfService.statusCode, 403, 'a disabled account changes nothing with an old token');
      assert.equal(selfService.json().code, 'USER_ACCOUNT_NOT_ACTIVE');
      assert.equal((await post('enable')).json().status, 'active');
      assert.equal((await users().verifyLogin(DH, p.mobile, p.password))?.id, p.id);
      const reset = await post('reset-password');
      assert.equal(reset.statusCode, 200);
      const temp = reset.json().temporaryPassword;
      assert.equal(await users().verifyPassword(p, temp), true);
      assert.equal(await users().verifyPassword(p, p.password), false);
      const actions = await get().ctx.db.q<{ action: string; actor_id: string }>(sql`select action, actor_id
        from audit_event where region_code = ${DH} and target_id = ${p.id} and actor_kind = 'staff' order by seq`);
      assert.deepEqual(
        actions.map((a) => a.action),
        ['user.person.disable', 'user.person.enable', 'user.person.password_reset'],
      );
      assert.ok(actions.every((a) => a.actor_id === officerId));
      const clerkTry = await get().app.inject({
        method: 'POST',
        url: `/api/user/admin/persons/${p.id}/disable`,
        headers: await staffHeaders(clerkId, DH),
      });
      assert.equal(clerkTry.statusCode, 403);
      const unlock = await post('unlock');
      assert.equal(unlock.statusCode, 503, 'no auth center in this suite');
    });

    test('staff and roles: create, grant per region, revoke, custom roles; permissions follow at once', async () => {
      const admin = (await users().findStaffByUsername('admin'))!;
      const h = await staffHeaders(admin.id, DH);
      const created = await get().app.inject({
        method: 'POST',
        url: '/api/user/admin/staff',
        headers: h,
        payload: { username: 'auditor_dh', displayName: '审计员甲', password: 'Audit@2024x', roles: ['auditor'] },
      });
      assert.equal(created.statusCode, 201, created.body);
      const id = created.json().id;
      assert.deepEqual([...(await users().permissionsOf(id, DH))].sort(), ['audit:read', 'user:read']);
      assert.equal((await users().permissionsOf(id, BY)).size, 0);

      const dup = await get().app.inject({
        method: 'POST',
        url: '/api/user/admin/staff',
        headers: await staffHeaders(admin.id, BY),
        payload: { username: 'AUDITOR_DH', displayName: '重名', password: 'Audit@2024x' },
      });
      assert.equal(dup.statusCode, 409);
      assert.equal(dup.json().code, 'USER_STAFF_USERNAME_TAKEN');

      const role = await get().app.inject({
        method: 'PUT',
        url: '/api/user/admin/roles/unmasker',
        headers: h,
        payload: { name: '明文核查员', permissions: ['user:read', 'user:unmask'] },
      });
      assert.equal(role.statusCode, 200, role.body);
      const grant = await get().app.inject({
        method: 'POST',
        url: `/api/user/admin/staff/${id}/roles`,
        headers: await staffHeaders(admin.id, BY),
        payload: { roleCode: 'unmasker' },
      });
      assert.equal(grant.statusCode, 204, grant.body);
      assert.ok((await users().permissionsOf(id, BY)).has('user:unmask'));
      assert.ok(!(await users().permissionsOf(id, DH)).has('user:unmask'));
      const list = (await get().app.inject({ url: '/api/user/admin/staff', headers: await staffHeaders(admin.id, BY) }))
        .json()
        .find((s: { id: string }) => s.id === id);
      assert.deepEqual(
        list.grants.map((g: { regionCode: string; roleCode: string }) => `${g.regionCode}:${g.roleCode}`).sort(),
        [`${BY}:unmasker`, `${DH}:auditor`],
      );

      const revoke = await get().app.inject({
        method: 'DELETE',
        url: `/api/user/admin/staff/${id}/roles/unmasker`,
        headers: await staffHeaders(admin.id, BY),
      });
      assert.equal(revoke.statusCode, 204);
      assert.equal((await users().permissionsOf(id, BY)).size, 0);

      const builtin = await get().app.inject({
        method: 'PUT',
        url: '/api/user/admin/roles/superadmin',
        headers: h,
        payload: { name: 'x', permissions: [] },
      });
      assert.equal(builtin.json().code, 'USER_ROLE_BUILTIN');
      const star = await get().app.inject({
        method: 'PUT',
        url: '/api/user/admin/roles/almighty',
        headers: h,
        payload: { name: 'x', permissions: ['*'] },
      });
      assert.equal(star.json().code, 'USER_PERMISSION_INVALID');

      const disable = await get().app.inject({
        method: 'PATCH',
        url: `/api/user/admin/staff/${id}`,
        headers: h,
        payload: { status: 'disabled' },
      });
      assert.equal(disable.json().status, 'disabled');
      const contact = (payload: Record<string, unknown>) =>
        get().app.inject({ method: 'PATCH', url: `/api/user/admin/staff/${id}`, headers: h, payload });
      const badMail = await contact({ email: 'not-an-address', mobile: '13900001234' });
      assert.equal(badMail.statusCode, 400);
      assert.equal(badMail.json().code, 'USER_EMAIL_INVALID');
      assert.equal((await users().getStaff(id)).mobile, undefined, 'a refused change changes nothing');
      const set = (await contact({ email: 'clerk@example.gov.cn', mobile: '13900001234' })).json();
      assert.deepEqual([set.mobile, set.email], ['139****1234', 'c****@example.gov.cn']);
      assert.doesNotMatch(JSON.stringify(set), /13900001234|clerk@/, 'answered masked');
      assert.deepEqual(await users().getStaffContact(id), { mobile: '13900001234', email: 'clerk@example.gov.cn' });
      assert.equal((await users().permissionsOf(id, DH)).size, 0, 'a disabled staff member has no permissions');

      const clerkTries = await get().app.inject({
        url: '/api/user/admin/staff',
        headers: await staffHeaders(clerkId, DH),
      });
      assert.equal(clerkTries.statusCode, 403);
      const me = (
        await get().app.inject({ url: '/api/user/admin/me', headers: await staffHeaders(clerkId, DH) })
      ).json();
      assert.deepEqual(me.permissions, ['user:read']);
    });

    test('我的账号: a staff member changes their own password and alert addresses, each with the password; guessing is limited', async () => {
      const password = 'Own#Pass2026';
      const me = await users().createStaff({ regionCode: DH, username: 'selfserve01', password, displayName: '自助' });
      const h = await staffHeaders(me.id, DH);
      const call = (url: string, method: 'POST' | 'PATCH', payload: Record<string, unknown>) =>
        get().app.inject({ method, url, headers: h, payload });
      const wrong = await call('/api/user/admin/me/password', 'POST', {
        oldPassword: 'Not#MyPass1',
        newPassword: 'Next#Pass2026',
      });
      assert.equal(wrong.json().code, 'USER_PASSWORD_WRONG');
      assert.equal(wrong.json().errors[0].field, 'oldPassword');
      const same = await call('/api/user/admin/me/password', 'POST', { oldPassword: password, newPassword: password });
      assert.equal(same.json().code, 'USER_PASSWORD_UNCHANGED');
      const changed = await call('/api/user/admin/me/password', 'POST', {
        oldPassword: password,
        newPassword: 'Next#Pass2026',
      });
      assert.equal(changed.statusCode, 204, changed.body);
      assert.ok(await users().verifyStaffLogin('selfserve01', 'Next#Pass2026'));
      assert.equal(await users().verifyStaffLogin('selfserve01', password), undefined);

      const refused = await call('/api/user/admin/me/contact', 'PATCH', { password, email: 'elsewhere@example.com' });
      assert.equal(refused.json().code, 'USER_PASSWORD_WRONG', 'the old password no longer proves anything');
      assert.equal((await users().getStaffContact(me.id))?.email, undefined);
      const set = await call('/api/user/admin/me/contact', 'PATCH', {
        password: 'Next#Pass2026',
        email: 'self01@example.gov.cn',
      });
      assert.equal(set.json().email, 's*****@example.gov.cn');
      const [audit] = await get().ctx.db.q<{ actor_id: string }>(sql`select actor_id from audit_event
        where action = 'user.staff.update' and target_id = ${me.id} order by seq desc limit 1`);
      assert.equal(audit.actor_id, me.id);
      // five calls so far; the limit is ten checks a quarter hour, then 429 even with the right password
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++)
        statuses.push((await call('/api/user/admin/me/contact', 'PATCH', { password: 'Guess#Pass00' + i })).statusCode);
      assert.deepEqual(statuses, [400, 400, 400, 400, 400, 429]);
      const late = await call('/api/user/admin/me/contact', 'PATCH', { password: 'Next#Pass2026', mobile: null });
      assert.equal(late.statusCode, 429);
      assert.ok(late.headers['retry-after']);
    });

    test('schema.ts matches the migrated tables', async () => {
      for (const table of Object.values(schema) as Table[]) {
        const name = getTableName(table);
        const rows = await get().ctx.db.q<{
          column_name: string;
        }>(sql`select column_name from information_schema.columns
          where table_schema = 'public' and table_name = ${name}`);
        const actual = rows.map((r) => r.column_name).sort();
        const declared = Object.values(getTableColumns(table))
          .map((c) => c.name)
          .sort();
        assert.deepEqual(declared, actual, name);
      }
    });

    test('declarePermissions adds to the catalogue', async () => {
      await users().declarePermissions([{ code: 'payment:read', name: '查看支付订单' }]);
      const perms = await users().listPermissions();
      assert.ok(perms.some((p) => p.code === 'payment:read' && p.center === 'payment'));
      assert.ok(perms.some((p) => p.code === 'user:unmask'));
      const stored = await get().ctx.db.one<{ name: string }>(
        sql`select name from permission_catalog where code = 'payment:read'`,
      );
      assert.equal(stored?.name, '查看支付订单', 'persisted, not only in memory');
      assert.throws(() => users().declarePermissions([{ code: 'Bad Code', name: 'x' }]), /bad permission code/);
    });
  },
  { centers: [userCenter], seed: true },
);
