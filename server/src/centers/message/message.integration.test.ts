import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from '../../platform/db/index.ts';
import { forEachPlatform, type TestPlatform } from '../../testing/platform.ts';
import { SmtpEmailProvider } from './channels/email.ts';
import type { SandboxSmsProvider, SandboxWechatProvider } from './channels/sandbox.ts';
import { messageCenter } from './index.ts';
import type { MessageService } from './service.ts';
import { flush, personDirectory, startSmtp, type TestPerson } from './testing.ts';

const REGION = '990100';
const smtp = await startSmtp();
after(() => smtp.close());
const directory = personDirectory();

let seq = 0;
const person = (extra: Partial<TestPerson> = {}) =>
  directory.add({
    id: randomUUID(),
    regionCode: REGION,
    name: '张三',
    mobile: `139${String(10_000_000 + ++seq).slice(-8)}`,
    email: `p${seq}@example.test`,
    ...extra,
  });

const payment = (orderId: string) => ({
  orderId,
  institutionCode: 'H99010000001',
  total: 12_800,
  fundPayment: 8000,
  accountPayment: 3000,
  cashPayment: 1800,
  settledAt: '2026-01-01T08:30:00.000Z',
});

const refund = (orderId: string) => ({
  ...payment(orderId),
  refundKind: 'partial',
  refundAmount: 2800,
  fundRefund: 2000,
  accountRefund: 500,
  cashRefund: 300,
});

forEachPlatform(
  'message center',
  (get) => {
    let p: TestPlatform;
    let svc: MessageService;
    let admin: { authorization: string };
    before(async () => {
      p = get();
      svc = p.ctx.services.message!;
      admin = await p.auth({ kind: 'staff', subject: 'msg-admin', regionCode: REGION });
      // Quiet hours off for these tests (their own test below turns them on).
      await svc.saveSettings(REGION, { quietStart: 0, quietEnd: 0 }, 'test');
    });

    const send = (input: Parameters<MessageService['send']>[1]) => p.ctx.db.tx((tx) => svc.send(tx, input));
    const deliveries = async (messageId: string) =>
      (await svc.messageStatus(REGION, messageId)).deliveries as Array<{
        id: string;
        channel: string;
        status: string;
        reason: string | null;
        attempts: number;
      }>;

    test('a payment event reaches the person: inbox, WeChat unbound → SMS (sandbox), receipt → delivered', async () => {
      const alice = person();
      await p.ctx.db.tx((tx) =>
        p.ctx.events.publish(tx, 'payment.completed', {
          regionCode: REGION,
          personId: alice.id,
          ...payment('PO-1'),
          lines: [],
        }),
      );
      await flush(p);
      const [msg] = await p.ctx.db.q<{ id: string }>(
        sql`select id from message where region_code = ${REGION} and to_person_id = ${alice.id}`,
      );
      const ds = await deliveries(msg.id);
      const by = Object.fromEntries(ds.map((d) => [d.channel, d]));
      assert.equal(by.inbox.status, 'delivered');
      assert.equal(by.wechat.status, 'skipped');
      assert.match(by.wechat.reason!, /未绑定微信/);
      assert.equal(by.sms.status, 'delivered', 'the sandbox receipt marks the SMS delivered');
      const [sms] = await p.ctx.db.q<{ content: string; address: string }>(sql`select content, address
        from message_sandbox_outbox where region_code = ${REGION} and delivery_id = ${by.sms.id}`);
      assert.match(sms.content, /128\.00元（统筹80\.00元，个账30\.00元，现金18\.00元）/);
      assert.equal(sms.address, `${alice.mobile!.slice(0, 3)}****${alice.mobile!.slice(-4)}`);
      const inbox = await svc.inbox(REGION, alice.id, { page: 1, size: 10 });
      assert.equal(inbox.unread, 1);
      assert.equal((inbox.items[0] as { title: string }).title, '医保支付成功');
    });

    test('a partial refund event tells the refunded legs, not the order total', async () => {
      const ann = person();
      const event = {
        regionCode: REGION,
        personId: ann.id,
        ...payment('PO-R'),
        lines: [],
        refundId: 'RF-1',
        refundKind: 'partial',
        fundRefund: 1000,
        accountRefund: 0,
        cashRefund: 550,
      };
      await p.ctx.db.tx((tx) => p.ctx.events.publish(tx, 'payment.refunded', event));
      await flush(p);
      const inbox = await svc.inbox(REGION, ann.id, { page: 1, size: 10 });
      const body = (inbox.items[0] as { body: string }).body;
      assert.match(body, /已退款 15\.50 元：统筹基金退回 10\.00 元，个人账户退回 0\.00 元，现金 5\.50 元/);
    });

    test('an event that does not fit its message type is recorded as failed, not retried forever', async () => {
      const bea = person();
      await p.ctx.db.tx((tx) =>
        p.ctx.events.publish(tx, 'payment.completed', {
          regionCode: REGION,
          personId: bea.id,
          orderId: 'PO-BAD',
          total: 'lots',
        }),
      );
      await flush(p);
      const [m] = await p.ctx.db.q<{
        id: string;
        status: string;
        reason: string;
      }>(sql`select id, status, reason from message
        where region_code = ${REGION} and to_person_id = ${bea.id}`);
      assert.equal(m.status, 'failed');
      assert.match(m.reason, /消息数据与消息类型不符/);
      const [d] = await deliveries(m.id);
      assert.equal(d.status, 'failed');
      const [job] = await p.ctx.db.q<{
        state: string;
      }>(sql`select state from job where queue = 'event:payment.completed:message'
        and payload->>'orderId' = 'PO-BAD'`);
      assert.equal(job.state, 'done');
    });

    test('a user center that keeps failing: the message ends failed and visible after the last dispatch attempt', async () => {
      const users = (p.ctx.services as Record<string, { getPerson: unknown }>).user;
      const real = users.getPerson;
      users.getPerson = async () => {
        throw new Error('用户中心不可用');
      };
      try {
        const cat = person();
        const { messageId } = await send({
          type: 'payment.completed',
          regionCode: REGION,
          to: { personId: cat.id },
          payload: payment('PO-U'),
        });
        await flush(p);
        const status = await svc.messageStatus(REGION, messageId);
        assert.equal(status.status, 'failed');
        assert.match(status.reason!, /分发失败（已重试 5 次）：用户中心不可用/);
        assert.equal((status.deliveries[0] as { status: string }).status, 'dead');
      } finally {
        users.getPerson = real;
      }
    });

    test('WeChat bound but failing → retries with backoff, dead, then falls back to SMS', async () => {
      const bob = person();
      await svc.bindWechat(REGION, bob.id);
      await svc.setChannel(REGION, 'wechat', { sandboxFail: true }, 'test');
      try {
        const { messageId } = await send({
          type: 'payment.refunded',
          regionCode: REGION,
          to: { personId: bob.id },
          payload: refund('PO-2'),
        });
        await p.ctx.jobs.drain();
        let ds = await deliveries(messageId);
        const wechat = ds.find((d) => d.channel === 'wechat')!;
        assert.equal(wechat.status, 'queued');
        assert.match(wechat.reason!, /第 1 次发送失败，将重试/);
        const [job] = await p.ctx.db.q<{ run_at: string }>(sql`select run_at from job
          where queue = 'message.deliver' and payload->>'deliveryId' = ${wechat.id}`);
        assert.ok(new Date(job.run_at).getTime() > Date.now() + 1000, 'the retry waits (backoff)');
        await flush(p);
        ds = await deliveries(messageId);
        const w = ds.find((d) => d.channel === 'wechat')!;
        assert.equal(w.status, 'dead');
        assert.equal(w.attempts, 5);
        const sms = ds.find((d) => d.channel === 'sms')!;
        assert.equal(sms.status, 'delivered');
      } finally {
        await svc.setChannel(REGION, 'wechat', { sandboxFail: false }, 'test');
      }
    });

    test('a gateway answer lost after acceptance: the retry does not send the SMS twice', async () => {
      const sms = svc.providers.sms as SandboxSmsProvider;
      sms.loseResponses = 1;
      const { messageId } = await send({
        type: 'auth.otp',
        regionCode: REGION,
        to: { mobile: '13977778888' },
        payload: { code: '765432', purpose: 'login', minutes: 5 },
      });
      await flush(p);
      const [d] = await deliveries(messageId);
      assert.equal(d.status, 'delivered');
      assert.equal(d.attempts, 2, 'one lost answer, one retry');
      const rows = await p.ctx.db.q(
        sql`select id from message_sandbox_outbox where region_code = ${REGION} and delivery_id = ${d.id}`,
      );
      assert.equal(rows.length, 1, 'the gateway holds one message for the delivery');
    });

    test('sandbox gateway protocols: SMS signature checked, WeChat token refreshed once, invalid openid is permanent', async () => {
      const sms = svc.providers.sms as SandboxSmsProvider;
      const base = await sms.gateway.url();
      const forged = await fetch(`${base}/sms/send`, {
        method: 'POST',
        headers: {
          'x-sms-key': sms.gateway.smsKey,
          'x-sms-timestamp': String(Date.now()),
          'x-sms-signature': '0'.repeat(64),
        },
        body: JSON.stringify({ PhoneNumbers: '13900000000', Content: 'x', OutId: 'x', Region: REGION }),
      });
      assert.equal(forged.status, 401);
      assert.equal((await forged.json()).Code, 'SignatureDoesNotMatch');

      const wechat = svc.providers.wechat as SandboxWechatProvider;
      const dan = person();
      await svc.bindWechat(REGION, dan.id);
      const first = await send({
        type: 'payment.completed',
        regionCode: REGION,
        to: { personId: dan.id },
        payload: payment('PO-W1'),
      });
      await flush(p);
      wechat.expireToken();
      const second = await send({
        type: 'payment.completed',
        regionCode: REGION,
        to: { personId: dan.id },
        payload: payment('PO-W2'),
      });
      await flush(p);
      for (const id of [first.messageId, second.messageId]) {
        const w = (await deliveries(id)).find((d) => d.channel === 'wechat')!;
        assert.equal(w.status, 'delivered', w.reason ?? '');
        assert.equal(
          (await deliveries(id)).some((d) => d.channel === 'sms'),
          false,
          'no SMS when WeChat worked',
        );
      }
      const [rec] = await p.ctx.db.q<{
        template_id: string;
        title: string;
        address: string;
      }>(sql`select o.template_id, o.title,
        o.address from message_sandbox_outbox o join message_delivery d on d.region_code = o.region_code and d.id = o.delivery_id
        where d.message_id = ${second.messageId} and o.channel = 'wechat'`);
      assert.equal(rec.template_id, 'TPL-PAYMENT-COMPLETED');
      assert.equal(rec.title, '医保支付成功通知');
      assert.match(rec.address, /^openid /);

      const eve = person();
      await svc.bindWechat(REGION, eve.id, 'bad openid!');
      const third = await send({
        type: 'payment.completed',
        regionCode: REGION,
        to: { personId: eve.id },
        payload: payment('PO-W3'),
      });
      await flush(p);
      const ds = await deliveries(third.messageId);
      const w = ds.find((d) => d.channel === 'wechat')!;
      assert.equal(w.status, 'failed');
      assert.equal(w.attempts, 1, 'an invalid openid is not retried');
      assert.match(w.reason!, /40003 invalid openid/);
      assert.equal(ds.find((d) => d.channel === 'sms')!.status, 'delivered', 'falls back to SMS');
    });

    test('e-mail goes over SMTP to a real server and arrives', async () => {
      const carol = person();
      const before = smtp.mails.length;
      const { messageId } = await send({
        type: 'ebill.issued',
        regionCode: REGION,
        to: { personId: carol.id },
        payload: {
          billCode: '99010001',
          billNumber: '0000000042',
          payee: '东湖市人民医院',
          amount: 9950,
          issuedAt: '2026-01-02T01:00:00Z',
        },
      });
      await flush(p);
      const email = (await deliveries(messageId)).find((d) => d.channel === 'email')!;
      assert.equal(email.status, 'sent');
      const mail = smtp.mails.slice(before).find((m) => m.to.includes(carol.email!));
      assert.ok(mail, 'the SMTP server received the mail');
      assert.match(mail.raw, /X-Yibao-Delivery: /);
      const [head, body] = mail.raw.split('\r\n\r\n');
      const subject = /^Subject: (.*(?:\r\n .*)*)/m.exec(head)![1];
      const decoded = [...subject.matchAll(/=\?UTF-8\?B\?([^?]+)\?=/g)]
        .map((m) => Buffer.from(m[1], 'base64').toString())
        .join('');
      assert.equal(decoded, '医疗收费电子票据 0000000042');
      assert.match(head, /Content-Type: text\/plain; charset=utf-8/);
      const text = Buffer.from(body.replace(/\r\n/g, ''), 'base64').toString('utf8');
      assert.match(text, /东湖市人民医院 于 2026-01-02 09:00 为您开具了医疗收费电子票据/);
      assert.match(text, /金额：99\.50 元/);
    });

    test('SMTP down: retries, then dead (visible), nothing lost: resend from the console arrives', async () => {
      const dave = person();
      const live = svc.providers.email;
      const down = await startSmtp();
      await down.close(); // a port where nothing listens any more
      (svc.providers as Record<string, unknown>).email = new SmtpEmailProvider(down.url, 'test <t@yibao.local>');
      let emailId: string;
      try {
        const { messageId } = await send({
          type: 'ebill.issued',
          regionCode: REGION,
          to: { personId: dave.id },
          payload: {
            billCode: '99010001',
            billNumber: '0000000043',
            payee: '东湖市人民医院',
            amount: 100,
            issuedAt: '2026-01-02T01:00:00Z',
          },
        });
        await flush(p);
        const email = (await deliveries(messageId)).find((d) => d.channel === 'email')!;
        assert.equal(email.status, 'dead');
        assert.match(email.reason!, /已重试 5 次仍失败/);
        emailId = email.id;
      } finally {
        await svc.providers.email.close?.();
        (svc.providers as Record<string, unknown>).email = live;
      }
      const log = await p.app.inject({ url: '/api/message/deliveries?status=dead&channel=email', headers: admin });
      assert.equal(log.statusCode, 200);
      assert.ok(log.json().items.some((d: { id: string }) => d.id === emailId));
      const before = smtp.mails.length;
      const res = await p.app.inject({
        method: 'POST',
        url: `/api/message/deliveries/${emailId}/resend`,
        headers: admin,
      });
      assert.equal(res.statusCode, 200, res.body);
      await flush(p);
      assert.ok(smtp.mails.slice(before).some((m) => m.to.includes(dave.email!)));
      const again = await p.app.inject({
        method: 'POST',
        url: `/api/message/deliveries/${res.json().deliveryId}/resend`,
        headers: admin,
      });
      assert.equal(again.statusCode, 409);
      assert.equal(again.json().code, 'MESSAGE_DELIVERY_NOT_FAILED');
    });

    test('templates: unknown variables refused (400), versions, preview with sample data, the new version is used', async () => {
      const bad = await p.app.inject({
        method: 'POST',
        url: '/api/message/types/payment.completed/templates',
        headers: admin,
        payload: { channel: 'sms', body: '您支付了{{total|yuan}}元，{{patientName}}' },
      });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().code, 'MESSAGE_TEMPLATE_UNKNOWN_VARIABLE');
      assert.match(bad.json().detail, /patientName/);
      const badFilter = await p.app.inject({
        method: 'POST',
        url: '/api/message/types/payment.completed/templates',
        headers: admin,
        payload: { channel: 'sms', body: '{{total|dollars}}' },
      });
      assert.equal(badFilter.json().code, 'MESSAGE_TEMPLATE_UNKNOWN_VARIABLE');
      const preview = await p.app.inject({
        method: 'POST',
        url: '/api/message/types/payment.completed/preview',
        headers: admin,
        payload: { channel: 'sms', body: '测试：订单{{orderId}}共{{total|yuan}}元' },
      });
      assert.equal(preview.statusCode, 200);
      assert.equal(preview.json().body, '测试：订单PO202601010001共128.00元');
      for (const body of ['v1：{{orderId}}', 'v2：订单{{orderId}}退现金{{cashRefund|yuan}}元']) {
        const r = await p.app.inject({
          method: 'POST',
          url: '/api/message/types/payment.refunded/templates',
          headers: admin,
          payload: { channel: 'sms', body },
        });
        assert.equal(r.statusCode, 201, r.body);
      }
      const versions = (
        await p.app.inject({ url: '/api/message/types/payment.refunded/templates', headers: admin })
      ).json() as Array<{ channel: string; versions: Array<{ version: number }> }>;
      assert.deepEqual(
        versions.find((v) => v.channel === 'sms')!.versions.map((v) => v.version),
        [2, 1],
      );
      const erin = person();
      const { messageId } = await send({
        type: 'payment.refunded',
        regionCode: REGION,
        to: { personId: erin.id },
        payload: refund('PO-3'),
      });
      await flush(p);
      const log = await svc.deliveryLog(REGION, { type: 'payment.refunded', channel: 'sms', page: 1, size: 50 });
      const d = log.items.find((x) => (x as { messageId: string }).messageId === messageId) as {
        body: string;
        templateVersion: number;
      };
      assert.equal(d.templateVersion, 2);
      assert.equal(d.body, 'v2：订单PO-3退现金3.00元');
    });

    test('preferences: opting out of SMS for payments is honoured; mandatory security messages ignore opt-outs', async () => {
      const fay = person();
      const headers = await p.auth({ kind: 'person', subject: fay.id, regionCode: REGION });
      const put = await p.app.inject({
        method: 'PUT',
        url: '/api/message/preferences',
        headers,
        payload: {
          items: [
            { category: 'payment', channel: 'sms', enabled: false },
            { category: 'security', channel: 'sms', enabled: false },
            { category: 'security', channel: 'inbox', enabled: false },
          ],
        },
      });
      assert.equal(put.statusCode, 200, put.body);
      const paid = await send({
        type: 'payment.completed',
        regionCode: REGION,
        to: { personId: fay.id },
        payload: payment('PO-4'),
      });
      const login = await send({
        type: 'auth.new_device_login',
        regionCode: REGION,
        to: { personId: fay.id },
        payload: { device: 'Pixel 9', ip: '198.51.100.7', at: '2026-01-01T00:00:00Z' },
      });
      await flush(p);
      const sms = (await deliveries(paid.messageId)).find((d) => d.channel === 'sms')!;
      assert.equal(sms.status, 'skipped');
      assert.match(sms.reason!, /用户已关闭/);
      const security = await deliveries(login.messageId);
      assert.equal(security.find((d) => d.channel === 'inbox')!.status, 'delivered');
      assert.equal(security.find((d) => d.channel === 'sms')!.status, 'delivered');
      const bad = await p.app.inject({
        method: 'PUT',
        url: '/api/message/preferences',
        headers,
        payload: { items: [{ category: 'nope', channel: 'sms', enabled: false }] },
      });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().code, 'MESSAGE_CATEGORY_UNKNOWN');
    });

    test('bad input: unknown type, invalid payload, oversize payload, no recipient → 4xx with stable codes', async () => {
      const cases: Array<[Parameters<MessageService['send']>[1], number, string]> = [
        [
          { type: 'nope.nope', regionCode: REGION, to: { mobile: '13900000000' }, payload: {} },
          400,
          'MESSAGE_TYPE_UNKNOWN',
        ],
        [
          { type: 'payment.completed', regionCode: REGION, to: { personId: 'x' }, payload: { orderId: 1 } },
          400,
          'MESSAGE_PAYLOAD_INVALID',
        ],
        [
          { type: 'payment.completed', regionCode: REGION, to: {}, payload: payment('x') },
          400,
          'MESSAGE_RECIPIENT_REQUIRED',
        ],
        [
          { type: 'auth.otp', regionCode: REGION, to: { mobile: '123' }, payload: {} },
          400,
          'MESSAGE_RECIPIENT_INVALID',
        ],
        [
          {
            type: 'announcement',
            regionCode: REGION,
            to: { personId: 'x' },
            payload: { title: 't', body: 'x'.repeat(20_000) },
          },
          413,
          'MESSAGE_TOO_LARGE',
        ],
      ];
      for (const [input, status, code] of cases) {
        await assert.rejects(send(input), (err: { status: number; code: string }) => {
          assert.equal(err.status, status);
          assert.equal(err.code, code);
          return true;
        });
      }
    });

    test('unknown recipient and oversize rendering fail visibly in the delivery log', async () => {
      const ghost = randomUUID();
      const m = await send({
        type: 'payment.completed',
        regionCode: REGION,
        to: { personId: ghost },
        payload: payment('PO-5'),
      });
      const gus = person();
      const long = await send({
        type: 'auth.new_device_login',
        regionCode: REGION,
        to: { personId: gus.id },
        payload: { device: '设'.repeat(600), ip: '1.2.3.4', at: '2026-01-01T00:00:00Z' },
      });
      await flush(p);
      const ghostDeliveries = await deliveries(m.messageId);
      assert.ok(ghostDeliveries.length > 0);
      for (const d of ghostDeliveries) {
        assert.equal(d.status, 'failed');
        assert.match(d.reason!, /收件人不存在/);
      }
      assert.equal((await svc.messageStatus(REGION, m.messageId)).status, 'failed');
      const sms = (await deliveries(long.messageId)).find((d) => d.channel === 'sms')!;
      assert.equal(sms.status, 'failed');
      assert.match(sms.reason!, /内容超长/);
      const log = await p.app.inject({ url: '/api/message/deliveries?status=failed', headers: admin });
      const ids = log.json().items.map((d: { id: string }) => d.id);
      assert.ok(ids.includes(sms.id) && ids.includes(ghostDeliveries[0].id));
    });

    test('a disabled channel: the delivery fails with the reason (and the OTP is not sent)', async () => {
      const off = await p.app.inject({
        method: 'PUT',
        url: '/api/message/channels/sms',
        headers: admin,
        payload: { enabled: false },
      });
      assert.equal(off.statusCode, 200, off.body);
      try {
        const { messageId } = await send({
          type: 'auth.otp',
          regionCode: REGION,
          to: { mobile: '13911112222' },
          payload: { code: '123456', purpose: 'login', purposeText: '登录', minutes: 5 },
        });
        await flush(p);
        const [d] = await deliveries(messageId);
        assert.equal(d.status, 'failed');
        assert.match(d.reason!, /短信渠道已停用/);
      } finally {
        await svc.setChannel(REGION, 'sms', { enabled: true }, 'test');
      }
    });

    test('de-duplication window: the same message twice (also concurrently) is sent once', async () => {
      const hal = person();
      const input = {
        type: 'payment.completed',
        regionCode: REGION,
        to: { personId: hal.id },
        payload: payment('PO-6'),
        dedupeKey: 'PO-6',
      };
      const results = await Promise.all([send(input), send(input), send(input)]);
      assert.equal(new Set(results.map((r) => r.messageId)).size, 1);
      assert.equal(results.filter((r) => !r.deduplicated).length, 1);
      const otp = {
        type: 'auth.otp',
        regionCode: REGION,
        to: { mobile: '13933334444' },
        payload: { code: '111111', purpose: 'login', minutes: 5 },
      };
      const a = await send(otp);
      const b = await send(otp);
      assert.notEqual(a.messageId, b.messageId, 'verification codes have no de-duplication window');
    });

    test('per-user and per-channel rate limits', async () => {
      const ivy = person();
      await svc.saveRule(
        REGION,
        {
          typeCode: 'payment.completed',
          always: ['inbox'],
          fallback: ['wechat', 'sms'],
          respectQuietHours: true,
          dedupeSeconds: 300,
          userLimitPerHour: 2,
          enabled: true,
        },
        'test',
      );
      try {
        const ids = [];
        for (const o of ['R-1', 'R-2', 'R-3']) {
          ids.push(
            (
              await send({
                type: 'payment.completed',
                regionCode: REGION,
                to: { personId: ivy.id },
                payload: payment(o),
              })
            ).messageId,
          );
          await flush(p);
        }
        const statuses = await Promise.all(ids.map((id) => svc.messageStatus(REGION, id)));
        assert.deepEqual(
          statuses.map((s) => s.status),
          ['dispatched', 'dispatched', 'failed'],
        );
        assert.match(statuses[2].reason!, /频率限制/);
      } finally {
        await p.ctx.db.q(
          sql`delete from message_rule where region_code = ${REGION} and type_code = 'payment.completed'`,
        );
      }
      await svc.setChannel(REGION, 'sms', { ratePerMinute: 1 }, 'test');
      try {
        await p.ctx.db.q(
          sql`update message_delivery set slot_at = now() - interval '2 minutes' where region_code = ${REGION}`,
        );
        const a = await send({
          type: 'auth.otp',
          regionCode: REGION,
          to: { mobile: '13955550001' },
          payload: { code: '222222', purpose: 'login', minutes: 5 },
        });
        const b = await send({
          type: 'auth.otp',
          regionCode: REGION,
          to: { mobile: '13955550002' },
          payload: { code: '333333', purpose: 'login', minutes: 5 },
        });
        await p.ctx.jobs.drain();
        const da = (await deliveries(a.messageId))[0];
        const dbb = (await deliveries(b.messageId))[0];
        assert.equal([da, dbb].filter((d) => d.status === 'sent').length, 1);
        const waiting = [da, dbb].find((d) => d.status === 'queued')!;
        assert.match(waiting.reason!, /渠道限流/);
        assert.equal(waiting.attempts, 0, 'throttling is not a failed attempt');
      } finally {
        await svc.setChannel(REGION, 'sms', { ratePerMinute: 600 }, 'test');
        await flush(p);
      }
    });

    test('quiet hours defer non-urgent SMS to their end; urgent codes go at once', async () => {
      const h = (new Date().getUTCHours() + 8) % 24;
      await svc.saveSettings(REGION, { quietStart: h, quietEnd: (h + 2) % 24 }, 'test');
      try {
        const jo = person();
        const { messageId } = await send({
          type: 'payment.completed',
          regionCode: REGION,
          to: { personId: jo.id },
          payload: payment('PO-7'),
        });
        const otp = await send({
          type: 'auth.otp',
          regionCode: REGION,
          to: { mobile: '13966660000' },
          payload: { code: '444444', purpose: 'login', minutes: 5 },
        });
        await p.ctx.jobs.drain();
        const ds = await deliveries(messageId);
        assert.equal(ds.find((d) => d.channel === 'inbox')!.status, 'delivered', 'the inbox is not disturbing');
        const sms = ds.find((d) => d.channel === 'sms')!;
        assert.equal(sms.status, 'queued');
        assert.match(sms.reason!, /免打扰/);
        const [job] = await p.ctx.db.q<{ run_at: string }>(sql`select run_at from job where queue = 'message.deliver'
          and payload->>'deliveryId' = ${sms.id}`);
        const wait = new Date(job.run_at).getTime() - Date.now();
        assert.ok(wait > 60 * 60_000 && wait <= 2 * 3600_000, `deferred to the end of quiet hours (${wait} ms)`);
        assert.equal((await deliveries(otp.messageId))[0].status, 'sent');
      } finally {
        await svc.saveSettings(REGION, { quietStart: 0, quietEnd: 0 }, 'test');
        await flush(p);
      }
    });

    test('inbox API: list, unread count, mark read, delete; another person cannot touch it', async () => {
      const kim = person();
      await send({
        type: 'announcement',
        regionCode: REGION,
        to: { personId: kim.id },
        payload: { title: '通知一', body: '正文一' },
      });
      await send({
        type: 'announcement',
        regionCode: REGION,
        to: { personId: kim.id },
        payload: { title: '通知二', body: '正文二' },
      });
      await flush(p);
      const headers = await p.auth({ kind: 'person', subject: kim.id, regionCode: REGION });
      const list = (await p.app.inject({ url: '/api/message/inbox', headers })).json();
      assert.equal(list.total, 2);
      assert.equal(list.unread, 2);
      const [first, second] = list.items as Array<{ id: string }>;
      const other = await p.auth({ kind: 'person', subject: randomUUID(), regionCode: REGION });
      assert.equal(
        (await p.app.inject({ method: 'POST', url: `/api/message/inbox/${first.id}/read`, headers: other })).statusCode,
        404,
      );
      assert.equal(
        (await p.app.inject({ method: 'POST', url: `/api/message/inbox/${first.id}/read`, headers })).statusCode,
        200,
      );
      assert.equal((await p.app.inject({ url: '/api/message/inbox/unread-count', headers })).json().unread, 1);
      assert.equal(
        (await p.app.inject({ method: 'DELETE', url: `/api/message/inbox/${second.id}`, headers })).statusCode,
        204,
      );
      const after = (await p.app.inject({ url: '/api/message/inbox', headers })).json();
      assert.equal(after.total, 1);
      assert.equal(after.unread, 0);
      const staff = await p.app.inject({ url: '/api/message/types', headers });
      assert.equal(staff.statusCode, 403);
    });

    test("broadcast: one announcement fans out to the region's inboxes (opt-outs honoured) and shows in the hall", async () => {
      const people = Array.from({ length: 30 }, () => person());
      await svc.registerRecipients(
        p.ctx.db,
        REGION,
        people.map((x) => x.id),
      );
      await svc.registerRecipients(p.ctx.db, '980100', [randomUUID()]);
      await svc.setPreferences(REGION, people[0].id, [{ category: 'announcement', channel: 'inbox', enabled: false }]);
      const [{ n: before }] = await p.ctx.db.q<{ n: number }>(
        sql`select count(*)::int as n from message_recipient where region_code = ${REGION} and unit_id = ''`,
      );
      const res = await p.app.inject({
        method: 'POST',
        url: '/api/message/broadcasts',
        headers: admin,
        payload: {
          title: '医保年度清算通知',
          body: '请于月底前完成年度清算。',
          hall: 'personal',
          audience: { kind: 'region_persons' },
          toInbox: true,
        },
      });
      assert.equal(res.statusCode, 201, res.body);
      await flush(p);
      const [a] = await p.ctx.db.q<{ fanout_count: number; status: string }>(sql`select fanout_count, status
        from message_announcement where region_code = ${REGION} and id = ${res.json().id}`);
      assert.equal(a.status, 'published');
      assert.equal(a.fanout_count, before - 1);
      assert.equal(
        (await svc.inbox(REGION, people[0].id, { page: 1, size: 50 })).items.filter(
          (i) => (i as { title: string }).title === '医保年度清算通知',
        ).length,
        0,
      );
      assert.equal((await svc.unreadCount(REGION, people[1].id)) >= 1, true);
      const hall = await p.app.inject({
        url: '/api/message/announcements?hall=personal',
        headers: { 'x-region-code': REGION },
      });
      assert.ok(hall.json().some((x: { title: string }) => x.title === '医保年度清算通知'));
      const other = await p.app.inject({
        url: '/api/message/announcements?hall=personal',
        headers: { 'x-region-code': '980100' },
      });
      assert.ok(!other.json().some((x: { title: string }) => x.title === '医保年度清算通知'), 'targeted by region');
      const later = await p.app.inject({
        method: 'POST',
        url: '/api/message/broadcasts',
        headers: admin,
        payload: {
          title: '定时公告',
          body: '明天发布',
          hall: 'all',
          audience: { kind: 'list', personIds: [people[2].id] },
          toInbox: true,
          publishAt: new Date(Date.now() + 86400_000).toISOString(),
        },
      });
      assert.equal(later.statusCode, 201);
      await p.ctx.jobs.drain();
      const [s] = await p.ctx.db.q<{ status: string }>(
        sql`select status from message_announcement where id = ${later.json().id}`,
      );
      assert.equal(s.status, 'scheduled', 'a scheduled announcement waits for its time');
      const w = await p.app.inject({
        method: 'POST',
        url: `/api/message/broadcasts/${res.json().id}/withdraw`,
        headers: admin,
      });
      assert.equal(w.statusCode, 200);
      assert.equal(
        (await svc.inbox(REGION, people[1].id, { page: 1, size: 50 })).items.filter(
          (i) => (i as { title: string }).title === '医保年度清算通知',
        ).length,
        0,
      );
    });

    test("broadcast to a unit's staff reaches its current agents only", async () => {
      const [a1, a2, gone] = [person(), person(), person()];
      directory.addAgent(REGION, 'unit-77', a1.id);
      directory.addAgent(REGION, 'unit-77', a2.id);
      directory.addAgent(REGION, 'unit-77', gone.id, false);
      const res = await p.app.inject({
        method: 'POST',
        url: '/api/message/broadcasts',
        headers: admin,
        payload: {
          title: '单位缴费提醒',
          body: '请于本月25日前完成缴费申报。',
          hall: 'unit',
          audience: { kind: 'unit_staff', unitId: 'unit-77' },
          toInbox: true,
        },
      });
      assert.equal(res.statusCode, 201, res.body);
      await flush(p);
      const titles = async (id: string) =>
        (await svc.inbox(REGION, id, { page: 1, size: 20 })).items.map((i) => (i as { title: string }).title);
      assert.ok((await titles(a1.id)).includes('单位缴费提醒'));
      assert.ok((await titles(a2.id)).includes('单位缴费提醒'));
      assert.ok(!(await titles(gone.id)).includes('单位缴费提醒'));
    });

    test('console: types, rules validation, stats by channel, sandbox outbox, permission needed', async () => {
      const types = await p.app.inject({ url: '/api/message/types', headers: admin });
      assert.equal(types.statusCode, 200);
      const codes = types.json().map((t: { code: string }) => t.code);
      for (const c of ['auth.otp', 'payment.completed', 'payment.refunded', 'ebill.issued', 'announcement'])
        assert.ok(codes.includes(c));
      const mandatoryOff = await p.app.inject({
        method: 'PUT',
        url: '/api/message/types/auth.otp/rule',
        headers: admin,
        payload: {
          always: [],
          fallback: ['sms'],
          respectQuietHours: false,
          dedupeSeconds: 0,
          userLimitPerHour: 10,
          enabled: false,
        },
      });
      assert.equal(mandatoryOff.json().code, 'MESSAGE_RULE_MANDATORY');
      const stats = (await p.app.inject({ url: '/api/message/stats?days=7', headers: admin })).json() as Array<{
        channel: string;
        total: number;
        failed: number;
        failureRate: number;
      }>;
      const sms = stats.filter((s) => s.channel === 'sms');
      assert.ok(sms.length > 0 && sms.some((s) => s.failed > 0 && s.failureRate > 0 && s.failureRate < 1));
      const [{ total, failed }] = await p.ctx.db.q<{ total: number; failed: number }>(sql`select count(*)::int as total,
        count(*) filter (where status in ('failed','dead'))::int as failed from message_delivery
        where region_code = ${REGION} and channel = 'sms' and status <> 'skipped'`);
      assert.equal(
        sms.reduce((a, s) => a + s.total, 0),
        total,
      );
      assert.equal(
        sms.reduce((a, s) => a + s.failed, 0),
        failed,
      );
      const outbox = (await p.app.inject({ url: '/api/message/sandbox?channel=sms', headers: admin })).json();
      assert.ok(outbox.length > 0);
      const viewer = await p.auth({ kind: 'staff', subject: 'msg-viewer', regionCode: REGION });
      const forbidden = await p.app.inject({
        method: 'PUT',
        url: '/api/message/channels/sms',
        headers: viewer,
        payload: { enabled: false },
      });
      assert.equal(forbidden.statusCode, 403);
      const notSandbox = await p.app.inject({
        method: 'PUT',
        url: '/api/message/channels/email',
        headers: admin,
        payload: { sandboxFail: true },
      });
      assert.equal(notSandbox.json().code, 'MESSAGE_CHANNEL_NOT_SANDBOX');
    });
  },
  { centers: [directory.center, messageCenter], env: { SMTP_URL: smtp.url } },
);
