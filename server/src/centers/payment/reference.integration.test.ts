/**
 * The payment center against the REAL reference core zone (core_* tables, double-entry ledger) and the sandbox
 * provider in its own process: the whole flow over the signed channel API, refunds reversing every leg, 100
 * concurrent orders of one person that never overdraw the account, and crash injection at every step followed by
 * recovery — after which the platform, the core zone (its settlements and ledger) and the provider agree.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPaymentClient, type PaymentClient } from '@yibao/sdk';
import { coreZoneModule } from '../../integration/core-zone/index.ts';
import type { CoreZone } from '../../integration/core-zone/port.ts';
import type { ReferenceCoreZone } from '../../integration/core-zone/reference/core-zone.ts';
import { DEMO_INSTITUTIONS, DEMO_PERSONS } from '../../integration/core-zone/reference/demo-persons.ts';
import { seedReference } from '../../integration/core-zone/reference/seed.ts';
import { items } from '../../integration/core-zone/testing.ts';
import { databaseKinds } from '../../platform/db/testing.ts';
import { userCenter } from '../user/index.ts';
import { type Harness, serial, startHarness } from './harness.test-helper.ts';
import type { Order, Step } from './service.ts';

const REGION = '990100';
const INSTITUTION = DEMO_INSTITUTIONS['990100'].level2;
const FINAL = ['completed', 'refunded', 'partially_refunded', 'cancelled', 'failed'];
const actor = { kind: 'channel' as const, id: 'ref-test' };

for (const kind of databaseKinds()) {
  describe(`payment with the reference core zone [${kind}]`, () => {
    let h: Harness;
    let core: ReferenceCoreZone;
    let client: PaymentClient;
    const A = items(REGION, 'A')[0];
    const B = items(REGION, 'B')[0];
    const C = items(REGION, 'C')[0];

    before(async () => {
      h = await startHarness(kind, { centersBefore: [coreZoneModule, userCenter], realPersons: true });
      core = h.platform.ctx.services.coreZoneReference!;
      await seedReference(core, { persons: 8, regions: [REGION], months: 2 });
      const channel = await h.platform.ctx.services.auth!.registerChannel({
        regionCode: REGION,
        name: '东湖市第二人民医院 HIS',
        type: 'institution',
        scopes: ['payment'],
        institutionCode: INSTITUTION,
      });
      client = createPaymentClient({
        baseUrl: h.baseUrl,
        appId: channel.appId,
        privateKeyHex: channel.privateKeyHex,
        appSecret: channel.appSecret,
      });
      for (const p of Object.values(DEMO_PERSONS)) h.persons.set(p.residentId, `person-${p.key}`);
    });
    after(async () => {
      await h?.close();
    });

    const coreZone = (): CoreZone => h.platform.ctx.services.coreZone!;
    const balance = async (personNo: string) => (await coreZone().accountBalance(REGION, personNo)).balance;

    async function assertAgree(o: Order) {
      const p = await h.provider.queryOrder(o.id);
      const providerNet = p.status === 'SUCCESS' ? p.amount - p.refunded : 0;
      const s = o.settlementId ? await coreZone().getSettlement(REGION, o.settlementId) : undefined;
      if (o.status === 'completed' || o.status === 'partially_refunded') {
        assert.equal(s?.state, 'settled', `${o.id}: settled in the core zone`);
        assert.equal(s!.fundPayment, o.fundPayment);
        assert.equal(s!.accountPayment, o.accountPayment);
        assert.equal(s!.cashPayment, o.cashPayment);
        assert.equal(providerNet, o.cashPayment! - o.refundedCash);
      } else {
        assert.notEqual(s?.state, 'settled', `${o.id} (${o.status}): no live settlement`);
        assert.equal(providerNet, 0, `${o.id} (${o.status}): the provider kept nothing`);
      }
    }

    test('the whole flow over the signed channel API: 6201 → 6202 → cashier → callback → settled; 6203 reverses every leg', async () => {
      const person = DEMO_PERSONS.zhangWei;
      // the person has an account in the hall (user center): the order is linked to it and shown there
      const account = await h.platform.ctx.services.user!.createPerson({
        regionCode: REGION,
        name: person.name,
        residentId: person.residentId,
        mobile: '13800138001',
      });
      const before = await balance(person.personNo);
      const r = await client.upload6201({
        orgCodg: INSTITUTION,
        orgBizSer: serial(),
        mdtrtCertType: '02',
        mdtrtCertNo: person.residentId,
        medType: '11',
        feedetail: [
          { feedetlSn: '1', medListCodg: A.code, cnt: 2, pric: 4_000 },
          { feedetlSn: '2', medListCodg: B.code, cnt: 1, pric: 12_000 },
          { feedetlSn: '3', medListCodg: C.code, cnt: 1, pric: 3_000 },
        ],
      });
      assert.equal(r.ordStas, 'pre_settled');
      assert.equal(r.fundPay + r.psnAcctPay + r.ownPayAmt, r.feeSumamt);
      assert.equal(r.balc, before - r.psnAcctPay);
      assert.deepEqual(
        r.feedetail.map((l) => l.chrgitmLv),
        ['A', 'B', 'C'],
      );
      const placed = await client.place6202(
        { payOrdId: r.payOrdId, payToken: r.payToken },
        { idempotencyKey: `p-${r.payOrdId}` },
      );
      if (placed.ownPayAmt > 0) await h.pay(r.payOrdId);
      const done = await h.waitFor(r.payOrdId, (o) => o.status === 'completed');
      await assertAgree(done);
      assert.equal(done.personId, account.id);
      assert.equal(await balance(person.personNo), before - r.psnAcctPay);
      const hall = await h.platform.app.inject({
        url: '/api/payment/my/orders?filter=history',
        headers: await h.platform.auth({ kind: 'person', subject: account.id, regionCode: REGION }),
      });
      assert.equal(hall.statusCode, 200, hall.body);
      const shown = hall.json().items.find((o: { id: string }) => o.id === r.payOrdId);
      assert.ok(shown, 'the hall shows the order');
      assert.equal(shown.institutionName, (await coreZone().getInstitution(REGION, INSTITUTION)).name, 'by name');
      const refund = await client.refund6203({
        payOrdId: r.payOrdId,
        payToken: r.payToken,
        appRefdSn: 'ALL-1',
        refdType: 'ALL',
        expContent: '患者要求退费',
      });
      assert.equal(refund.refdStas, 'succeeded');
      assert.equal(refund.psnAcctRefdAmt, r.psnAcctPay);
      const after = await h.payment.getOrder(REGION, r.payOrdId);
      assert.equal(after.status, 'refunded');
      await assertAgree(after);
      assert.equal(await balance(person.personNo), before, 'the account got back what it paid');
      const ledger = await core.checkLedger(REGION);
      assert.deepEqual(ledger.mismatches, []);
      assert.deepEqual(ledger.unbalancedTransactions, []);
    });

    test(`concurrent orders for one person never overdraw the account (${kind === 'postgres' ? 100 : 12} orders)`, async () => {
      const n = kind === 'postgres' ? 100 : 12;
      const person = DEMO_PERSONS.zhangWei;
      const initial = await balance(person.personNo);
      // each order asks the account for more than a share of the balance: they cannot all be paid from it
      const price = Math.ceil((initial * 2) / n) + 1;
      const uploads = await Promise.all(
        Array.from({ length: n }, () =>
          h.payment.upload(
            {
              regionCode: REGION,
              appId: 'ref-test',
              institutionCode: INSTITUTION,
              institutionOrderNo: serial(),
              credential: { type: '02', value: person.residentId },
              medicalType: '11',
              lines: [{ lineNo: '1', code: C.code, quantity: 1, unitPrice: price }],
            },
            actor,
          ),
        ),
      );
      assert.ok(uploads.every((o) => o.status === 'pre_settled' && o.accountPayment! > 0));
      // every third person-choice: pay it all in cash (the provider leg runs concurrently too)
      const chosen = await Promise.all(
        uploads.map((o, i) => (i % 3 === 2 ? h.payment.choosePersonalAccount(o, false, actor) : o)),
      );
      const placed = await Promise.all(chosen.map((o) => h.payment.placeOrder(o, actor)));
      await Promise.all(placed.filter((o) => o.status === 'awaiting_payment').map((o) => h.pay(o.id)));
      const finals = await Promise.all(placed.map((o) => h.waitFor(o.id, (x) => FINAL.includes(x.status), 30_000)));
      const after = await balance(person.personNo);
      assert.ok(after >= 0, 'never overdrawn');
      const completed = finals.filter((o) => o.status === 'completed');
      const failed = finals.filter((o) => o.status === 'failed');
      assert.equal(completed.length + failed.length, n);
      assert.ok(
        completed.length > 0 && failed.length > 0,
        `${completed.length} completed, ${failed.length} refunded back`,
      );
      const paidFromAccount = completed.reduce((s, o) => s + o.accountPayment!, 0);
      assert.equal(after + paidFromAccount, initial, 'balance + account payments = initial');
      assert.ok(
        completed.some((o) => o.cashPayment! > 0),
        'some completed orders had a cash leg',
      );
      for (const o of finals) await assertAgree(o);
      const ledger = await core.checkLedger(REGION);
      assert.deepEqual(ledger.mismatches, []);
    });

    const STEPS: Step[] = [
      'after-order-inserted',
      'after-presettle',
      'after-prepay-created',
      'before-core-settle',
      'after-core-settle',
      'after-insurance-settled-stored',
      'after-core-reverse',
      'after-provider-refund',
    ];
    test('crash injection at every step, then recovery: the platform, the core zone and the provider agree', async () => {
      const person = DEMO_PERSONS.chenJing; // a small balance: every order has account and cash legs
      for (const step of STEPS) {
        const start = await balance(person.personNo);
        let fired = 0;
        h.setFaults((s) => {
          if (s === step && fired++ === 0) throw new Error(`crash injected at ${s}`);
        });
        const no = serial();
        try {
          const o = await h.payment.upload(
            {
              regionCode: REGION,
              appId: 'ref-test',
              institutionCode: INSTITUTION,
              institutionOrderNo: no,
              credential: { type: '02', value: person.residentId },
              medicalType: '11',
              lines: [
                { lineNo: '1', code: A.code, quantity: 1, unitPrice: 90_000 },
                { lineNo: '2', code: C.code, quantity: 1, unitPrice: 20_000 },
              ],
            },
            actor,
          );
          const placed = await h.payment.placeOrder(o, actor);
          await h.pay(placed.id);
          const done = await h.waitFor(
            placed.id,
            (x) => FINAL.includes(x.status) || x.status === 'cash_paid' || x.status === 'insurance_settled',
            5000,
          );
          if (step === 'after-core-reverse' || step === 'after-provider-refund') {
            const settled = await h.waitFor(done.id, (x) => x.status === 'completed', 5000);
            await h.payment.requestRefund(
              REGION,
              settled.id,
              { appRefundSn: 'crash', kind: 'full', reason: '崩溃测试' },
              actor,
            );
          }
        } catch (err) {
          assert.match(String((err as Error).message), /crash injected/);
        }
        for (const until = Date.now() + 3000; fired === 0 && Date.now() < until; )
          await new Promise((r) => setTimeout(r, 20));
        assert.ok(fired > 0, `the fault at ${step} fired`);
        h.setFaults(undefined);
        const o0 = await h.payment.findByInstitutionOrderNo(REGION, 'ref-test', no);
        let o = o0;
        for (let i = 0; i < 5 && !FINAL.includes(o.status); i++) {
          if (o.status === 'pre_settled') o = await h.payment.placeOrder(o, actor);
          if (o.status === 'awaiting_payment') await h.pay(o.id);
          await new Promise((r) => setTimeout(r, 50));
          await h.payment.recover({ idleMs: 0 });
          o = await h.payment.getOrder(REGION, o.id);
        }
        assert.ok(FINAL.includes(o.status), `${step}: final state reached, got ${o.status}`);
        for (const r of await h.payment.refunds(REGION, o.id))
          assert.equal(r.status, 'succeeded', `${step}: refund ${r.kind} done`);
        await assertAgree(o);
        const kept = o.status === 'completed' ? o.accountPayment! : 0;
        assert.equal((await balance(person.personNo)) + kept, start, `${step}: balance + account paid = before`);
      }
      const ledger = await core.checkLedger(REGION);
      assert.deepEqual(ledger.mismatches, []);
      assert.deepEqual(ledger.unbalancedTransactions, []);
    });
  });
}
