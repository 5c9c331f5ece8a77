import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, it } from 'node:test';
import { type ChannelError, createChannelClient } from '@yibao/sdk';
import { sm3 as sm3V2, sm2 as smV2 } from 'sm-crypto-v2';
import { z } from 'zod';
import type { Center } from '../../platform/center.ts';
import { service } from '../../platform/context.ts';
import { buildSignString, signEnvelope, sm2Sign, sm2Verify } from '../../platform/crypto/index.ts';
import { sql } from '../../platform/db/index.ts';
import { forEachPlatform } from '../../testing/platform.ts';
import { channelEnvelopeSchema, nonceRecorder, parseChannelData } from './channel/hook.ts';
import { authCenter } from './index.ts';

/** A center that uses the hook the way every channel route does. */
let effects = 0;
const probeCenter: Center = {
  name: 'probe',
  description: 'test',
  routes(app, ctx) {
    app.post(
      '/api/probe/channel/pay',
      {
        schema: { body: channelEnvelopeSchema },
        preHandler: service(ctx, 'auth').channelAuth({ scope: 'payment' }),
        config: { idempotent: true },
      },
      async (req) => {
        const data = parseChannelData(
          z.strictObject({ amount: z.number().int().positive(), orderNo: z.string() }),
          req.body,
        );
        effects++;
        return { principal: req.principal, channel: req.channel, data, effect: effects };
      },
    );
  },
};

forEachPlatform(
  'auth: channel signature hook',
  (get) => {
    let baseUrl: string;
    let reg: { appId: string; appSecret: string; privateKeyHex: string; publicKeyHex: string };

    before(async () => {
      const address = await get().app.listen({ port: 0, host: '127.0.0.1' });
      baseUrl = `${address}/api/`;
      reg = await service(get().ctx, 'auth').registerChannel({
        regionCode: '990100',
        name: '东湖市第一人民医院 HIS',
        type: 'institution',
        institutionCode: 'H99010000001',
        scopes: ['payment'],
      });
    });

    const client = (opts: { encrypt?: boolean; appId?: string; privateKeyHex?: string } = {}) =>
      createChannelClient({
        baseUrl,
        appId: opts.appId ?? reg.appId,
        privateKeyHex: opts.privateKeyHex ?? reg.privateKeyHex,
        appSecret: reg.appSecret,
        encrypt: opts.encrypt,
      });

    it('accepts a signed call (plain and SM4) and sets the channel principal', async () => {
      for (const encrypt of [false, true]) {
        const res = await client({ encrypt }).call<{
          principal: { kind: string; subject: string; regionCode: string; scopes: string[] };
          channel: { institutionCode: string; transType: string };
          data: { amount: number };
        }>('probe/channel/pay', '6202', { amount: 1234, orderNo: `A${encrypt}` });
        assert.equal(res.principal.kind, 'channel');
        assert.equal(res.principal.subject, reg.appId);
        assert.equal(res.principal.regionCode, '990100');
        assert.deepEqual(res.principal.scopes, ['payment']);
        assert.equal(res.channel.institutionCode, 'H99010000001');
        assert.equal(res.channel.transType, '6202');
        assert.equal(res.data.amount, 1234);
      }
    });

    it('names invalid business fields under data.', async () => {
      await assert.rejects(
        client().call('probe/channel/pay', '6202', { amount: -1, orderNo: 'x' }),
        (e: ChannelError) => {
          assert.equal(e.status, 400);
          assert.equal(e.code, 'VALIDATION_FAILED');
          const errors = (e.body as { errors: Array<{ field: string }> }).errors;
          assert.ok(errors.some((x) => x.field === 'data.amount'));
          return true;
        },
      );
    });

    const post = (body: unknown) =>
      fetch(`${baseUrl}probe/channel/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code: string } }));
    const sign = (over: Partial<Parameters<typeof signEnvelope>[0]> = {}) =>
      signEnvelope({
        appId: reg.appId,
        transType: '6202',
        data: { amount: 1, orderNo: 'T' },
        privateKey: reg.privateKeyHex,
        appSecret: reg.appSecret,
        ...over,
      });

    it('refuses tampered, replayed, stale, unknown, out-of-scope and disabled', async () => {
      const tampered = { ...sign(), data: { amount: 100000, orderNo: 'T' } };
      assert.equal((await post(tampered)).body.code, 'SIGNATURE_INVALID');

      const once = sign();
      assert.equal((await post(once)).status, 200);
      const again = await post(once);
      assert.equal(again.status, 401);
      assert.equal(again.body.code, 'CHANNEL_NONCE_REPLAYED');

      const stale = await post(sign({ now: Date.now() - 301_000 }));
      assert.equal(stale.body.code, 'TIMESTAMP_OUT_OF_WINDOW');
      const future = await post(sign({ now: Date.now() + 301_000 }));
      assert.equal(future.body.code, 'TIMESTAMP_OUT_OF_WINDOW');

      const unknown = await post(sign({ appId: 'ch990100ffffffffffff' }));
      assert.equal(unknown.status, 401);
      assert.equal(unknown.body.code, 'CHANNEL_UNKNOWN');

      const otherKey = smV2.generateKeyPairHex().privateKey;
      assert.equal((await post(sign({ privateKey: otherKey }))).body.code, 'SIGNATURE_INVALID');
      assert.equal((await post(sign({ appSecret: 'wrong' }))).body.code, 'SIGNATURE_INVALID');

      const auth = service(get().ctx, 'auth');
      const noScope = await auth.registerChannel({
        regionCode: '990100',
        name: '无支付权限',
        type: 'partner',
        scopes: ['evoucher'],
      });
      const denied = await post(
        signEnvelope({
          appId: noScope.appId,
          transType: '6202',
          data: { amount: 1, orderNo: 'T' },
          privateKey: noScope.privateKeyHex,
          appSecret: noScope.appSecret,
        }),
      );
      assert.equal(denied.status, 403);
      assert.equal(denied.body.code, 'CHANNEL_SCOPE_DENIED');

      await auth.channels.update('990100', noScope.appId, { status: 'disabled', scopes: ['payment'] });
      const disabled = await post(
        signEnvelope({
          appId: noScope.appId,
          transType: '6202',
          data: { amount: 1, orderNo: 'T' },
          privateKey: noScope.privateKeyHex,
          appSecret: noScope.appSecret,
        }),
      );
      assert.equal(disabled.body.code, 'CHANNEL_UNKNOWN');

      const extraField = await post({ ...sign(), extra: 1 });
      assert.equal(extraField.status, 400);
      assert.equal(extraField.body.code, 'VALIDATION_FAILED');
    });

    it('concurrent requests: one envelope sent 12 times at once passes once; 40 distinct ones at once all pass', async () => {
      const once = sign();
      const replays = await Promise.all(Array.from({ length: 12 }, () => post(once)));
      assert.deepEqual(
        replays.map((r) => r.status).sort(),
        [200, ...Array<number>(11).fill(401)],
        'nonces recorded together in one statement must still refuse every replay',
      );
      assert.ok(replays.filter((r) => r.status === 401).every((r) => r.body.code === 'CHANNEL_NONCE_REPLAYED'));
      const distinct = await Promise.all(Array.from({ length: 40 }, () => post(sign())));
      assert.deepEqual(
        distinct.map((r) => r.status),
        Array<number>(40).fill(200),
      );
      // a nonce the database could not store, verified beside good envelopes: refused alone, the others pass
      const verifier = service(get().ctx, 'auth').verifier;
      const mixed = await Promise.allSettled(
        ['bad\u0000nonce', undefined, 'x'.repeat(65), undefined].map((nonce) =>
          verifier.verify(sign(nonce ? { nonce } : {}), { scope: 'payment' }),
        ),
      );
      assert.deepEqual(
        mixed.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code)),
        ['ENVELOPE_MALFORMED', 'ok', 'ENVELOPE_MALFORMED', 'ok'],
      );
      // the same nonce twice inside one batch: two look-ups in flight, so the three that follow leave together
      const nonces = nonceRecorder(get().ctx.db);
      const row = (nonce: string) => ({
        regionCode: '990100',
        appId: reg.appId,
        nonce,
        expiresAt: new Date().toISOString(),
      });
      const tag = randomUUID();
      const answers = await Promise.all(['a', 'b', 'c', 'c', 'c'].map((n) => nonces.load(row(`${tag}${n}`))));
      assert.deepEqual(answers, [true, true, true, false, false]);
    });

    it('a re-signed retry with the same Idempotency-Key replays the first answer; a different body is refused', async () => {
      const before = effects;
      const key = `idem-${Date.now()}`;
      const first = await client().call<{ effect: number }>(
        'probe/channel/pay',
        '6202',
        { amount: 5, orderNo: 'I1' },
        { idempotencyKey: key },
      );
      const retry = await client().call<{ effect: number }>(
        'probe/channel/pay',
        '6202',
        { amount: 5, orderNo: 'I1' },
        { idempotencyKey: key },
      );
      assert.equal(retry.effect, first.effect);
      assert.equal(effects, before + 1);
      await assert.rejects(
        client().call('probe/channel/pay', '6202', { amount: 6, orderNo: 'I1' }, { idempotencyKey: key }),
        (e: ChannelError) => e.status === 422 && e.code === 'IDEMPOTENCY_KEY_REUSED',
      );
    });

    it('interop: an envelope signed with sm-crypto-v2 verifies on our hook; our signature verifies in sm-crypto-v2', async () => {
      const keys = smV2.generateKeyPairHex();
      const auth = service(get().ctx, 'auth');
      const ext = await auth.registerChannel({
        regionCode: '990100',
        name: '外部实现',
        type: 'partner',
        scopes: ['payment'],
        publicKeyHex: keys.publicKey,
      });
      assert.equal(ext.privateKeyHex, '');
      const unsigned = {
        appId: ext.appId,
        version: '1.0',
        timestamp: String(Date.now()),
        nonce: sm3V2(`${Math.random()}`).slice(0, 32),
        transType: '6202',
        signType: 'SM2' as const,
        data: { amount: 77, orderNo: 'X' },
      };
      const signString = buildSignString(unsigned, ext.appSecret);
      const derHex = smV2.doSignature(signString, keys.privateKey, { hash: true, der: true });
      const envelope = { ...unsigned, signData: Buffer.from(derHex, 'hex').toString('base64') };
      const res = await fetch(`${baseUrl}probe/channel/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(envelope),
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(((await res.json()) as { data: { amount: number } }).data.amount, 77);

      const ours = sm2Sign(signString, keys.privateKey, { format: 'der' });
      assert.ok(
        smV2.doVerifySignature(signString, Buffer.from(ours).toString('hex'), keys.publicKey, {
          hash: true,
          der: true,
        }),
      );
      assert.ok(sm2Verify(signString, Buffer.from(derHex, 'hex'), keys.publicKey));
    });

    it('console API: staff register (idempotent), edit, disable and reset secrets; every change is audited', async () => {
      const { app, ctx } = get();
      const staff = await get().auth({
        kind: 'staff',
        subject: '00000000-0000-4000-8000-0000000000aa',
        regionCode: '990100',
      });
      const denied = await app.inject({ method: 'GET', url: '/api/auth/channels', headers: staff });
      assert.equal(denied.statusCode, 403); // no RBAC grant yet
      ctx.permissions = { permissionsOf: async () => new Set(['auth:channel']) };
      const body = { name: '北湖药房 POS', type: 'institution', scopes: ['payment'], institutionCode: 'P99010000007' };
      const headers = { ...staff, 'idempotency-key': 'reg-channel-0001' };
      const first = await app.inject({ method: 'POST', url: '/api/auth/channels', headers, payload: body });
      assert.equal(first.statusCode, 201, first.body);
      const again = await app.inject({ method: 'POST', url: '/api/auth/channels', headers, payload: body });
      assert.equal(again.json().appId, first.json().appId, 'a retried registration does not create a second channel');
      const created = first.json() as { appId: string; appSecret: string; privateKeyHex: string };
      assert.match(created.privateKeyHex, /^[0-9a-f]{64}$/);

      const bad = await app.inject({
        method: 'POST',
        url: '/api/auth/channels',
        headers: staff,
        payload: { ...body, type: 'bank', extra: 1 },
      });
      assert.equal(bad.statusCode, 400);
      const badKey = await app.inject({
        method: 'POST',
        url: '/api/auth/channels',
        headers: staff,
        payload: { ...body, publicKeyHex: `04${'ab'.repeat(64)}` },
      });
      assert.equal(badKey.statusCode, 400);
      assert.equal(badKey.json().code, 'AUTH_CHANNEL_KEY_INVALID');

      const patched = await app.inject({
        method: 'PATCH',
        url: `/api/auth/channels/${created.appId}`,
        headers: staff,
        payload: { scopes: ['payment', 'ebill'], status: 'disabled' },
      });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.deepEqual(patched.json().scopes, ['payment', 'ebill']);
      assert.equal(patched.json().status, 'disabled');
      const reset = await app.inject({
        method: 'POST',
        url: `/api/auth/channels/${created.appId}/secret`,
        headers: staff,
      });
      assert.notEqual(reset.json().appSecret, created.appSecret);
      const list = await app.inject({ method: 'GET', url: '/api/auth/channels', headers: staff });
      assert.ok((list.json() as Array<{ appId: string }>).some((c) => c.appId === created.appId));
      const audited = await ctx.db.q<{ action: string }>(
        sql`select action from audit_event where target_id = ${created.appId} order by seq`,
      );
      assert.deepEqual(
        audited.map((a) => a.action),
        ['auth.channel.register', 'auth.channel.update', 'auth.channel.secret_reset'],
      );
    });

    it('the built-in ping route works for any active channel and nonces expire', async () => {
      const res = await client().call<{ appId: string; echo: string }>('auth/channel/ping', 'ping', { echo: '你好' });
      assert.equal(res.appId, reg.appId);
      assert.equal(res.echo, '你好');
      const ctx = get().ctx;
      await ctx.db.q(sql`update auth_channel_nonce set expires_at = now() - interval '1 second'`);
      assert.ok((await service(ctx, 'auth').verifier.purgeNonces()) > 0);
    });
  },
  { centers: [authCenter, probeCenter] },
);
