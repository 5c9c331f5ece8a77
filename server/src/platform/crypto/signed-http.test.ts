import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { signedHttpHeaders, verifySignedHttp } from './index.ts';

test('signed HTTP verifies what was signed, and nothing changed or stale', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1 }), fc.string(), fc.string(), (secret, path, body) => {
      const now = Date.now();
      const h = signedHttpHeaders('x-t', secret, 'post', `/${path}`, body, now);
      assert.ok(verifySignedHttp('x-t', secret, h, 'POST', `/${path}`, body, now + 1000));
      assert.ok(!verifySignedHttp('x-t', `${secret}!`, h, 'POST', `/${path}`, body, now));
      assert.ok(!verifySignedHttp('x-t', secret, h, 'POST', `/${path}`, `${body} `, now));
      assert.ok(!verifySignedHttp('x-t', secret, h, 'GET', `/${path}`, body, now));
      assert.ok(!verifySignedHttp('x-u', secret, h, 'POST', `/${path}`, body, now), 'another prefix');
      assert.ok(!verifySignedHttp('x-t', secret, h, 'POST', `/${path}`, body, now + 301_000), 'outside the window');
    }),
    { numRuns: 200 },
  );
});
