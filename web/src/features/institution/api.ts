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
  /** whose order it is (masked), as the workstation recorded it at upload */
  personName?: string;
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
export interface TodayOrders {
  day: string;
  count: number;
  total: number;
  byStatus: Record<string, { count: number; total: number }>;
}
export const FINAL = ['completed', 'cancelled', 'refunded', 'failed', 'partially_refunded'];
export const ITEM_CLASS: Record<string, string> = { A: '甲类', B: '乙类', C: '丙类' };

export { parseYuan } from '../../components/States';
