import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sm3 as theirSm3 } from 'sm-crypto-v2';
import { hmacSm3, sm3, sm3Hex } from './index.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('SM3', () => {
  it('matches the GB/T 32905 example 1 ("abc")', () => {
    assert.equal(sm3Hex('abc'), '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });

  it('matches the GB/T 32905 example 2 (512-bit "abcd" × 16)', () => {
    assert.equal(sm3Hex('abcd'.repeat(16)), 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
  });

  it('agrees with sm-crypto-v2 on random input, and hashes parts as their concatenation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (data, cut) => {
        const split = Math.min(cut, data.length);
        assert.equal(hex(sm3(data)), theirSm3(data));
        assert.equal(hex(sm3(data.subarray(0, split), data.subarray(split))), hex(sm3(data)));
      }),
    );
  });

  it('HMAC-SM3 agrees with sm-crypto-v2', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.string(), (key, message) => {
        assert.equal(hex(hmacSm3(key, message)), theirSm3(message, { key }));
      }),
    );
  });
});
