/** The workstation relay (server/src/centers/institution). Money in fen. */
export interface Institution {
  code: string;
  regionCode: string;
  kind: 'hospital' | 'pharmacy';
  name: string;
  level: 1 | 2 | 3;
}
export interface Me {
  institution: Institution;
  appId: string;
  regionCode: string;
}
export interface CatalogueItem {
  code: string;
  category: string;
  name: string;
  spec: string | null;
  unit: string;
  itemClass: 'A' | 'B' | 'C';
  priceCap: number | null;
}
export interface VerifiedPerson {
  name: string;
  residentIdMasked: string;
  ecToken: string;
  ecTokenExpiresAt: string;
  insuranceRegion: string;
  businessTypeName: string;
}
export interface ChannelOrder {
  payOrdId: string;
  ordStas: string;
  ordStasName: string;
  feeSumamt: number;
  fundPay: number;
  psnAcctPay: number;
  ownPayAmt: number;
  setlId: string | null;
  setlTime: string | null;
  refdFundAmt?: number;
  refdAcctAmt?: number;
  refdCashAmt?: number;
  failReason?: string | null;
  /** the priced fee lines (6201 and 6301 answers) */
  feedetail?: Array<{
    feedetlSn: string;
    medListName: string;
    chrgitmLv: string;
    cnt: number;
    detItemFeeSumamt: number;
  }>;
}
export interface RecentOrder {
  id: string;
  personName: string;
  total: number;
  status: string;
  createdAt: string;
}
export const FINAL = ['completed', 'cancelled', 'refunded', 'failed', 'partially_refunded'];
export const ITEM_CLASS: Record<string, string> = { A: '甲类', B: '乙类', C: '丙类' };

/** "12.5" / "12.50" / "12" yuan → fen, without floating point; undefined when not a price. */
export function parseYuan(text: string): number | undefined {
  const m = /^\s*(\d{1,7})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}
