import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sm4 as theirSm4 } from 'sm-crypto-v2';
import { sm4Decrypt, sm4Encrypt } from './index.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const VECTOR_KEY = '0123456789abcdeffedcba9876543210';

describe('SM4', () => {
  it('matches the GB/T 32907 example 1 (one block, no padding)', () => {
    const block = Buffer.from(VECTOR_KEY, 'hex');
    const out = sm4Encrypt(block, VECTOR_KEY, { padding: false });
    assert.equal(hex(out), '681edf34d206965e86b3e94f536e4246');
    assert.equal(hex(sm4Decrypt(out, VECTOR_KEY, { padding: false })), VECTOR_KEY);
  });

  it('PKCS#7 ECB adds a full padding block to a block-aligned input', () => {
    const out = sm4Encrypt(Buffer.from(VECTOR_KEY, 'hex'), VECTOR_KEY);
    assert.equal(out.length, 32);
    assert.equal(hex(out.subarray(0, 16)), '681edf34d206965e86b3e94f536e4246');
  });

  it('ECB and CBC round-trip and agree with sm-crypto-v2', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (data, key, iv) => {
          const ecb = sm4Encrypt(data, key);
          assert.equal(hex(ecb), theirSm4.encrypt(data, key, { mode: 'ecb' }));
          assert.deepEqual(sm4Decrypt(ecb, key), data);
          const cbc = sm4Encrypt(data, key, { mode: 'cbc', iv });
          assert.equal(hex(cbc), theirSm4.encrypt(data, key, { mode: 'cbc', iv }));
          assert.deepEqual(sm4Decrypt(cbc, key, { mode: 'cbc', iv }), data);
        },
      ),
    );
  });

  it('rejects bad keys and IV misuse', () => {
    assert.throws(() => sm4Encrypt(new Uint8Array(1), new Uint8Array(15)), RangeError);
    assert.throws(() => sm4Encrypt(new Uint8Array(1), VECTOR_KEY, { mode: 'cbc' }), TypeError);
    assert.throws(() => sm4Encrypt(new Uint8Array(1), VECTOR_KEY, { iv: VECTOR_KEY }), TypeError);
    assert.throws(() => sm4Decrypt(new Uint8Array(17), VECTOR_KEY));
  });
});
