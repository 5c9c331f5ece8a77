import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { signEnvelope } from '@yibao/sdk';
import fc from 'fast-check';
import type { SandboxNationalPlatform } from '../../integration/national/port.ts';
import { sm2Verify } from '../../platform/crypto/index.ts';
import { sql } from '../../platform/db/index.ts';
import { forEachPlatform, type TestPlatform } from '../../testing/platform.ts';
import type { PaymentEvent } from '../payment/index.ts';
import { ebillCenter } from './index.ts';
import { NATIONAL_QUEUE, VERIFY_FAILURES_BEFORE_CAPTCHA } from './service.ts';

const REGION = '990100';
const INSTITUTION = 'H99010000001';

function settlement(over: Partial<PaymentEvent> = {}): PaymentEvent {
  const lines: PaymentEvent['lines'] = [
    { code: 'XN01BBA064B002010178765', name: '阿莫西林胶囊', itemClass: 'A', quantity: 2, amount: 3150 },
    { code: '003401000230600', name: '静脉输液', itemClass: 'B', quantity: 1, amount: 1200 },
    { code: 'C0202020010100504254', name: '一次性输液器', itemClass: 'C', quantity: 1, amount: 650 },
  ];
  return {
    regionCode: REGION,
    orderId: `PO${randomUUID().slice(0, 12)}`,
    personId: 'person-1',
    institutionCode: INSTITUTION,
    total: 5000,
    fundPayment: 3000,
    accountPayment: 1200,
    cashPayment: 800,
    lines,
    settledAt: new Date().toISOString(),
    ...over,
  };
}

async function publish(p: TestPlatform, event: 'payment.completed' | 'payment.refunded', payload: PaymentEvent) {
  await p.ctx.db.tx((tx) =>
    p.ctx.events.publish(tx, event, payload, {
      regionCode: payload.regionCode,
      dedupeKey: payload.refundId ? `${payload.refundId}:refunded` : `${payload.orderId}:completed`,
    }),
  );
  await p.ctx.jobs.drain();
}

const svc = (p: TestPlatform) => p.ctx.services.ebill!;
const staffPerms = new Map<string, Set<string>>([
  ['clerk', new Set(['ebill:read'])],
  ['admin', new Set(['ebill:read', 'ebill:manage'])],
]);

/** Reads the arithmetic challenge out of the SVG (its glyphs, in order) and solves it, like a person would. */
function solveCaptcha(svg: string): string {
  const text = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]).join('');
  const m = /(\d+)([+−])(\d+)=\?/.exec(text.replaceAll(' ', ''));
  assert.ok(m, `captcha text ${text}`);
  return String(m[2] === '+' ? Number(m[1]) + Number(m[3]) : Number(m[1]) - Number(m[3]));
}

forEachPlatform(
  'e-bill center',
  (get, kind) => {
    test('a completed settlement gets one signed bill; the person lists, reads and downloads it', async () => {
      const p = get();
      p.ctx.permissions = { permissionsOf: async (id) => staffPerms.get(id) ?? new Set() };
      const ev = settlement();
      await publish(p, 'payment.completed', ev);
      await publish(p, 'payment.completed', ev); // re-delivery: still one bill
      const headers = await p.auth({ kind: 'person', subject: 'person-1', regionCode: REGION });
      const list = await p.app.inject({ url: '/api/ebill/my/bills', headers });
      assert.equal(list.statusCode, 200);
      const mine = list.json().items.filter((b: { orderId: string }) => b.orderId === ev.orderId);
      assert.equal(mine.length, 1);
      const bill = mine[0];
      assert.match(bill.billCode, /^\d{8}$/);
      assert.match(bill.billNumber, /^\d{10}$/);
      assert.match(bill.checkCode, /^[0-9A-Z]{6}$/);
      assert.equal(bill.total, 5000);
      assert.equal(bill.fundPayment + bill.accountPayment + bill.cashPayment, bill.total);
      assert.equal(bill.items.length, 3);
      assert.equal(bill.issuer.sandbox, true);

      const detail = await p.app.inject({ url: `/api/ebill/my/bills/${bill.id}`, headers });
      assert.equal(detail.statusCode, 200);
      const d = detail.json();
      // The signature is SM2 over the canonical form, with the issuer's key.
      const row = await p.ctx.db.one<{ canonical: string; public_key: string }>(sql`select b.canonical, k.public_key
        from ebill_bill b join ebill_issuer_key k on k.region_code = b.region_code and k.key_id = b.key_id
        where b.region_code = ${REGION} and b.id = ${bill.id}`);
      assert.ok(sm2Verify(row!.canonical, Buffer.from(d.signature, 'base64'), row!.public_key));
      assert.ok(JSON.parse(row!.canonical).items.length === 3);
      assert.match(d.qr, /\/public\/ebill\/verify\?qr=/);

      const json = await p.app.inject({ url: `/api/ebill/my/bills/${bill.id}/json`, headers });
      assert.equal(json.json().format, 'yibao.ebill/1');
      assert.equal(json.json().amounts.cashPayment, 800);

      const pdf = await p.app.inject({ url: `/api/ebill/my/bills/${bill.id}/pdf`, headers });
      assert.equal(pdf.statusCode, 200);
      assert.equal(pdf.headers['content-type'], 'application/pdf');
      const bytes = pdf.rawPayload;
      assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
      const text = bytes.toString('latin1');
      assert.match(text, /\/FontFile[23]?/, 'the CJK font is embedded');
      assert.match(text, /\/BaseFont \/[A-Z]{6}\+/, 'as a subset');
      assert.ok(bytes.length < 300_000, `PDF is ${bytes.length} bytes`);

      // Someone else's bill is not found.
      const other = await p.auth({ kind: 'person', subject: 'person-2', regionCode: REGION });
      const denied = await p.app.inject({ url: `/api/ebill/my/bills/${bill.id}`, headers: other });
      assert.equal(denied.statusCode, 404);
      assert.equal(denied.json().code, 'EBILL_NOT_FOUND');
    });

    test('bill numbers are gap-free under concurrency, rollbacks and failures (property)', async () => {
      const p = get();
      const service = svc(p);
      // Concurrent issuing (real parallel transactions on PostgreSQL).
      const bills = await Promise.all(
        Array.from({ length: 24 }, () => service.issueBlue(settlement({ personId: 'p-c' }))),
      );
      // Fault injection: issue inside a transaction that then aborts, and events whose split does not add up.
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom('ok', 'abort', 'bad'), { minLength: 1, maxLength: 6 }),
          async (plan) => {
            await Promise.all(
              plan.map(async (step) => {
                if (step === 'ok') return service.issueBlue(settlement({ personId: 'p-c' }));
                if (step === 'bad')
                  return service.issueBlue(settlement({ cashPayment: 801 })).then(
                    () => assert.fail('split mismatch issued'),
                    (e) => assert.equal(e.code, 'EBILL_SPLIT_MISMATCH'),
                  );
                return p.ctx.db
                  .tx(async (tx) => {
                    await service.issuer.issue(tx, {
                      ...settlement(),
                      kind: 'blue',
                      payerName: '测试',
                      payeeName: '测试医院',
                      items: settlement().lines,
                    });
                    throw new Error('injected crash after numbering');
                  })
                  .catch((e) => assert.match(String(e), /injected crash/));
              }),
            );
          },
        ),
        { numRuns: kind === 'pglite' ? 8 : 6 },
      );
      const rows = await p.ctx.db.q<{ bill_code: string; bill_number: string }>(sql`select bill_code, bill_number
        from ebill_bill where region_code = ${REGION} order by bill_code, bill_number`);
      const numbers = rows.map((r) => Number(r.bill_number));
      assert.ok(bills.length === 24);
      assert.equal(new Set(rows.map((r) => r.bill_code)).size, 1);
      for (const [i, n] of numbers.entries()) assert.equal(n, i + 1, `number ${i + 1} is missing (gap)`);
      const [counter] = await p.ctx.db.q<{ next_number: number }>(sql`select next_number from ebill_issuer_counter
        where region_code = ${REGION}`);
      assert.equal(Number(counter.next_number), numbers.length + 1);
    });

    test('refunds give red bills (partial, then the rest); verification says reversed at the end', async () => {
      const p = get();
      const ev = settlement({ personId: 'person-r' });
      await publish(p, 'payment.completed', ev);
      const refund = (refundId: string, fund: number, account: number, cash: number) => ({
        ...ev,
        refundId,
        fundRefund: fund,
        accountRefund: account,
        cashRefund: cash,
        refundedAt: new Date().toISOString(),
      });
      await publish(p, 'payment.refunded', refund('RF1', 1000, 0, 300));
      const blue1 = await svc(p).byOrder(p.ctx.db, REGION, ev.orderId, 'blue');
      assert.equal(blue1?.status, 'partially_reversed');
      assert.equal(blue1?.refundedTotal, 1300);
      const red1 = (await svc(p).byRefund(p.ctx.db, REGION, ev.orderId, 'RF1'))!;
      assert.equal(red1.total, 1300);
      assert.equal(
        red1.items.reduce((s, i) => s + i.amount, 0),
        -1300,
      );
      const verify = (b: { billCode: string; billNumber: string; checkCode: string }, amount: number) =>
        p.app.inject({
          method: 'POST',
          url: '/api/ebill/verify',
          remoteAddress: '10.0.0.5',
          payload: { billCode: b.billCode, billNumber: b.billNumber, checkCode: b.checkCode, amount },
        });
      const partly = await verify(blue1!, 5000);
      assert.equal(partly.json().result, 'valid');
      assert.equal(partly.json().bill.refundedTotal, 1300);
      // Too much is refused; the remainder reverses the bill.
      await assert.rejects(svc(p).issueRed(refund('RF2', 3000, 1200, 501)), { code: 'EBILL_REFUND_EXCEEDS' });
      await publish(p, 'payment.refunded', refund('RF3', 2000, 1200, 500));
      await publish(p, 'payment.refunded', refund('RF3', 2000, 1200, 500)); // re-delivery: no second red bill
      const blue = await svc(p).byOrder(p.ctx.db, REGION, ev.orderId, 'blue');
      const reds = await p.ctx.db.q(sql`select id from ebill_bill where region_code = ${REGION}
        and order_id = ${ev.orderId} and kind = 'red'`);
      assert.equal(reds.length, 2);
      assert.equal(blue?.status, 'reversed');
      const red = (await svc(p).byRefund(p.ctx.db, REGION, ev.orderId, 'RF3'))!;
      assert.equal(red.kind, 'red');
      assert.ok(Number(red.billNumber) > Number(blue!.billNumber));
      const res = await verify(blue!, 5000);
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().result, 'reversed');
      assert.equal((await verify(red, 3700)).json().result, 'valid');
      // A red bill PDF renders too.
      const headers = await p.auth({ kind: 'person', subject: 'person-r', regionCode: REGION });
      const pdf = await p.app.inject({ url: `/api/ebill/my/bills/${red.id}/pdf`, headers });
      assert.equal(pdf.statusCode, 200);
    });

    test('concurrent, re-delivered partial refunds never reverse more than the bill (property)', async () => {
      const p = get();
      const service = svc(p);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ fund: fc.nat(1500), account: fc.nat(600), cash: fc.nat(500), dup: fc.boolean() }), {
            minLength: 1,
            maxLength: 6,
          }),
          async (refunds) => {
            const ev = settlement({ personId: 'person-prop' });
            const blue = await service.issueBlue(ev);
            const attempts = refunds.flatMap((r, i) => {
              const one = () =>
                service
                  .issueRed({
                    ...ev,
                    refundId: `R${i}`,
                    fundRefund: r.fund,
                    accountRefund: r.account,
                    cashRefund: r.cash,
                  })
                  .then(
                    (b) => b,
                    (e) => {
                      assert.ok(
                        ['EBILL_REFUND_EXCEEDS', 'EBILL_ALREADY_REVERSED', 'EBILL_REFUND_EMPTY'].includes(e.code),
                        String(e),
                      );
                      return undefined;
                    },
                  );
              return r.dup ? [one(), one()] : [one()];
            });
            await Promise.all(attempts);
            const reds = await p.ctx.db.q<{ refund_id: string; total: number; fund_payment: number }>(sql`select
                refund_id, total, fund_payment from ebill_bill
              where region_code = ${REGION} and order_id = ${ev.orderId} and kind = 'red'`);
            const after = (await service.byOrder(p.ctx.db, REGION, ev.orderId, 'blue'))!;
            const sum = reds.reduce((s, r) => s + Number(r.total), 0);
            assert.equal(new Set(reds.map((r) => r.refund_id)).size, reds.length, 'one red bill per refund');
            assert.equal(after.refundedTotal, sum, 'the blue bill knows exactly what was reversed');
            assert.ok(sum <= blue.total, `reversed ${sum} > ${blue.total}`);
            assert.equal(after.status, sum === blue.total ? 'reversed' : sum > 0 ? 'partially_reversed' : 'valid');
            for (const r of reds) {
              const i = Number(r.refund_id.slice(1));
              assert.equal(Number(r.total), refunds[i].fund + refunds[i].account + refunds[i].cash);
            }
          },
        ),
        { numRuns: 12 },
      );
    });

    test('public verification: valid, no leak on wrong check code, captcha after failures; QR; forged QR', async () => {
      const p = get();
      const bill = await svc(p).issueBlue(settlement({ personId: 'person-v' }));
      const ip = `10.1.${kind === 'pglite' ? 1 : 2}.9`;
      const verify = (payload: object, remoteAddress = ip) =>
        p.app.inject({ method: 'POST', url: '/api/ebill/verify', remoteAddress, payload });
      const ok = await verify({
        billCode: bill.billCode,
        billNumber: bill.billNumber,
        checkCode: bill.checkCode,
        amount: 5000,
      });
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.json().result, 'valid');
      assert.equal(ok.json().bill.signatureValid, true);
      assert.equal(ok.json().bill.payerName, undefined);

      const wrongCheck = await verify({
        billCode: bill.billCode,
        billNumber: bill.billNumber,
        checkCode: 'ZZZZZZ',
        amount: 5000,
      });
      const unknown = await verify({
        billCode: bill.billCode,
        billNumber: '9999999999',
        checkCode: bill.checkCode,
        amount: 5000,
      });
      const wrongAmount = await verify({
        billCode: bill.billCode,
        billNumber: bill.billNumber,
        checkCode: bill.checkCode,
        amount: 4999,
      });
      for (const r of [wrongCheck, unknown, wrongAmount]) {
        assert.equal(r.statusCode, 404);
        assert.equal(r.json().code, 'EBILL_VERIFY_NOT_FOUND');
      }
      const strip = (b: Record<string, unknown>) => ({ ...b, instance: undefined });
      assert.deepEqual(strip(wrongCheck.json()), strip(unknown.json()), 'wrong check code leaks nothing');
      assert.equal(VERIFY_FAILURES_BEFORE_CAPTCHA, 3);

      const needs = await verify({
        billCode: bill.billCode,
        billNumber: bill.billNumber,
        checkCode: bill.checkCode,
        amount: 5000,
      });
      assert.equal(needs.statusCode, 403);
      assert.equal(needs.json().code, 'EBILL_CAPTCHA_REQUIRED');
      // Another IP is not affected.
      assert.equal(
        (
          await verify(
            { billCode: bill.billCode, billNumber: bill.billNumber, checkCode: bill.checkCode, amount: 5000 },
            '10.9.9.9',
          )
        ).statusCode,
        200,
      );

      const cap = await p.app.inject({ url: '/api/ebill/verify/captcha', remoteAddress: ip });
      const wrong = await verify({
        billCode: bill.billCode,
        billNumber: bill.billNumber,
        checkCode: bill.checkCode,
        amount: 5000,
        captchaId: cap.json().id,
        captchaAnswer: '999',
      });
      assert.equal(wrong.json().code, 'EBILL_CAPTCHA_INVALID');
      const cap2 = await p.app.inject({ url: '/api/ebill/verify/captcha', remoteAddress: ip });
      const solved = await verify({
        billCode: bill.billCode,
        billNumber: bill.billNumber,
        checkCode: bill.checkCode,
        amount: 5000,
        captchaId: cap2.json().id,
        captchaAnswer: solveCaptcha(cap2.json().svg),
      });
      assert.equal(solved.statusCode, 200, solved.body);
      assert.equal(solved.json().result, 'valid');

      // QR: the signed payload verifies; any change is refused as forged.
      const qr = await svc(p).qrText(bill, REGION);
      const qrIp = `10.2.${kind === 'pglite' ? 1 : 2}.9`;
      const scan = (q: string) =>
        p.app.inject({ method: 'POST', url: '/api/ebill/verify/qr', remoteAddress: qrIp, payload: { qr: q } });
      const good = await scan(qr);
      assert.equal(good.statusCode, 200, good.body);
      assert.equal(good.json().result, 'valid');
      // Scanned from another region's hall (request region 980100): the QR names its own region and key.
      const elsewhere = await p.app.inject({
        method: 'POST',
        url: '/api/ebill/verify/qr',
        remoteAddress: qrIp,
        headers: { 'x-region-code': '980100' },
        payload: { qr },
      });
      assert.equal(elsewhere.json().result, 'valid', elsewhere.body);
      const raw = decodeURIComponent(qr.split('qr=')[1]);
      const tampered = raw.replace(`~5000~`, '~500~');
      const forged = await scan(tampered);
      assert.equal(forged.statusCode, 400);
      assert.equal(forged.json().code, 'EBILL_QR_INVALID');
      assert.equal((await scan('https://example.com/?qr=nonsense')).json().code, 'EBILL_QR_INVALID');
      // After repeated forged scans the QR path asks for the captcha too, and accepts it.
      assert.equal((await scan(tampered)).json().code, 'EBILL_QR_INVALID');
      assert.equal((await scan(qr)).json().code, 'EBILL_CAPTCHA_REQUIRED');
      const qrCap = await p.app.inject({ url: '/api/ebill/verify/captcha', remoteAddress: qrIp });
      const withCaptcha = await p.app.inject({
        method: 'POST',
        url: '/api/ebill/verify/qr',
        remoteAddress: qrIp,
        payload: { qr, captchaId: qrCap.json().id, captchaAnswer: solveCaptcha(qrCap.json().svg) },
      });
      assert.equal(withCaptcha.json().result, 'valid', withCaptcha.body);
    });

    test('per-IP rate limit lives in the database', async () => {
      const p = get();
      const ip = `10.3.${kind === 'pglite' ? 1 : 2}.1`;
      let limited = 0;
      const results = await Promise.all(
        Array.from({ length: 35 }, () =>
          p.app.inject({
            url: '/api/ebill/verify/qr',
            method: 'POST',
            remoteAddress: ip,
            payload: { qr: 'EB1~x~y~z~w~v~u~t~s' },
          }),
        ),
      );
      for (const r of results) if (r.json().code === 'EBILL_VERIFY_RATE_LIMITED') limited++;
      assert.ok(limited >= 5, `limited ${limited}`);
      const rows = await p.ctx.db.q<{ attempts: number }>(sql`select attempts from ebill_verify_ip
        where region_code = ${REGION} and ip = ${ip}`);
      assert.ok(rows.some((r) => Number(r.attempts) >= 35));
    });

    test('channels: signed calls, grants, quotas, replay, disable, unsettled order, usage', async () => {
      const p = get();
      p.ctx.permissions = { permissionsOf: async (id) => staffPerms.get(id) ?? new Set() };
      const admin = await p.auth({ kind: 'staff', subject: 'admin', regionCode: REGION });
      const clerk = await p.auth({ kind: 'staff', subject: 'clerk', regionCode: REGION });
      const body = {
        name: '东湖市第一人民医院 HIS',
        institutionCode: INSTITUTION,
        contactName: '王工',
        contactMobile: '13800138000',
        callbackUrl: 'https://his.example.cn/ebill/callback',
        apis: [
          { api: 'bill.query', enabled: true, dailyQuota: 2 },
          { api: 'bill.byOrder', enabled: true, dailyQuota: 100 },
          { api: 'bill.detail', enabled: false, dailyQuota: 100 },
        ],
      };
      assert.equal(
        (await p.app.inject({ method: 'POST', url: '/api/ebill/admin/channels', headers: clerk, payload: body }))
          .statusCode,
        403,
      );
      const created = await p.app.inject({
        method: 'POST',
        url: '/api/ebill/admin/channels',
        headers: admin,
        payload: body,
      });
      assert.equal(created.statusCode, 201, created.body);
      const { appId, privateKeyHex } = created.json();
      let keys: { appSecret: string; privateKeyHex: string } = created.json();
      const call = (path: string, data: unknown, nonce?: string) =>
        p.app.inject({
          method: 'POST',
          url: `/api/ebill/channel/${path}`,
          payload: signEnvelope({
            appId,
            transType: path,
            data,
            privateKey: keys.privateKeyHex,
            appSecret: keys.appSecret,
            encrypt: true,
            nonce,
          }),
        });
      const bill = await svc(p).issueBlue(settlement({ personId: 'person-ch' }));

      const q1 = await call('bills/query', { page: 1 });
      assert.equal(q1.statusCode, 200, q1.body);
      assert.ok(q1.json().items.some((b: { id: string }) => b.id === bill.id));
      const listed = q1.json().items.find((b: { id: string }) => b.id === bill.id);
      assert.equal(listed.payerName.at(-1), '*', 'the payer masked');
      assert.equal(listed.personId, undefined, 'no account ids leave the platform');
      assert.equal(listed.signature, undefined, 'the list is not the signed bill: 票据结构化数据 is');
      assert.equal((await call('bills/query', {})).statusCode, 200);
      const q3 = await call('bills/query', {});
      assert.equal(q3.statusCode, 429);
      assert.equal(q3.json().code, 'EBILL_QUOTA_EXCEEDED');

      const notGranted = await call('bills/detail', { billCode: bill.billCode, billNumber: bill.billNumber });
      assert.equal(notGranted.json().code, 'EBILL_API_NOT_GRANTED');
      const byOrder = await call('bills/by-order', { orderId: bill.orderId });
      assert.equal(byOrder.statusCode, 200);
      assert.equal(byOrder.json().billNumber, bill.billNumber);
      const unsettled = await call('bills/by-order', { orderId: 'PO-never-settled' });
      assert.equal(unsettled.statusCode, 409);
      assert.equal(unsettled.json().code, 'EBILL_ORDER_NOT_SETTLED');

      const replayed = await call('bills/by-order', { orderId: bill.orderId }, 'fixed-nonce-1');
      assert.equal(replayed.statusCode, 200);
      assert.equal(
        (await call('bills/by-order', { orderId: bill.orderId }, 'fixed-nonce-1')).json().code,
        'EBILL_CHANNEL_REPLAY',
      );
      const forgedSig = signEnvelope({
        appId,
        transType: 'x',
        data: { orderId: bill.orderId },
        privateKey: privateKeyHex,
        appSecret: 'wrong',
      });
      const bad = await p.app.inject({ method: 'POST', url: '/api/ebill/channel/bills/by-order', payload: forgedSig });
      assert.equal(bad.statusCode, 401);
      assert.equal(bad.json().code, 'SIGNATURE_INVALID');

      // Key rotation: the old key stops working, the new one works.
      const rotated = await p.app.inject({
        method: 'POST',
        url: `/api/ebill/admin/channels/${appId}/keys`,
        headers: admin,
      });
      assert.equal(rotated.statusCode, 200, rotated.body);
      assert.equal((await call('bills/by-order', { orderId: bill.orderId })).json().code, 'SIGNATURE_INVALID');
      const fresh = signEnvelope({
        appId,
        transType: 'x',
        data: { orderId: bill.orderId },
        privateKey: rotated.json().privateKeyHex,
        appSecret: rotated.json().appSecret,
      });
      assert.equal(
        (await p.app.inject({ method: 'POST', url: '/api/ebill/channel/bills/by-order', payload: fresh })).statusCode,
        200,
      );
      keys = rotated.json();

      const off = await p.app.inject({
        method: 'PATCH',
        url: `/api/ebill/admin/channels/${appId}`,
        headers: admin,
        payload: { status: 'disabled' },
      });
      assert.equal(off.json().status, 'disabled');
      assert.equal((await call('bills/by-order', { orderId: bill.orderId })).json().code, 'EBILL_CHANNEL_DISABLED');

      const list = await p.app.inject({ url: '/api/ebill/admin/channels', headers: clerk });
      const ch = list.json().find((c: { appId: string }) => c.appId === appId);
      assert.equal(ch.contactMobile, '138****8000');
      assert.equal(ch.apis.find((a: { api: string }) => a.api === 'bill.query').usedToday, 2);
      const usage = await p.app.inject({ url: '/api/ebill/admin/usage?days=7', headers: clerk });
      const q = usage.json().find((u: { app_id: string }) => u.app_id === appId);
      assert.ok(q.calls >= 4 && q.refused >= 1, JSON.stringify(q));
    });

    test('staff search is audited with its purpose; names masked', async () => {
      const p = get();
      p.ctx.permissions = { permissionsOf: async (id) => staffPerms.get(id) ?? new Set() };
      const clerk = await p.auth({ kind: 'staff', subject: 'clerk', regionCode: REGION });
      const bill = await svc(p).issueBlue(settlement({ personId: 'person-s' }));
      const noPurpose = await p.app.inject({ url: `/api/ebill/admin/bills?orderId=${bill.orderId}`, headers: clerk });
      assert.equal(noPurpose.statusCode, 400);
      const res = await p.app.inject({
        url: `/api/ebill/admin/bills?orderId=${bill.orderId}&purpose=${encodeURIComponent('投诉核查')}`,
        headers: clerk,
      });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().total, 1);
      assert.equal(res.json().items[0].checkCode, '******');
      const audit = await p.ctx.db.q<{
        purpose: string;
        actor_id: string;
      }>(sql`select purpose, actor_id from audit_event
        where region_code = ${REGION} and action = 'ebill.search' order by seq desc limit 1`);
      assert.deepEqual(audit[0], { purpose: '投诉核查', actor_id: 'clerk' });
    });

    test('issued bills are reported to the (sandbox) national platform, retried after a failure', async () => {
      const p = get();
      p.ctx.permissions = { permissionsOf: async (id) => staffPerms.get(id) ?? new Set() };
      const national = svc(p).national as SandboxNationalPlatform;
      await p.ctx.jobs.drain(); // reports of earlier tests' bills first
      national.failNext(1);
      const ev = settlement({ personId: 'person-n' });
      await publish(p, 'payment.completed', ev);
      const bill = (await svc(p).byOrder(p.ctx.db, REGION, ev.orderId, 'blue'))!;
      const state = () =>
        p.ctx.db.one<{
          status: string;
          attempts: number;
          last_error: string | null;
        }>(sql`select status, attempts, last_error
          from ebill_national_report where region_code = ${REGION} and bill_id = ${bill.id}`);
      assert.equal((await state())?.status, 'pending');
      assert.match(String((await state())?.last_error), /沙箱/);
      await p.ctx.db.q(sql`update job set run_at = now() where queue = ${NATIONAL_QUEUE} and state = 'queued'`);
      await p.ctx.jobs.drain();
      assert.equal((await state())?.status, 'reported');
      const recorded = await p.ctx.db.one<{
        payload: { elec_billno: string; medfee_sumamt: number };
      }>(sql`select payload
        from ebill_national_sandbox_record where region_code = ${REGION} and bill_code = ${bill.billCode}
          and bill_number = ${bill.billNumber}`);
      assert.equal(recorded?.payload.elec_billno, bill.billNumber);
      assert.equal(recorded?.payload.medfee_sumamt, 5000);
      const clerk = await p.auth({ kind: 'staff', subject: 'clerk', regionCode: REGION });
      const status = await p.app.inject({ url: '/api/ebill/admin/national', headers: clerk });
      assert.equal(status.json().sandbox, true);
      assert.ok(status.json().counts.reported >= 1);
    });

    test('a refund whose event overtook the payment’s waits for the blue bill, as a note, then reverses it', async () => {
      const p = get();
      const ev = settlement({ personId: 'person-overtaken' });
      const refunded = { ...ev, refundId: 'RF-overtaken', fundRefund: 3000, accountRefund: 1200, cashRefund: 800 };
      await publish(p, 'payment.refunded', { ...refunded, refundedAt: new Date().toISOString() });
      const [waiting] = await p.ctx.db.q<{ state: string; last_error: string }>(sql`select state, last_error from job
        where queue = 'event:payment.refunded:ebill' and payload->>'refundId' = 'RF-overtaken'`);
      assert.equal(waiting?.state, 'queued', 'waits for its next attempt');
      assert.equal(waiting?.last_error, '等待：原票据尚未开具，稍后重试', 'a note, not a stack trace');
      await publish(p, 'payment.completed', ev);
      await p.ctx.db.q(
        sql`update job set run_at = now() where queue = 'event:payment.refunded:ebill' and state = 'queued'`,
      );
      await p.ctx.jobs.drain();
      assert.equal((await svc(p).byOrder(p.ctx.db, REGION, ev.orderId, 'blue'))?.status, 'reversed');
      assert.ok(await svc(p).byRefund(p.ctx.db, REGION, ev.orderId, 'RF-overtaken'), 'the red bill');
    });

    test('malformed settlement events are refused, not billed', async () => {
      const p = get();
      await assert.rejects(svc(p).issueBlue(settlement({ fundPayment: 1 })), { code: 'EBILL_SPLIT_MISMATCH' });
      await assert.rejects(svc(p).issueBlue(settlement({ lines: settlement().lines.slice(0, 1) })), {
        code: 'EBILL_ITEMS_MISMATCH',
      });
      await assert.rejects(svc(p).issueRed(settlement()), { code: 'EBILL_ORIGINAL_NOT_ISSUED' });
    });

    test('an event that breaks the payment contract fails its job, naming the fields, and bills nothing', async () => {
      const p = get();
      const { lines: _lines, ...rest } = settlement({ cashPayment: -800 });
      await publish(p, 'payment.completed', rest as PaymentEvent);
      const [job] = await p.ctx.db.q<{ last_error: string }>(
        sql`select last_error from job where queue = 'event:payment.completed:ebill' and payload->>'orderId' = ${rest.orderId}`,
      );
      assert.match(job.last_error, /支付事件数据不完整/);
      assert.match(job.last_error, /cashPayment/);
      assert.match(job.last_error, /lines/);
      assert.equal(await svc(p).byOrder(p.ctx.db, REGION, rest.orderId, 'blue'), undefined);
    });
  },
  { centers: [ebillCenter] },
);
