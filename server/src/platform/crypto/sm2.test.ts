import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { invert } from '@noble/curves/abstract/modular.js';
import fc from 'fast-check';
import { sm2 as theirs } from 'sm-crypto-v2';
import {
  sm2ComputeZ,
  sm2GenerateKeyPair,
  sm2GetPublicKey,
  sm2PrecomputePublicKey,
  sm2Sign,
  sm2SignatureFromDer,
  sm2SignatureToDer,
  sm2Verify,
  sm2VerifyOwn,
} from './index.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
const keys = Array.from({ length: 3 }, () => sm2GenerateKeyPair());
const theirKey = theirs.generateKeyPairHex();
const message = fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }));
const keyIndex = fc.nat(keys.length - 1);
const RUNS = { numRuns: 60 };

describe('SM2 keys', () => {
  it('derive the same public key as sm-crypto-v2, in 04||x||y form', () => {
    assert.equal(sm2GetPublicKey(theirKey.privateKey), theirKey.publicKey);
    for (const key of keys) {
      assert.match(key.publicKey, /^04[0-9a-f]{128}$/);
      assert.equal(theirs.getPublicKeyFromPrivateKey(key.privateKey), key.publicKey);
    }
  });

  it('compute the same Z value as sm-crypto-v2', () => {
    assert.equal(hex(sm2ComputeZ(keys[0].publicKey)), hex(theirs.getZ(keys[0].publicKey)));
    assert.equal(
      hex(sm2ComputeZ(keys[0].publicKey, 'alice@example')),
      hex(theirs.getZ(keys[0].publicKey, 'alice@example')),
    );
  });

  it('reject invalid keys', () => {
    assert.throws(() => sm2GetPublicKey('00'.repeat(32)), RangeError);
    assert.throws(() => sm2GetPublicKey('zz'), TypeError);
    assert.throws(() => sm2Verify('m', new Uint8Array(64), `04${'11'.repeat(64)}`), TypeError);
  });
});

describe('SM2 interoperability with sm-crypto-v2', () => {
  it('ours sign (raw) → sm-crypto-v2 verify', () => {
    fc.assert(
      fc.property(message, keyIndex, (msg, i) => {
        const signature = sm2Sign(msg, keys[i].privateKey);
        assert.equal(signature.length, 64);
        assert.ok(theirs.doVerifySignature(msg, hex(signature), keys[i].publicKey, { hash: true }));
      }),
      RUNS,
    );
  });

  it('ours sign (DER) → sm-crypto-v2 verify with der: true', () => {
    fc.assert(
      fc.property(message, keyIndex, (msg, i) => {
        const signature = sm2Sign(msg, keys[i].privateKey, { format: 'der' });
        assert.equal(signature[0], 0x30);
        assert.ok(theirs.doVerifySignature(msg, hex(signature), keys[i].publicKey, { hash: true, der: true }));
      }),
      RUNS,
    );
  });

  it('sm-crypto-v2 sign (raw and DER) → ours verify, and a changed message fails', () => {
    fc.assert(
      fc.property(message, fc.boolean(), (msg, der) => {
        const signature = bytes(theirs.doSignature(msg, theirKey.privateKey, { hash: true, der }));
        assert.ok(sm2Verify(msg, signature, theirKey.publicKey));
        assert.ok(sm2Verify(msg, signature, theirKey.publicKey, { format: der ? 'der' : 'raw' }));
        const other = typeof msg === 'string' ? `${msg}.` : Uint8Array.of(...msg, 0);
        assert.equal(sm2Verify(other, signature, theirKey.publicKey), false);
      }),
      RUNS,
    );
  });

  it('custom user id interoperates both ways', () => {
    fc.assert(
      fc.property(message, fc.string({ minLength: 1, maxLength: 40 }), (msg, userId) => {
        const ours = sm2Sign(msg, keys[0].privateKey, { userId });
        assert.ok(theirs.doVerifySignature(msg, hex(ours), keys[0].publicKey, { hash: true, userId }));
        const theirSig = bytes(theirs.doSignature(msg, keys[0].privateKey, { hash: true, userId }));
        assert.ok(sm2Verify(msg, theirSig, keys[0].publicKey, { userId }));
        if (userId !== '1234567812345678') assert.equal(sm2Verify(msg, theirSig, keys[0].publicKey), false);
      }),
      { numRuns: 20 },
    );
  });
});

describe('SM2 verify', () => {
  it('gives the same answers before and after the key is precomputed', () => {
    const fresh = sm2GenerateKeyPair();
    const sig = sm2Sign('same', fresh.privateKey);
    const bad = Uint8Array.from(sig, (b, i) => (i === 40 ? b ^ 1 : b));
    const before = [sm2Verify('same', sig, fresh.publicKey), sm2Verify('same', bad, fresh.publicKey)];
    sm2PrecomputePublicKey(fresh.publicKey);
    assert.deepEqual(before, [true, false]);
    assert.deepEqual([sm2Verify('same', sig, fresh.publicKey), sm2Verify('same', bad, fresh.publicKey)], [true, false]);
  });

  it('rejects any flipped signature bit, wrong key, out-of-range and malformed signatures', () => {
    const sig = sm2Sign('msg', keys[0].privateKey);
    fc.assert(
      fc.property(fc.nat(64 * 8 - 1), (bit) => {
        const flipped = Uint8Array.from(sig, (b, i) => (i === bit >> 3 ? b ^ (1 << (bit & 7)) : b));
        assert.equal(sm2Verify('msg', flipped, keys[0].publicKey), false);
      }),
    );
    assert.equal(sm2Verify('msg', sig, keys[1].publicKey), false);
    assert.equal(sm2Verify('msg', new Uint8Array(64), keys[0].publicKey), false);
    assert.equal(sm2Verify('msg', new Uint8Array(64).fill(0xff), keys[0].publicKey), false);
    assert.equal(sm2Verify('msg', new Uint8Array(10), keys[0].publicKey), false);
    assert.equal(sm2Verify('msg', sig, keys[0].publicKey, { format: 'der' }), false);
  });

  it("with one's own private key gives the same answers as with the public key", () => {
    const N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;
    const own = keys[0];
    const d = BigInt(`0x${own.privateKey}`);
    const agree = (msg: string | Uint8Array, sig: Uint8Array) =>
      assert.equal(sm2VerifyOwn(msg, sig, own.privateKey), sm2Verify(msg, sig, own.publicKey));
    fc.assert(
      fc.property(message, fc.nat(64 * 8 - 1), (msg, bit) => {
        const sig = sm2Sign(msg, own.privateKey);
        assert.ok(sm2VerifyOwn(msg, sig, own.privateKey));
        assert.ok(sm2VerifyOwn(msg, sm2SignatureToDer(sig), own.privateKey));
        const flipped = Uint8Array.from(sig, (b, i) => (i === bit >> 3 ? b ^ (1 << (bit & 7)) : b));
        agree(msg, flipped);
        assert.equal(sm2VerifyOwn(msg, flipped, own.privateKey), false);
        assert.equal(sm2VerifyOwn(msg, sm2Sign(msg, keys[1].privateKey), own.privateKey), false);
      }),
      { numRuns: 40 },
    );
    // s + (r + s)·d ≡ 0 (mod n): the verifier's point is at infinity; both refuse
    const r = 12345n;
    const s = (((N - ((r * d) % N)) % N) * invert(1n + d, N)) % N;
    const atInfinity = Buffer.from(r.toString(16).padStart(64, '0') + s.toString(16).padStart(64, '0'), 'hex');
    agree('msg', atInfinity);
    assert.equal(sm2VerifyOwn('msg', atInfinity, own.privateKey), false);
    for (const bad of [new Uint8Array(64), new Uint8Array(64).fill(0xff), new Uint8Array(10)]) agree('msg', bad);
  });

  it('converts between raw and DER losslessly', () => {
    fc.assert(
      fc.property(message, (msg) => {
        const raw = sm2Sign(msg, keys[0].privateKey);
        const der = sm2SignatureToDer(raw);
        assert.deepEqual(sm2SignatureFromDer(der), raw);
        assert.ok(sm2Verify(msg, der, keys[0].publicKey));
      }),
      { numRuns: 20 },
    );
  });
});
