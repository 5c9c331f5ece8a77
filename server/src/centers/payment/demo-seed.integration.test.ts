/**
 * The demo seed on the full composition: each demo insured person has one pending bill; starting again adds none
 * while it is pending, and brings a new one once it has expired (the confirmation window cancels unconfirmed bills),
 * at the next start or, while the demo runs, at the next check a few minutes later. 张伟 also has a payment history,
 * made once through the real steps (the sandbox cashier included), which the provider's statement agrees with.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from '../../platform/db/index.ts';
import { enqueue } from '../../platform/jobs.ts';
import { businessDate } from '../../platform/time.ts';
import { forEachPlatform } from '../../testing/platform.ts';
import { createPaymentCenter } from './index.ts';

forEachPlatform(
  'payment demo seed',
  (get) => {
    const bills = () =>
      get().ctx.db.q<{ id: string; status: string }>(sql`select id, status from payment_order
        where region_code = '990100' and app_id = 'demo-his' and institution_order_no like 'DEMO-PAY-0001-%'
        order by created_at`);
    const seedAgain = () => createPaymentCenter().seed!(get().ctx);

    test('张伟 has a payment history, made once: account, cash at the sandbox cashier, and a full refund', async () => {
      const history = () =>
        get().ctx.db.q<Record<string, string | number>>(sql`select id, institution_order_no as no, status,
          fund_payment, account_payment, cash_payment, refunded_cash, refunded_fund from payment_order
          where region_code = '990100' and institution_order_no like 'DEMO-HIST-%' order by institution_order_no`);
      const orders = await history();
      assert.deepEqual(
        orders.map((o) => `${o.no} ${o.status}`),
        ['DEMO-HIST-0001 completed', 'DEMO-HIST-0002 completed', 'DEMO-HIST-0003 refunded'],
      );
      const [account, cash, refunded] = orders;
      assert.ok(Number(account!.account_payment) > 0 && Number(account!.cash_payment) === 0, 'paid from the account');
      assert.ok(Number(cash!.cash_payment) > 0 && Number(cash!.account_payment) === 0, 'paid in cash, account kept');
      assert.equal(refunded!.refunded_cash, refunded!.cash_payment);
      assert.equal(refunded!.refunded_fund, refunded!.fund_payment);
      // the provider's books hold both cash payments and the refund (the tests' sandbox serves every platform of
      // this process: only these orders' lines)
      const ids = new Set(orders.map((o) => o.id));
      const lines = await get().ctx.services.payment!.provider.statement(businessDate(Date.now()));
      const cashLines = lines
        .filter((l) => ids.has(l.outTradeNo))
        .map((l) => `${l.type} ${l.amount}`)
        .sort();
      assert.deepEqual(
        cashLines,
        [`PAY ${cash!.cash_payment}`, `PAY ${refunded!.cash_payment}`, `REFUND ${refunded!.cash_payment}`].sort(),
      );
      // and the day is reconciled, so 支付对账 has a run to show, which finds these orders in agreement
      const recon = get().ctx.services.paymentReconciler!;
      const report = await recon.report('990100', businessDate(Date.now()));
      assert.ok(report, 'a reconciliation run of the day');
      assert.deepEqual(
        report.mismatches.filter((m) => ids.has(m.orderId)),
        [],
      );
      await seedAgain();
      assert.equal((await history()).length, 3, 'a second start adds no history');
    });

    test('a pending demo bill is kept, and an expired one is replaced at the next start', async () => {
      const first = await bills();
      assert.deepEqual(
        first.map((b) => b.status),
        ['pre_settled'],
      );
      await seedAgain();
      assert.deepEqual(await bills(), first, 'no second bill while one is pending');
      await get().ctx.db.q(sql`update payment_order set status = 'cancelled'
        where region_code = '990100' and id = ${first[0]!.id}`);
      await seedAgain();
      const after = await bills();
      assert.deepEqual(
        after.map((b) => b.status),
        ['cancelled', 'pre_settled'],
      );
    });

    test('a bill whose confirmation window ran out while the platform was down is replaced at the next start', async () => {
      // the platform was stopped with a pending bill and started 31 minutes later: recovery has not run yet
      await get().ctx.db.q(sql`update payment_order set updated_at = now() - interval '31 minutes'
        where region_code = '990100' and app_id = 'demo-his' and status = 'pre_settled'
          and institution_order_no like 'DEMO-PAY-0001-%'`);
      await seedAgain();
      const statuses = (await bills()).map((b) => b.status);
      assert.deepEqual(statuses, ['cancelled', 'cancelled', 'pre_settled'], 'the stale one cancelled, a fresh one');
    });

    test('while the demo runs, a bill nobody confirmed in time is replaced within minutes, not at the next start', async () => {
      const [next] = await get().ctx.db.q<{ run_at: string }>(sql`select run_at from job
        where queue = 'payment.demo-bills' and state = 'queued'`);
      assert.ok(next, 'the demo start scheduled the check');
      assert.ok(Date.parse(next.run_at) - Date.now() <= 5 * 60_000);
      await get().ctx.db.q(sql`update payment_order set updated_at = now() - interval '31 minutes'
        where region_code = '990100' and app_id = 'demo-his' and status = 'pre_settled'
          and institution_order_no like 'DEMO-PAY-0001-%'`);
      // the check comes due (it stands in for the queued one, which the next check replaces)
      await get().ctx.db.q(sql`delete from job where queue = 'payment.demo-bills' and state = 'queued'`);
      await enqueue(get().ctx.db, 'payment.demo-bills', {});
      await get().ctx.jobs.drain();
      const statuses = (await bills()).map((b) => b.status);
      assert.deepEqual(statuses, ['cancelled', 'cancelled', 'cancelled', 'pre_settled']);
      const [again] = await get().ctx.db.q(
        sql`select 1 from job where queue = 'payment.demo-bills' and state = 'queued'`,
      );
      assert.ok(again, 'and the next check is scheduled');
    });
  },
  { seed: true },
);
