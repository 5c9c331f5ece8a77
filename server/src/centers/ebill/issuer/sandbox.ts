import { randomInt } from 'node:crypto';
import { canonicalJson } from '@yibao/sdk';
import { sm2GenerateKeyPair, sm2PrecomputePublicKey, sm2Sign, sm3Hex } from '../../../platform/crypto/index.ts';
import { type Executor, sql } from '../../../platform/db/index.ts';
import { AppError } from '../../../platform/errors.ts';
import type { FieldCipher } from '../../../platform/privacy/cipher.ts';
import type { FiscalIssuer, IssuedBill, IssueRequest, IssuerRecord } from './port.ts';

/** Check-code alphabet without look-alikes (0/O, 1/I/L). */
const CHECK_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

export function newCheckCode(): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += CHECK_ALPHABET[randomInt(CHECK_ALPHABET.length)];
  return s;
}

/** Bill code: 4 region digits + 2-digit year (Beijing time) + 01 (医疗收费票据). Red bills share their year's series. */
export function billCodeFor(regionCode: string, at: Date): string {
  const year = new Date(at.getTime() + 8 * 3600_000).getUTCFullYear();
  return `${regionCode.slice(0, 4)}${String(year % 100).padStart(2, '0')}01`;
}

/** The canonical form the issuer signs: every field people rely on, as stable JSON. */
export function canonicalBill(req: IssueRequest, bill: Omit<IssuedBill, 'canonical' | 'signature' | 'keyId'>): string {
  return canonicalJson({
    v: 1,
    region: req.regionCode,
    kind: req.kind,
    billCode: bill.billCode,
    billNumber: bill.billNumber,
    checkCode: bill.checkCode,
    issuedAt: bill.issuedAt,
    payer: req.payerName,
    payee: { code: req.institutionCode, name: req.payeeName },
    total: req.total,
    split: { fund: req.fundPayment, account: req.accountPayment, cash: req.cashPayment },
    items: req.items.map((i) => ({
      code: i.code,
      name: i.name,
      class: i.itemClass,
      qty: i.quantity,
      amount: i.amount,
    })),
    original: req.original ? { billCode: req.original.billCode, billNumber: req.original.billNumber } : null,
  });
}

interface KeyRow {
  key_id: string;
  public_key: string;
  private_key_enc: string;
}

/**
 * 沙箱财政电子票据平台 (sandbox fiscal e-bill issuer): numbers bills gap-free per bill code (a counter row locked
 * FOR UPDATE in the caller's transaction), draws the check code, signs the canonical form with the region's SM2
 * issuer key and keeps its own register, which verification consults.
 */
export class SandboxFiscalIssuer implements FiscalIssuer {
  readonly sandbox = true;
  private readonly cipher: FieldCipher;
  private readonly keys = new Map<string, { keyId: string; publicKey: string; privateKey: string }>();

  constructor(cipher: FieldCipher) {
    this.cipher = cipher;
  }

  private async currentKey(ex: Executor, regionCode: string) {
    const cached = this.keys.get(regionCode);
    if (cached) return cached;
    let row = await ex.one<KeyRow>(sql`select key_id, public_key, private_key_enc from ebill_issuer_key
      where region_code = ${regionCode} order by created_at desc, key_id desc limit 1`);
    let created = false;
    if (!row) {
      created = true;
      const pair = sm2GenerateKeyPair();
      const keyId = `sbx-${regionCode}-${Date.now().toString(36)}`;
      await ex.q(sql`insert into ebill_issuer_key(region_code, key_id, public_key, private_key_enc)
        values (${regionCode}, ${keyId}, ${pair.publicKey}, ${this.cipher.encrypt(pair.privateKey)})
        on conflict do nothing`);
      row = await ex.one<KeyRow>(sql`select key_id, public_key, private_key_enc from ebill_issuer_key
        where region_code = ${regionCode} order by created_at desc, key_id desc limit 1`);
    }
    const key = {
      keyId: row!.key_id,
      publicKey: row!.public_key,
      privateKey: this.cipher.decrypt(row!.private_key_enc),
    };
    // A key created in this (possibly rolled-back) transaction is cached only once it has been read back committed.
    if (!created) this.keys.set(regionCode, key);
    return key;
  }

  async issue(tx: Executor, req: IssueRequest): Promise<IssuedBill> {
    if (req.fundPayment + req.accountPayment + req.cashPayment !== req.total) {
      throw new AppError(422, 'EBILL_SPLIT_MISMATCH', '支付构成与票据总额不符');
    }
    const itemsTotal = req.items.reduce((s, i) => s + i.amount, 0);
    if (req.kind === 'blue' && itemsTotal !== req.total) {
      throw new AppError(422, 'EBILL_ITEMS_MISMATCH', '收费项目金额合计与票据总额不符');
    }
    const key = await this.currentKey(tx, req.regionCode);
    const now = new Date();
    const billCode = billCodeFor(req.regionCode, now);
    await tx.q(sql`insert into ebill_issuer_counter(region_code, bill_code) values (${req.regionCode}, ${billCode})
      on conflict do nothing`);
    const [counter] = await tx.q<{ next_number: number }>(sql`select next_number from ebill_issuer_counter
      where region_code = ${req.regionCode} and bill_code = ${billCode} for update`);
    const number = Number(counter.next_number);
    await tx.q(sql`update ebill_issuer_counter set next_number = next_number + 1
      where region_code = ${req.regionCode} and bill_code = ${billCode}`);
    const head = {
      billCode,
      billNumber: String(number).padStart(10, '0'),
      checkCode: newCheckCode(),
      issuedAt: now.toISOString(),
    };
    const canonical = canonicalBill(req, head);
    const signature = Buffer.from(sm2Sign(canonical, key.privateKey)).toString('base64');
    await tx.q(sql`insert into ebill_issuer_record(region_code, bill_code, bill_number, check_code, kind, total,
        issued_at, digest, signature, key_id)
      values (${req.regionCode}, ${head.billCode}, ${head.billNumber}, ${head.checkCode}, ${req.kind}, ${req.total},
        ${head.issuedAt}, ${sm3Hex(canonical)}, ${signature}, ${key.keyId})`);
    if (req.original?.full) {
      await tx.q(sql`update ebill_issuer_record set reversed_by_code = ${head.billCode},
          reversed_by_number = ${head.billNumber}
        where region_code = ${req.regionCode} and bill_code = ${req.original.billCode}
          and bill_number = ${req.original.billNumber}`);
    }
    return { ...head, canonical, signature, keyId: key.keyId };
  }

  async record(
    ex: Executor,
    regionCode: string,
    billCode: string,
    billNumber: string,
  ): Promise<IssuerRecord | undefined> {
    const r = await ex.one<{
      bill_code: string;
      bill_number: string;
      check_code: string;
      kind: 'blue' | 'red';
      total: number;
      issued_at: Date | string;
      digest: string;
      signature: string;
      key_id: string;
      reversed_by_code: string | null;
    }>(sql`select * from ebill_issuer_record
      where region_code = ${regionCode} and bill_code = ${billCode} and bill_number = ${billNumber}`);
    if (!r) return undefined;
    return {
      billCode: r.bill_code,
      billNumber: r.bill_number,
      checkCode: r.check_code,
      kind: r.kind,
      total: Number(r.total),
      issuedAt: new Date(r.issued_at).toISOString(),
      digest: r.digest,
      signature: r.signature,
      keyId: r.key_id,
      reversed: r.reversed_by_code !== null,
    };
  }

  /** Verification keys by region and key id (immutable once created), with their precomputed SM2 tables. */
  private readonly publicKeys = new Map<string, string>();

  async publicKey(ex: Executor, regionCode: string, keyId: string): Promise<string | undefined> {
    const id = `${regionCode}:${keyId}`;
    const known = this.publicKeys.get(id);
    if (known) return known;
    const row = await ex.one<{ public_key: string }>(sql`select public_key from ebill_issuer_key
      where region_code = ${regionCode} and key_id = ${keyId}`);
    if (!row) return undefined;
    sm2PrecomputePublicKey(row.public_key);
    if (this.publicKeys.size > 1000) this.publicKeys.clear();
    this.publicKeys.set(id, row.public_key);
    return row.public_key;
  }

  async signPayload(ex: Executor, regionCode: string, payload: string) {
    const key = await this.currentKey(ex, regionCode);
    return { signature: Buffer.from(sm2Sign(payload, key.privateKey)).toString('base64url'), keyId: key.keyId };
  }
}
