/**
 * Channels of the unified authentication center call the bill APIs too: the auth center verifies the envelope
 * (signature, window, nonce, the `ebill` scope); the e-bill center applies its per-API grants and daily quotas.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { signEnvelope } from '@yibao/sdk';
import { forEachPlatform } from '../../testing/platform.ts';
import { authCenter } from '../auth/index.ts';
import { ebillCenter } from './index.ts';

const REGION = '990100';
const INSTITUTION = 'H99010000007';

forEachPlatform(
  'e-bill APIs for auth-center channels',
  (get) => {
    test('scope ebill is required; grants and quotas set in the e-bill console apply; usage is charted', async () => {
      const p = get();
      p.ctx.permissions = { permissionsOf: async () => new Set(['ebill:read', 'ebill:manage']) };
      const admin = await p.auth({ kind: 'staff', subject: 'admin', regionCode: REGION });
      const auth = p.ctx.services.auth!;
      const his = await auth.registerChannel({
        regionCode: REGION,
        name: '东湖市中心医院 HIS',
        type: 'institution',
        scopes: ['ebill'],
        institutionCode: INSTITUTION,
      });
      const other = await auth.registerChannel({
        regionCode: REGION,
        name: '合作方',
        type: 'partner',
        scopes: ['payment'],
      });
      const bill = await p.ctx.services.ebill!.issueBlue({
        regionCode: REGION,
        orderId: `PO-${randomUUID()}`,
        personId: 'p-auth',
        institutionCode: INSTITUTION,
        total: 1000,
        fundPayment: 600,
        accountPayment: 100,
        cashPayment: 300,
        lines: [{ code: '003401000230600', name: '静脉输液', itemClass: 'A', quantity: 1, amount: 1000 }],
        settledAt: new Date().toISOString(),
      });
      const call = (ch: { appId: string; appSecret: string; privateKeyHex: string }, data: unknown) =>
        p.app.inject({
          method: 'POST',
          url: '/api/ebill/channel/bills/by-order',
          payload: signEnvelope({
            appId: ch.appId,
            transType: 'bill.byOrder',
            data,
            privateKey: ch.privateKeyHex,
            appSecret: ch.appSecret,
          }),
        });

      const ok = await call(his, { orderId: bill.orderId });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().billNumber, bill.billNumber);
      const denied = await call(other, { orderId: bill.orderId });
      assert.equal(denied.statusCode, 403);
      assert.equal(denied.json().code, 'CHANNEL_SCOPE_DENIED');

      const listed = await p.app.inject({ url: '/api/ebill/admin/channels', headers: admin });
      const row = listed.json().find((c: { appId: string }) => c.appId === his.appId);
      assert.equal(row.source, 'auth');
      assert.ok(!listed.json().some((c: { appId: string }) => c.appId === other.appId));

      const set = await p.app.inject({
        method: 'PUT',
        url: `/api/ebill/admin/channels/${his.appId}/apis`,
        headers: admin,
        payload: { apis: [{ api: 'bill.byOrder', enabled: true, dailyQuota: 2 }] },
      });
      assert.equal(set.statusCode, 200, set.body);
      assert.equal((await call(his, { orderId: bill.orderId })).statusCode, 200);
      const over = await call(his, { orderId: bill.orderId });
      assert.equal(over.statusCode, 429);
      assert.equal(over.json().code, 'EBILL_QUOTA_EXCEEDED');

      const usage = await p.app.inject({ url: '/api/ebill/admin/usage?days=1', headers: admin });
      const u = usage.json().find((r: { app_id: string }) => r.app_id === his.appId);
      assert.equal(u.name, '东湖市中心医院 HIS');
      assert.equal(u.calls, 2);
      assert.equal(u.refused, 1);
    });
  },
  { centers: [authCenter, ebillCenter] },
);
