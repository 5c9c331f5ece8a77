import { BarChartOutlined, KeyOutlined, QrcodeOutlined, SafetyCertificateOutlined } from '@ant-design/icons';
import { Route } from 'react-router';
import { lazyPages, type PortalPage } from '../../portals/registry';

const { EvoucherKeysPage, EvoucherLookupPage, EvoucherStatsPage } = lazyPages(
  () => import('./ConsolePages'),
  'EvoucherKeysPage',
  'EvoucherLookupPage',
  'EvoucherStatsPage',
);
const { EvoucherH5Page } = lazyPages(() => import('./H5Page'), 'EvoucherH5Page');
const { EvoucherAuthorizationsPage, EvoucherCodePage, EvoucherHomePage, EvoucherLoginConfirmPage, EvoucherUsesPage } =
  lazyPages(
    () => import('./PersonalPages'),
    'EvoucherAuthorizationsPage',
    'EvoucherCodePage',
    'EvoucherHomePage',
    'EvoucherLoginConfirmPage',
    'EvoucherUsesPage',
  );

export const evoucherPersonalPages: PortalPage[] = [
  { path: 'evoucher', element: <EvoucherHomePage />, nav: { label: '医保码', icon: <QrcodeOutlined />, bottom: true } },
  { path: 'evoucher/code', element: <EvoucherCodePage /> },
  { path: 'evoucher/authorizations', element: <EvoucherAuthorizationsPage /> },
  { path: 'evoucher/uses', element: <EvoucherUsesPage /> },
  { path: 'evoucher/login', element: <EvoucherLoginConfirmPage /> },
];

export const evoucherPersonalService = {
  path: '/evoucher',
  label: '医保电子凭证',
  icon: <QrcodeOutlined />,
  service: 'evoucher',
};

export const evoucherConsolePages: PortalPage[] = [
  {
    path: 'evoucher/vouchers',
    permission: 'evoucher:read',
    element: <EvoucherLookupPage />,
    nav: { label: '电子凭证查询', icon: <SafetyCertificateOutlined /> },
  },
  {
    path: 'evoucher/keys',
    permission: 'evoucher:keys',
    element: <EvoucherKeysPage />,
    nav: { label: '凭证签名密钥', icon: <KeyOutlined /> },
  },
  {
    path: 'evoucher/stats',
    permission: 'evoucher:read',
    element: <EvoucherStatsPage />,
    nav: { label: '用码统计', icon: <BarChartOutlined /> },
  },
];

export const evoucherPublicRoute = <Route key="evoucher-h5" path="/h5/evoucher" element={<EvoucherH5Page />} />;
