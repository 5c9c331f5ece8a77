/**
 * The e-voucher dynamic QR token (电子凭证动态码), our own compact design.
 *
 * Binary layout (88 bytes), rendered as unpadded RFC 4648 base32 (141 chars, QR alphanumeric mode):
 *   0      version (high nibble, = 1) | algorithm (low nibble: 1 = SM2, 2 = Ed25519)
 *   1..3   pooling region code as an unsigned 24-bit integer (e.g. 990100)
 *   4..11  voucher code (8 random bytes, identifies the voucher inside the region)
 *   12..15 expiry, unsigned 32-bit epoch seconds
 *   16..21 nonce (6 random bytes; single use is keyed by voucher + nonce + business type)
 *   22..23 key id, unsigned 16-bit, per region
 *   24..87 signature over bytes 0..23: SM2 (GM/T 0003, SM3, raw r||s) or Ed25519
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, randomBytes } from 'node:crypto';
import { bytesToHex, hexToBytes, randomBytesPooled } from '../crypto/bytes.ts';
import { sm2GenerateKeyPair, sm2Sign, sm2Verify, sm2VerifyOwn } from '../crypto/sm2.ts';

export const EVOUCHER_TOKEN_VERSION = 1;
export const EVOUCHER_TOKEN_BYTES = 88;
const SIGNED_BYTES = 24;

export type EvoucherAlg = 'SM2' | 'Ed25519';
const ALG_CODE: Record<EvoucherAlg, number> = { SM2: 1, Ed25519: 2 };
const ALG_BY_CODE: Record<number, EvoucherAlg> = { 1: 'SM2', 2: 'Ed25519' };

export interface EvoucherTokenClaims {
  regionCode: string;
  /** 16 hex digits. */
  voucherCode: string;
  /** Epoch seconds. */
  expiresAt: number;
  /** 12 hex digits. */
  nonce: string;
  keyId: number;
  alg: EvoucherAlg;
}

/** A public key as published by the JWKS-like endpoint. */
export interface EvoucherPublicKey {
  regionCode: string;
  keyId: number;
  alg: EvoucherAlg;
  /** SM2: "04"||x||y hex; Ed25519: 32-byte raw public key hex. */
  publicKey: string;
}

export interface EvoucherSigningKey extends EvoucherPublicKey {
  /** SM2: 64 hex digits; Ed25519: 32-byte seed hex. */
  privateKey: string;
}

export type EvoucherTokenErrorCode =
  | 'EVOUCHER_TOKEN_MALFORMED'
  | 'EVOUCHER_TOKEN_UNKNOWN_KEY'
  | 'EVOUCHER_TOKEN_SIGNATURE_INVALID'
  | 'EVOUCHER_TOKEN_EXPIRED'
  | 'EVOUCHER_CLOCK_SKEW';

const TITLES: Record<EvoucherTokenErrorCode, string> = {
  EVOUCHER_TOKEN_MALFORMED: '电子凭证码格式无效',
  EVOUCHER_TOKEN_UNKNOWN_KEY: '电子凭证码的签名密钥未知',
  EVOUCHER_TOKEN_SIGNATURE_INVALID: '电子凭证码签名无效',
  EVOUCHER_TOKEN_EXPIRED: '电子凭证码已过期，请刷新后重新出示',
  EVOUCHER_CLOCK_SKEW: '时间偏差超出允许范围，请校准终端时间',
};

/** A refused token; `code` is stable, `title` is the Chinese message. Never carries personal data. */
export class EvoucherTokenError extends Error {
  readonly code: EvoucherTokenErrorCode;
  readonly title: string;
  constructor(code: EvoucherTokenErrorCode, detail?: string) {
    super(detail ?? TITLES[code]);
    this.name = 'EvoucherTokenError';
    this.code = code;
    this.title = TITLES[code];
  }
}

// ---- base32 (RFC 4648, no padding) ----
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const B32_INDEX = new Int8Array(128).fill(-1);
for (let i = 0; i < B32.length; i++) B32_INDEX[B32.charCodeAt(i)] = i;

export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32[(buffer << (5 - bits)) & 31];
  return out;
}

/** Strict: only A-Z2-7, and the trailing bits must be zero (so each byte string has exactly one encoding). */
export function base32Decode(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let j = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? B32_INDEX[c] : -1;
    if (v < 0) throw new TypeError('invalid base32');
    buffer = (buffer << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out[j++] = (buffer >>> (bits - 8)) & 255;
      bits -= 8;
    }
    buffer &= (1 << bits) - 1;
  }
  if (buffer !== 0) throw new TypeError('non-canonical base32');
  return out;
}

// ---- Ed25519 with raw keys through node:crypto ----
const ED_PUB_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ED_PRIV_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const edPrivInput = (hex: string) => ({
  key: Buffer.concat([ED_PRIV_PREFIX, Buffer.from(hex, 'hex')]),
  format: 'der' as const,
  type: 'pkcs8' as const,
});
const edPubInput = (hex: string) => ({
  key: Buffer.concat([ED_PUB_PREFIX, Buffer.from(hex, 'hex')]),
  format: 'der' as const,
  type: 'spki' as const,
});
const edPrivateCache = new Map<string, ReturnType<typeof createPrivateKey>>();
function edPrivate(hex: string) {
  let k = edPrivateCache.get(hex);
  if (!k) {
    k = createPrivateKey(edPrivInput(hex));
    if (edPrivateCache.size > 64) edPrivateCache.clear();
    edPrivateCache.set(hex, k);
  }
  return k;
}
const edPublicCache = new Map<string, ReturnType<typeof createPublicKey>>();
function edPublic(hex: string) {
  let k = edPublicCache.get(hex);
  if (!k) {
    k = createPublicKey(edPubInput(hex));
    if (edPublicCache.size > 64) edPublicCache.clear();
    edPublicCache.set(hex, k);
  }
  return k;
}

/** A new signing key pair for the algorithm (hex). */
export function generateEvoucherKeyPair(alg: EvoucherAlg): { privateKey: string; publicKey: string } {
  if (alg === 'SM2') return sm2GenerateKeyPair();
  const seed = randomBytes(32).toString('hex');
  const spki = createPublicKey(createPrivateKey(edPrivInput(seed))).export({ format: 'der', type: 'spki' });
  return { privateKey: seed, publicKey: Buffer.from(spki.subarray(spki.length - 32)).toString('hex') };
}

function signBytes(alg: EvoucherAlg, message: Uint8Array, key: EvoucherSigningKey): Uint8Array {
  if (alg === 'SM2') return sm2Sign(message, key.privateKey, { publicKey: key.publicKey });
  return new Uint8Array(nodeSign(null, message, edPrivate(key.privateKey)));
}

/** The issuer, holding the private key, checks an SM2 token with one base multiplication instead of two. */
function verifyBytes(
  alg: EvoucherAlg,
  message: Uint8Array,
  signature: Uint8Array,
  key: EvoucherPublicKey & { privateKey?: string },
): boolean {
  if (alg === 'SM2' && key.privateKey) return sm2VerifyOwn(message, signature, key.privateKey, { format: 'raw' });
  if (alg === 'SM2') return sm2Verify(message, signature, key.publicKey, { format: 'raw' });
  return nodeVerify(null, message, edPublic(key.publicKey), signature);
}

/** Signs a new token. `nonce` (12 hex) defaults to 6 random bytes. */
export function issueEvoucherToken(
  input: { voucherCode: string; expiresAt: number; nonce?: string },
  key: EvoucherSigningKey,
): string {
  if (!/^\d{6}$/.test(key.regionCode)) throw new RangeError('region code must be 6 digits');
  if (!/^[0-9a-f]{16}$/.test(input.voucherCode)) throw new RangeError('voucher code must be 16 hex digits');
  if (!Number.isInteger(key.keyId) || key.keyId < 0 || key.keyId > 0xffff) throw new RangeError('key id out of range');
  const bytes = new Uint8Array(EVOUCHER_TOKEN_BYTES);
  const view = new DataView(bytes.buffer);
  bytes[0] = (EVOUCHER_TOKEN_VERSION << 4) | ALG_CODE[key.alg];
  const region = Number(key.regionCode);
  bytes[1] = region >>> 16;
  bytes[2] = (region >>> 8) & 255;
  bytes[3] = region & 255;
  bytes.set(hexToBytes(input.voucherCode), 4);
  view.setUint32(12, input.expiresAt >>> 0);
  bytes.set(input.nonce ? hexToBytes(input.nonce) : randomBytesPooled(6), 16);
  view.setUint16(22, key.keyId);
  const signature = signBytes(key.alg, bytes.subarray(0, SIGNED_BYTES), key);
  if (signature.length !== 64) throw new Error('unexpected signature length');
  bytes.set(signature, SIGNED_BYTES);
  return base32Encode(bytes);
}

/** Decodes without checking the signature (for routing to the right key). Throws EVOUCHER_TOKEN_MALFORMED. */
export function decodeEvoucherToken(token: string): {
  claims: EvoucherTokenClaims;
  signed: Uint8Array;
  signature: Uint8Array;
} {
  const text = token.trim();
  if (text.length !== Math.ceil((EVOUCHER_TOKEN_BYTES * 8) / 5))
    throw new EvoucherTokenError('EVOUCHER_TOKEN_MALFORMED', '长度不符');
  let bytes: Uint8Array;
  try {
    bytes = base32Decode(text);
  } catch {
    throw new EvoucherTokenError('EVOUCHER_TOKEN_MALFORMED', '编码无效');
  }
  const version = bytes[0] >>> 4;
  const alg = ALG_BY_CODE[bytes[0] & 15];
  if (version !== EVOUCHER_TOKEN_VERSION || !alg)
    throw new EvoucherTokenError('EVOUCHER_TOKEN_MALFORMED', '版本或算法不支持');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const region = (bytes[1] << 16) | (bytes[2] << 8) | bytes[3];
  if (region > 999999) throw new EvoucherTokenError('EVOUCHER_TOKEN_MALFORMED', '统筹区无效');
  return {
    claims: {
      regionCode: String(region).padStart(6, '0'),
      voucherCode: bytesToHex(bytes.subarray(4, 12)),
      expiresAt: view.getUint32(12),
      nonce: bytesToHex(bytes.subarray(16, 22)),
      keyId: view.getUint16(22),
      alg,
    },
    signed: bytes.subarray(0, SIGNED_BYTES),
    signature: bytes.subarray(SIGNED_BYTES),
  };
}

export interface VerifyEvoucherTokenOptions {
  /** Finds the public key for (region, key id); undefined = unknown key. The issuer may hand its signing key. */
  keyFor: (regionCode: string, keyId: number) => (EvoucherPublicKey & { privateKey?: string }) | undefined;
  /** Epoch milliseconds; default Date.now(). */
  now?: number;
  /** Accepted clock difference in seconds (default 10). */
  skewSeconds?: number;
  /** Longest validity a token may have (seconds, default 300): an expiry further ahead means the issuer's or verifier's clock is off. */
  maxTtlSeconds?: number;
}

/**
 * Offline verification: format, key, signature, expiry and clock skew. It does NOT know about single use or
 * suspension — those need the online check.
 */
export function verifyEvoucherToken(token: string, opts: VerifyEvoucherTokenOptions): EvoucherTokenClaims {
  const { claims, signed, signature } = decodeEvoucherToken(token);
  const key = opts.keyFor(claims.regionCode, claims.keyId);
  if (!key || key.alg !== claims.alg || key.regionCode !== claims.regionCode) {
    throw new EvoucherTokenError('EVOUCHER_TOKEN_UNKNOWN_KEY', `密钥 ${claims.keyId} 未登记`);
  }
  let ok = false;
  try {
    ok = verifyBytes(claims.alg, signed, signature, key);
  } catch {
    ok = false;
  }
  if (!ok) throw new EvoucherTokenError('EVOUCHER_TOKEN_SIGNATURE_INVALID');
  const nowSec = (opts.now ?? Date.now()) / 1000;
  const skew = opts.skewSeconds ?? 10;
  if (claims.expiresAt - nowSec > (opts.maxTtlSeconds ?? 300) + skew) {
    throw new EvoucherTokenError('EVOUCHER_CLOCK_SKEW', '凭证码的有效期超前于本地时间');
  }
  if (nowSec > claims.expiresAt + skew) throw new EvoucherTokenError('EVOUCHER_TOKEN_EXPIRED');
  return claims;
}
