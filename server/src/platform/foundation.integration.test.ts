import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachPlatform } from '../testing/platform.ts';
import { enqueue } from './jobs.ts';

forEachPlatform('platform HTTP conventions', (get) => {
  test('healthz and readyz', async () => {
    const { app } = get();
    assert.equal((await app.inject('/healthz')).json().status, 'ok');
    const ready = await app.inject('/readyz');
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json().status, 'ready');
  });

  test('malformed JSON is a 400 problem, not a 500', async () => {
    const { app } = get();
    const res = await app.inject({
      method: 'PUT',
      url: '/api/regions/990100/config',
      headers: { 'content-type': 'application/json' },
      payload: '{bad',
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(res.json().code, 'MALFORMED_JSON');
    assert.equal(res.json().detail, '第 2 个字符处有语法错误（请检查引号、逗号和括号）');
  });

  test('a JSON body is refused in Chinese: cut short, empty, or carrying __proto__', async () => {
    const { app } = get();
    const send = (payload: string) =>
      app.inject({
        method: 'PUT',
        url: '/api/regions/990100/config',
        headers: { 'content-type': 'application/json' },
        payload,
      });
    const details = await Promise.all(
      ['{"displayName": "x"', '', '{"__proto__": {"admin": true}}'].map(async (p) => {
        const res = await send(p);
        assert.equal(res.statusCode, 400);
        assert.equal(res.json().code, 'MALFORMED_JSON');
        return res.json().detail;
      }),
    );
    assert.deepEqual(details, [
      '请求体不完整（意外结束）',
      '请求体为空',
      '请求体含有不允许的键 __proto__ 或 constructor',
    ]);
  });

  test('an undecodable path is a 400 problem in Chinese', async () => {
    const { app } = get();
    const res = await app.inject('/api/%ZZ');
    assert.equal(res.statusCode, 400);
    assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(res.json().code, 'BAD_URL');
    assert.equal(res.json().title, '请求地址无效');
  });

  test('wrong content type is 415', async () => {
    const { app } = get();
    const res = await app.inject({
      method: 'PUT',
      url: '/api/regions/990100/config',
      headers: { 'content-type': 'text/plain' },
      payload: 'x',
    });
    assert.equal(res.statusCode, 415);
    assert.equal(res.json().code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('oversize body is 413', async () => {
    const { app } = get();
    const res = await app.inject({
      method: 'PUT',
      url: '/api/regions/990100/config',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ displayName: 'x'.repeat(2 * 1024 * 1024) }),
    });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().code, 'PAYLOAD_TOO_LARGE');
  });

  test('unknown fields and bad values name the field', async () => {
    const p = get();
    const headers = await p.auth({ kind: 'staff', subject: 'nobody', regionCode: '990100' });
    const res = await p.app.inject({
      method: 'PUT',
      url: '/api/regions/990100/config',
      headers,
      payload: { brandColor: 'red', surprise: 1 },
    });
    // Permission is checked before the body? No: validation runs first and names both fields.
    assert.equal(res.statusCode, 400);
    const fields = res
      .json()
      .errors.map((e: { field: string }) => e.field)
      .sort();
    assert.deepEqual(fields, ['brandColor', 'surprise']);
  });

  test('a bad region code is refused with REGION_UNKNOWN', async () => {
    const { app } = get();
    for (const code of ['12', '000000']) {
      const res = await app.inject({ url: '/api/regions', headers: { 'x-region-code': code } });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().code, 'REGION_UNKNOWN');
    }
  });

  test('staff routes need the permission in the region', async () => {
    const p = get();
    const res = await p.app.inject({
      url: '/api/platform/jobs',
      headers: await p.auth({ kind: 'staff', subject: 's1', regionCode: '990100' }),
    });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().code, 'PERMISSION_DENIED');
    assert.equal((await p.app.inject('/api/platform/jobs')).statusCode, 401);
  });

  test("the job overview shows the staff member's region and platform-wide jobs, not another region's", async () => {
    const p = get();
    const before = p.ctx.permissions;
    p.ctx.permissions = { permissionsOf: async () => new Set(['ops:read']) };
    try {
      for (const regionCode of ['990100', '990100', '980100', undefined])
        await enqueue(p.ctx.db, 't.overview', {}, { regionCode });
      await enqueue(p.ctx.db, 't.elsewhere', {}, { regionCode: '980100' });
      const res = await p.app.inject({
        url: '/api/platform/jobs',
        headers: await p.auth({ kind: 'staff', subject: 's1', regionCode: '990100' }),
      });
      const stats: { queue: string; count: number }[] = res.json().stats;
      assert.deepEqual(
        stats.filter((s) => s.queue.startsWith('t.')).map((s) => [s.queue, s.count]),
        [['t.overview', 3]],
      );
    } finally {
      p.ctx.permissions = before;
    }
  });

  test('a forged token is refused', async () => {
    const { app } = get();
    const res = await app.inject({ url: '/api/regions', headers: { authorization: 'Bearer abc.def.ghi' } });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().code, 'TOKEN_INVALID');
  });

  test('openapi.json is OpenAPI 3.1 with tags', async () => {
    const { app } = get();
    const doc = (await app.inject('/openapi.json')).json();
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/regions/{code}/config']);
    assert.ok(doc.tags.some((t: { name: string }) => t.name === 'platform'));
  });

  test('metrics show requests by route and status', async () => {
    const { app } = get();
    await app.inject('/healthz');
    const text = (await app.inject('/metrics')).body;
    assert.match(text, /http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    assert.match(text, /http_request_duration_seconds_bucket/);
  });

  test('a page that failed in a browser is counted in /metrics; a bad report is refused; a flood is limited', async () => {
    const { app } = get();
    const report = (payload: unknown, ip = '198.51.100.7') =>
      app.inject({ method: 'POST', url: '/api/client-errors', payload: payload as object, remoteAddress: ip });
    const chunk = { kind: 'chunk', path: '/personal/settings', message: 'Failed to fetch dynamically imported module' };
    assert.equal((await report(chunk)).statusCode, 204);
    assert.equal((await report({ ...chunk, kind: 'render' })).statusCode, 204);
    const text = (await app.inject('/metrics')).body;
    assert.match(text, /web_client_errors_total\{kind="chunk"\} 1\n/);
    assert.match(text, /web_client_errors_total\{kind="render"\} 1\n/);

    const withQuery = await report({ ...chunk, path: '/personal/payments?order=x' });
    assert.equal(withQuery.statusCode, 400);
    assert.equal(withQuery.json().code, 'VALIDATION_FAILED');
    assert.equal((await report({ ...chunk, message: 'x'.repeat(501) })).statusCode, 400);

    const flood = await Promise.all(Array.from({ length: 25 }, () => report(chunk, '198.51.100.8')));
    const codes = flood.map((r) => r.statusCode);
    assert.equal(codes.filter((c) => c === 204).length, 20);
    assert.ok(flood.filter((r) => r.statusCode === 429).every((r) => r.json().code === 'RATE_LIMITED'));
  });

  test('unknown routes are 404 problems', async () => {
    const res = await get().app.inject('/api/nothing-here');
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'NOT_FOUND');
  });
});
