/** SM3 hash (GB/T 32905) via Node's OpenSSL. */
import { createHash, createHmac } from 'node:crypto';
import { toBytes } from './bytes.ts';

/** SM3 digest (32 bytes) of the UTF-8 string or bytes; several parts are hashed as their concatenation. */
export function sm3(...parts: Array<string | Uint8Array>): Uint8Array {
  const hash = createHash('sm3');
  for (const part of parts) hash.update(toBytes(part));
  return new Uint8Array(hash.digest());
}

export function sm3Hex(data: string | Uint8Array): string {
  return createHash('sm3').update(toBytes(data)).digest('hex');
}

/** HMAC-SM3 (32 bytes). */
export function hmacSm3(key: string | Uint8Array, data: string | Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sm3', toBytes(key)).update(toBytes(data)).digest());
}
