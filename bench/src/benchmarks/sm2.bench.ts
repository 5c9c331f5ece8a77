/**
 * SM2 benchmarks. Shape: `{ name, unit, run(n), floor?, goalRatio? }` for the shared bench harness.
 * The floor is OpenSSL's native SM2 verify rate (`openssl speed -seconds 1 sm2`), NaN if unavailable.
 */
import { sm2GenerateKeyPair, sm2PrecomputePublicKey, sm2Sign, sm2Verify } from '@yibao/sdk';
import { sm2 as smCrypto } from 'sm-crypto-v2';
import { opensslSm2VerifyRate } from '../floors.ts';

const MESSAGES = 64;
const key = sm2GenerateKeyPair();
const messages = Array.from({ length: MESSAGES }, (_, i) => `appId=wx01&data={"i":${i}}&transType=6202&key=secret`);
const signatures = messages.map((message) => sm2Sign(message, key.privateKey));
const signaturesHex = signatures.map((signature) => Buffer.from(signature).toString('hex'));

const opensslFloor = { name: 'openssl speed sm2 (native)', opsPerSec: opensslSm2VerifyRate };

function check(ok: boolean): void {
  if (!ok) throw new Error('SM2 verification failed during the benchmark');
}

/** sm-crypto-v2 in its recommended mode: its own precomputed public-key point (default window). */
const theirPrecomputedKey = smCrypto.precomputePublicKey(key.publicKey);

function theirVerify(n: number, publicKey: Parameters<typeof smCrypto.doVerifySignature>[2]): void {
  for (let i = 0; i < n; i++) {
    check(smCrypto.doVerifySignature(messages[i % MESSAGES], signaturesHex[i % MESSAGES], publicKey, { hash: true }));
  }
}

export default [
  {
    name: 'SM2 verify (ours, cached window)',
    unit: 'ops',
    run: async (n: number) => {
      sm2PrecomputePublicKey(key.publicKey);
      for (let i = 0; i < n; i++) check(sm2Verify(messages[i % MESSAGES], signatures[i % MESSAGES], key.publicKey));
    },
    floor: opensslFloor,
    goalRatio: 0.5,
  },
  {
    name: 'SM2 verify (sm-crypto-v2)',
    unit: 'ops',
    run: async (n: number) => theirVerify(n, theirPrecomputedKey),
    floor: opensslFloor,
  },
  {
    name: 'SM2 verify (sm-crypto-v2, no precompute)',
    unit: 'ops',
    run: async (n: number) => theirVerify(n, key.publicKey),
  },
  {
    name: 'SM2 sign (ours)',
    unit: 'ops',
    run: async (n: number) => {
      for (let i = 0; i < n; i++) sm2Sign(messages[i % MESSAGES], key.privateKey);
    },
  },
];
