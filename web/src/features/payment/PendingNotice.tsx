import { useQuery } from '@tanstack/react-query';
import { Alert, Button } from 'antd';
import { Link } from 'react-router';
import { api } from '../../lib/api';
import { dueText, institutionLabel, MEDICAL_TYPES, type PaymentOrder, yuan } from './format';

/** What the person will pay, or that confirming is all it takes when the fund and the account cover the bill. */
function toPayText(o: PaymentOrder): string | undefined {
  if (o.cashPayment === null) return undefined;
  if (o.cashPayment > 0) return `您需支付 ¥${yuan(o.cashPayment)}`;
  return o.accountPayment ? `个人账户支付 ¥${yuan(o.accountPayment)}，无需另付` : '医保全额支付，无需另付';
}

/**
 * On the hall's home: bills a hospital or pharmacy has uploaded and that wait for the person, with the first one's
 * amount to pay and its deadline, one tap from confirming. Nothing when none waits.
 */
export function PendingBillsNotice() {
  const { data } = useQuery({
    queryKey: ['payment', 'my', 'list', 'pending'],
    queryFn: () => api<{ items: PaymentOrder[] }>('/api/payment/my/orders?filter=pending'),
  });
  const bills = data?.items ?? [];
  if (bills.length === 0) return null;
  const [first] = bills;
  const to = bills.length === 1 ? `/personal/payments?order=${first.id}` : '/personal/payments';
  return (
    <Alert
      type="warning"
      showIcon
      role="status"
      style={{ marginBottom: 16 }}
      message={`您有 ${bills.length} 笔医疗费用账单待处理`}
      description={[
        `${MEDICAL_TYPES[first.medicalType] ?? '医疗费用'} · ${institutionLabel(first)}`,
        toPayText(first),
        dueText(first),
      ]
        .filter(Boolean)
        .join('；')}
      action={
        <Link to={to}>
          <Button type="primary">去处理</Button>
        </Link>
      }
    />
  );
}
