/**
 * Channel callbacks: issuing and reversing a bill POSTs a signed notification to the institution's channel, through
 * the job queue, to a real local HTTP receiver that refuses the first attempt and accepts the second.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { sql } from '../../platform/db/index.ts';
import { forEachPlatform, type TestPlatform } from '../../testing/platform.ts';
import type { PaymentEvent } from '../payment/index.ts';
import { CALLBACK_QUEUE, verifyCallbackSignature } from './callbacks.ts';
import { ebillCenter } from './index.ts';

const REGION = '990100';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

/** A receiver that answers 503 to the first attempt of each delivery and 200 to the next ones. */
const received: Received[] = [];
const seen = new Set<string>();
const receiver = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => {
    body += c;
  });
  req.on('end', () => {
    const id = String(req.headers['x-ebill-delivery-id']);
    const answered = seen.has(id) ? 200 : 503;
    seen.add(id);
    received.push({ path: req.url ?? '', headers: req.headers, body, answered });
    res.writeHead(answered, { 'content-type': 'text/plain' }).end(answered === 200 ? 'OK' : 'busy');
  });
});
before(() => new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve)));
after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
const receiverUrl = (path: string) => `http://127.0.0.1:${(receiver.address() as AddressInfo).port}${path}`;

function settlement(institutionCode: string, over: Partial<PaymentEvent> = {}): PaymentEvent {
  return {
    regionCode: REGION,
    orderId: `PO${randomUUID().slice(0, 12)}`,
    personId: 'person-cb',
    institutionCode,
    total: 5000,
    fundPayment: 3000,
    accountPayment: 1200,
    cashPayment: 800,
    lines: [
      { code: 'XN01BBA064B002010178765', name: '阿莫西林胶囊', itemClass: 'A', quantity: 2, amount: 3150 },
      { code: '003401000230600', name: '静脉输液', itemClass: 'B', quantity: 1, amount: 1850 },
    ],
    settledAt: new Date().toISOString(),
    ...over,
  };
}

/** Runs the callback jobs that are due now, then makes the retried ones due (skipping their backoff) for the next. */
async function attemptRound(p: TestPlatform): Promise<void> {
  await p.ctx.jobs.drain();
  await p.ctx.db.q(sql`update job set run_at = now() where queue = ${CALLBACK_QUEUE} and state = 'queued'`);
}

forEachPlatform(
  'e-bill channel callbacks',
  (get) => {
    test('issue and reversal notify the channel (signed); a refused first attempt is retried and delivered', async () => {
      received.length = 0; // the receiver serves every database kind's suite
      const p = get();
      p.ctx.permissions = { permissionsOf: async () => new Set(['ebill:read', 'ebill:manage']) };
      const admin = await p.auth({ kind: 'staff', subject: 'admin', regionCode: REGION });
      const institution = `H990100${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`;
      const created = await p.app.inject({
        method: 'POST',
        url: '/api/ebill/admin/channels',
        headers: admin,
        payload: { name: '回调测试医院 HIS', institutionCode: institution, callbackUrl: receiverUrl('/his/ebill?v=1') },
      });
      assert.equal(created.statusCode, 201, created.body);
      const { appId, appSecret } = created.json() as { appId: string; appSecret: string };
      // Another institution's channel is not told about this institution's bills.
      const other = await p.app.inject({
        method: 'POST',
        url: '/api/ebill/admin/channels',
        headers: admin,
        payload: { name: '别家医院', institutionCode: 'H99010099999', callbackUrl: receiverUrl('/other') },
      });
      assert.equal(other.statusCode, 201, other.body);

      const svc = p.ctx.services.ebill!;
      const ev = settlement(institution);
      const bill = await svc.issueBlue(ev);
      const log = async () =>
        (await p.app.inject({ url: `/api/ebill/admin/channels/${appId}/callbacks`, headers: admin })).json() as {
          counts: Record<string, number>;
          items: Array<{ event: string; billNumber: string; status: string; attempts: number; lastStatusCode: number }>;
        };
      assert.deepEqual(
        (await log()).items.map((d) => [d.event, d.status, d.attempts]),
        [['bill.issued', 'pending', 0]],
      );

      await attemptRound(p);
      assert.equal(received.length, 1, 'first attempt made');
      assert.equal(received[0].answered, 503);
      let d = (await log()).items[0];
      assert.equal(d.status, 'pending', 'refused: still pending, to be retried');
      assert.equal(d.attempts, 1);
      assert.equal(d.lastStatusCode, 503);

      await attemptRound(p);
      assert.equal(received.length, 2, 'second attempt made');
      d = (await log()).items[0];
      assert.equal(d.status, 'delivered');
      assert.equal(d.attempts, 2);
      assert.equal(d.lastStatusCode, 200);
      assert.equal(d.billNumber, bill.billNumber);

      const ok = received[1];
      assert.equal(ok.path, '/his/ebill?v=1');
      assert.equal(ok.headers['x-ebill-app-id'], appId);
      assert.equal(ok.headers['x-ebill-event'], 'bill.issued');
      assert.equal(ok.headers['x-ebill-delivery-id'], received[0].headers['x-ebill-delivery-id'], 'same delivery id');
      assert.ok(verifyCallbackSignature(appSecret, ok.headers, 'POST', ok.path, ok.body), 'signed with the secret');
      assert.ok(!verifyCallbackSignature('wrong-secret', ok.headers, 'POST', ok.path, ok.body));
      assert.ok(!verifyCallbackSignature(appSecret, ok.headers, 'POST', ok.path, ok.body.replace('5000', '5001')));
      const note = JSON.parse(ok.body);
      assert.equal(note.event, 'bill.issued');
      assert.equal(note.bill.billCode, bill.billCode);
      assert.equal(note.bill.billNumber, bill.billNumber);
      assert.equal(note.bill.total, 5000);
      assert.equal(note.bill.institutionCode, institution);
      assert.ok(!('payerName' in note.bill) && !('personId' in note.bill), 'no personal data');

      // Reversal (a partial refund → red bill): notified as bill.reversed, with the original bill.
      const red = await svc.issueRed({ ...ev, refundId: 'RF-cb-1', fundRefund: 0, accountRefund: 0, cashRefund: 800 });
      await attemptRound(p);
      await attemptRound(p);
      const reversed = received.filter((r) => r.headers['x-ebill-event'] === 'bill.reversed');
      assert.deepEqual(
        reversed.map((r) => r.answered),
        [503, 200],
      );
      const redNote = JSON.parse(reversed[1].body);
      assert.equal(redNote.bill.billNumber, red.billNumber);
      assert.equal(redNote.bill.kind, 'red');
      assert.equal(redNote.bill.total, 800);
      assert.deepEqual(
        [redNote.bill.original.billCode, redNote.bill.original.billNumber],
        [bill.billCode, bill.billNumber],
      );
      const final = await log();
      assert.deepEqual(final.counts, { pending: 0, delivered: 2, failed: 0 });
      assert.ok(!received.some((r) => r.path === '/other'), 'other institutions’ channels are not notified');
    });

    test('an unreachable receiver: attempts recorded, failed after the last; staff can send it again', async () => {
      const p = get();
      p.ctx.permissions = { permissionsOf: async () => new Set(['ebill:read', 'ebill:manage']) };
      const admin = await p.auth({ kind: 'staff', subject: 'admin', regionCode: REGION });
      const institution = `P990100${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`;
      // A port nothing listens on: take one from the OS, then close it.
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const deadPort = (probe.address() as AddressInfo).port;
      await new Promise<void>((r) => probe.close(() => r()));
      const created = await p.app.inject({
        method: 'POST',
        url: '/api/ebill/admin/channels',
        headers: admin,
        payload: { name: '不可达药店', institutionCode: institution, callbackUrl: `http://127.0.0.1:${deadPort}/cb` },
      });
      const { appId } = created.json() as { appId: string };
      await p.ctx.services.ebill!.issueBlue(settlement(institution));
      // Fewer attempts for the test: the job's own limit decides when the delivery is given up.
      await p.ctx.db.q(sql`update job set max_attempts = 2 where queue = ${CALLBACK_QUEUE} and state = 'queued'`);
      await attemptRound(p);
      await attemptRound(p);
      const log = async () =>
        (await p.app.inject({ url: `/api/ebill/admin/channels/${appId}/callbacks`, headers: admin })).json();
      const [d] = (await log()).items;
      assert.equal(d.status, 'failed');
      assert.equal(d.attempts, 2);
      assert.match(d.lastError, /连接失败/);

      // The receiver is back: staff point the channel at it and send the notification again.
      const patched = await p.app.inject({
        method: 'PATCH',
        url: `/api/ebill/admin/channels/${appId}`,
        headers: admin,
        payload: { callbackUrl: receiverUrl('/back') },
      });
      assert.equal(patched.statusCode, 200, patched.body);
      const retry = await p.app.inject({
        method: 'POST',
        url: `/api/ebill/admin/channels/${appId}/callbacks/${d.id}/retry`,
        headers: admin,
      });
      assert.equal(retry.statusCode, 200, retry.body);
      const again = await p.app.inject({
        method: 'POST',
        url: `/api/ebill/admin/channels/${appId}/callbacks/${d.id}/retry`,
        headers: admin,
      });
      assert.equal(again.statusCode, 409, 'only a failed delivery can be sent again');
      await attemptRound(p);
      await attemptRound(p);
      const [after] = (await log()).items;
      assert.equal(after.status, 'delivered');
      assert.equal(after.url, receiverUrl('/back'));
      assert.ok(received.some((r) => r.path === '/back' && r.answered === 200));
    });

    test('an interface listed twice is a 400, on registration and on change (was a 500 from the primary key)', async () => {
      const p = get();
      p.ctx.permissions = { permissionsOf: async () => new Set(['ebill:read', 'ebill:manage']) };
      const admin = await p.auth({ kind: 'staff', subject: 'admin', regionCode: REGION });
      const apis = [
        { api: 'bill.detail', enabled: true, dailyQuota: 100 },
        { api: 'bill.detail', enabled: false, dailyQuota: 5 },
      ];
      const register = (listed: typeof apis) =>
        p.app.inject({
          method: 'POST',
          url: '/api/ebill/admin/channels',
          headers: admin,
          payload: { name: '重复接口', apis: listed },
        });
      const created = await register(apis);
      assert.equal(created.statusCode, 400, created.body);
      assert.match(created.body, /同一接口只能出现一次/);
      const ok = await register(apis.slice(0, 1));
      assert.equal(ok.statusCode, 201, ok.body);
      const changed = await p.app.inject({
        method: 'PUT',
        url: `/api/ebill/admin/channels/${ok.json().appId}/apis`,
        headers: admin,
        payload: { apis },
      });
      assert.equal(changed.statusCode, 400, changed.body);
    });

    test('a callback to a refused address: refused when registered or changed, and at sending when a name leads there', async () => {
      const p = get();
      p.ctx.permissions = { permissionsOf: async () => new Set(['ebill:read', 'ebill:manage']) };
      const admin = await p.auth({ kind: 'staff', subject: 'admin', regionCode: REGION });
      const institution = `P990100${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`;
      const register = (callbackUrl: string) =>
        p.app.inject({
          method: 'POST',
          url: '/api/ebill/admin/channels',
          headers: admin,
          payload: { name: '内网探测', institutionCode: institution, callbackUrl },
        });
      const metadata = await register('http://169.254.169.254/latest/meta-data/');
      assert.equal(metadata.statusCode, 400, metadata.body);
      assert.equal(metadata.json().code, 'OUTBOUND_URL_REFUSED');
      assert.match(metadata.json().title, /回调地址不可用/);
      assert.equal(metadata.json().errors[0].field, 'callbackUrl', 'the form shows it at its field');
      // a host name is checked when it is resolved, at each sending
      const created = await register(receiverUrl('/named').replace('127.0.0.1', 'localhost'));
      assert.equal(created.statusCode, 201, created.body);
      const { appId } = created.json() as { appId: string };
      const changed = await p.app.inject({
        method: 'PATCH',
        url: `/api/ebill/admin/channels/${appId}`,
        headers: admin,
        payload: { callbackUrl: 'gopher://127.0.0.1:6379/_FLUSHALL' },
      });
      assert.equal(changed.statusCode, 400, changed.body);
      // as in production: loopback is refused, and localhost resolves to it
      const config = p.ctx.config as { OUTBOUND_ALLOW_LOOPBACK?: boolean };
      config.OUTBOUND_ALLOW_LOOPBACK = false;
      try {
        await p.ctx.services.ebill!.issueBlue(settlement(institution));
        await p.ctx.db.q(sql`update job set max_attempts = 1 where queue = ${CALLBACK_QUEUE} and state = 'queued'`);
        await attemptRound(p);
      } finally {
        config.OUTBOUND_ALLOW_LOOPBACK = undefined;
      }
      const [d] = (await p.app.inject({ url: `/api/ebill/admin/channels/${appId}/callbacks`, headers: admin })).json()
        .items;
      assert.equal(d.status, 'failed');
      assert.match(d.lastError, /回环地址/);
      assert.ok(!received.some((r) => r.path === '/named'), 'nothing reached the receiver');
    });
  },
  { centers: [ebillCenter] },
);
