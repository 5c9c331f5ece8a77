/**
 * Messages behind the real payment center: an order paid at the sandbox cashier (its own process, signed
 * notifications) publishes `payment.bill_ready` when it waits for the person, `payment.completed` when paid, a refund
 * `payment.refunded`; the person gets each, with the amounts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from '../../platform/db/index.ts';
import { databaseKinds } from '../../platform/db/testing.ts';
import { FakeCoreZone } from '../payment/fake-core.test-helper.ts';
import { type Harness, startHarness } from '../payment/harness.test-helper.ts';
import { messageCenter } from './index.ts';
import { personDirectory } from './testing.ts';
import { FILTERS, fenToYuan } from './types.ts';

const REGION = '990100';
const actor = { kind: 'channel' as const, id: 'test-app' };

for (const kind of databaseKinds()) {
  describe(`messages from a real payment [${kind}]`, () => {
    let h: Harness;
    const core = new FakeCoreZone();
    const directory = personDirectory();
    before(async () => {
      h = await startHarness(kind, {
        coreZone: () => core.asCoreZone(),
        centersBefore: [directory.center, messageCenter],
      });
      await h.platform.ctx.services.message!.saveSettings(REGION, { quietStart: 0, quietEnd: 0 }, 'test');
    });
    after(async () => {
      await h?.close();
    });
    /** an insured person of the core zone with a platform account and a mobile (SMS) */
    const insured = (residentId: string, name: string, accountBalance: number) => {
      const personId = `6f1c1b1e-0000-4000-8000-${residentId.slice(-12)}`;
      core.addPerson(REGION, residentId, accountBalance);
      h.persons.set(residentId, personId);
      directory.add({ id: personId, regionCode: REGION, name, mobile: `139${residentId.slice(-8)}` });
      return { residentId, personId };
    };

    test('paid → 支付成功 in the inbox and by SMS with the order’s split; refunded → 退款 message', async () => {
      const { residentId, personId } = insured('990102198503120011', '赵六', 500);
      const order = await h.upload(residentId, [{ lineNo: '1', code: 'XA01', quantity: 2, unitPrice: 3_000 }]);
      const svc = h.platform.ctx.services.message!;
      const drain = async () => {
        for (let i = 0; i < 5; i++) await h.platform.ctx.jobs.drain();
      };
      // the uploaded bill waits for the person: they are told what to pay and until when
      assert.equal(order.status, 'pre_settled');
      await drain();
      const waiting = (await svc.inbox(REGION, personId, { page: 1, size: 10 })).items.find(
        (i) => (i as { title: string }).title === '您有一笔待确认的医疗费用账单',
      ) as { body: string } | undefined;
      assert.ok(waiting, 'the bill-ready message reached the inbox');
      assert.ok(waiting.body.startsWith(`${core.institutionName}已上传您的医疗费用，订单号 ${order.id}`));
      assert.ok(waiting.body.includes(`您需支付 ${fenToYuan(order.cashPayment!)} 元`));
      assert.ok(waiting.body.includes(`请于 ${FILTERS.time(h.payment.dueAt(order))} 前`), waiting.body);
      await h.payment.placeOrder(order, actor);
      await h.pay(order.id);
      const done = await h.waitFor(order.id, (o) => o.status === 'completed');
      await drain();
      const inbox = await svc.inbox(REGION, personId, { page: 1, size: 10 });
      const paid = inbox.items.find((i) => (i as { title: string }).title === '医保支付成功') as { body: string };
      assert.ok(paid, 'the payment message reached the inbox');
      assert.ok(paid.body.includes(order.id));
      assert.ok(paid.body.includes(`在${core.institutionName}完成医保结算`), 'names the institution, not its code');
      assert.ok(paid.body.includes(`总金额 ${fenToYuan(done.total)} 元`));
      assert.ok(paid.body.includes(`统筹基金支付 ${fenToYuan(done.fundPayment!)} 元`));
      assert.ok(paid.body.includes(`个人现金支付 ${fenToYuan(done.cashPayment!)} 元`));
      const sms = await h.platform.ctx.db.q<{ content: string }>(sql`select content from message_sandbox_outbox
        where region_code = ${REGION} and channel = 'sms' and content like ${`%${order.id}%`}`);
      assert.equal(sms.length, 1, 'one SMS (WeChat not bound → SMS)');

      const refund = await h.payment.requestRefund(
        REGION,
        order.id,
        { appRefundSn: 'msg-r1', kind: 'full', reason: '全部退费' },
        actor,
      );
      assert.equal(refund.status, 'succeeded');
      await drain();
      const after = await svc.inbox(REGION, personId, { page: 1, size: 10 });
      const refunded = after.items.find((i) => (i as { title: string }).title === '医保退款通知') as { body: string };
      assert.ok(refunded, 'the refund message reached the inbox');
      assert.ok(refunded.body.includes(`已退款 ${fenToYuan(done.total)} 元`));
      assert.ok(refunded.body.startsWith(`您在${core.institutionName}的订单`));
    });

    test('a bill confirmed and paid before its event came round gets no reminder to confirm it', async () => {
      const { residentId, personId } = insured('990102198503120038', '钱七', 0);
      const order = await h.upload(residentId, [{ lineNo: '1', code: 'XA01', quantity: 1, unitPrice: 3_000 }]);
      await h.payment.placeOrder(order, actor);
      await h.pay(order.id);
      await h.waitFor(order.id, (o) => o.status === 'completed');
      for (let i = 0; i < 5; i++) await h.platform.ctx.jobs.drain();
      const titles = (await h.platform.ctx.services.message!.inbox(REGION, personId, { page: 1, size: 10 })).items.map(
        (i) => (i as { title: string }).title,
      );
      assert.deepEqual(titles, ['医保支付成功'], 'told it is paid, not asked to confirm it');
    });

    test('an insured person without a hall account: nobody to tell, so no message and no failed delivery', async () => {
      const residentId = '990102198503120054';
      core.addPerson(REGION, residentId, 1_000);
      const order = await h.upload(residentId, [{ lineNo: '1', code: 'XA01', quantity: 1, unitPrice: 3_000 }]);
      assert.equal(order.personId, null);
      await h.payment.placeOrder(order, actor);
      await h.pay(order.id);
      await h.waitFor(order.id, (o) => o.status === 'completed');
      for (let i = 0; i < 5; i++) await h.platform.ctx.jobs.drain();
      const rows = await h.platform.ctx.db.q<{ type_code: string; status: string }>(sql`select type_code, status
        from message where region_code = ${REGION} and dedupe_key like ${`%${order.id}%`}`);
      assert.deepEqual(rows, []);
    });
  });
}
