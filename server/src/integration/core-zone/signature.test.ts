import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplayGuard } from './signature.ts';

test('a nonce is accepted once for at least the signature window, then forgotten', () => {
  const guard = new ReplayGuard(1000);
  const t0 = Date.now();
  assert.equal(guard.fresh('n1', t0), true);
  assert.equal(guard.fresh('n1', t0 + 10), false);
  assert.equal(guard.fresh('n2', t0 + 1999), true);
  // a rotation keeps the last generation: both still refused one window later
  assert.equal(guard.fresh('n1', t0 + 2000), false);
  assert.equal(guard.fresh('n2', t0 + 2999), false);
  // two rotations on, the oldest generation is gone (the timestamp window refuses such a call anyway)
  assert.equal(guard.fresh('n1', t0 + 4000), true);
});
