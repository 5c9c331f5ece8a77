/**
 * The e-bill center behind the real payment center: a settlement paid at the sandbox cashier (its own process,
 * signed notifications) publishes `payment.completed`, and a refund `payment.refunded`; the bills follow.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sm2Verify } from '../../platform/crypto/index.ts';
import { sql } from '../../platform/db/index.ts';
import { databaseKinds } from '../../platform/db/testing.ts';
import { personDirectory } from '../message/testing.ts';
import { FakeCoreZone } from '../payment/fake-core.test-helper.ts';
import { type Harness, startHarness } from '../payment/harness.test-helper.ts';
import { ebillCenter } from './index.ts';

const REGION = '990100';
const actor = { kind: 'channel' as const, id: 'test-app' };

for (const kind of databaseKinds()) {
  describe(`e-bill through a real payment [${kind}]`, () => {
    let h: Harness;
    const core = new FakeCoreZone();
    const directory = personDirectory(); // the user center's part the e-bill center asks
    before(async () => {
      h = await startHarness(kind, {
        coreZone: () => core.asCoreZone(),
        centersBefore: [directory.center, ebillCenter],
      });
      h.platform.ctx.services.coreZone = core.asCoreZone(); // as the core-zone module registers it
    });
    after(async () => {
      await h?.close();
    });

    test('paid order → blue bill with the order’s split and lines; refund → red bill; unpaid order → not settled', async () => {
      const residentId = '990102198503120011';
      core.addPerson(REGION, residentId, 500);
      h.persons.set(residentId, 'person-pay-1');
      directory.add({ id: 'person-pay-1', regionCode: REGION, name: '李四', residentId });
      const upload = () =>
        h.upload(residentId, [
          { lineNo: '1', code: 'XA01', quantity: 2, unitPrice: 3_000 },
          { lineNo: '2', code: 'ZC03', quantity: 1, unitPrice: 2_500 },
        ]);
      const order = await upload();
      await h.payment.placeOrder(order, actor);
      await h.pay(order.id);
      const done = await h.waitFor(order.id, (o) => o.status === 'completed');
      await h.platform.ctx.jobs.drain();

      const ebill = h.platform.ctx.services.ebill!;
      const bill = await ebill.byOrder(h.platform.ctx.db, REGION, order.id, 'blue');
      assert.ok(bill, 'a bill was issued for the completed payment');
      assert.equal(bill.total, done.total);
      assert.equal(bill.fundPayment, done.fundPayment);
      assert.equal(bill.accountPayment, done.accountPayment);
      assert.equal(bill.cashPayment, done.cashPayment);
      assert.equal(bill.personId, 'person-pay-1');
      assert.equal(bill.payerName, '李四', 'the payer as their account names them');
      assert.equal(bill.payeeName, core.institutionName, 'the payee as the core zone registers it');
      assert.deepEqual(
        bill.items.map((i) => [i.code, i.amount]),
        done.lines.map((l) => [l.code, l.amount]),
      );
      const key = await h.platform.ctx.db.one<{ public_key: string; canonical: string }>(sql`select k.public_key,
          b.canonical from ebill_bill b join ebill_issuer_key k on k.region_code = b.region_code and k.key_id = b.key_id
        where b.region_code = ${REGION} and b.id = ${bill.id}`);
      assert.ok(sm2Verify(key!.canonical, Buffer.from(bill.signature, 'base64'), key!.public_key));

      // An order still awaiting payment has no bill: the refusal says so.
      const open = await upload();
      await h.payment.placeOrder(open, actor);
      await assert.rejects(ebill.billOfOrder(REGION, open.id), (e: { code: string; detail: string }) => {
        assert.equal(e.code, 'EBILL_ORDER_NOT_SETTLED');
        assert.match(e.detail, /awaiting_payment/);
        return true;
      });

      const refund = await h.payment.requestRefund(
        REGION,
        order.id,
        { appRefundSn: 'eb-r1', kind: 'full', reason: '全部退费' },
        actor,
      );
      assert.equal(refund.status, 'succeeded');
      await h.platform.ctx.jobs.drain();
      const reds = await h.platform.ctx.db.q<{ total: number; refund_id: string }>(sql`select total, refund_id
        from ebill_bill where region_code = ${REGION} and order_id = ${order.id} and kind = 'red'`);
      assert.equal(reds.length, 1);
      assert.equal(Number(reds[0].total), done.total);
      assert.equal(reds[0].refund_id, refund.id);
      assert.equal((await ebill.byOrder(h.platform.ctx.db, REGION, order.id, 'blue'))?.status, 'reversed');
    });

    test('an insured person without a hall account: the bill names them from the core zone and is theirs once they open one', async () => {
      const residentId = '990102198503120038';
      core.addPerson(REGION, residentId, 0).name = '孙八';
      const order = await h.upload(residentId, [{ lineNo: '1', code: 'XA01', quantity: 1, unitPrice: 3_000 }]);
      await h.payment.placeOrder(order, actor);
      await h.pay(order.id);
      await h.waitFor(order.id, (o) => o.status === 'completed');
      await h.platform.ctx.jobs.drain();
      await h.payment.requestRefund(REGION, order.id, { appRefundSn: 'eb-r2', kind: 'full', reason: '退费' }, actor);
      await h.platform.ctx.jobs.drain();
      const ebill = h.platform.ctx.services.ebill!;
      const blue = await ebill.byOrder(h.platform.ctx.db, REGION, order.id, 'blue');
      assert.ok(blue);
      assert.equal(blue.personId, null);
      assert.equal(blue.payerName, '孙八');

      // later they register: both bills are in their list, and theirs to open; another person's list has neither
      directory.add({ id: 'person-late', regionCode: REGION, name: '孙八', residentId });
      directory.add({ id: 'person-other', regionCode: REGION, name: '周九', residentId: '990102198503120046' });
      const mine = await ebill.listForPerson(REGION, 'person-late');
      assert.deepEqual(mine.items.map((b) => b.kind).sort(), ['blue', 'red']);
      assert.equal((await ebill.getForPerson(REGION, 'person-late', blue.id)).id, blue.id);
      assert.equal((await ebill.listForPerson(REGION, 'person-other')).total, 0);
      await assert.rejects(ebill.getForPerson(REGION, 'person-other', blue.id), { code: 'EBILL_NOT_FOUND' });
    });
  });
}
