/**
 * Channel request envelope (DOMAIN §4):
 * `{appId, version, timestamp, nonce, encType?, encData? | data, signType: "SM2", signData, transType}`.
 *
 * - timestamp: epoch milliseconds as a decimal string; nonce: 32 random hex digits.
 * - signData: base64 of the SM3withSM2 signature (user id "1234567812345678") over the UTF-8 sign
 *   string of all other fields (see sign-string.ts). We emit DER (what BouncyCastle/Java produce);
 *   verification also accepts raw r || s (exactly 64 bytes).
 * - Encryption (optional): encType "SM4", encData = base64(SM4-ECB with PKCS#7 of the UTF-8 JSON of
 *   `data`), and `data` is absent. The key is the explicit 16-byte key if given, otherwise the first
 *   16 bytes of SM3(UTF-8 appSecret). The signature covers encData (encrypt, then sign), so
 *   verification happens before decryption.
 * - Replay: the nonce is not checked here; the server records it (appId, nonce) in its database.
 */
import { randomBytes } from 'node:crypto';
import { bytesToHex, fromBase64, keyBytes, toBase64, toBytes, utf8Decode } from './bytes.ts';
import { buildSignString } from './sign-string.ts';
import { sm2Sign, sm2Verify } from './sm2.ts';
import { sm3 } from './sm3.ts';
import { SM4_KEY_BYTES, sm4Decrypt, sm4Encrypt } from './sm4.ts';

export const ENVELOPE_VERSION = '1.0';

export interface ChannelEnvelope {
  appId: string;
  version: string;
  timestamp: string;
  nonce: string;
  transType: string;
  encType?: 'SM4';
  encData?: string;
  data?: unknown;
  signType: 'SM2';
  signData: string;
}

export interface SignEnvelopeInput {
  appId: string;
  transType: string;
  data: unknown;
  /** SM2 private key, 64 hex digits. */
  privateKey: string;
  appSecret: string;
  /** Encrypt `data` with SM4 using the key derived from appSecret. */
  encrypt?: boolean;
  /** Encrypt `data` with this SM4 key (16 bytes or 32 hex digits); implies encryption. */
  encryptKey?: string | Uint8Array;
  /** Epoch milliseconds; default Date.now(). */
  now?: number;
  /** Default: 32 random hex digits. */
  nonce?: string;
}

export interface VerifyEnvelopeOptions {
  /** The channel's SM2 public key, "04" || x || y hex. */
  publicKey: string;
  appSecret: string;
  /** SM4 key (16 bytes or 32 hex digits); default derived from appSecret. */
  decryptKey?: string | Uint8Array;
  /** Epoch milliseconds. */
  now: number;
  /** Accepted |now - timestamp|, in seconds. */
  windowSeconds: number;
}

export interface VerifiedEnvelope<T = unknown> {
  data: T;
  appId: string;
  transType: string;
  nonce: string;
  /** Epoch milliseconds. */
  timestamp: number;
}

export type EnvelopeErrorCode =
  | 'SIGNATURE_INVALID'
  | 'TIMESTAMP_OUT_OF_WINDOW'
  | 'ENVELOPE_MALFORMED'
  | 'DECRYPT_FAILED';

const ERROR_INFO: Record<EnvelopeErrorCode, { status: number; title: string }> = {
  SIGNATURE_INVALID: { status: 401, title: '签名验证失败' },
  TIMESTAMP_OUT_OF_WINDOW: { status: 401, title: '请求时间戳超出允许范围' },
  ENVELOPE_MALFORMED: { status: 400, title: '报文格式错误' },
  DECRYPT_FAILED: { status: 400, title: '报文解密失败' },
};

/** A rejected envelope. `code` is stable; `status`/`title` are what the HTTP layer should render. */
export class EnvelopeError extends Error {
  readonly code: EnvelopeErrorCode;
  readonly status: number;
  readonly title: string;

  constructor(code: EnvelopeErrorCode, detail?: string) {
    super(detail ?? ERROR_INFO[code].title);
    this.name = 'EnvelopeError';
    this.code = code;
    this.status = ERROR_INFO[code].status;
    this.title = ERROR_INFO[code].title;
  }
}

/** The SM4 key for envelope bodies: first 16 bytes of SM3(UTF-8 appSecret). */
export function deriveEnvelopeKey(appSecret: string): Uint8Array {
  return sm3(appSecret).subarray(0, SM4_KEY_BYTES);
}

function bodyKey(appSecret: string, explicit: string | Uint8Array | undefined): Uint8Array {
  return explicit === undefined ? deriveEnvelopeKey(appSecret) : keyBytes(explicit, SM4_KEY_BYTES, 'SM4 key');
}

function encryptBody(data: unknown, key: Uint8Array): string {
  return toBase64(sm4Encrypt(toBytes(JSON.stringify(data) ?? 'null'), key));
}

export function signEnvelope(input: SignEnvelopeInput): ChannelEnvelope {
  const encrypted = input.encrypt === true || input.encryptKey !== undefined;
  const unsigned: Omit<ChannelEnvelope, 'signData'> = {
    appId: input.appId,
    version: ENVELOPE_VERSION,
    timestamp: String(input.now ?? Date.now()),
    nonce: input.nonce ?? bytesToHex(randomBytes(16)),
    transType: input.transType,
    signType: 'SM2',
    ...(encrypted
      ? { encType: 'SM4' as const, encData: encryptBody(input.data, bodyKey(input.appSecret, input.encryptKey)) }
      : { data: input.data }),
  };
  const signString = buildSignString(unsigned, input.appSecret);
  const signature = sm2Sign(signString, input.privateKey, { format: 'der' });
  return { ...unsigned, signData: toBase64(signature) };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value !== '';

function malformed(detail: string): EnvelopeError {
  return new EnvelopeError('ENVELOPE_MALFORMED', detail);
}

function checkShape(envelope: unknown): ChannelEnvelope {
  if (!isRecord(envelope)) throw malformed('envelope must be a JSON object');
  for (const field of ['appId', 'version', 'nonce', 'transType', 'signData'] as const) {
    if (!isNonEmptyString(envelope[field])) throw malformed(`${field} must be a non-empty string`);
  }
  if (envelope.signType !== 'SM2') throw malformed('signType must be "SM2"');
  if (typeof envelope.timestamp !== 'string' || !/^\d{1,16}$/.test(envelope.timestamp)) {
    throw malformed('timestamp must be epoch milliseconds as a decimal string');
  }
  const encrypted = envelope.encType !== undefined || envelope.encData !== undefined;
  if (encrypted && (envelope.encType !== 'SM4' || !isNonEmptyString(envelope.encData))) {
    throw malformed('encrypted envelopes need encType "SM4" and a non-empty encData');
  }
  if (encrypted && envelope.data !== undefined) throw malformed('data and encData are exclusive');
  if (!encrypted && envelope.data === undefined) throw malformed('data or encData is required');
  return envelope as unknown as ChannelEnvelope;
}

function checkTimestamp(envelope: ChannelEnvelope, now: number, windowSeconds: number): number {
  const timestamp = Number(envelope.timestamp);
  if (Math.abs(now - timestamp) > windowSeconds * 1000) {
    throw new EnvelopeError(
      'TIMESTAMP_OUT_OF_WINDOW',
      `timestamp ${timestamp} is outside ±${windowSeconds}s of ${now}`,
    );
  }
  return timestamp;
}

function checkSignature(envelope: ChannelEnvelope, publicKey: string, appSecret: string): void {
  let signature: Uint8Array;
  try {
    signature = fromBase64(envelope.signData);
  } catch {
    throw new EnvelopeError('SIGNATURE_INVALID', 'signData is not base64');
  }
  const signString = buildSignString(envelope as unknown as Record<string, unknown>, appSecret);
  if (!sm2Verify(signString, signature, publicKey)) throw new EnvelopeError('SIGNATURE_INVALID');
}

function decryptBody(encData: string, key: Uint8Array): unknown {
  try {
    return JSON.parse(utf8Decode(sm4Decrypt(fromBase64(encData), key)));
  } catch {
    throw new EnvelopeError('DECRYPT_FAILED');
  }
}

/** Checks shape, timestamp window and signature (in that order), then decrypts. Throws EnvelopeError. */
export function verifyEnvelopeDetailed<T = unknown>(
  envelope: unknown,
  options: VerifyEnvelopeOptions,
): VerifiedEnvelope<T> {
  const checked = checkShape(envelope);
  const timestamp = checkTimestamp(checked, options.now, options.windowSeconds);
  checkSignature(checked, options.publicKey, options.appSecret);
  const data =
    checked.encData === undefined
      ? checked.data
      : decryptBody(checked.encData, bodyKey(options.appSecret, options.decryptKey));
  return { data: data as T, appId: checked.appId, transType: checked.transType, nonce: checked.nonce, timestamp };
}

/** Returns the (decrypted) business data; the nonce for replay checks is `envelope.nonce`. */
export function verifyEnvelope<T = unknown>(envelope: unknown, options: VerifyEnvelopeOptions): T {
  return verifyEnvelopeDetailed<T>(envelope, options).data;
}
