/**
 * The sandbox provider with a state file behaves like a provider that keeps its books: a restart loses no order,
 * refund or address. Without one (tests), it forgets, as before.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { businessDate, type ProviderNotification } from '../port.ts';
import { SandboxPaymentProvider, sandboxAdmin } from './client.ts';
import { startSandbox } from './server.ts';

const dir = mkdtempSync(join(tmpdir(), 'sandbox-pay-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const secret = 'sandbox-test-secret';
const quiet = { secret, log: () => {} };

async function paidOrder(p: SandboxPaymentProvider, url: string, outTradeNo: string, amount: number) {
  const prepay = await p.createPrepay({
    outTradeNo,
    amount,
    description: '测试',
    notifyUrl: 'http://127.0.0.1:9/api/payment/notify/sandbox',
    expiresAt: new Date(Date.now() + 60_000),
  });
  await sandboxAdmin(url, 'POST', `/admin/orders/${outTradeNo}/pay`, {});
  return prepay;
}

test('a restart keeps orders, refunds, the statement and the cashier address', async () => {
  const stateFile = join(dir, 'keep.json');
  const first = await startSandbox({ ...quiet, stateFile });
  const p1 = new SandboxPaymentProvider({ baseUrl: first.url, secret });
  const prepay = await paidOrder(p1, first.url, 'ORD-1', 5_000);
  await p1.refund({ outTradeNo: 'ORD-1', outRefundNo: 'REF-1', amount: 2_000, reason: '部分退款' });
  await p1.createPrepay({
    outTradeNo: 'ORD-2',
    amount: 800,
    description: '未支付',
    notifyUrl: 'http://127.0.0.1:9/x',
    expiresAt: new Date(Date.now() + 60_000),
  });
  await p1.closeOrder('ORD-2');
  const before = await p1.queryOrder('ORD-1');
  await first.close();

  const second = await startSandbox({ ...quiet, stateFile });
  try {
    assert.equal(second.url, first.url, 'the same address, so cashier links handed out before still open');
    const p2 = new SandboxPaymentProvider({ baseUrl: second.url, secret });
    const order = await p2.queryOrder('ORD-1');
    assert.equal(order.status, 'SUCCESS');
    assert.equal(order.refunded, 2_000);
    assert.equal(order.seq, before.seq, 'notices after the restart continue the sequence, none reuses a number');
    assert.equal((await p2.queryRefund('REF-1')).status, 'SUCCESS');
    assert.equal((await p2.queryOrder('ORD-2')).status, 'CLOSED');
    const lines = await p2.statement(businessDate(Date.now()));
    assert.deepEqual(
      lines.map((l) => `${l.type} ${l.outTradeNo} ${l.amount}`),
      ['PAY ORD-1 5000', 'REFUND ORD-1 2000'],
    );
    // what was refunded before the restart still counts against what may be refunded
    await assert.rejects(p2.refund({ outTradeNo: 'ORD-1', outRefundNo: 'REF-2', amount: 3_001, reason: '超额' }), {
      code: 'REFUND_AMOUNT_EXCEEDED',
    });
    await p2.refund({ outTradeNo: 'ORD-1', outRefundNo: 'REF-2', amount: 3_000, reason: '余款' });
    const cashier = await fetch(prepay.cashierUrl);
    assert.equal(cashier.status, 200);
    assert.match(await cashier.text(), /已支付/);
  } finally {
    await second.close();
  }
});

test('when its old port is taken it starts elsewhere, with its orders', async () => {
  const stateFile = join(dir, 'moved.json');
  const first = await startSandbox({ ...quiet, stateFile });
  await paidOrder(new SandboxPaymentProvider({ baseUrl: first.url, secret }), first.url, 'ORD-3', 100);
  await first.close();
  const squatter = createServer();
  await new Promise<void>((r) => squatter.listen(Number(new URL(first.url).port), '127.0.0.1', r));
  const second = await startSandbox({ ...quiet, stateFile });
  try {
    assert.notEqual(second.url, first.url);
    const order = await new SandboxPaymentProvider({ baseUrl: second.url, secret }).queryOrder('ORD-3');
    assert.equal(order.status, 'SUCCESS');
  } finally {
    await second.close();
    squatter.close();
  }
});

test('without a state file a restart forgets (the tests’ in-process sandbox)', async () => {
  const first = await startSandbox(quiet);
  await paidOrder(new SandboxPaymentProvider({ baseUrl: first.url, secret }), first.url, 'ORD-4', 100);
  await first.close();
  const second = await startSandbox(quiet);
  try {
    const order = await new SandboxPaymentProvider({ baseUrl: second.url, secret }).queryOrder('ORD-4');
    assert.equal(order.status, 'NOTFOUND');
  } finally {
    await second.close();
  }
});

test('a notification the merchant has not acknowledged when the sandbox stops is delivered after its restart', async () => {
  const stateFile = join(dir, 'outgoing.json');
  let accept = false;
  let refused = 0;
  const received: ProviderNotification[] = [];
  const verifier = new SandboxPaymentProvider({ baseUrl: 'http://127.0.0.1:9', secret });
  const merchant = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (!accept) {
        refused++;
        res.writeHead(503).end();
        return;
      }
      received.push(verifier.verifyNotification(req.headers, body));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"code":"SUCCESS"}');
    });
  });
  await new Promise<void>((r) => merchant.listen(0, '127.0.0.1', r));
  const notifyUrl = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}/api/payment/notify/sandbox`;
  try {
    const first = await startSandbox({ ...quiet, stateFile });
    const p1 = new SandboxPaymentProvider({ baseUrl: first.url, secret });
    await p1.createPrepay({
      outTradeNo: 'ORD-9',
      amount: 700,
      description: '测试',
      notifyUrl,
      expiresAt: new Date(Date.now() + 60_000),
    });
    await sandboxAdmin(first.url, 'POST', '/admin/orders/ORD-9/pay', {});
    for (const until = Date.now() + 5000; refused < 2 && Date.now() < until; )
      await new Promise((r) => setTimeout(r, 10));
    assert.ok(refused >= 2, 'the merchant refused it, and the sandbox retried');
    await first.close();
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as { outgoing: unknown[] };
    assert.equal(saved.outgoing.length, 1, 'kept as outgoing');

    accept = true;
    const second = await startSandbox({ ...quiet, stateFile });
    try {
      for (const until = Date.now() + 5000; received.length === 0 && Date.now() < until; )
        await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(
        received.map((n) => [n.eventType, n.outTradeNo, n.amount, n.seq]),
        [['TRANSACTION.SUCCESS', 'ORD-9', 700, 2]],
        'signed as before, with its own sequence number',
      );
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(JSON.parse(readFileSync(stateFile, 'utf8')).outgoing.length, 0, 'acknowledged: nothing left');
    } finally {
      await second.close();
    }
  } finally {
    merchant.close();
  }
});
