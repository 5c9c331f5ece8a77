/** Integer fen → "1,234.56" (the halls' one money format). */
export { formatFen as yuan } from '../../components/States';

/**
 * "12.3" / "12.34" / "12" / "1,234.56" (as the bill prints it) → fen, or undefined if not a money amount (parsed as
 * text, never as a float).
 */
export function parseYuan(text: string): number | undefined {
  const m = /^\s*(\d{1,3}(?:,\d{3}){1,2}|\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!m) return undefined;
  return Number(m[1].replaceAll(',', '')) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

export const CLASS_NAMES: Record<string, string> = { A: '甲类', B: '乙类', C: '丙类' };

export const STATUS: Record<string, { text: string; color: string }> = {
  valid: { text: '有效', color: 'green' },
  partially_reversed: { text: '部分冲红', color: 'orange' },
  reversed: { text: '已冲红', color: 'red' },
};

export const KIND: Record<string, { text: string; color: string }> = {
  blue: { text: '正常票据', color: 'blue' },
  red: { text: '红字票据', color: 'red' },
};

export const dateTime = (iso: string) => new Date(iso).toLocaleString('zh-CN', { hour12: false });

export interface BillItem {
  code: string;
  name: string;
  itemClass: string;
  quantity: number;
  amount: number;
}

export interface Bill {
  id: string;
  billCode: string;
  billNumber: string;
  checkCode: string;
  kind: 'blue' | 'red';
  status: 'valid' | 'partially_reversed' | 'reversed';
  refundedTotal: number;
  orderId: string;
  payerName: string;
  institutionCode: string;
  payeeName: string;
  total: number;
  fundPayment: number;
  accountPayment: number;
  cashPayment: number;
  items: BillItem[];
  issuedAt: string;
  settledAt: string;
  issuer: { name: string; sandbox: boolean };
  qr?: string;
}
