/** The center's signing keys, per region: QR keys (SM2 by default, Ed25519 selectable) and the sandbox liveness key. */
import { type EvoucherAlg, type EvoucherSigningKey, generateEvoucherKeyPair, sm2PrecomputePublicKey } from '@yibao/sdk';
import type { Context } from '../../platform/context.ts';
import { type Executor, sql } from '../../platform/db/index.ts';

export type KeyPurpose = 'qr' | 'sandbox_liveness';
export type KeyStatus = 'active' | 'retiring' | 'retired';

export interface StoredKey extends EvoucherSigningKey {
  purpose: KeyPurpose;
  status: KeyStatus;
  createdAt: string;
  retiredAt: string | null;
}

interface Row {
  region_code: string;
  kid: number;
  purpose: KeyPurpose;
  alg: EvoucherAlg;
  public_key: string;
  private_key_enc: string;
  status: KeyStatus;
  created_at: Date | string;
  retired_at: Date | string | null;
}

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());
const CACHE_MS = 10_000;

export class KeyRing {
  private readonly ctx: Context;
  private readonly cache = new Map<string, { at: number; keys: StoredKey[] }>();

  constructor(ctx: Context) {
    this.ctx = ctx;
  }

  /** All keys of the region (cached ~10 s, so every process converges on a rotation quickly). */
  async keys(regionCode: string, fresh = false): Promise<StoredKey[]> {
    const hit = this.cache.get(regionCode);
    if (!fresh && hit && Date.now() - hit.at < CACHE_MS) return hit.keys;
    const rows = await this.ctx.db.q<Row>(
      sql`select * from evoucher_key where region_code = ${regionCode} order by kid desc`,
    );
    const keys = rows.map((r) => this.fromRow(r));
    for (const k of keys) if (k.alg === 'SM2' && k.status !== 'retired') sm2PrecomputePublicKey(k.publicKey);
    this.cache.set(regionCode, { at: Date.now(), keys });
    return keys;
  }

  private fromRow(r: Row): StoredKey {
    return {
      regionCode: r.region_code,
      keyId: Number(r.kid),
      purpose: r.purpose,
      alg: r.alg,
      publicKey: r.public_key,
      privateKey: this.ctx.privacy.cipher.decrypt(r.private_key_enc),
      status: r.status,
      createdAt: iso(r.created_at)!,
      retiredAt: iso(r.retired_at),
    };
  }

  /** The key that signs now: the newest active key of the purpose; created on first use. */
  async signing(regionCode: string, purpose: KeyPurpose): Promise<StoredKey> {
    const pick = (keys: StoredKey[]) => keys.find((k) => k.purpose === purpose && k.status === 'active');
    const found = pick(await this.keys(regionCode));
    if (found) return found;
    await this.ctx.db.tx(async (tx) => {
      await tx.q(sql`select pg_advisory_xact_lock(hashtext(${`evoucher_key:${regionCode}`}))`);
      const existing = await tx.q(sql`select kid from evoucher_key where region_code = ${regionCode}
        and purpose = ${purpose} and status = 'active'`);
      if (existing.length === 0) await this.insert(tx, regionCode, purpose, 'SM2', 'system');
    });
    return pick(await this.keys(regionCode, true))!;
  }

  /** Verification key for (region, kid) of a purpose: active or retiring. */
  async verifying(regionCode: string, kid: number, purpose: KeyPurpose): Promise<StoredKey | undefined> {
    const find = (keys: StoredKey[]) =>
      keys.find((k) => k.keyId === kid && k.purpose === purpose && k.status !== 'retired');
    let key = find(await this.keys(regionCode));
    // A key id we have not seen may be a rotation by another process: reload once.
    if (!key && !(await this.keys(regionCode)).some((k) => k.keyId === kid))
      key = find(await this.keys(regionCode, true));
    return key;
  }

  /** A new signing key; the previous active one keeps verifying (retiring) until retired. */
  async rotate(
    regionCode: string,
    purpose: KeyPurpose,
    alg: EvoucherAlg,
    actor: string,
    tx: Executor,
  ): Promise<number> {
    await tx.q(sql`select pg_advisory_xact_lock(hashtext(${`evoucher_key:${regionCode}`}))`);
    await tx.q(sql`update evoucher_key set status = 'retiring' where region_code = ${regionCode}
      and purpose = ${purpose} and status = 'active'`);
    const kid = await this.insert(tx, regionCode, purpose, alg, actor);
    this.cache.delete(regionCode);
    return kid;
  }

  async retire(regionCode: string, kid: number, tx: Executor): Promise<StoredKey | undefined> {
    const rows = await tx.q<Row>(sql`update evoucher_key set status = 'retired', retired_at = now()
      where region_code = ${regionCode} and kid = ${kid} and status = 'retiring' returning *`);
    this.cache.delete(regionCode);
    return rows[0] && this.fromRow(rows[0]);
  }

  forget(regionCode: string): void {
    this.cache.delete(regionCode);
  }

  private async insert(
    tx: Executor,
    regionCode: string,
    purpose: KeyPurpose,
    alg: EvoucherAlg,
    actor: string,
  ): Promise<number> {
    const [{ next }] = await tx.q<{ next: number }>(
      sql`select coalesce(max(kid), 0) + 1 as next from evoucher_key where region_code = ${regionCode}`,
    );
    const kid = Number(next);
    const pair = generateEvoucherKeyPair(alg);
    await tx.q(sql`insert into evoucher_key(region_code, kid, purpose, alg, public_key, private_key_enc, created_by)
      values (${regionCode}, ${kid}, ${purpose}, ${alg}, ${pair.publicKey},
        ${this.ctx.privacy.cipher.encrypt(pair.privateKey)}, ${actor})`);
    return kid;
  }
}
