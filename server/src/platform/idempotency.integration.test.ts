import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachPlatform } from '../testing/platform.ts';
import { probeCenter } from '../testing/probe-center.ts';

forEachPlatform(
  'Idempotency-Key',
  (get) => {
    const post = (key: string | undefined, by: number, headers: Record<string, string> = {}) =>
      get().app.inject({
        method: 'POST',
        url: '/api/probe/increment',
        headers: { ...headers, ...(key ? { 'idempotency-key': key } : {}) },
        payload: { by },
      });

    test('same key and body → the stored first response, executed once', async () => {
      const first = await post('key-00000001', 2);
      const second = await post('key-00000001', 2);
      assert.equal(first.statusCode, 200);
      assert.deepEqual(second.json(), first.json());
      assert.equal(second.headers['idempotent-replayed'], 'true');
      const third = await post('key-00000002', 2);
      assert.equal(third.json().n, first.json().n + 2);
    });

    test('same key, different body → 422', async () => {
      await post('key-00000003', 1);
      const res = await post('key-00000003', 5);
      assert.equal(res.statusCode, 422);
      assert.equal(res.json().code, 'IDEMPOTENCY_KEY_REUSED');
    });

    test('a refusal is replayed as the same refusal', async () => {
      const a = await post('key-00000004', 13);
      const b = await post('key-00000004', 13);
      assert.equal(a.statusCode, 422);
      assert.deepEqual(b.json(), a.json());
    });

    test('"authenticate further" (401) and "wait" (429) are not outcomes: the same key runs once allowed, once', async () => {
      for (const [by, key] of [
        [42, 'key-00000006'],
        [43, 'key-00000007'],
      ] as const) {
        const notYet = await post(key, by);
        assert.equal(notYet.statusCode, by === 42 ? 401 : 429);
        assert.equal(notYet.headers['idempotent-replayed'], undefined);
        const ready = await post(key, by, { 'x-probe-ready': 'yes' });
        assert.equal(ready.statusCode, 200, `${by}: ${ready.body}`);
        const again = await post(key, by, { 'x-probe-ready': 'yes' });
        assert.equal(again.headers['idempotent-replayed'], 'true');
        assert.deepEqual(again.json(), ready.json());
      }
    });

    test('concurrent requests with one key execute once', async () => {
      const before = (await post(undefined, 1)).json().n;
      const results = await Promise.all(Array.from({ length: 10 }, () => post('key-00000005', 3)));
      const ok = results.filter((r) => r.statusCode === 200);
      assert.ok(ok.length >= 1);
      assert.ok(results.every((r) => r.statusCode === 200 || r.json().code === 'IDEMPOTENCY_IN_PROGRESS'));
      const after = (await post(undefined, 1)).json().n;
      assert.equal(after - before, 1 + 3);
    });

    test('a malformed key is a 400 naming the header', async () => {
      const res = await post('short', 1);
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().errors[0].field, 'Idempotency-Key');
    });
  },
  { centers: [probeCenter] },
);
