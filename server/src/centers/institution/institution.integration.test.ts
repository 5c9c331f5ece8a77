/**
 * The workstation relay end to end inside one platform: a staff member of a demo hospital calls /api/institution/*,
 * the relay signs with the hospital's channel key through the SDK and the real channel routes (auth's envelope check,
 * e-voucher verification, payment 6201/6202/6301/6401) answer. Runs on the full composition with the demo seed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from '../../platform/db/index.ts';
import { residentIdCheckChar } from '../../platform/privacy/index.ts';
import { forEachPlatform } from '../../testing/platform.ts';

const rid = (first17: string) => `${first17}${residentIdCheckChar(first17)}`;
/** 张伟, demo insured employee of 990100 (core-zone reference seed). */
const ZHANG_WEI = rid('99010219850312013');

forEachPlatform(
  'institution workstation relay',
  (get) => {
    const staffOf = async (regionCode: string) => {
      const row = await get().ctx.db.one<{ staff_id: string; institution_code: string }>(
        sql`select staff_id, institution_code from institution_staff where region_code = ${regionCode}`,
      );
      assert.ok(row, `a demo workstation staff member in ${regionCode}`);
      return { ...row, headers: await get().auth({ kind: 'staff', subject: row.staff_id, regionCode }) };
    };
    const call = async (method: 'GET' | 'POST', url: string, headers?: Record<string, string>, payload?: unknown) => {
      const res = await get().app.inject({ method, url, headers, payload: payload as object });
      return { status: res.statusCode, body: res.json() };
    };

    test('only staff with institution:operate who work for an institution may use it', async () => {
      assert.equal((await call('GET', '/api/institution/me')).status, 401);
      const person = await get().auth({ kind: 'person', subject: 'p1', regionCode: '990100' });
      assert.equal((await call('GET', '/api/institution/me', person)).status, 403);
      const stranger = await get().auth({ kind: 'staff', subject: 'nobody', regionCode: '990100' });
      assert.equal((await call('GET', '/api/institution/me', stranger)).status, 403);
      const s = await staffOf('990100');
      const me = await call('GET', '/api/institution/me', s.headers);
      assert.equal(me.status, 200);
      assert.equal(me.body.institution.code, s.institution_code);
      assert.match(me.body.institution.code, /^H990100\d{5}$/);
    });

    test('a bad code is refused by the e-voucher center itself (the signed envelope was accepted)', async () => {
      const s = await staffOf('990100');
      const r = await call('POST', '/api/institution/verify', s.headers, { qrCode: 'NOT-A-REAL-CODE-123' });
      assert.ok(r.status >= 400 && r.status < 500, JSON.stringify(r.body));
      assert.match(r.body.code, /^EVOUCHER_/, JSON.stringify(r.body));
      assert.ok(r.body.title && /[\u4e00-\u9fa5]/.test(r.body.title), 'a Chinese title');
      const empty = await call('POST', '/api/institution/verify', s.headers, { qrCode: '' });
      assert.equal(empty.status, 400);
    });

    test('fees upload (6201), query (6301), list, and cancel (6401)', async () => {
      const s = await staffOf('990100');
      const cat = await call('GET', '/api/institution/catalogue?q=', s.headers);
      assert.equal(cat.status, 200);
      const items = (cat.body.items as Array<{ code: string; priceCap: number | null; itemClass: string }>).slice(0, 2);
      assert.equal(items.length, 2);
      const lines = items.map((i, n) => ({
        code: i.code,
        quantity: n + 1,
        unitPrice: Math.min(i.priceCap ?? 1_000, 1_000),
      }));
      const total = lines.reduce((a, l) => a + l.quantity * l.unitPrice, 0);
      const created = await call('POST', '/api/institution/orders', s.headers, {
        credential: { type: '02', value: ZHANG_WEI },
        personName: '张伟',
        medicalType: '11',
        lines,
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const o = created.body;
      assert.equal(o.feeSumamt, total);
      assert.equal(o.fundPay + o.psnAcctPay + o.ownPayAmt, total, 'fund + account + cash = total');
      assert.equal(o.ordStas, 'pre_settled', 'uploaded and pre-settled; the person confirms and pays');

      const q = await call('GET', `/api/institution/orders/${o.payOrdId}`, s.headers);
      assert.deepEqual([q.status, q.body.payOrdId, q.body.feeSumamt], [200, o.payOrdId, total]);
      const list = await call('GET', '/api/institution/orders', s.headers);
      assert.equal(list.body[0].id, o.payOrdId);
      assert.equal(list.body[0].personName, '张*');
      assert.equal(q.body.personName, '张*', 'whose order it is, masked, also when opened again');
      const today = await call('GET', '/api/institution/orders/today', s.headers);
      assert.equal(today.status, 200, JSON.stringify(today.body));
      assert.ok(today.body.count >= 1 && today.body.total >= total, JSON.stringify(today.body));
      assert.equal(
        Object.values(today.body.byStatus as Record<string, { count: number }>).reduce((n, v) => n + v.count, 0),
        today.body.count,
      );
      assert.equal(
        today.body.byStatus.pre_settled?.count,
        list.body.filter((r: { status: string }) => r.status === 'pre_settled').length,
      );

      // another institution (another region) cannot see it
      const other = await staffOf('980100');
      assert.equal((await call('GET', `/api/institution/orders/${o.payOrdId}`, other.headers)).status, 404);
      assert.equal((await call('GET', '/api/institution/orders/today', other.headers)).body.count, 0, 'nor count it');

      const cancelled = await call('POST', `/api/institution/orders/${o.payOrdId}/cancel`, s.headers, {
        reason: '患者取消',
      });
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      assert.equal(cancelled.body.ordStas, 'cancelled');
    });

    test('bad fee lines are 4xx problems, never 500', async () => {
      const s = await staffOf('990100');
      const none = await call('POST', '/api/institution/orders', s.headers, {
        credential: { type: '02', value: ZHANG_WEI },
        personName: '张伟',
        lines: [],
      });
      assert.equal(none.status, 400);
      const unknown = await call('POST', '/api/institution/orders', s.headers, {
        credential: { type: '02', value: ZHANG_WEI },
        personName: '张伟',
        lines: [{ code: 'X00000000000000000000000', quantity: 1, unitPrice: 100 }],
      });
      assert.ok(unknown.status >= 400 && unknown.status < 500, JSON.stringify(unknown.body));
    });
  },
  { seed: true },
);
