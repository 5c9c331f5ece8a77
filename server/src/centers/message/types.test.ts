import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import type { Context } from '../../platform/context.ts';
import { builtinTypes } from './builtin.ts';
import { composeMime } from './channels/email.ts';
import { MessageService } from './service.ts';
import { checkTemplate, declare, fenToYuan, render, templateVariables } from './types.ts';

const type = declare({
  code: 'test.paid',
  category: 'payment',
  name: '测试',
  priority: 'normal',
  mandatory: false,
  payloadSchema: z.object({ orderId: z.string(), total: z.number().int(), person: z.object({ name: z.string() }) }),
  defaultTemplates: { inbox: { title: '{{orderId}}', body: '{{person.name}} 支付 {{total|yuan}} 元' } },
});

const noBraces = fc.string({ maxLength: 12 }).filter((s) => !/[{}]/.test(s));
const ident = fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,11}$/);

test('fen → yuan is exact for every safe integer (no floating point)', () => {
  fc.assert(
    fc.property(fc.maxSafeInteger(), (fen) => {
      const s = fenToYuan(fen);
      assert.match(s, /^-?\d+\.\d\d$/);
      assert.equal(BigInt(s.replace('.', '')), BigInt(fen));
    }),
  );
});

test('a template using only declared variables passes the check and renders without leftovers', () => {
  const known = ['orderId', 'total', 'person.name', 'total|yuan', 'person'];
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.constantFrom(...known).map((v) => `{{${v}}}`),
          fc.string({ maxLength: 8 }).filter((s) => !s.includes('{') && !s.includes('}')),
        ),
        { maxLength: 12 },
      ),
      fc.record({
        orderId: noBraces,
        total: fc.integer({ min: 0, max: 10 ** 9 }),
        person: fc.record({ name: noBraces }),
      }),
      (parts, payload) => {
        const body = parts.join('');
        checkTemplate(type, { body });
        const out = render(body, payload);
        assert.ok(!out.includes('{{'), out);
        if (body.includes('{{total|yuan}}')) assert.ok(out.includes(fenToYuan(payload.total)));
      },
    ),
  );
});

test('any undeclared variable is refused with MESSAGE_TEMPLATE_UNKNOWN_VARIABLE naming it', () => {
  fc.assert(
    fc.property(
      ident.filter((v) => !(v in type.variables)),
      fc.string({ maxLength: 10 }),
      (name, text) => {
        const body = `${text.replaceAll('{', '').replaceAll('}', '')}{{${name}}}`;
        assert.deepEqual(
          templateVariables(body).map((v) => v.name),
          [name],
        );
        assert.throws(
          () => checkTemplate(type, { body }),
          (err: { code: string; detail: string }) =>
            err.code === 'MESSAGE_TEMPLATE_UNKNOWN_VARIABLE' && err.detail.includes(name),
        );
      },
    ),
  );
});

test('quiet hours: deferred exactly to their end (Asia/Shanghai), never otherwise', () => {
  fc.assert(
    fc.property(
      fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2035-01-01T00:00:00Z'), noInvalidDate: true }),
      fc.integer({ min: 0, max: 23 }),
      fc.integer({ min: 0, max: 23 }),
      (at, start, end) => {
        const h = new Date(at.getTime() + 8 * 3600_000).getUTCHours();
        const quiet = start === end ? false : start < end ? h >= start && h < end : h >= start || h < end;
        const until = MessageService.quietUntil(at, start, end);
        assert.equal(until !== undefined, quiet);
        if (!until) return;
        assert.ok(until > at && until.getTime() - at.getTime() <= 24 * 3600_000);
        assert.equal(new Date(until.getTime() + 8 * 3600_000).getUTCHours(), end);
        assert.equal(until.getUTCMinutes() + until.getUTCSeconds() + until.getUTCMilliseconds(), 0);
        assert.ok(
          MessageService.quietUntil(new Date(until.getTime() - 60_000), start, end),
          'still quiet a minute before',
        );
        assert.equal(MessageService.quietUntil(until, start, end), undefined);
      },
    ),
  );
});

test('composed e-mail decodes back to the same subject and text (any Unicode)', () => {
  const decodeWords = (s: string) =>
    [...s.matchAll(/=\?UTF-8\?B\?([^?]*)\?=/g)].map((m) => Buffer.from(m[1], 'base64').toString('utf8')).join('');
  fc.assert(
    fc.property(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
      fc.string({ unit: 'grapheme', maxLength: 400 }),
      (subject, text) => {
        const raw = composeMime({
          from: '医保服务平台 <noreply@yibao.local>',
          to: 'a@b.test',
          subject,
          text,
          messageId: '<x@y>',
        });
        const [head, body] = raw.split('\r\n\r\n');
        for (const line of head.split('\r\n')) assert.ok(line.length <= 998);
        const subj = /^Subject: (.*(?:\r\n .*)*)/m.exec(head)![1];
        const cleanSubject = subject.replace(/[\r\n]+/g, ' ');
        assert.equal(/[^\x20-\x7e]/.test(cleanSubject) ? decodeWords(subj) : subj, cleanSubject);
        for (const line of body.split('\r\n')) assert.ok(line.length <= 76);
        assert.equal(
          Buffer.from(body.replaceAll('\r\n', ''), 'base64').toString('utf8'),
          text.replace(/\r?\n/g, '\r\n'),
        );
      },
    ),
  );
});

test("a center's own declaration replaces the message center's provisional one; a real duplicate is refused", () => {
  const svc = new MessageService({} as Context, {} as never);
  for (const t of builtinTypes) svc.declareType(t, { provisional: t.code !== 'announcement' });
  const own = { ...builtinTypes.find((t) => t.code === 'ebill.issued')!, name: '电子票据（票据中心声明）' };
  svc.declareType(own);
  assert.equal(svc.type('ebill.issued').name, '电子票据（票据中心声明）');
  assert.throws(() => svc.declareType(own), /declared twice/);
  assert.throws(() => svc.declareType(builtinTypes.find((t) => t.code === 'announcement')!), /declared twice/);
  assert.throws(
    () => svc.type('nope.nope'),
    (e: { code: string }) => e.code === 'MESSAGE_TYPE_UNKNOWN',
  );
});
