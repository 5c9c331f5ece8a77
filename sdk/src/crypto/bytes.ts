/** Byte helpers shared by the national-crypto primitives. */
import { randomBytes, randomFillSync } from 'node:crypto';
import { bytesToHex, bytesToNumberBE, concatBytes, hexToBytes, numberToBytesBE } from '@noble/curves/utils.js';

export { bytesToHex, bytesToNumberBE, concatBytes, hexToBytes, numberToBytesBE };

const encoder = new TextEncoder();
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strings are encoded as UTF-8; bytes pass through unchanged. */
export function toBytes(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? encoder.encode(input) : input;
}

export function utf8Decode(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Strict base64 (RFC 4648 §4, padded): throws on anything Node's lenient decoder would silently skip. */
export function fromBase64(text: string): Uint8Array {
  if (!BASE64.test(text)) throw new TypeError('invalid base64');
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Bytes from a hex string or a byte array, optionally checking the length. */
export function keyBytes(key: string | Uint8Array, length: number, what: string): Uint8Array {
  const bytes = typeof key === 'string' ? hexToBytes(key) : key;
  if (bytes.length !== length) throw new RangeError(`${what} must be ${length} bytes, got ${bytes.length}`);
  return bytes;
}

const randomPool = Buffer.alloc(8192);
let randomOffset = randomPool.length;

/**
 * Fresh CSPRNG bytes, cut from a pool refilled 8 KiB at a time (as node's randomUUID does): a small randomBytes()
 * call costs several microseconds each here, most of it per call. Each byte is handed out once, then zeroed.
 */
export function randomBytesPooled(n: number): Uint8Array {
  if (n > randomPool.length) return new Uint8Array(randomBytes(n));
  if (randomOffset + n > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  const out = new Uint8Array(randomPool.subarray(randomOffset, randomOffset + n));
  randomPool.fill(0, randomOffset, randomOffset + n);
  randomOffset += n;
  return out;
}
