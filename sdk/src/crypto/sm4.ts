/** SM4 block cipher (GB/T 32907) via Node's OpenSSL: ECB or CBC, PKCS#7 padding by default. */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { keyBytes } from './bytes.ts';

export type Sm4Mode = 'ecb' | 'cbc';

export interface Sm4Options {
  /** Default 'ecb'. */
  mode?: Sm4Mode;
  /** 16 bytes (hex or bytes); required for CBC, forbidden for ECB. */
  iv?: string | Uint8Array;
  /** PKCS#7 padding, default true. Without it the input must be a multiple of 16 bytes. */
  padding?: boolean;
}

export const SM4_KEY_BYTES = 16;

function cipherParams(key: string | Uint8Array, options: Sm4Options): [string, Uint8Array, Uint8Array | null] {
  const mode = options.mode ?? 'ecb';
  const k = keyBytes(key, SM4_KEY_BYTES, 'SM4 key');
  if (mode === 'ecb') {
    if (options.iv !== undefined) throw new TypeError('SM4-ECB takes no IV');
    return ['sm4-ecb', k, null];
  }
  if (options.iv === undefined) throw new TypeError('SM4-CBC needs a 16-byte IV');
  return ['sm4-cbc', k, keyBytes(options.iv, 16, 'SM4 IV')];
}

export function sm4Encrypt(plaintext: Uint8Array, key: string | Uint8Array, options: Sm4Options = {}): Uint8Array {
  const cipher = createCipheriv(...cipherParams(key, options));
  cipher.setAutoPadding(options.padding ?? true);
  return new Uint8Array(Buffer.concat([cipher.update(plaintext), cipher.final()]));
}

/** Throws when the key is wrong in a way the padding reveals, or the length is not a block multiple. */
export function sm4Decrypt(ciphertext: Uint8Array, key: string | Uint8Array, options: Sm4Options = {}): Uint8Array {
  const decipher = createDecipheriv(...cipherParams(key, options));
  decipher.setAutoPadding(options.padding ?? true);
  return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
}
