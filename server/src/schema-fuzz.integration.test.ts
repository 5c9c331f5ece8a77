/**
 * Schema-shaped fuzzing of every route: bodies, queries and path parameters generated from the route's own OpenAPI
 * schema — so they pass validation and reach the service — sent as the super-admin (every permission) and as a real
 * person: edge numbers, far dates, CJK and emoji text, unknown and existing ids. Whatever the service makes of them,
 * the answer is a problem+json 4xx or a success, never a 5xx. (route-guards.integration.test.ts sends shapeless
 * bodies; most of those stop at validation.)
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { createTestPerson } from './centers/user/testing.ts';
import { service } from './platform/context.ts';
import { forEachPlatform, type TestPlatform } from './testing/platform.ts';
import { arbitraryOf, type JsonSchema } from './testing/schema-arbitrary.ts';

interface Operation {
  parameters?: Array<{ in: string; name: string; required?: boolean; schema: JsonSchema }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

interface Call {
  method: string;
  route: string;
  url: string;
  query: Record<string, string>;
  body?: unknown;
}

/** Requests per route and database. */
const RUNS = 20;

/** Routes left out, and why. */
const SKIP = new Set([
  // signs the super-admin's own sessions out: every later call of the run would be a 401
  'POST /api/auth/me/logout-all',
]);

/** Each route's requests: path and query parameters and the JSON body from its schema. */
function callsOf(method: string, route: string, op: Operation, ids: string[]): fc.Arbitrary<Call> {
  const opts = { ids, maxLength: 24 };
  const params = op.parameters ?? [];
  const path = Object.fromEntries(
    params.filter((p) => p.in === 'path').map((p) => [p.name, arbitraryOf(p.schema ?? { type: 'string' }, opts)]),
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

forEachPlatform(
  'schema-shaped requests to every route',
  (get) => {
    test('never get a 5xx, as the super-admin or as a person', { timeout: 170_000 }, async (t) => {
      const platform: TestPlatform = get();
      const doc = (await platform.app.inject({ url: '/openapi.json' })).json() as {
        paths: Record<string, Record<string, Operation>>;
      };
      const users = service(platform.ctx, 'user');
      const admin = await users.findStaffByUsername(platform.ctx.config.SUPERADMIN_USERNAME);
      assert.ok(admin, 'the super-admin is seeded');
      const person = await createTestPerson(platform, { residentId: '990102201209180427' });
      const callers = {
        admin: await platform.auth({ kind: 'staff', subject: admin.id, regionCode: '990100', acr: 'mfa' }),
        person: await platform.auth({ kind: 'person', subject: person.id, regionCode: '990100', acr: 'mfa' }),
      };
      const ids = [admin.id, person.id];
      // whom the route serves (a person's route refuses staff by kind, and the reverse): fuzz as them
      const callersOf = async (method: string, route: string) => {
        const served: Array<keyof typeof callers> = [];
        for (const who of ['admin', 'person'] as const) {
          const res = await platform.app.inject({
            method: method as 'POST',
            url: route.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000'),
            headers: callers[who],
          });
          if (res.json()?.code !== 'PRINCIPAL_KIND_FORBIDDEN') served.push(who);
        }
        return served.length ? served : (['admin', 'person'] as const);
      };
      const failures: string[] = [];
      const statuses = new Map<number, number>();
      let routes = 0;
      for (const [route, ops] of Object.entries(doc.paths)) {
        for (const [m, op] of Object.entries(ops)) {
          const method = m.toUpperCase();
          if (SKIP.has(`${method} ${route}`)) continue;
          routes++;
          const served = await callersOf(method, route);
          await fc.assert(
            fc.asyncProperty(callsOf(method, route, op, ids), fc.constantFrom(...served), async (call, who) => {
              const res = await platform.app.inject({
                method: call.method as 'POST',
                url: call.url,
                query: call.query,
                headers: {
                  'x-region-code': '990100',
                  'idempotency-key': randomUUID(),
                  ...callers[who as keyof typeof callers],
                  ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
                },
                ...(call.body === undefined ? {} : { payload: JSON.stringify(call.body) }),
              });
              statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
              if (res.statusCode >= 500 && failures.length < 40)
                failures.push(
                  `${call.method} ${call.url}?${new URLSearchParams(call.query)} as ${who} ${JSON.stringify(call.body)?.slice(0, 300)} → ${res.statusCode} ${res.body.slice(0, 200)}`,
                );
            }),
            { numRuns: RUNS },
          );
        }
      }
      t.diagnostic(`${routes} routes; statuses: ${JSON.stringify([...statuses].sort((a, b) => a[0] - b[0]))}`);
      assert.deepEqual(failures, []);
      // the generated requests pass validation often enough to reach the services
      const ok = [...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0);
      assert.ok(ok > routes, `successes: ${ok} of ${routes * RUNS}`);
    });
  },
  { seed: true },
);
