/**
 * The channel API (6201–6401) through the SDK's signed client over real HTTP, the person's and the console's routes,
 * and reconciliation — with the sandbox provider in its own process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ChannelError, createPaymentClient, type PaymentClient } from '@yibao/sdk';
import { sql } from '../../platform/db/index.ts';
import { databaseKinds } from '../../platform/db/testing.ts';
import { randomResidentId } from '../user/testing.ts';
import { FakeCoreZone } from './fake-core.test-helper.ts';
import { type Harness, serial, startHarness } from './harness.test-helper.ts';
import { businessDate } from './provider/port.ts';

const REGION = '990100';
const INSTITUTION = 'H99010200001';

for (const kind of databaseKinds()) {
  describe(`payment channel API [${kind}]`, () => {
    let h: Harness;
    let client: PaymentClient;
    const core = new FakeCoreZone();
    const residentId = randomResidentId('990102');
    const personId = 'person-channel-1';
    let staff: { authorization: string };
    let person: { authorization: string };

    before(async () => {
      h = await startHarness(kind, { coreZone: () => core.asCoreZone() });
      core.addPerson(REGION, residentId, 5_000);
      h.persons.set(residentId, personId);
      const channel = await h.platform.ctx.services.auth!.registerChannel({
        regionCode: REGION,
        name: '东湖市第一人民医院 HIS',
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
      h.platform.ctx.permissions = { permissionsOf: async () => new Set(['*']) };
      staff = await h.platform.auth({ kind: 'staff', subject: 'staff-1', regionCode: REGION });
      person = await h.platform.auth({ kind: 'person', subject: personId, regionCode: REGION });
    });
    after(async () => {
      await h?.close();
    });

    const upload = (orgBizSer = serial(), certNo = residentId) =>
      client.upload6201({
        orgCodg: INSTITUTION,
        orgBizSer,
        mdtrtCertType: '02',
        mdtrtCertNo: certNo,
        medType: '11',
        feedetail: [
          { feedetlSn: '1', medListCodg: 'S004', cnt: 1, pric: 2_500 },
          { feedetlSn: '2', medListCodg: 'XB02', cnt: 2, pric: 4_000 },
        ],
      });

    test('6201 pre-settles with national field names; the same orgBizSer returns the same order', async () => {
      const r = await upload('BIZ-0001');
      assert.equal(r.ordStas, 'pre_settled');
      assert.equal(r.fundPay + r.psnAcctPay + r.ownPayAmt, r.feeSumamt);
      assert.equal(r.feeSumamt, 10_500);
      assert.deepEqual(
        r.feedetail.map((l) => l.chrgitmLv),
        ['A', 'B'],
      );
      assert.match(r.payToken, /^[0-9a-f]{32}$/);
      const again = await upload('BIZ-0001');
      assert.equal(again.payOrdId, r.payOrdId);
    });

    test('bad data is a 400 naming the field; another institution is refused', async () => {
      await assert.rejects(
        client.upload6201({
          orgCodg: INSTITUTION,
          orgBizSer: serial(),
          mdtrtCertType: '02',
          mdtrtCertNo: residentId,
          medType: '11',
          feedetail: [],
        }),
        (e: ChannelError) =>
          e.status === 400 && e.code === 'VALIDATION_FAILED' && /data\.feedetail/.test(e.detail ?? ''),
      );
      await assert.rejects(
        client.upload6201({
          orgCodg: 'H99010200999',
          orgBizSer: serial(),
          mdtrtCertType: '02',
          mdtrtCertNo: residentId,
          medType: '11',
          feedetail: [{ feedetlSn: '1', medListCodg: 'S004', cnt: 1, pric: 100 }],
        }),
        (e: ChannelError) => e.status === 403 && e.code === 'PAYMENT_INSTITUTION_MISMATCH',
      );
    });

    test('a 6202 sent twice with the same Idempotency-Key pays once', async () => {
      const r = await upload();
      const key = `pay-${r.payOrdId}`;
      const first = await client.place6202({ payOrdId: r.payOrdId, payToken: r.payToken }, { idempotencyKey: key });
      const second = await client.place6202({ payOrdId: r.payOrdId, payToken: r.payToken }, { idempotencyKey: key });
      assert.equal(first.ordStas, 'awaiting_payment');
      assert.deepEqual(second, first);
      // and a different key for the same order does not create a second prepay either
      const third = await client.place6202(
        { payOrdId: r.payOrdId, payToken: r.payToken },
        { idempotencyKey: `${key}-b` },
      );
      assert.equal(third.cashierUrl, first.cashierUrl);
      const prepays = await h.admin<Array<{ outTradeNo: string }>>('GET', '/admin/orders');
      assert.equal(prepays.filter((o) => o.outTradeNo === r.payOrdId).length, 1);
      await h.pay(r.payOrdId);
      await h.waitFor(r.payOrdId, (o) => o.status === 'completed');
      const p = await h.provider.queryOrder(r.payOrdId);
      assert.equal(p.amount, r.ownPayAmt, 'the provider was paid exactly the cash part, once');
      const q = await client.query6301({ payOrdId: r.payOrdId });
      assert.equal(q.ordStas, 'completed');
      assert.ok(q.setlId);
      assert.deepEqual(q.feedetail, r.feedetail, '6301 answers the priced lines as 6201 did');
    });

    test('a wrong payToken is a 404; 6401 cancels an unpaid upload; 6202 after that is refused', async () => {
      const r = await upload();
      await assert.rejects(
        client.place6202({ payOrdId: r.payOrdId, payToken: 'f'.repeat(32) }),
        (e: ChannelError) => e.status === 404 && e.code === 'PAYMENT_ORDER_NOT_FOUND',
      );
      const c = await client.cancel6401({ payOrdId: r.payOrdId, payToken: r.payToken, expContent: '患者取消' });
      assert.equal(c.ordStas, 'cancelled');
      await assert.rejects(
        client.place6202({ payOrdId: r.payOrdId, payToken: r.payToken }),
        (e: ChannelError) => e.status === 409 && e.code === 'PAYMENT_ILLEGAL_TRANSITION',
      );
    });

    test('6203 refunds every leg; 6301 lists the refund', async () => {
      const r = await upload();
      await client.place6202({ payOrdId: r.payOrdId, payToken: r.payToken });
      await h.pay(r.payOrdId);
      await h.waitFor(r.payOrdId, (o) => o.status === 'completed');
      const refund = await client.refund6203(
        { payOrdId: r.payOrdId, payToken: r.payToken, appRefdSn: 'RF-1', refdType: 'ALL', expContent: '患者退费' },
        { idempotencyKey: `refund-${r.payOrdId}` },
      );
      assert.equal(refund.refdStas, 'succeeded');
      assert.equal(refund.totlRefdAmt, r.feeSumamt);
      assert.equal(refund.fundRefdAmt, r.fundPay);
      assert.equal(refund.cashRefdAmt, r.ownPayAmt);
      const q = await client.query6301({ payOrdId: r.payOrdId });
      assert.equal(q.ordStas, 'refunded');
      assert.equal(q.refdList.length, 1);
    });

    test('the personal account pays only after a second factor: a one-factor session is asked to step up, nothing moves', async () => {
      const saver = randomResidentId('990102');
      core.addPerson(REGION, saver, 1_000);
      h.persons.set(saver, 'person-channel-saver');
      const r = await upload(serial(), saver);
      assert.ok(r.psnAcctPay > 0, 'the bill uses the personal account');
      const pay = async (acr: string) =>
        h.platform.app.inject({
          method: 'POST',
          url: `/api/payment/my/orders/${r.payOrdId}/pay`,
          headers: {
            ...(await h.platform.auth({ kind: 'person', subject: 'person-channel-saver', regionCode: REGION, acr })),
            'idempotency-key': `hall-pay-${r.payOrdId}`,
          },
        });
      const asked = await pay('pwd');
      assert.equal(asked.statusCode, 401);
      assert.equal(asked.json().code, 'STEP_UP_REQUIRED');
      assert.equal((await client.query6301({ payOrdId: r.payOrdId })).ordStas, 'pre_settled', 'nothing placed');
      // after the step-up the page sends the same request with the same key, and it goes through
      const placed = await pay('mfa');
      assert.equal(placed.statusCode, 200, placed.body);
      assert.equal(placed.json().status, 'awaiting_payment');
    });

    test('the person sees the bill with lines, split and balance, may drop the account, and pays at the sandbox cashier', async () => {
      const r = await upload();
      const list = await h.platform.app.inject({ url: '/api/payment/my/orders?filter=pending', headers: person });
      assert.equal(list.statusCode, 200);
      assert.ok(list.json().items.some((o: { id: string }) => o.id === r.payOrdId));
      const detail = (
        await h.platform.app.inject({ url: `/api/payment/my/orders/${r.payOrdId}`, headers: person })
      ).json();
      assert.equal(detail.lines.length, 2);
      assert.equal(detail.accountBalanceAfter, r.balc);
      // the bill says until when it waits for the person: recovery cancels it 30 minutes after the last pre-settle
      assert.equal(Date.parse(detail.dueAt), Date.parse(detail.updatedAt) + 30 * 60_000);
      const other = await h.platform.auth({ kind: 'person', subject: 'someone-else', regionCode: REGION });
      h.persons.set('990102199001010000', 'someone-else');
      const denied = await h.platform.app.inject({ url: `/api/payment/my/orders/${r.payOrdId}`, headers: other });
      assert.equal(denied.statusCode, 404);
      const noAccount = await h.platform.app.inject({
        method: 'POST',
        url: `/api/payment/my/orders/${r.payOrdId}/account`,
        headers: person,
        payload: { useAccount: false },
      });
      assert.equal(noAccount.statusCode, 200);
      assert.equal(noAccount.json().accountPayment, 0);
      const pay = await h.platform.app.inject({
        method: 'POST',
        url: `/api/payment/my/orders/${r.payOrdId}/pay`,
        headers: { ...person, 'idempotency-key': `hall-pay-${r.payOrdId}` },
      });
      assert.equal(pay.statusCode, 200);
      assert.equal(pay.json().dueAt, pay.json().payExpiresAt, 'then until when the cashier waits');
      assert.ok(Date.parse(pay.json().dueAt) > Date.now());
      const cashier = pay.json().cashierUrl as string;
      const form = await fetch(`${cashier}/pay`, { method: 'POST' });
      assert.match(await form.text(), /沙箱/);
      await h.waitFor(r.payOrdId, (o) => o.status === 'completed');
      const history = (
        await h.platform.app.inject({ url: '/api/payment/my/orders?filter=history', headers: person })
      ).json();
      const done = history.items.find((o: { id: string }) => o.id === r.payOrdId);
      assert.equal(done.dueAt, null, 'nothing waits for the person any more');
      assert.equal(done.accountPayment, 0);
      assert.equal(done.cashPayment, r.ownPayAmt + r.psnAcctPay);
    });

    test('console: search, timeline, manual reversal with a reason (audited), reconciliation with a staff resolution', async () => {
      const r = await upload();
      await client.place6202({ payOrdId: r.payOrdId, payToken: r.payToken });
      await h.pay(r.payOrdId);
      await h.waitFor(r.payOrdId, (o) => o.status === 'completed');
      const search = (
        await h.platform.app.inject({ url: `/api/payment/admin/orders?q=${r.payOrdId}`, headers: staff })
      ).json();
      assert.equal(search.total, 1);
      // a clerk on the phone with the person: their orders by resident ID number, with a purpose, audited
      const noPurpose = await h.platform.app.inject({
        url: `/api/payment/admin/orders?q=${residentId}`,
        headers: staff,
      });
      assert.equal(noPurpose.statusCode, 400);
      assert.equal(noPurpose.json().code, 'PAYMENT_PURPOSE_REQUIRED');
      const purpose = encodeURIComponent('参保人来电查询支付');
      const byPerson = (
        await h.platform.app.inject({
          url: `/api/payment/admin/orders?q=${residentId}&purpose=${purpose}&pageSize=100`,
          headers: staff,
        })
      ).json();
      assert.ok(byPerson.items.some((o: { id: string }) => o.id === r.payOrdId));
      const [audited] = await h.platform.ctx.db.q<{
        target_id: string;
        purpose: string;
        detail: { found: number };
      }>(sql`
        select target_id, purpose, detail from audit_event where action = 'payment.orders.search_by_person'
        order by seq desc limit 1`);
      assert.equal(audited.detail.found, byPerson.total);
      assert.equal(audited.purpose, '参保人来电查询支付');
      assert.notEqual(audited.target_id, residentId, 'the ID number itself is not written to the audit log');
      const stranger = (
        await h.platform.app.inject({
          url: `/api/payment/admin/orders?q=110101199003070011&purpose=${purpose}`,
          headers: staff,
        })
      ).json();
      assert.equal(stranger.total, 0);
      const detail = (
        await h.platform.app.inject({ url: `/api/payment/admin/orders/${r.payOrdId}`, headers: staff })
      ).json();
      assert.deepEqual(
        detail.transitions.map((t: { toStatus: string }) => t.toStatus),
        ['created', 'pre_settled', 'awaiting_payment', 'cash_paid', 'insurance_settled', 'completed'],
      );
      const noReason = await h.platform.app.inject({
        method: 'POST',
        url: `/api/payment/admin/orders/${r.payOrdId}/reversal`,
        headers: staff,
        payload: { reason: '' },
      });
      assert.equal(noReason.statusCode, 400);
      const reversal = await h.platform.app.inject({
        method: 'POST',
        url: `/api/payment/admin/orders/${r.payOrdId}/reversal`,
        headers: { ...staff, 'idempotency-key': `rev-${r.payOrdId}` },
        payload: { reason: '医院重复收费，人工冲正' },
      });
      assert.equal(reversal.statusCode, 200, reversal.body);
      assert.equal(reversal.json().status, 'succeeded');
      const audits = await h.platform.ctx.db.q<{ action: string; detail: { reason: string } }>(
        sql`select action, detail from audit_event where target_id = ${r.payOrdId}`,
      );
      assert.ok(
        audits.some((a) => a.action === 'payment.manual_reversal' && a.detail.reason === '医院重复收费，人工冲正'),
      );

      // reconciliation: a day that has not begun is refused; everything so far agrees
      const tomorrow = businessDate(Date.now() + 86_400_000);
      const early = await h.platform.app.inject({
        method: 'POST',
        url: `/api/payment/admin/reconciliation/${tomorrow}/run`,
        headers: staff,
      });
      assert.equal(early.statusCode, 422, early.body);
      assert.equal(early.json().code, 'PAYMENT_RECONCILIATION_FUTURE');
      const date = businessDate(Date.now());
      const run = await h.platform.app.inject({
        method: 'POST',
        url: `/api/payment/admin/reconciliation/${date}/run`,
        headers: staff,
      });
      assert.equal(run.statusCode, 200, run.body);
      assert.deepEqual(run.json().mismatches, []);
      assert.ok(run.json().totals.completed >= 1);
      // the provider takes money for an order the platform had cancelled, and no notification arrives
      const lost = await upload();
      await client.place6202({ payOrdId: lost.payOrdId, payToken: lost.payToken });
      await client.cancel6401({ payOrdId: lost.payOrdId, payToken: lost.payToken });
      await h.admin('POST', '/admin/behaviour', { dropNotifications: true });
      try {
        await h.pay(lost.payOrdId, true);
      } finally {
        await h.admin('POST', '/admin/reset');
      }
      const second = (
        await h.platform.app.inject({
          method: 'POST',
          url: `/api/payment/admin/reconciliation/${date}/run`,
          headers: staff,
        })
      ).json();
      const item = second.mismatches.find((m: { orderId: string }) => m.orderId === lost.payOrdId);
      assert.ok(item, 'the provider-only payment is listed');
      assert.equal(item.kind, 'missing_in_platform');
      const resolve = await h.platform.app.inject({
        method: 'POST',
        url: `/api/payment/admin/reconciliation/${date}/items/${lost.payOrdId}/${item.kind}/resolve`,
        headers: staff,
        payload: { action: 'accept', note: '已联系支付机构原路退回' },
      });
      assert.equal(resolve.statusCode, 200, resolve.body);
      assert.equal(resolve.json().status, 'resolved');
      const page = (
        await h.platform.app.inject({ url: `/api/payment/admin/reconciliation?date=${date}`, headers: staff })
      ).json();
      assert.equal(page.report.date, date);
      assert.ok(page.runs.length >= 1);
    });
  });
}
