/** Integer fen → "1,234.56" (the halls' one money format). */
export { formatFen as yuan, parseYuan } from '../../components/States';

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

export { dateTime } from '../../lib/time';

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
