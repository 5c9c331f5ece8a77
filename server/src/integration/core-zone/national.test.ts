import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bpToProp, propToBp, toFen, toYuan } from './national.ts';

test('fen → yuan → fen is exact for every safe amount, both signs', () => {
  fc.assert(
    fc.property(fc.integer({ min: -900_719_925_474, max: 900_719_925_474 }), (fen) => {
      const back = toFen(toYuan(fen), 'x');
      assert.equal(back, fen);
      assert.ok(!Object.is(back, -0));
    }),
  );
  assert.equal(toYuan(12345), 123.45);
  assert.equal(toYuan(5), 0.05);
  assert.equal(toYuan(-120), -1.2);
});

test('yuan input: decimal strings and numbers with at most two decimals; anything else is CORE_INVALID_AMOUNT', () => {
  assert.equal(toFen('1.1', 'x'), 110);
  assert.equal(toFen(0.29, 'x'), 29); // 0.29 * 100 = 28.999… in floating point; parsed as text it is exact
  assert.equal(toFen('1000', 'x'), 100_000);
  for (const bad of ['1.234', '1e3', '', 'abc', null, undefined, Number.NaN, '1,00', {}]) {
    assert.throws(() => toFen(bad, 'x'), { code: 'CORE_INVALID_AMOUNT' }, String(bad));
  }
});

test('self-pay ratio: basis points ↔ decimal fraction', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 10_000 }), (bp) => assert.equal(propToBp(bpToProp(bp)), bp)));
  assert.equal(bpToProp(1000), 0.1);
});
