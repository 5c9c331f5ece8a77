import type { Executor } from '../../../platform/db/index.ts';

/** One line of a bill: name, national code, item class (甲/乙/丙 as A/B/C), quantity, amount in fen. */
export interface BillItem {
  code: string;
  name: string;
  itemClass: string;
  quantity: number;
  amount: number;
}

/** What the center asks the fiscal e-bill platform to issue. Amounts are integer fen (red bills carry the refund). */
export interface IssueRequest {
  regionCode: string;
  kind: 'blue' | 'red';
  orderId: string;
  payerName: string;
  institutionCode: string;
  payeeName: string;
  total: number;
  fundPayment: number;
  accountPayment: number;
  cashPayment: number;
  items: BillItem[];
  settledAt: string;
  /** Red bills: the blue bill they reverse (`full`: the whole of it, so the issuer marks it reversed). */
  original?: { billCode: string; billNumber: string; full: boolean };
}

export interface IssuedBill {
  billCode: string;
  billNumber: string;
  checkCode: string;
  issuedAt: string;
  /** The canonical form that was signed (stable JSON). */
  canonical: string;
  /** Base64 SM2 (SM3withSM2, GM/T 0003) signature over `canonical`. */
  signature: string;
  keyId: string;
}

export interface IssuerRecord {
  billCode: string;
  billNumber: string;
  checkCode: string;
  kind: 'blue' | 'red';
  total: number;
  issuedAt: string;
  digest: string;
  signature: string;
  keyId: string;
  reversed: boolean;
}

/**
 * Port to the fiscal e-bill platform (财政电子票据平台). Issuing runs inside the caller's transaction so a bill
 * number is consumed iff the bill is stored: numbers per bill code stay gap-free.
 */
export interface FiscalIssuer {
  readonly sandbox: boolean;
  issue(tx: Executor, req: IssueRequest): Promise<IssuedBill>;
  /** The issuer's register entry for a bill (undefined if it never issued it). */
  record(ex: Executor, regionCode: string, billCode: string, billNumber: string): Promise<IssuerRecord | undefined>;
  /** The issuer's public key (hex "04…") for a key id, to verify bills and QR payloads. */
  publicKey(ex: Executor, regionCode: string, keyId: string): Promise<string | undefined>;
  /** Signs an arbitrary payload (the QR code) with the region's current issuer key. */
  signPayload(ex: Executor, regionCode: string, payload: string): Promise<{ signature: string; keyId: string }>;
}
