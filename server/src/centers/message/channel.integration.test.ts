import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, test } from 'node:test';
import { type ChannelError, createChannelClient } from '@yibao/sdk';
import { service } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { forEachPlatform } from '../../testing/platform.ts';
import { authCenter } from '../auth/index.ts';
import { messageCenter } from './index.ts';
import { personDirectory } from './testing.ts';

const REGION = '990100';
const directory = personDirectory();
const bill = {
  billCode: '99010001',
  billNumber: '0000000099',
  payee: '东湖市人民医院',
  amount: 2500,
  issuedAt: '2026-01-02T01:00:00Z',
};

forEachPlatform(
  'message channel API (signed envelopes)',
  (get) => {
    let baseUrl: string;
    const clients: Record<string, ReturnType<typeof createChannelClient>> = {};
    before(async () => {
      baseUrl = `${await get().app.listen({ port: 0, host: '127.0.0.1' })}/api/`;
      for (const [name, scopes] of [
        ['his', ['message']],
        ['other', ['message']],
        ['noscope', ['payment']],
      ] as const) {
        const reg = await service(get().ctx, 'auth').registerChannel({
          regionCode: REGION,
          name: `渠道 ${name}`,
          type: 'institution',
          institutionCode: 'H99010000001',
          scopes: [...scopes],
        });
        clients[name] = createChannelClient({
          baseUrl,
          appId: reg.appId,
          privateKeyHex: reg.privateKeyHex,
          appSecret: reg.appSecret,
        });
      }
    });

    const rejects = async (p: Promise<unknown>, status: number, code: string) =>
      assert.rejects(p, (err: ChannelError) => {
        assert.equal(err.status, status, err.message);
        assert.equal(err.code, code);
        return true;
      });

    test('a channel sends a typed message and queries its delivery status', async () => {
      const personId = randomUUID();
      directory.add({ id: personId, regionCode: REGION, name: '王五', email: 'wangwu@example.test' });
      const sent = await clients.his.call<{ messageId: string; deduplicated: boolean }>(
        'message/channel/send',
        'message.send',
        { type: 'ebill.issued', to: { personId }, payload: bill },
        { idempotencyKey: randomUUID() },
      );
      assert.equal(sent.deduplicated, false);
      await get().ctx.jobs.drain();
      const status = await clients.his.call<{ status: string; deliveries: Array<{ channel: string; status: string }> }>(
        'message/channel/status',
        'message.status',
        { messageId: sent.messageId },
      );
      assert.equal(status.status, 'dispatched');
      assert.equal(status.deliveries.find((d) => d.channel === 'inbox')?.status, 'delivered');
      // Another channel cannot read it.
      await rejects(
        clients.other.call('message/channel/status', 'message.status', { messageId: sent.messageId }),
        404,
        'MESSAGE_NOT_FOUND',
      );
    });

    test("the auth center's SMS codes go through the message center (auth.otp → sandbox SMS) and verify", async () => {
      const p = get();
      const auth = service(p.ctx, 'auth');
      const mobile = '13987654321';
      const sent = await auth.sendOtp({ regionCode: REGION, mobile, purpose: 'login' });
      assert.equal(sent.sandbox, false, "not the auth center's own fallback outbox");
      await p.ctx.jobs.drain();
      const rows = await p.ctx.db.q<{ content: string; address: string }>(sql`select o.content, o.address
        from message_sandbox_outbox o join message_delivery d on d.region_code = o.region_code and d.id = o.delivery_id
        where o.region_code = ${REGION} and d.type_code = 'auth.otp'`);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].address, '139****4321');
      const code = /验证码为(\d{6})/.exec(rows[0].content)?.[1];
      assert.ok(code, rows[0].content);
      assert.match(rows[0].content, /登录验证码/);
      assert.equal(await auth.verifyOtp({ regionCode: REGION, mobile, purpose: 'login', code }), true);
    });

    test('bad input through the channel: unknown person 404, security types 403, bad data 400, missing scope 403', async () => {
      await rejects(
        clients.his.call('message/channel/send', 'message.send', {
          type: 'ebill.issued',
          to: { personId: randomUUID() },
          payload: bill,
        }),
        404,
        'MESSAGE_RECIPIENT_UNKNOWN',
      );
      await rejects(
        clients.his.call('message/channel/send', 'message.send', {
          type: 'auth.otp',
          to: { mobile: '13900001234' },
          payload: { code: '123456', purpose: 'login', minutes: 5 },
        }),
        403,
        'MESSAGE_TYPE_FORBIDDEN',
      );
      await rejects(
        clients.his.call('message/channel/send', 'message.send', {
          type: 'ebill.issued',
          to: { mobile: '13900001234' },
          payload: { amount: 'x' },
        }),
        400,
        'MESSAGE_PAYLOAD_INVALID',
      );
      await rejects(
        clients.his.call('message/channel/send', 'message.send', {
          type: 'ebill.issued',
          to: {},
          payload: bill,
          extra: 1,
        }),
        400,
        'VALIDATION_FAILED',
      );
      await assert.rejects(
        clients.noscope.call('message/channel/send', 'message.send', {
          type: 'ebill.issued',
          to: { mobile: '13900001234' },
          payload: bill,
        }),
        (err: ChannelError) => err.status === 403,
      );
    });
  },
  { centers: [directory.center, authCenter, messageCenter] },
);
