import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import QRCode from 'qrcode';
import {
  base32Decode,
  base32Encode,
  decodeEvoucherToken,
  type EvoucherAlg,
  type EvoucherSigningKey,
  EvoucherTokenError,
  generateEvoucherKeyPair,
  issueEvoucherToken,
  verifyEvoucherToken,
} from './token.ts';

const keyOf = (alg: EvoucherAlg, regionCode = '990100', keyId = 7): EvoucherSigningKey => ({
  regionCode,
  keyId,
  alg,
  ...generateEvoucherKeyPair(alg),
});
const keys = { SM2: keyOf('SM2'), Ed25519: keyOf('Ed25519', '990100', 8) };
const keyFor = (region: string, kid: number) =>
  Object.values(keys).find((k) => k.regionCode === region && k.keyId === kid);
/** What an institution has: the public keys only (the issuer's keyFor above also holds the private keys). */
const publicKeyFor = (region: string, kid: number) => {
  const key = keyFor(region, kid);
  return key && { regionCode: key.regionCode, keyId: key.keyId, alg: key.alg, publicKey: key.publicKey };
};
const code = () => randomBytes(8).toString('hex');
const now = Date.UTC(2026, 10, 25, 12) as number;
const exp = now / 1000 + 60;

const refused = (fn: () => unknown, code: string) =>
  assert.throws(fn, (e: unknown) => e instanceof EvoucherTokenError && e.code === code);

test('base32 round-trips any bytes and rejects non-canonical text', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      assert.deepEqual(base32Decode(base32Encode(bytes)), bytes);
    }),
  );
  assert.throws(() => base32Decode('a'));
  assert.throws(() => base32Decode('AB')); // trailing bits set
});

for (const alg of ['SM2', 'Ed25519'] as const) {
  test(`${alg}: issue → verify returns the claims; payload is alphanumeric and fits QR version ≤ 6 at M`, () => {
    const voucherCode = code();
    const token = issueEvoucherToken({ voucherCode, expiresAt: exp }, keys[alg]);
    assert.match(token, /^[A-Z2-7]{141}$/);
    const claims = verifyEvoucherToken(token, { keyFor, now });
    assert.deepEqual(
      { ...claims, nonce: undefined },
      { regionCode: '990100', voucherCode, expiresAt: exp, keyId: keys[alg].keyId, alg, nonce: undefined },
    );
    const qr = QRCode.create(token, { errorCorrectionLevel: 'M' });
    assert.ok(qr.version <= 6, `QR version ${qr.version}`);
  });

  test(`${alg}: flipping any bit of the token is refused (malformed, unknown key or bad signature), by the issuer and by an institution alike`, () => {
    const token = issueEvoucherToken({ voucherCode: code(), expiresAt: exp }, keys[alg]);
    assert.deepEqual(
      verifyEvoucherToken(token, { keyFor: publicKeyFor, now }),
      verifyEvoucherToken(token, { keyFor, now }),
    );
    const bytes = base32Decode(token);
    const refusal = (t: Uint8Array, find: typeof keyFor | typeof publicKeyFor) => {
      try {
        verifyEvoucherToken(base32Encode(t), { keyFor: find, now });
      } catch (e) {
        return e instanceof EvoucherTokenError ? e.code : String(e);
      }
      return 'accepted';
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length * 8 - 1 }), (bit) => {
        const t = new Uint8Array(bytes);
        t[bit >> 3] ^= 1 << (bit & 7);
        const code = refusal(t, keyFor);
        assert.ok(
          ['EVOUCHER_TOKEN_MALFORMED', 'EVOUCHER_TOKEN_UNKNOWN_KEY', 'EVOUCHER_TOKEN_SIGNATURE_INVALID'].includes(code),
          code,
        );
        assert.equal(refusal(t, publicKeyFor), code);
      }),
      { numRuns: 60 },
    );
  });
}

test('each refusal has its own code', () => {
  const good = issueEvoucherToken({ voucherCode: code(), expiresAt: exp }, keys.SM2);
  // tampered voucher code (signature no longer matches)
  const bytes = base32Decode(good);
  bytes[5] ^= 0xff;
  refused(() => verifyEvoucherToken(base32Encode(bytes), { keyFor, now }), 'EVOUCHER_TOKEN_SIGNATURE_INVALID');
  // unknown key id: signed by a key the verifier does not know
  const stranger = issueEvoucherToken({ voucherCode: code(), expiresAt: exp }, keyOf('SM2', '990100', 99));
  refused(() => verifyEvoucherToken(stranger, { keyFor, now }), 'EVOUCHER_TOKEN_UNKNOWN_KEY');
  // a key id we know but another key's signature
  const forged = issueEvoucherToken({ voucherCode: code(), expiresAt: exp }, { ...keyOf('SM2'), keyId: 7 });
  refused(() => verifyEvoucherToken(forged, { keyFor, now }), 'EVOUCHER_TOKEN_SIGNATURE_INVALID');
  refused(() => verifyEvoucherToken(good, { keyFor, now: now + 61_000 + 10_000 }), 'EVOUCHER_TOKEN_EXPIRED');
  verifyEvoucherToken(good, { keyFor, now: now + 65_000 }); // inside the skew tolerance
  refused(() => verifyEvoucherToken(good, { keyFor, now: now - 600_000 }), 'EVOUCHER_CLOCK_SKEW');
  refused(() => verifyEvoucherToken(good.slice(1), { keyFor, now }), 'EVOUCHER_TOKEN_MALFORMED');
  refused(() => verifyEvoucherToken(`${good.slice(0, -1)}1`, { keyFor, now }), 'EVOUCHER_TOKEN_MALFORMED');
  // version nibble 2 is not ours
  const v2 = base32Decode(good);
  v2[0] = 0x21;
  refused(() => decodeEvoucherToken(base32Encode(v2)), 'EVOUCHER_TOKEN_MALFORMED');
  // a key registered for another region does not verify this region's token
  const other = keyOf('SM2', '980100', 7);
  const t980 = issueEvoucherToken({ voucherCode: code(), expiresAt: exp }, other);
  refused(() => verifyEvoucherToken(t980, { keyFor, now }), 'EVOUCHER_TOKEN_UNKNOWN_KEY');
});
