/** Offline verification for institutions: download the public keys once, then check tokens without a round trip. */
import {
  type EvoucherAlg,
  type EvoucherPublicKey,
  type EvoucherTokenClaims,
  type VerifyEvoucherTokenOptions,
  verifyEvoucherToken,
} from './token.ts';

/** The body of GET /api/evoucher/keys (JWKS-like). */
export interface EvoucherKeySet {
  keys: Array<{
    kty: 'SM2' | 'OKP';
    crv: 'SM2' | 'Ed25519';
    kid: string;
    region: string;
    alg: EvoucherAlg;
    x: string;
    status: string;
  }>;
  /** Default validity of a code in seconds, per region. */
  ttl?: Record<string, number>;
}

export function keysFromSet(set: EvoucherKeySet): EvoucherPublicKey[] {
  return set.keys.map((k) => ({ regionCode: k.region, keyId: Number(k.kid), alg: k.alg, publicKey: k.x }));
}

export interface OfflineVerifier {
  /** Throws EvoucherTokenError (format, unknown key, signature, expiry, clock skew). */
  verify(token: string, now?: number): EvoucherTokenClaims;
  /** Re-downloads the key set (call after an unknown key id: the center may have rotated). */
  refresh(): Promise<void>;
}

/** Keeps the downloaded keys in memory; `fetch` the key set from `keysUrl` (e.g. https://host/api/evoucher/keys). */
export async function createOfflineVerifier(opts: {
  keysUrl: string;
  fetch?: typeof globalThis.fetch;
  skewSeconds?: number;
  maxTtlSeconds?: number;
}): Promise<OfflineVerifier> {
  const doFetch = opts.fetch ?? globalThis.fetch;
  let keys = new Map<string, EvoucherPublicKey>();
  const refresh = async () => {
    const res = await doFetch(opts.keysUrl, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`key download failed: HTTP ${res.status}`);
    keys = new Map(keysFromSet((await res.json()) as EvoucherKeySet).map((k) => [`${k.regionCode}:${k.keyId}`, k]));
  };
  await refresh();
  const options: Omit<VerifyEvoucherTokenOptions, 'now'> = {
    keyFor: (region, kid) => keys.get(`${region}:${kid}`),
    skewSeconds: opts.skewSeconds,
    maxTtlSeconds: opts.maxTtlSeconds,
  };
  return { verify: (token, now) => verifyEvoucherToken(token, { ...options, now }), refresh };
}
