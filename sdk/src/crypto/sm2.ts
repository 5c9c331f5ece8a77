/**
 * SM2 digital signatures per GM/T 0003.2 (GB/T 32918.2) with SM3, including the Z value
 * (user id default "1234567812345678"). This is NOT ECDSA over the SM2 curve.
 *
 * Keys: private key = 64 hex digits (scalar d in [1, n-2]); public key = "04" || x || y (130 hex).
 * Signatures: raw r || s (64 bytes) or DER SEQUENCE { INTEGER r, INTEGER s }.
 * Secret scalars (signing nonces, private keys) multiply the base point through an odd-multiple table with
 * regular recoding: the same field operations for every scalar (sm2-table.ts). Verification uses a variable-time
 * windowed table per public key (public data only), cached in a small LRU keyed by the key's hex.
 */
import { invert, mod } from '@noble/curves/abstract/modular.js';
import { DER } from '@noble/curves/abstract/weierstrass.js';
import {
  bytesToHex,
  bytesToNumberBE,
  concatBytes,
  hexToBytes,
  numberToBytesBE,
  randomBytesPooled,
  toBytes,
} from './bytes.ts';
import { Lru } from './lru.ts';
import { SM2_CURVE, Sm2Point, type Sm2PointType } from './sm2-curve.ts';
import {
  buildOddTable,
  buildWindowTable,
  mulAddXEqualsModN,
  mulSecretAffine,
  mulSecretXEqualsModN,
  type OddTable,
  type WindowTable,
} from './sm2-table.ts';
import { sm3 } from './sm3.ts';

export const SM2_DEFAULT_USER_ID = '1234567812345678';
export type Sm2SignatureFormat = 'raw' | 'der';

export interface Sm2KeyPair {
  /** 64 hex digits. */
  privateKey: string;
  /** Uncompressed "04" || x || y, 130 hex digits. */
  publicKey: string;
}

export interface Sm2SignOptions {
  /** Signer's distinguishing identifier ID_A (UTF-8 string or bytes); default "1234567812345678". */
  userId?: string | Uint8Array;
  /** Default 'raw' (r || s, 64 bytes). */
  format?: Sm2SignatureFormat;
  /** The signer's public key, when known, saves deriving it for the Z value. */
  publicKey?: string;
}

export interface Sm2VerifyOptions {
  userId?: string | Uint8Array;
  /** Default 'auto': 64 bytes are read as r || s, anything else as DER. */
  format?: Sm2SignatureFormat | 'auto';
}

const N = SM2_CURVE.n;
/** Window of the per-public-key tables: 33 additions per multiplication, ~4k table points. */
const KEY_WINDOW = 8;
/** Window of the shared base-point table (built once): 27 additions per multiplication. */
const BASE_WINDOW = 10;
/** Window of the base-point table for secret scalars (built on first use, 13k points): 26 additions. */
const SECRET_WINDOW = 10;
/** A key gets its table on its second use; one-off keys take the untabled path. */
const TABLE_AFTER_USES = 2;
const VERIFY_CACHE_SIZE = 64;
const SIGNER_CACHE_SIZE = 16;

interface VerifyKey {
  point: Sm2PointType;
  zDefault: Uint8Array;
  uses: number;
  table?: WindowTable;
}

const verifyKeys = new Lru<string, VerifyKey>(VERIFY_CACHE_SIZE);
const signers = new Lru<string, Signer>(SIGNER_CACHE_SIZE);
let baseTable: WindowTable | undefined;
let secretTable: OddTable | undefined;

interface Signer {
  d: bigint;
  /** (1 + d)^-1 mod n */
  dInv: bigint;
  /** 04||x||y, lower-case hex */
  publicKey: string;
  /** Z_A with the default user id */
  zDefault: Uint8Array;
}

/** k·G for a secret k in [1, n). */
function baseMul(k: bigint): { x: bigint; y: bigint } {
  return mulSecretAffine(getSecretTable(), k, N, randomScalar(SM2_CURVE.p - 1n));
}

const basePoint = (k: bigint): Sm2PointType => {
  const { x, y } = baseMul(k);
  return Sm2Point.fromAffine({ x, y } as Parameters<typeof Sm2Point.fromAffine>[0]);
};

/** Uniform scalar in [1, max] (48 random bytes reduced: bias below 2^-128). */
function randomScalar(max: bigint): bigint {
  return mod(bytesToNumberBE(randomBytesPooled(48)), max) + 1n;
}

function parsePrivateKey(privateKey: string): bigint {
  if (!/^[0-9a-fA-F]{64}$/.test(privateKey)) throw new TypeError('SM2 private key must be 64 hex digits');
  const d = BigInt(`0x${privateKey}`);
  if (d < 1n || d > N - 2n) throw new RangeError('SM2 private key out of range');
  return d;
}

function parsePublicKey(publicKey: string): Sm2PointType {
  try {
    const point = Sm2Point.fromHex(publicKey);
    point.assertValidity();
    return point;
  } catch {
    throw new TypeError('invalid SM2 public key');
  }
}

function userIdBytes(userId: string | Uint8Array | undefined): Uint8Array {
  const id = toBytes(userId ?? SM2_DEFAULT_USER_ID);
  if (id.length >= 8192) throw new RangeError('SM2 user id too long');
  return id;
}

const CURVE_BYTES = concatBytes(
  ...[SM2_CURVE.a, SM2_CURVE.b, SM2_CURVE.Gx, SM2_CURVE.Gy].map((v) => numberToBytesBE(v, 32)),
);

function zOf(point: Sm2PointType, userId: string | Uint8Array | undefined): Uint8Array {
  const id = userIdBytes(userId);
  const entl = numberToBytesBE(id.length * 8, 2);
  const { x, y } = point.toAffine();
  return sm3(entl, id, CURVE_BYTES, numberToBytesBE(x, 32), numberToBytesBE(y, 32));
}

/** Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A). */
export function sm2ComputeZ(publicKey: string, userId?: string | Uint8Array): Uint8Array {
  return zOf(parsePublicKey(publicKey), userId);
}

export function sm2GenerateKeyPair(): Sm2KeyPair {
  const d = randomScalar(N - 2n);
  const privateKey = bytesToHex(numberToBytesBE(d, 32));
  return { privateKey, publicKey: basePoint(d).toHex(false) };
}

export function sm2GetPublicKey(privateKey: string): string {
  return basePoint(parsePrivateKey(privateKey)).toHex(false);
}

function signerOf(privateKey: string): Signer {
  let signer = signers.get(privateKey);
  if (signer === undefined) {
    const d = parsePrivateKey(privateKey);
    const point = basePoint(d);
    signer = { d, dInv: invert(1n + d, N), publicKey: point.toHex(false), zDefault: zOf(point, undefined) };
    signers.set(privateKey, signer);
  }
  return signer;
}

function signerZValue(signer: Signer, options: Sm2SignOptions): Uint8Array {
  const ownKey = options.publicKey === undefined || options.publicKey.toLowerCase() === signer.publicKey;
  if (ownKey && options.userId === undefined) return signer.zDefault;
  return sm2ComputeZ(options.publicKey ?? signer.publicKey, options.userId);
}

function encodeSignature(r: bigint, s: bigint, format: Sm2SignatureFormat): Uint8Array {
  if (format === 'der') return hexToBytes(DER.hexFromSig({ r, s }));
  return concatBytes(numberToBytesBE(r, 32), numberToBytesBE(s, 32));
}

/** SM2 signature over SM3(Z_A || M); the message is UTF-8 when a string. */
export function sm2Sign(message: string | Uint8Array, privateKey: string, options: Sm2SignOptions = {}): Uint8Array {
  const signer = signerOf(privateKey);
  const { d, dInv } = signer;
  const e = bytesToNumberBE(sm3(signerZValue(signer, options), message));
  for (;;) {
    const k = randomScalar(N - 1n);
    const r = mod(e + baseMul(k).x, N);
    if (r === 0n || r + k === N) continue;
    const s = mod(dInv * (k - r * d), N);
    if (s !== 0n) return encodeSignature(r, s, options.format ?? 'raw');
  }
}

/** Converts r || s (64 bytes) to DER. */
export function sm2SignatureToDer(raw: Uint8Array): Uint8Array {
  const { r, s } = decodeSignature(raw, 'raw');
  return encodeSignature(r, s, 'der');
}

/** Converts DER to r || s (64 bytes). */
export function sm2SignatureFromDer(der: Uint8Array): Uint8Array {
  const { r, s } = decodeSignature(der, 'der');
  return encodeSignature(r, s, 'raw');
}

function decodeSignature(signature: Uint8Array, format: Sm2SignatureFormat | 'auto'): { r: bigint; s: bigint } {
  const raw = format === 'raw' || (format === 'auto' && signature.length === 64);
  if (!raw) return DER.toSig(signature);
  if (signature.length !== 64) throw new RangeError('raw SM2 signature must be 64 bytes');
  return { r: bytesToNumberBE(signature.subarray(0, 32)), s: bytesToNumberBE(signature.subarray(32)) };
}

function verifyKey(publicKey: string, eager = false): VerifyKey {
  const id = publicKey.toLowerCase();
  let key = verifyKeys.get(id);
  if (key === undefined) {
    const point = parsePublicKey(id);
    key = { point, zDefault: zOf(point, undefined), uses: 0 };
    verifyKeys.set(id, key);
  }
  key.uses++;
  if (key.table === undefined && (eager || key.uses >= TABLE_AFTER_USES)) {
    const { x, y } = key.point.toAffine();
    key.table = buildWindowTable(x, y, KEY_WINDOW);
  }
  return key;
}

function getSecretTable(): OddTable {
  secretTable ??= buildOddTable(SM2_CURVE.Gx, SM2_CURVE.Gy, SECRET_WINDOW);
  return secretTable;
}

function getBaseTable(): WindowTable {
  baseTable ??= buildWindowTable(SM2_CURVE.Gx, SM2_CURVE.Gy, BASE_WINDOW);
  return baseTable;
}

/** Builds and caches the verification table for a public key now (e.g. when loading channel keys). */
export function sm2PrecomputePublicKey(publicKey: string): void {
  verifyKey(publicKey, true);
  getBaseTable();
}

/** Checks (e + x1) mod n = r with (x1, y1) = s·G + t·P_A, t = (r + s) mod n. */
function checkEquation(key: VerifyKey, e: bigint, r: bigint, s: bigint): boolean {
  const t = mod(r + s, N);
  if (t === 0n) return false;
  const target = mod(r - e, N);
  if (key.table !== undefined) return mulAddXEqualsModN(getBaseTable(), s, key.table, t, target, N);
  const point = Sm2Point.BASE.mulAddUnsafe(s, key.point, t);
  return !point.is0() && mod(point.toAffine().x, N) === target;
}

/** r and s of a well-formed signature with both in [1, n), else undefined. */
function signatureInRange(
  signature: Uint8Array,
  format: Sm2VerifyOptions['format'],
): { r: bigint; s: bigint } | undefined {
  try {
    const { r, s } = decodeSignature(signature, format ?? 'auto');
    return r >= 1n && r < N && s >= 1n && s < N ? { r, s } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies an SM2 signature. Returns false for any malformed or wrong signature;
 * throws TypeError only for an invalid public key (a configuration error, not an attack).
 */
export function sm2Verify(
  message: string | Uint8Array,
  signature: Uint8Array,
  publicKey: string,
  options: Sm2VerifyOptions = {},
): boolean {
  const key = verifyKey(publicKey);
  const sig = signatureInRange(signature, options.format);
  if (!sig) return false;
  const { r, s } = sig;
  const z = options.userId === undefined ? key.zDefault : zOf(key.point, options.userId);
  const e = bytesToNumberBE(sm3(z, message));
  return checkEquation(key, e, r, s);
}

/**
 * Verifies a signature under one's OWN key pair, knowing the private key: s·G + t·P = (s + t·d)·G, so the check
 * costs one base multiplication instead of two. The same answer as sm2Verify with the public key. The scalar
 * s + t·d is as secret as a signing nonce (with r and s it gives d), so it takes the secret-scalar path.
 */
export function sm2VerifyOwn(
  message: string | Uint8Array,
  signature: Uint8Array,
  privateKey: string,
  options: Omit<Sm2VerifyOptions, 'userId'> = {},
): boolean {
  const signer = signerOf(privateKey);
  const sig = signatureInRange(signature, options.format);
  if (!sig) return false;
  const { r, s } = sig;
  const t = mod(r + s, N);
  if (t === 0n) return false;
  const k = mod(s + t * signer.d, N);
  if (k === 0n) return false;
  const e = bytesToNumberBE(sm3(signer.zDefault, message));
  return mulSecretXEqualsModN(getSecretTable(), k, N, mod(r - e, N));
}
