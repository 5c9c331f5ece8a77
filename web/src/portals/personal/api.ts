/** The personal hall's read model (server/src/centers/personal). */
export interface MyInsurance {
  regionCode: string;
  regionName: string;
  personNo: string;
  name: string;
  residentId: string;
  personType: string;
  personTypeLabel: string;
  insurances: Array<{
    insuranceType: string;
    insuranceTypeLabel: string;
    status: 'active' | 'paused' | 'terminated';
    statusLabel: string;
    startDate: string;
    pauseDate: string | null;
  }>;
}

export interface MyAccount {
  personNo: string;
  regionCode: string;
  balance: number;
  hasAccount: boolean;
}

export interface LedgerEntry {
  entryId: string;
  kind: string;
  kindLabel: string;
  amount: number;
  balanceAfter: number;
  at: string;
  reference: string | null;
  memo: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export const LEDGER_KINDS: Array<{ value: string; label: string }> = [
  { value: 'contribution', label: '缴费划入' },
  { value: 'settlement', label: '医保结算支付' },
  { value: 'settlement_reversal', label: '结算退回' },
  { value: 'mutual_aid_out', label: '家庭共济支出' },
  { value: 'mutual_aid_reversal', label: '家庭共济退回' },
  { value: 'opening', label: '期初余额' },
];
