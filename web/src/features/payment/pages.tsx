import { AuditOutlined, PayCircleOutlined, ReconciliationOutlined } from '@ant-design/icons';
import { lazyPages, type PortalPage } from '../../portals/registry';

const { PaymentOrdersPage, PaymentReconciliationPage } = lazyPages(
  () => import('./ConsolePages'),
  'PaymentOrdersPage',
  'PaymentReconciliationPage',
);
const { MyPayments } = lazyPages(() => import('./MyPayments'), 'MyPayments');

export const paymentPersonalPages: PortalPage[] = [
  { path: 'payments', element: <MyPayments />, nav: { label: '医保支付', icon: <PayCircleOutlined /> } },
];

export const paymentPersonalService = {
  path: '/payments',
  label: '医保移动支付',
  icon: <PayCircleOutlined />,
  service: 'payment',
};

export const paymentConsolePages: PortalPage[] = [
  {
    path: 'payment/orders',
    permission: 'payment:read',
    element: <PaymentOrdersPage />,
    nav: { label: '支付订单', icon: <AuditOutlined /> },
  },
  {
    path: 'payment/reconciliation',
    permission: 'payment:reconcile',
    element: <PaymentReconciliationPage />,
    nav: { label: '支付对账', icon: <ReconciliationOutlined /> },
  },
];
