/**
 * The provider's signing key signs DER and converts to the JOSE form r ‖ s itself: every converted signature must
 * verify as node:crypto's 'ieee-p1363' encoding (including r or s with leading zero bytes, about 1 in 128
 * signatures), short integers are left-padded, and anything that is not DER is refused.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { derToJoseSignature, PlatformSigningKey } from './provider.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('auth: ES256 signatures of the provider key', () => {
  it('DER → r ‖ s: 64 bytes that verify as node:crypto ieee-p1363 (2000 random messages)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (data) => {
        const der = sign('sha256', data, privateKey);
        const jose = derToJoseSignature(der, 32);
        assert.equal(jose.length, 64);
        assert.ok(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, jose));
      }),
      { numRuns: 2000 },
    );
  });

  it('short r or s are left-padded (constructed DER with a 31-byte r and a 33-byte s with its sign byte)', () => {
    const r = Buffer.alloc(31, 0x11);
    const s = Buffer.concat([Buffer.from([0x00, 0x80]), Buffer.alloc(31, 0x22)]);
    const der = Buffer.concat([
      Buffer.from([0x30, 2 + r.length + 2 + s.length, 0x02, r.length]),
      r,
      Buffer.from([0x02, s.length]),
      s,
    ]);
    const jose = derToJoseSignature(der, 32);
    assert.deepEqual(jose.subarray(0, 32), Buffer.concat([Buffer.from([0]), r]));
    assert.deepEqual(jose.subarray(32), s.subarray(1));
  });

  it('anything that is not a DER ECDSA signature throws', () => {
    const good = sign('sha256', Buffer.from('x'), privateKey);
    for (const bad of [
      Buffer.alloc(0),
      Buffer.from([0x31, 0x00]),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from([0])]),
      Buffer.from([0x30, 0x06, 0x02, 0x01, 0x01, 0x03, 0x01, 0x01]),
      // a 33-byte integer without a leading zero does not fit 32 bytes
      Buffer.concat([Buffer.from([0x30, 0x26, 0x02, 0x21]), Buffer.alloc(33, 0x7f), Buffer.from([0x02, 0x01, 0x01])]),
    ]) {
      assert.throws(() => derToJoseSignature(bad, 32), /DER/);
    }
  });

  it('PlatformSigningKey signatures verify as ES256 with its public key', async () => {
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'k1' };
    const key = new PlatformSigningKey(jwk);
    const data = Buffer.from('header.payload');
    const sig = await key.sign(data);
    assert.equal(key.kid, 'k1');
    assert.ok(verify('sha256', data, { key: key.keyObject(), dsaEncoding: 'ieee-p1363' }, sig));
    assert.ok(!verify('sha256', Buffer.from('header.payload2'), { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig));
  });
});
