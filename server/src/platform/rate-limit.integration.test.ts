import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachPlatform } from '../testing/platform.ts';

forEachPlatform('rate limit (anonymous QR-login tickets)', (get) => {
  test('the window’s limit per address, then 429 with Retry-After; other addresses and regions unaffected', async () => {
    const create = (ip: string, region = '990100') =>
      get().app.inject({
        method: 'POST',
        url: '/api/evoucher/login-tickets',
        remoteAddress: ip,
        headers: { 'x-region-code': region },
      });
    const statuses = await Promise.all(Array.from({ length: 62 }, () => create('198.51.100.7')));
    const counts: Record<number, number> = {};
    for (const r of statuses) counts[r.statusCode] = (counts[r.statusCode] ?? 0) + 1;
    // A window boundary may fall inside the burst, so up to twice the limit can pass, never more.
    assert.ok((counts[200] ?? 0) >= 60 && (counts[200] ?? 0) <= 120, JSON.stringify(counts));
    const refused = statuses.find((r) => r.statusCode === 429);
    if (refused) {
      assert.equal(refused.json().code, 'RATE_LIMITED');
      assert.match(String(refused.headers['content-type']), /problem\+json/);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
    } else assert.equal(counts[200], 62, 'a window boundary fell inside the burst');
    assert.equal((await create('198.51.100.8')).statusCode, 200, 'another address');
    assert.equal((await create('198.51.100.7', '980100')).statusCode, 200, 'another region');
  });
});
