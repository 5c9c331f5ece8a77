/**
 * Schema-shaped fuzzing of every route: bodies, queries and path parameters generated from the route's own OpenAPI
 * schema — so they pass validation and reach the service — sent as the super-admin (every permission), as a real
 * person and as a unit's agent: edge numbers, far dates, CJK and emoji text, unknown and existing ids. Whatever the
 * service makes of them, the answer is a problem+json 4xx or a success, never a 5xx. Channel routes (signed
 * envelopes) get their `data` from the schema the route parses it with, signed with a registered channel's key, so
 * they pass the signature check too. Every change is also sent three times at once. (route-guards.integration.test.ts
 * sends shapeless bodies; most of those stop at validation.)
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { signEnvelope } from '@yibao/sdk';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { createTestPerson } from './centers/user/testing.ts';
import { service } from './platform/context.ts';
import { forEachPlatform, type TestPlatform } from './testing/platform.ts';
import { arbitraryOf, type JsonSchema } from './testing/schema-arbitrary.ts';

interface Operation {
  parameters?: Array<{ in: string; name: string; required?: boolean; schema: JsonSchema }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
}

interface Call {
  method: string;
  route: string;
  url: string;
  query: Record<string, string>;
  body?: unknown;
}

/** Requests per route and database (a whole number: fast-check never finishes a fractional numRuns). */
const RUNS = Math.max(4, Math.round(Number(process.env.FUZZ_RUNS ?? 20)) || 20);

/** The region a request says it acts in: mostly the caller's own, sometimes another, an unknown or a malformed one. */
const REGION = fc.oneof(
  { weight: 6, arbitrary: fc.constant('990100') },
  fc.constantFrom('980100', '990200', '999999', '9901', 'x', ''),
);

/** Routes left out, and why. */
const SKIP = new Set([
  // signs the super-admin's own sessions out: every later call of the run would be a 401
  'POST /api/auth/me/logout-all',
]);

type Doc = { paths: Record<string, Record<string, Operation>> };

const operations = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([route, ops]) =>
    Object.entries(ops).map(([m, op]) => ({ method: m.toUpperCase(), route, op })),
  );

const envelopeOf = (op: Operation) => op.requestBody?.content?.['application/json']?.schema?.properties;
const isEnvelope = (op: Operation) => 'signData' in (envelopeOf(op) ?? {});
/** The schema a channel route parses its envelope's `data` with, as its OpenAPI document shows it. */
const channelDataOf = (op: Operation) => envelopeOf(op)?.data as JsonSchema | undefined;
/** The fields of a route's success answer (200 or 202), as its OpenAPI document shows them. */
const answerFieldsOf = (op: Operation) =>
  (op.responses?.['200'] ?? op.responses?.['202'])?.content?.['application/json']?.schema?.properties;

/** Counts every answer's status and keeps the first 40 5xx with what was sent; hands each success to `onSuccess`. */
function recorder(onSuccess: (body: string) => void = () => {}) {
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  return {
    failures,
    statuses,
    async send(platform: TestPlatform, request: InjectOptions, what: string) {
      const res = await platform.app.inject(request);
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode < 300) onSuccess(res.body);
      if (res.statusCode >= 500 && failures.length < 40)
        failures.push(`${what} → ${res.statusCode} ${res.body.slice(0, 200)}`);
      return res;
    },
    successes: () => [...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0),
    summary: () => JSON.stringify([...statuses].sort((a, b) => a[0] - b[0])),
  };
}

/**
 * Ids the platform has answered with so far, by the field that carried them (`id`, `appId`, `orderId`, …), so that
 * path parameters name rows that exist, not only random ones.
 */
class KnownIds {
  private readonly byField = new Map<string, Set<string>>();

  /** Takes every `…id` / `…Id` string field of a JSON answer. */
  harvest(body: string): void {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return;
    }
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.slice(0, 20).forEach(walk);
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          if (typeof x === 'string' && /id$/i.test(k) && x.length <= 64) this.add(k, x);
          else walk(x);
        }
    };
    walk(json);
  }

  private add(field: string, value: string): void {
    for (const key of [field, 'id']) {
      const set = this.byField.get(key) ?? new Set();
      if (set.size < 40) set.add(value);
      this.byField.set(key, set);
    }
  }

  /** Values for a parameter: those seen in a field of its name, else any id. */
  for(param: string): string[] {
    return [...(this.byField.get(param) ?? this.byField.get('id') ?? [])];
  }
}

/** Each route's requests: path and query parameters and the JSON body from its schema. */
function callsOf(method: string, route: string, op: Operation, ids: string[], known: KnownIds): fc.Arbitrary<Call> {
  const opts = { ids, maxLength: 24 };
  const params = op.parameters ?? [];
  const pathValue = (name: string, schema: JsonSchema) => {
    const seen = known.for(name);
    return seen.length ? fc.oneof(fc.constantFrom(...seen), arbitraryOf(schema, opts)) : arbitraryOf(schema, opts);
  };
  const path = Object.fromEntries(
    params.filter((p) => p.in === 'path').map((p) => [p.name, pathValue(p.name, p.schema ?? { type: 'string' })]),
  );
  const query = Object.fromEntries(
    params.filter((p) => p.in === 'query').map((p) => [p.name, arbitraryOf(p.schema ?? { type: 'string' }, opts)]),
  );
  const optionalQuery = params.filter((p) => p.in === 'query' && !p.required).map((p) => p.name);
  const bodySchema = op.requestBody?.content?.['application/json']?.schema;
  return fc
    .record({
      path: fc.record(path),
      query: fc.record(query, { requiredKeys: Object.keys(query).filter((k) => !optionalQuery.includes(k)) }),
      body: bodySchema ? arbitraryOf(bodySchema, opts) : fc.constant(undefined),
    })
    .map(({ path: values, query: q, body }) => ({
      method,
      route,
      url: route.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(values[name] ?? 'x'))),
      query: Object.fromEntries(Object.entries(q).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])),
      body,
    }));
}

/** The callers: the super-admin, a person, and 张伟 of the demo data acting for the unit he administers. */
const actors = new WeakMap<TestPlatform, ReturnType<typeof makeActors>>();
const actorsOf = (platform: TestPlatform) => {
  if (!actors.has(platform)) actors.set(platform, makeActors(platform));
  return actors.get(platform)!;
};

async function makeActors(platform: TestPlatform) {
  const users = service(platform.ctx, 'user');
  const admin = await users.findStaffByUsername(platform.ctx.config.SUPERADMIN_USERNAME);
  const person = await createTestPerson(platform, { residentId: '990102201209180427' });
  const agent = await users.findPersonByLogin('990100', 'zhangwei');
  const [membership] = agent ? await users.unitsOf('990100', agent.id) : [];
  assert.ok(admin && agent && membership, 'the super-admin, the demo agent and his unit are seeded');
  const token = (kind: 'staff' | 'person', subject: string, unitId?: string) =>
    platform.auth({ kind, subject, regionCode: '990100', acr: 'mfa', ...(unitId ? { unitId } : {}) });
  const callers: Record<string, { authorization: string }> = {
    admin: await token('staff', admin.id),
    person: await token('person', person.id),
    agent: await token('person', agent.id, membership.unit.id),
  };
  const everyone = Object.keys(callers);
  /** whom a route serves (a person's route refuses staff by kind, and the reverse): fuzz as them */
  const callersOf = async (method: string, route: string) => {
    const served: string[] = [];
    for (const who of everyone) {
      const res = await platform.app.inject({
        method: method as 'POST',
        url: route.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000'),
        headers: callers[who],
      });
      if (res.json()?.code !== 'PRINCIPAL_KIND_FORBIDDEN') served.push(who);
    }
    return served.length ? served : everyone;
  };
  return { callers, everyone, ids: [admin.id, person.id, agent.id, membership.unit.id], callersOf };
}

const request = (
  call: Call,
  auth: { authorization: string },
  region: string,
  idempotencyKey: string = randomUUID(),
): InjectOptions => ({
  method: call.method as 'POST',
  url: call.url,
  query: call.query,
  headers: {
    'x-region-code': region,
    'idempotency-key': idempotencyKey,
    ...auth,
    ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
  },
  ...(call.body === undefined ? {} : { payload: JSON.stringify(call.body) }),
});

const describe = (call: Call, who: string, region: string) =>
  `${call.method} ${call.url}?${new URLSearchParams(call.query)} as ${who} in ${region} ${JSON.stringify(call.body)?.slice(0, 300)}`;

forEachPlatform(
  'schema-shaped requests to every route',
  (get) => {
    test('never get a 5xx, as the super-admin, a person or a unit agent', { timeout: 170_000 }, async (t) => {
      const platform: TestPlatform = get();
      const doc = (await platform.app.inject({ url: '/openapi.json' })).json() as Doc;
      const { callers, everyone, ids, callersOf } = await actorsOf(platform);
      const known = new KnownIds();
      const rec = recorder((body) => known.harvest(body));
      // every listing once first, so that the fuzzing of a route with ids can name rows that exist
      for (const { route } of operations(doc).filter((o) => o.method === 'GET' && !o.route.includes('{')))
        for (const who of everyone)
          await rec.send(platform, { method: 'GET', url: route, headers: callers[who] }, `${route} as ${who}`);
      let routes = 0;
      for (const { method, route, op } of operations(doc)) {
        if (SKIP.has(`${method} ${route}`)) continue;
        routes++;
        const served = await callersOf(method, route);
        await fc.assert(
          fc.asyncProperty(
            callsOf(method, route, op, ids, known),
            fc.constantFrom(...served),
            REGION,
            async (call, who, region) => {
              await rec.send(platform, request(call, callers[who], region), describe(call, who, region));
            },
          ),
          { numRuns: RUNS },
        );
      }
      t.diagnostic(`${routes} routes; statuses: ${rec.summary()}`);
      assert.deepEqual(rec.failures, []);
      // the generated requests pass validation often enough to reach the services
      assert.ok(rec.successes() > routes, `successes: ${rec.successes()} of ${routes * RUNS}`);
    });

    // Races on unique keys and on the idempotency store: the same change three times at once, two of them with one
    // idempotency key (a client's retry overtaking its first try), never a 5xx.
    test('the same change sent three times at once never gets a 5xx', { timeout: 170_000 }, async (t) => {
      const platform: TestPlatform = get();
      const doc = (await platform.app.inject({ url: '/openapi.json' })).json() as Doc;
      const { callers, ids, callersOf } = await actorsOf(platform);
      const known = new KnownIds();
      const rec = recorder((body) => known.harvest(body));
      const changes = operations(doc).filter(
        (o) => o.method !== 'GET' && !SKIP.has(`${o.method} ${o.route}`) && !isEnvelope(o.op),
      );
      for (const { method, route, op } of changes) {
        const served = await callersOf(method, route);
        await fc.assert(
          fc.asyncProperty(callsOf(method, route, op, ids, known), fc.constantFrom(...served), async (call, who) => {
            const key = randomUUID();
            await Promise.all(
              [key, key, randomUUID()].map((k) =>
                rec.send(platform, request(call, callers[who]!, '990100', k), describe(call, who, '990100')),
              ),
            );
          }),
          { numRuns: Math.ceil(RUNS / 4) },
        );
      }
      t.diagnostic(`${changes.length} routes; statuses: ${rec.summary()}`);
      assert.deepEqual(rec.failures, []);
    });

    test('signed channel requests with schema-shaped data never get a 5xx', { timeout: 170_000 }, async (t) => {
      const platform: TestPlatform = get();
      const doc = (await platform.app.inject({ url: '/openapi.json' })).json() as Doc;
      const signed = operations(doc).filter(({ op }) => isEnvelope(op));
      assert.deepEqual(
        signed.filter(({ op }) => !channelDataOf(op)?.properties).map(({ method, route }) => `${method} ${route}`),
        [],
        'every channel route documents the fields of its data',
      );
      assert.deepEqual(
        signed.filter(({ op }) => !answerFieldsOf(op)).map(({ method, route }) => `${method} ${route}`),
        [],
        'every channel route documents the fields of its answer',
      );
      const auth = service(platform.ctx, 'auth');
      const register = (institutionCode?: string) =>
        auth.registerChannel({
          regionCode: '990100',
          name: '模糊测试渠道',
          type: 'institution',
          scopes: ['payment', 'evoucher', 'ebill', 'message'],
          ...(institutionCode ? { institutionCode } : {}),
        });
      // one channel speaks for any institution, one is bound to its own
      const channels = [await register(), await register('H99010000001')];
      const rec = recorder();
      for (const { route, op } of signed) {
        await fc.assert(
          fc.asyncProperty(
            arbitraryOf(channelDataOf(op)!, { maxLength: 24 }),
            fc.constantFrom(...channels),
            async (data, ch) => {
              const envelope = signEnvelope({
                appId: ch.appId,
                transType: route.split('/').at(-1)!,
                data,
                privateKey: ch.privateKeyHex,
                appSecret: ch.appSecret,
              });
              await rec.send(
                platform,
                {
                  method: 'POST',
                  url: route,
                  headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
                  payload: JSON.stringify(envelope),
                },
                `${route} as ${ch.appId} ${JSON.stringify(data)?.slice(0, 400)}`,
              );
            },
          ),
          { numRuns: 2 * RUNS },
        );
      }
      t.diagnostic(`${signed.length} channel routes; statuses: ${rec.summary()}`);
      assert.deepEqual(rec.failures, []);
      assert.ok(rec.successes() > 0, `the signed requests reached the services: ${rec.summary()}`);
    });
  },
  { seed: true },
);
