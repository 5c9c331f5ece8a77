import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify, SignJWT } from 'jose';
import type { Database } from './db/index.ts';
import { sql } from './db/index.ts';
import type { FieldCipher } from './privacy/cipher.ts';

export interface SigningKey {
  kid: string;
  publicJwk: JWK;
  privateJwk: JWK;
  createdAt: Date;
  retiredAt: Date | null;
}

const ALG = 'ES256';
export const ACCESS_TOKEN_AUDIENCE = 'urn:yibao:api';
const KEY_BOOTSTRAP_LOCK = 7_310_002;

/** ES256 signing keys kept in the database (private half encrypted), shared by every process and by the OIDC provider. */
export class KeyStore {
  private cache?: { at: number; keys: SigningKey[] };
  private pending?: Promise<SigningKey[]>;
  private lastReload = 0;
  private readonly db: Database;
  private readonly cipher: FieldCipher;

  constructor(db: Database, cipher: FieldCipher) {
    this.db = db;
    this.cipher = cipher;
  }

  /** The keys, newest first, cached for 10 s; concurrent callers share one load, and the first key is made once. */
  async keys(opts: { fresh?: boolean } = {}): Promise<SigningKey[]> {
    if (!opts.fresh && this.cache && Date.now() - this.cache.at < 10_000) return this.cache.keys;
    this.pending ??= this.refresh().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /**
   * The key with this id, reloading once (at most every second) when it is not cached: another process may have
   * rotated since this one filled its cache.
   */
  async find(kid: string): Promise<SigningKey | undefined> {
    const cached = (await this.keys()).find((k) => k.kid === kid);
    if (cached || Date.now() - this.lastReload < 1000) return cached;
    this.lastReload = Date.now();
    return (await this.keys({ fresh: true })).find((k) => k.kid === kid);
  }

  private async refresh(): Promise<SigningKey[]> {
    let rows = await this.load();
    if (rows.length === 0) {
      // first use: every process (and every concurrent caller) must end up with the same single key
      rows = await this.db.withLock(KEY_BOOTSTRAP_LOCK, async () => {
        if ((await this.load()).length === 0) await this.insertNewKey();
        return this.load();
      });
    }
    this.cache = { at: Date.now(), keys: rows };
    return rows;
  }

  private async load(): Promise<SigningKey[]> {
    const rows = await this.db.q<{
      kid: string;
      public_jwk: JWK;
      private_jwk_enc: string;
      created_at: Date;
      retired_at: Date | null;
    }>(sql`select * from signing_key where alg = ${ALG} order by created_at desc, kid desc`);
    return rows.map((r) => ({
      kid: r.kid,
      publicJwk: r.public_jwk,
      privateJwk: JSON.parse(this.cipher.decrypt(r.private_jwk_enc, `signing_key:${r.kid}`)),
      createdAt: new Date(r.created_at),
      retiredAt: r.retired_at ? new Date(r.retired_at) : null,
    }));
  }

  /** The newest key signs; older keys keep verifying until retired. */
  async current(): Promise<SigningKey> {
    return (await this.keys()).find((k) => !k.retiredAt)!;
  }

  async rotate(): Promise<string> {
    const kid = await this.insertNewKey();
    this.cache = undefined;
    return kid;
  }

  private async insertNewKey(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = `k${Date.now().toString(36)}${randomUUID().slice(0, 4)}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG, use: 'sig' };
    const enc = this.cipher.encrypt(JSON.stringify(privateJwk), `signing_key:${kid}`);
    await this.db.q(sql`insert into signing_key(kid, alg, public_jwk, private_jwk_enc)
      values (${kid}, ${ALG}, ${JSON.stringify(publicJwk)}::jsonb, ${enc})`);
    return kid;
  }

  async retire(kid: string): Promise<void> {
    await this.db.q(sql`update signing_key set retired_at = now() where kid = ${kid} and retired_at is null`);
    this.cache = undefined;
  }

  async publicJwks(): Promise<{ keys: JWK[] }> {
    return { keys: (await this.keys()).filter((k) => !k.retiredAt).map((k) => k.publicJwk) };
  }

  async privateJwks(): Promise<{ keys: JWK[] }> {
    return { keys: (await this.keys()).filter((k) => !k.retiredAt).map((k) => k.privateJwk) };
  }
}

export interface AccessClaims {
  sub: string;
  /** person | staff | channel */
  kind: string;
  region: string;
  acr?: string;
  amr?: string[];
  sid?: string;
  scope?: string;
  [claim: string]: unknown;
}

type VerifiedClaims = AccessClaims & { jti?: string; exp?: number };

/** A retired signing key stops working for tokens already seen within this time. */
const VERIFIED_CACHE_MS = 60_000;
const VERIFIED_CACHE_SIZE = 20_000;

/** Issues and verifies the platform's JWT access tokens (the same format the OIDC provider issues for the API). */
export class AccessTokens {
  private readonly keyStore: KeyStore;
  private readonly issuer: string;
  private readonly importCache = new Map<string, Promise<CryptoKey | Uint8Array>>();
  /** Tokens already verified (a caller sends the same one with every request), kept until exp, at most a minute. */
  private readonly verified = new Map<string, { claims: VerifiedClaims; until: number }>();

  constructor(keyStore: KeyStore, issuer: string) {
    this.keyStore = keyStore;
    this.issuer = issuer;
  }

  async issue(claims: AccessClaims, ttlSeconds = 900): Promise<string> {
    const key = await this.keyStore.current();
    const { sub, ...rest } = claims;
    return new SignJWT(rest)
      .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'at+jwt' })
      .setSubject(sub)
      .setIssuer(this.issuer)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(await this.importKey(key.privateJwk));
  }

  async verify(token: string): Promise<VerifiedClaims> {
    const now = Date.now();
    const hit = this.verified.get(token);
    if (hit && hit.until > now) return hit.claims;
    const claims = await this.verifySignature(token);
    if (hit) this.verified.delete(token);
    else if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { claims, until: Math.min((claims.exp ?? 0) * 1000, now + VERIFIED_CACHE_MS) });
    return claims;
  }

  private async verifySignature(token: string): Promise<VerifiedClaims> {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        const key = header.kid ? await this.keyStore.find(header.kid) : undefined;
        if (!key || key.retiredAt) throw new Error('unknown key id');
        return this.importKey(key.publicJwk);
      },
      { issuer: this.issuer, audience: ACCESS_TOKEN_AUDIENCE, algorithms: [ALG] },
    );
    return payload as VerifiedClaims;
  }

  private importKey(jwk: JWK): Promise<CryptoKey | Uint8Array> {
    const id = `${jwk.kid}:${jwk.d ? 'private' : 'public'}`;
    let hit = this.importCache.get(id);
    if (!hit) {
      hit = importJWK(jwk, ALG);
      this.importCache.set(id, hit);
    }
    return hit;
  }
}
