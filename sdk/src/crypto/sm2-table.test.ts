import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SM2_CURVE, Sm2Point } from './sm2-curve.ts';
import {
  buildOddTable,
  buildWindowTable,
  mulAddX,
  mulAddXEqualsModN,
  mulSecretAffine,
  mulSecretXEqualsModN,
} from './sm2-table.ts';

const N = SM2_CURVE.n;
const scalar = fc.oneof(
  fc.bigInt({ min: 0n, max: N - 1n }),
  fc.constantFrom(0n, 1n, 2n, 3n, N - 1n, N - 2n, 2n ** 128n),
);
const G = Sm2Point.BASE;
const Q = G.multiply(0x1234567890abcdefn);
const q = Q.toAffine();

describe('SM2 window tables', () => {
  for (const window of [2, 5, 8]) {
    it(`k1·G + k2·Q matches @noble/curves (window ${window})`, () => {
      const tableG = buildWindowTable(SM2_CURVE.Gx, SM2_CURVE.Gy, window);
      const tableQ = buildWindowTable(q.x, q.y, window);
      fc.assert(
        fc.property(scalar, scalar, (k1, k2) => {
          const expected = G.multiplyUnsafe(k1).add(Q.multiplyUnsafe(k2));
          const x = mulAddX(tableG, k1, tableQ, k2);
          assert.equal(x, expected.is0() ? undefined : expected.toAffine().x);
          if (!expected.is0()) {
            const target = expected.toAffine().x % N;
            assert.ok(mulAddXEqualsModN(tableG, k1, tableQ, k2, target, N));
            assert.equal(mulAddXEqualsModN(tableG, k1, tableQ, k2, (target + 1n) % N, N), false);
          }
        }),
        { numRuns: 40 },
      );
    });
  }

  it('handles doubling and cancellation inside the sum (A = B)', () => {
    const table = buildWindowTable(SM2_CURVE.Gx, SM2_CURVE.Gy, 4);
    assert.equal(mulAddX(table, 5n, table, 5n), G.multiply(10n).toAffine().x);
    assert.equal(mulAddX(table, 5n, table, N - 5n), undefined);
    assert.equal(mulAddX(table, 0n, table, 0n), undefined);
  });

  for (const window of [2, 5, 10]) {
    it(`k·G for secret scalars matches @noble/curves (odd table, window ${window})`, () => {
      const table = buildOddTable(SM2_CURVE.Gx, SM2_CURVE.Gy, window);
      const secret = fc.oneof(
        fc.bigInt({ min: 1n, max: N - 1n }),
        fc.constantFrom(1n, 2n, 3n, 4n, N - 1n, N - 2n, 2n ** 128n, 2n ** 255n, N - 2n ** 64n),
      );
      const blind = fc.bigInt({ min: 1n, max: SM2_CURVE.p - 1n });
      fc.assert(
        fc.property(secret, blind, (k, b) => {
          const expected = G.multiply(k).toAffine();
          assert.deepEqual(mulSecretAffine(table, k, N, b), { x: expected.x, y: expected.y });
          const target = expected.x % N;
          assert.ok(mulSecretXEqualsModN(table, k, N, target));
          assert.equal(mulSecretXEqualsModN(table, k, N, (target + 1n) % N), false);
        }),
        { numRuns: 40 },
      );
    });
  }
});
