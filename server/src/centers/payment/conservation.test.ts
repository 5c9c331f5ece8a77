/**
 * Property: over random flows (account choice, payment success/failure, core-zone refusal, cancellation, partial
 * and full refunds in random order and amounts, some retried), money is conserved for every order and person:
 *   fund + account + cash = total; refunds never exceed what was paid, per leg;
 *   account balance in the core zone + what the account still pays = initial balance;
 *   the provider keeps exactly the unrefunded cash of completed orders and nothing of the others.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { databaseKinds } from '../../platform/db/testing.ts';
import { AppError } from '../../platform/errors.ts';
import { FAKE_CODES, FakeCoreZone } from './fake-core.test-helper.ts';
import { type Harness, serial, startHarness } from './harness.test-helper.ts';
import type { Order } from './service.ts';

const REGION = '990100';
const actor = { kind: 'channel' as const, id: 'prop' };
const FINAL = ['completed', 'refunded', 'partially_refunded', 'cancelled', 'failed'];

const lineArb = fc.record({
  code: fc.constantFrom(...FAKE_CODES),
  quantity: fc.integer({ min: 1, max: 5 }),
  unitPrice: fc.integer({ min: 1, max: 50_000 }),
});
const refundArb = fc.oneof(
  fc.record({ kind: fc.constant<'partial'>('partial'), share: fc.integer({ min: 1, max: 100 }), repeat: fc.boolean() }),
  fc.record({ kind: fc.constant<'full'>('full'), share: fc.constant(100), repeat: fc.boolean() }),
);
const orderArb = fc.record({
  lines: fc.array(lineArb, { minLength: 1, maxLength: 4 }),
  useAccount: fc.boolean(),
  outcome: fc.constantFrom('paid', 'paid', 'paid', 'payment-fails', 'core-refuses', 'cancelled'),
  refunds: fc.array(refundArb, { maxLength: 3 }),
});
const flowArb = fc.record({
  balance: fc.integer({ min: 0, max: 200_000 }),
  orders: fc.array(orderArb, { minLength: 1, maxLength: 3 }),
});

let residentSeq = 0;

for (const kind of databaseKinds()) {
  describe(`payment money conservation [${kind}]`, () => {
    let h: Harness;
    const core = new FakeCoreZone();
    before(async () => {
      h = await startHarness(kind, { coreZone: () => core.asCoreZone() });
    });
    after(async () => {
      await h?.close();
    });

    test('property: fund + account + cash = total; refunds ≤ paid per leg; balance + account paid = initial; provider agrees', async () => {
      await fc.assert(
        fc.asyncProperty(flowArb, async (flow) => {
          const residentId = `99010219900101${String(++residentSeq).padStart(4, '0')}`;
          const person = core.addPerson(REGION, residentId, flow.balance);
          const orders: Order[] = [];
          for (const spec of flow.orders) {
            let o = await h.payment.upload(
              {
                regionCode: REGION,
                appId: 'prop',
                institutionCode: 'H99010200001',
                institutionOrderNo: serial(),
                credential: { type: '02', value: residentId },
                medicalType: '11',
                lines: spec.lines.map((l, i) => ({ ...l, lineNo: String(i + 1) })),
              },
              actor,
            );
            if (!spec.useAccount) o = await h.payment.choosePersonalAccount(o, false, actor);
            if (spec.outcome === 'cancelled') {
              o = await h.payment.cancel(o, '放弃', actor);
            } else {
              o = await h.payment.placeOrder(o, actor);
              if (spec.outcome === 'payment-fails') await h.admin('POST', '/admin/behaviour', { payment: 'fail' });
              if (spec.outcome === 'core-refuses') core.settleFailure = 'refuse';
              try {
                if (o.status === 'awaiting_payment') await h.pay(o.id);
                o = await h.waitFor(o.id, (x) => FINAL.includes(x.status));
              } finally {
                core.settleFailure = undefined;
                await h.admin('POST', '/admin/reset');
              }
            }
            if (o.status === 'completed') {
              let n = 0;
              for (const r of spec.refunds) {
                const cur = await h.payment.getOrder(REGION, o.id);
                const left = cur.cashPayment! - cur.refundedCash;
                const amount = Math.max(1, Math.floor((left * r.share) / 100));
                const sn = `p${++n}`;
                for (let i = 0; i < (r.repeat ? 2 : 1); i++) {
                  try {
                    await h.payment.requestRefund(
                      REGION,
                      o.id,
                      { appRefundSn: sn, kind: r.kind, cashAmount: amount, reason: '属性测试' },
                      actor,
                    );
                  } catch (err) {
                    // refused refunds are fine (nothing left, already refunded): they must not move money
                    assert.ok(err instanceof AppError && err.status < 500, String(err));
                  }
                }
              }
            }
            orders.push(await h.payment.getOrder(REGION, o.id));
          }
          await h.payment.recover({ idleMs: 0 });
          let accountKept = 0;
          for (const stale of orders) {
            const o = await h.payment.getOrder(REGION, stale.id);
            assert.ok(FINAL.includes(o.status), `${o.id} final, got ${o.status}`);
            assert.equal(o.fundPayment! + o.accountPayment! + o.cashPayment!, o.total, 'fund + account + cash = total');
            assert.ok(
              o.refundedFund <= o.fundPayment! &&
                o.refundedAccount <= o.accountPayment! &&
                o.refundedCash <= o.cashPayment!,
            );
            const p = await h.provider.queryOrder(o.id);
            const providerNet = p.status === 'SUCCESS' ? p.amount - p.refunded : 0;
            assert.ok(
              p.refunded <= (p.status === 'SUCCESS' ? p.amount : 0),
              'the provider never refunds more than it took',
            );
            if (o.status === 'completed' || o.status === 'partially_refunded') {
              assert.equal(providerNet, o.cashPayment! - o.refundedCash);
              accountKept += o.accountPayment! - o.refundedAccount;
            } else {
              assert.equal(providerNet, 0, `${o.id} ${o.status}: the provider kept nothing`);
              if (o.status === 'refunded') {
                assert.equal(o.refundedFund, o.fundPayment);
                assert.equal(o.refundedAccount, o.accountPayment);
                assert.equal(o.refundedCash, o.cashPayment);
              }
            }
          }
          assert.equal(
            core.balances.get(person.personNo)! + accountKept,
            flow.balance,
            'balance + account paid = initial',
          );
        }),
        { numRuns: kind === 'pglite' ? 8 : 6 },
      );
    });
  });
}
