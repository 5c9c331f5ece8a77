import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sm2 as theirSm2, sm4 as theirSm4 } from 'sm-crypto-v2';
import { AppError } from '../errors.ts';
import {
  buildSignString,
  type ChannelEnvelope,
  canonicalJson,
  deriveEnvelopeKey,
  EnvelopeError,
  type EnvelopeErrorCode,
  signEnvelope,
  sm2GenerateKeyPair,
  sm2Sign,
  sm3,
  sm4Encrypt,
  verifyEnvelope,
  verifyEnvelopeDetailed,
} from './index.ts';

const key = sm2GenerateKeyPair();
const other = sm2GenerateKeyPair();
const appSecret = 'app-secret-测试';
const NOW = 1_750_000_000_000;
const verifyOptions = { publicKey: key.publicKey, appSecret, now: NOW, windowSeconds: 300 };
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const sample = { payOrdId: 'P001', feeSumamt: 12345, items: [{ b: 2, a: 1 }], memo: null };
const signed = (overrides: Partial<Parameters<typeof signEnvelope>[0]> = {}): ChannelEnvelope =>
  signEnvelope({
    appId: 'wx01',
    transType: '6202',
    data: sample,
    privateKey: key.privateKey,
    appSecret,
    now: NOW,
    ...overrides,
  });

function rejects(code: EnvelopeErrorCode, envelope: unknown, options = verifyOptions): void {
  assert.throws(
    () => verifyEnvelope(envelope, options),
    (error: unknown) => error instanceof AppError && error.code === code && error.cause instanceof EnvelopeError,
  );
}

describe('sign string', () => {
  it('follows the documented rule on a worked example', () => {
    const fields = {
      transType: '6201',
      appId: 'A1',
      signData: 'ignored',
      empty: '',
      none: null,
      skipped: undefined,
      zero: 0,
      flag: false,
      data: { z: [3, { y: 1, x: 'é' }], a: { d: null, c: 'x&y' } },
    };
    assert.equal(
      buildSignString(fields, 'S'),
      'appId=A1&data={"a":{"c":"x&y","d":null},"z":[3,{"x":"é","y":1}]}&flag=false&transType=6201&zero=0&key=S',
    );
  });

  it('does not depend on key order at any depth', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.jsonValue()), (fields) => {
        const reversed = Object.fromEntries(Object.entries(fields).reverse());
        assert.equal(buildSignString(reversed, 'k'), buildSignString(fields, 'k'));
        assert.deepEqual(JSON.parse(canonicalJson(fields)), JSON.parse(JSON.stringify(fields)));
      }),
    );
  });
});

describe('signEnvelope / verifyEnvelope', () => {
  it('round-trips plain and encrypted data and exposes the nonce', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (data, encrypt) => {
        const envelope = signed({ data, encrypt });
        assert.equal('data' in envelope, !encrypt);
        assert.equal(envelope.encType, encrypt ? 'SM4' : undefined);
        const verified = verifyEnvelopeDetailed(JSON.parse(JSON.stringify(envelope)), verifyOptions);
        assert.deepEqual(verified.data, JSON.parse(JSON.stringify(data)));
        assert.equal(verified.nonce, envelope.nonce);
        assert.match(envelope.nonce, /^[0-9a-f]{32}$/);
      }),
      { numRuns: 40 },
    );
  });

  it('is verifiable by sm-crypto-v2 over the sign string, and its SM4 body decrypts with sm-crypto-v2', () => {
    const envelope = signed({ encrypt: true });
    const signature = Buffer.from(envelope.signData, 'base64').toString('hex');
    const signString = buildSignString({ ...envelope }, appSecret);
    assert.ok(theirSm2.doVerifySignature(signString, signature, key.publicKey, { hash: true, der: true }));
    const sm4Key = hex(sm3(appSecret).subarray(0, 16));
    assert.equal(hex(deriveEnvelopeKey(appSecret)), sm4Key);
    const body = theirSm4.decrypt(Buffer.from(envelope.encData ?? '', 'base64'), sm4Key, { mode: 'ecb' });
    assert.deepEqual(JSON.parse(body), sample);
  });

  it('accepts an envelope signed by sm-crypto-v2 with a raw r||s signature', () => {
    const unsigned = { ...signed() } as Partial<ChannelEnvelope>;
    delete unsigned.signData;
    const sig = theirSm2.doSignature(buildSignString(unsigned, appSecret), key.privateKey, { hash: true });
    assert.deepEqual(
      verifyEnvelope({ ...unsigned, signData: Buffer.from(sig, 'hex').toString('base64') }, verifyOptions),
      sample,
    );
  });

  it('uses an explicit SM4 key when given', () => {
    const encryptKey = '00112233445566778899aabbccddeeff';
    const envelope = signed({ encryptKey });
    assert.deepEqual(verifyEnvelope(envelope, { ...verifyOptions, decryptKey: encryptKey }), sample);
    rejects('DECRYPT_FAILED', envelope);
  });

  it('rejects any changed field, wrong key or wrong secret with SIGNATURE_INVALID', () => {
    const envelope = signed();
    const tampered: Array<Partial<ChannelEnvelope>> = [
      { appId: 'wx02' },
      { transType: '6203' },
      { nonce: 'f'.repeat(32) },
      { timestamp: String(NOW + 1) },
      { version: '2.0' },
      { data: { ...sample, feeSumamt: 12346 } },
      { signData: 'AAAA' },
      { signData: 'not base64!' },
    ];
    for (const change of tampered) rejects('SIGNATURE_INVALID', { ...envelope, ...change });
    rejects('SIGNATURE_INVALID', { ...envelope, extra: 'x' });
    rejects('SIGNATURE_INVALID', envelope, { ...verifyOptions, publicKey: other.publicKey });
    rejects('SIGNATURE_INVALID', envelope, { ...verifyOptions, appSecret: 'other' });
  });

  it('enforces the timestamp window on both sides', () => {
    const envelope = signed();
    assert.deepEqual(verifyEnvelope(envelope, { ...verifyOptions, now: NOW + 300_000 }), sample);
    rejects('TIMESTAMP_OUT_OF_WINDOW', envelope, { ...verifyOptions, now: NOW + 300_001 });
    rejects('TIMESTAMP_OUT_OF_WINDOW', envelope, { ...verifyOptions, now: NOW - 300_001 });
  });

  it('rejects malformed envelopes', () => {
    const envelope = signed();
    const { data: _data, ...withoutData } = envelope;
    for (const bad of [
      null,
      [],
      'x',
      withoutData,
      { ...envelope, signType: 'RSA' },
      { ...envelope, appId: 7 },
      { ...envelope, timestamp: NOW },
      { ...envelope, timestamp: '2025-01-01' },
      { ...envelope, encType: 'SM4' },
      { ...envelope, encData: 'AAAA', encType: 'SM4' },
      { ...signed({ encrypt: true }), encType: 'AES' },
    ]) {
      rejects('ENVELOPE_MALFORMED', bad);
    }
  });

  it('reports DECRYPT_FAILED for a signed but undecryptable body', () => {
    rejects('DECRYPT_FAILED', signed({ encryptKey: 'ff'.repeat(16) }));
    const { data: _data, signData: _sig, ...unsigned } = signed();
    for (const body of ['short', '{"json": ', '']) {
      const fields = { ...unsigned, encType: 'SM4', encData: Buffer.from(encryptOrRaw(body)).toString('base64') };
      const signData = Buffer.from(sm2Sign(buildSignString(fields, appSecret), key.privateKey)).toString('base64');
      rejects('DECRYPT_FAILED', { ...fields, signData });
    }
  });
});

/** A non-block-sized ciphertext for "short"; otherwise a valid ciphertext of something that is not JSON. */
function encryptOrRaw(body: string): Uint8Array {
  return body === 'short' ? Buffer.from(body) : sm4Encrypt(Buffer.from(body), deriveEnvelopeKey(appSecret));
}
