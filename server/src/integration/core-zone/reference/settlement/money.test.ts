import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { floorDiv, MAX_FEN, mulBpFloor, mulBpRoundHalfUp } from './money.ts';

// BigInt oracle: exact rational arithmetic, independent of the float-safe formulas under test.
const fenArb = fc.integer({ min: 0, max: MAX_FEN });
const bpArb = fc.integer({ min: 0, max: 10_000 });

test('mulBpFloor equals exact floor(amount × bp / 10000) over the whole legal range', () => {
  fc.assert(
    fc.property(fenArb, bpArb, (amount, bp) => {
      assert.equal(mulBpFloor(amount, bp), Number((BigInt(amount) * BigInt(bp)) / 10_000n));
    }),
    { numRuns: 2000 },
  );
});

test('mulBpRoundHalfUp equals exact round-half-up over the whole legal range', () => {
  fc.assert(
    fc.property(fenArb, bpArb, (amount, bp) => {
      assert.equal(mulBpRoundHalfUp(amount, bp), Number((BigInt(amount) * BigInt(bp) + 5_000n) / 10_000n));
    }),
    { numRuns: 2000 },
  );
});

test('edge values: halves round up, near-bound quotients do not round up', () => {
  assert.equal(mulBpRoundHalfUp(105, 1000), 11); // 10.5 → 11
  assert.equal(mulBpRoundHalfUp(104, 1000), 10); // 10.4 → 10
  assert.equal(mulBpFloor(9_999, 4000), 3_999); // 3999.6 → 3999
  assert.equal(mulBpFloor(MAX_FEN, 10_000), MAX_FEN);
  assert.equal(mulBpFloor(MAX_FEN, 9_999), Number((BigInt(MAX_FEN) * 9_999n) / 10_000n));
  // MAX_FEN is the largest amount whose amount × 10000 + 5000 is still a safe integer
  assert.equal(BigInt(MAX_FEN), (BigInt(Number.MAX_SAFE_INTEGER) - 5_000n) / 10_000n);
  assert.equal(mulBpRoundHalfUp(MAX_FEN, 10_000), MAX_FEN);
  assert.equal(mulBpRoundHalfUp(MAX_FEN, 9_999), Number((BigInt(MAX_FEN) * 9_999n + 5_000n) / 10_000n));
  // floorDiv is exact right up to the safe-integer bound
  for (const n of [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, MAX_FEN * 10_000 + 5_000]) {
    assert.equal(floorDiv(n, 10_000), Number(BigInt(n) / 10_000n));
  }
});
