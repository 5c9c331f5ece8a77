/**
 * A sweep over every route of the assembled platform (all centers): who may call it, and that an empty or foreign
 * request never gets a 500. A new route is guarded unless it is added to PUBLIC here, on purpose.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { forEachPlatform } from './testing/platform.ts';

/** Routes anyone may read or call without a token (public pages, probes, keys for offline checks, callbacks). */
const PUBLIC = new Set([
  'GET /healthz',
  'GET /readyz',
  'GET /api/regions',
  'GET /api/regions/{code}',
  'GET /api/regions/{code}/config', // branding and enabled services for the public pages
  'GET /api/evoucher/keys',
  'GET /api/evoucher/business-types',
  'GET /api/evoucher/scopes',
  'GET /api/ebill/verify/captcha',
  'GET /api/message/announcements',
  'GET /api/auth/login-methods',
  'POST /api/evoucher/login-tickets', // the login page's QR (rate-limited per address)
  'POST /api/client-errors', // a page that failed in a browser, signed in or not (rate-limited per address)
]);

/** Routes any signed-in staff member may read about themselves, whatever their permissions. */
const STAFF_SELF = new Set([
  'GET /api/auth/me',
  'GET /api/auth/me/sessions',
  'GET /api/auth/me/logins',
  'GET /api/auth/me/passkeys',
]);

/** Routes that read their body raw (the signature covers the bytes), not through the JSON parser. */
const RAW_BODY = new Set(['POST /api/payment/notify/sandbox']);

interface Route {
  method: string;
  path: string;
}

const fill = (path: string) =>
  path.replace(/\{(\w+)\}/g, (_, name: string) =>
    name === 'code' || name === 'regionCode' ? '990100' : /id$/i.test(name) ? randomUUID() : 'x1',
  );

forEachPlatform('every route', (get) => {
  const routes = async (): Promise<Route[]> => {
    const doc = (await get().app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, object> };
    return Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path })),
    );
  };
  const call = (r: Route, headers: Record<string, string> = {}) =>
    get().app.inject({
      method: r.method as 'GET',
      url: fill(r.path),
      headers: { 'x-region-code': '990100', ...headers },
      ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { payload: {} }),
    });

  test('the sweep sees every center', async () => {
    const prefixes = new Set((await routes()).map((r) => r.path.split('/')[2]));
    for (const c of ['user', 'auth', 'evoucher', 'payment', 'message', 'ebill', 'corezone', 'personal', 'institution'])
      assert.ok(prefixes.has(c), c);
  });

  test('without a token: 4xx problem+json for every route but the public ones, never 5xx', async () => {
    const open: string[] = [];
    const failed: string[] = [];
    for (const r of await routes()) {
      const key = `${r.method} ${r.path}`;
      const res = await call(r);
      if (res.statusCode >= 500) failed.push(`${key} → ${res.statusCode}`);
      else if (res.statusCode < 400 && !PUBLIC.has(key)) open.push(`${key} → ${res.statusCode}`);
      else if (res.statusCode >= 400) assert.match(String(res.headers['content-type']), /problem\+json/, key);
    }
    assert.deepEqual(failed, [], 'server errors');
    assert.deepEqual(open, [], 'answered without a token');
  });

  test('staff without permissions read nothing but public routes and their own account', async () => {
    const headers = await get().auth({ kind: 'staff', subject: randomUUID(), regionCode: '990100' });
    const open: string[] = [];
    for (const r of (await routes()).filter((r) => r.method === 'GET')) {
      const key = `${r.method} ${r.path}`;
      const res = await call(r, headers);
      assert.ok(res.statusCode < 500, `${key} → ${res.statusCode}`);
      if (res.statusCode < 400 && !PUBLIC.has(key) && !STAFF_SELF.has(key)) open.push(`${key} → ${res.statusCode}`);
    }
    assert.deepEqual(open, []);
  });

  test('a person gets nothing from the console routes, and never a 5xx with an empty body', async () => {
    const headers = await get().auth({ kind: 'person', subject: randomUUID(), regionCode: '990100' });
    const failed: string[] = [];
    const open: string[] = [];
    for (const r of await routes()) {
      const key = `${r.method} ${r.path}`;
      const res = await call(r, headers);
      if (res.statusCode >= 500) failed.push(`${key} → ${res.statusCode}`);
      if (/\/admin\/|\/api\/platform\//.test(r.path) && res.statusCode < 400) open.push(`${key} → ${res.statusCode}`);
    }
    assert.deepEqual(failed, []);
    assert.deepEqual(open, []);
  });

  test('random JSON bodies and queries to every route never get a 5xx (fast-check)', async (t) => {
    const all = await routes();
    const person = await get().auth({ kind: 'person', subject: randomUUID(), regionCode: '990100' });
    const staff = await get().auth({ kind: 'staff', subject: randomUUID(), regionCode: '990100' });
    const failed: string[] = [];
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...all),
        fc.jsonValue({ maxDepth: 3 }),
        fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 40 }), { maxKeys: 3 }),
        fc.constantFrom<Record<string, string>>({}, person, staff),
        async (r, body, query, headers) => {
          const res = await get().app.inject({
            method: r.method as 'POST',
            url: fill(r.path),
            query,
            headers: { 'x-region-code': '990100', 'content-type': 'application/json', ...headers },
            ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { payload: JSON.stringify(body) }),
          });
          if (res.statusCode >= 500) failed.push(`${r.method} ${r.path} ${JSON.stringify(body)} → ${res.statusCode}`);
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          return res.statusCode < 500;
        },
      ),
      { numRuns: 600 },
    );
    assert.deepEqual(failed, []);
    t.diagnostic(`statuses: ${JSON.stringify([...statuses].sort((a, b) => a[0] - b[0]))}`);
    assert.ok((statuses.get(415) ?? 0) < 60, `bodies reached the routes: ${JSON.stringify([...statuses])}`);
  });

  test('U+0000 in a body, a query or a path is a 400 NUL_CHARACTER on every route, never a 5xx', async () => {
    const person = await get().auth({ kind: 'person', subject: randomUUID(), regionCode: '990100' });
    const wrong: string[] = [];
    for (const r of await routes()) {
      const hasBody = r.method !== 'GET' && r.method !== 'DELETE';
      const tries = [
        { url: `${fill(r.path)}?q=a%00b` },
        ...(r.path.includes('{') ? [{ url: fill(r.path).replace(/[^/]+$/, 'x%00') }] : []),
        ...(hasBody ? [{ url: fill(r.path), payload: '{"q":"a\\u0000b"}' }] : []),
      ];
      for (const t of tries) {
        const res = await get().app.inject({
          method: r.method as 'POST',
          headers: { 'x-region-code': '990100', 'content-type': 'application/json', ...person },
          ...t,
        });
        // a route that reads its raw body checks the signature over it first: any 4xx refusal will do there
        const refused =
          RAW_BODY.has(`${r.method} ${r.path}`) && t.payload ? res.statusCode < 500 && res.statusCode >= 400 : false;
        if (!refused && (res.statusCode !== 400 || res.json().code !== 'NUL_CHARACTER')) {
          wrong.push(`${r.method} ${t.url} ${t.payload ?? ''} → ${res.statusCode} ${res.body.slice(0, 80)}`);
        }
      }
    }
    // the OIDC provider reads its own bodies: a NUL there is refused by the provider, not a 5xx
    const token = await get().app.inject({
      method: 'POST',
      url: '/oidc/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials&client_id=a%00b&client_secret=x',
    });
    if (token.statusCode >= 500) wrong.push(`POST /oidc/token → ${token.statusCode} ${token.body.slice(0, 120)}`);
    assert.deepEqual(wrong, []);
    // the text "\\u0000" (an escaped backslash, then u0000) is not a NUL and passes the door
    const text = await get().app.inject({
      method: 'POST',
      url: '/api/evoucher/login-tickets',
      headers: { 'content-type': 'application/json' },
      payload: '{"q":"a\\\\u0000b"}',
    });
    assert.notEqual(text.json().code, 'NUL_CHARACTER');
  });
});
