/**
 * Recovery and staff handling with the sandbox provider (own process) and the in-test fake core zone: the periodic
 * jobs are scheduled, an unpaid order past its window is closed, a refund whose provider call timed out is finished
 * by recovery without refunding twice, a refused refund makes the order abnormal until staff resolve it (audited),
 * and a region whose policy forbids partial refunds refuses them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from '../../platform/db/index.ts';
import { databaseKinds } from '../../platform/db/testing.ts';
import type { AppError } from '../../platform/errors.ts';
import { FakeCoreZone } from './fake-core.test-helper.ts';
import { type Harness, serial, startHarness } from './harness.test-helper.ts';

const actor = { kind: 'channel' as const, id: 'rec-test' };
let seq = 0;

for (const kind of databaseKinds()) {
  describe(`payment recovery and staff handling [${kind}]`, () => {
    let h: Harness;
    const core = new FakeCoreZone();
    before(async () => {
      h = await startHarness(kind, { coreZone: () => core.asCoreZone(), timeoutMs: 1500 });
    });
    after(async () => {
      await h?.close();
    });

    /** One of the payment center's gauges as /metrics shows it now. */
    async function gauge(name: string): Promise<number> {
      const text = (await h.platform.app.inject('/metrics')).body;
      const value = new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1];
      assert.ok(value !== undefined, `${name} is in /metrics`);
      return Number(value);
    }

    async function completedOrder(region = '990100', balance = 500) {
      const residentId = `99010219700101${String(++seq).padStart(4, '0')}`;
      core.addPerson(region, residentId, balance);
      const o = await h.payment.upload(
        {
          regionCode: region,
          appId: 'rec-test',
          institutionCode: 'H99010200001',
          institutionOrderNo: serial(),
          credential: { type: '02', value: residentId },
          medicalType: '11',
          lines: [
            { lineNo: '1', code: 'XA01', quantity: 3, unitPrice: 5_000 },
            { lineNo: '2', code: 'ZC03', quantity: 1, unitPrice: 4_000 },
          ],
        },
        actor,
      );
      const placed = await h.payment.placeOrder(o, actor);
      return placed;
    }

    test('the recovery sweep and the daily reconciliation are scheduled jobs', async () => {
      const jobs = await h.platform.ctx.db.q<{ queue: string; run_at: string }>(
        sql`select queue, run_at from job where queue in ('payment.recover', 'payment.reconcile') and state = 'queued'`,
      );
      assert.ok(jobs.some((j) => j.queue === 'payment.recover'));
      const reconcile = jobs.find((j) => j.queue === 'payment.reconcile');
      assert.ok(reconcile && new Date(reconcile.run_at).getTime() > Date.now());
    });

    test('an unpaid order past its payment window is closed at the provider and cancelled', async () => {
      const o = await completedOrder();
      assert.equal(o.status, 'awaiting_payment');
      await h.platform.ctx.db.q(sql`update payment_order set pay_expires_at = now() - interval '1 minute'
        where region_code = ${o.regionCode} and id = ${o.id}`);
      await h.payment.recover({ idleMs: 0 });
      const after = await h.payment.getOrder(o.regionCode, o.id);
      assert.equal(after.status, 'cancelled');
      assert.equal((await h.provider.queryOrder(o.id)).status, 'CLOSED');
      // the person can no longer pay it
      const r = await h.pay(o.id);
      assert.equal((r as { ok: boolean }).ok, false);
    });

    test('a refund whose provider call timed out is finished by recovery, and the cash is refunded once', async () => {
      const o = await completedOrder();
      await h.pay(o.id);
      const done = await h.waitFor(o.id, (x) => x.status === 'completed');
      // the provider hangs past our timeout (but refunds), and its refund notice is lost: only recovery can finish
      await h.admin('POST', '/admin/behaviour', { refund: 'timeout', hangMs: 2500, dropNotifications: true });
      let refund: Awaited<ReturnType<typeof h.payment.requestRefund>>;
      try {
        refund = await h.payment.requestRefund(
          done.regionCode,
          done.id,
          { appRefundSn: 't1', kind: 'full', reason: '退费' },
          actor,
        );
      } finally {
        await h.admin('POST', '/admin/reset');
      }
      assert.equal(refund.status, 'pending', 'the outcome is unknown to us');
      assert.equal((await h.payment.getOrder(done.regionCode, done.id)).status, 'refunding');
      await new Promise((r) => setTimeout(r, 1200)); // the hung call completes at the provider
      // the operator's gauge sees the person's money held mid-refund, and nothing once recovery has finished it
      assert.ok((await gauge('payment_money_in_flight_oldest_seconds')) >= 1);
      await h.payment.recover({ idleMs: 0 });
      assert.equal(await gauge('payment_money_in_flight_oldest_seconds'), 0);
      const after = await h.payment.getOrder(done.regionCode, done.id);
      assert.equal(after.status, 'refunded');
      const p = await h.provider.queryOrder(done.id);
      assert.equal(p.refunded, p.amount, 'refunded exactly once');
    });

    test('a refused refund makes the order abnormal (counted in /metrics); staff resolve it with a reason (audited)', async () => {
      const o = await completedOrder();
      await h.pay(o.id);
      const done = await h.waitFor(o.id, (x) => x.status === 'completed');
      const before = await gauge('payment_orders_abnormal');
      await h.admin('POST', '/admin/behaviour', { refund: 'fail' });
      try {
        await h.payment.requestRefund(
          done.regionCode,
          done.id,
          { appRefundSn: 'f1', kind: 'full', reason: '退费' },
          actor,
        );
      } finally {
        await h.admin('POST', '/admin/reset');
      }
      const abnormal = await h.payment.getOrder(done.regionCode, done.id);
      assert.equal(abnormal.status, 'abnormal');
      assert.equal(await gauge('payment_orders_abnormal'), before + 1);
      h.platform.ctx.permissions = { permissionsOf: async () => new Set(['*']) };
      const staff = await h.platform.auth({ kind: 'staff', subject: 'staff-9', regionCode: done.regionCode });
      const res = await h.platform.app.inject({
        method: 'POST',
        url: `/api/payment/admin/orders/${done.id}/resolve`,
        headers: staff,
        payload: { action: 'refund_cash', reason: '支付机构恢复后重新退款' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const resolved = await h.payment.getOrder(done.regionCode, done.id);
      assert.equal(resolved.status, 'refunded');
      assert.equal(await gauge('payment_orders_abnormal'), before);
      assert.equal(resolved.refundedCash, resolved.cashPayment);
      assert.equal(resolved.refundedAccount, resolved.accountPayment);
      const p = await h.provider.queryOrder(done.id);
      assert.equal(p.refunded, p.amount);
      const audit = await h.platform.ctx.db.q<{ action: string }>(
        sql`select action from audit_event where target_id = ${done.id} and action = 'payment.resolve_abnormal'`,
      );
      assert.equal(audit.length, 1);
    });

    test('a region whose policy forbids partial refunds refuses them (980100); whole refunds still work', async () => {
      const o = await completedOrder('980100');
      await h.pay(o.id);
      const done = await h.waitFor(o.id, (x) => x.status === 'completed');
      await assert.rejects(
        h.payment.requestRefund(
          '980100',
          done.id,
          { appRefundSn: 'p1', kind: 'partial', cashAmount: 100, reason: '部分' },
          actor,
        ),
        (e: AppError) => e.code === 'PAYMENT_PARTIAL_REFUND_NOT_ALLOWED' && e.status === 422,
      );
      const full = await h.payment.requestRefund(
        '980100',
        done.id,
        { appRefundSn: 'a1', kind: 'full', reason: '全部' },
        actor,
      );
      assert.equal(full.status, 'succeeded');
    });
  });
}
