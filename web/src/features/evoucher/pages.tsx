import { BarChartOutlined, KeyOutlined, QrcodeOutlined, SafetyCertificateOutlined } from '@ant-design/icons';
import { Route } from 'react-router';
import { lazyPage, type PortalPage } from '../../portals/registry';

const consolePages = () => import('./ConsolePages');
const EvoucherKeysPage = lazyPage(consolePages, 'EvoucherKeysPage');
const EvoucherLookupPage = lazyPage(consolePages, 'EvoucherLookupPage');
const EvoucherStatsPage = lazyPage(consolePages, 'EvoucherStatsPage');
const hPage = () => import('./H5Page');
const EvoucherH5Page = lazyPage(hPage, 'EvoucherH5Page');
const personalPages = () => import('./PersonalPages');
const EvoucherAuthorizationsPage = lazyPage(personalPages, 'EvoucherAuthorizationsPage');
const EvoucherCodePage = lazyPage(personalPages, 'EvoucherCodePage');
const EvoucherHomePage = lazyPage(personalPages, 'EvoucherHomePage');
const EvoucherLoginConfirmPage = lazyPage(personalPages, 'EvoucherLoginConfirmPage');
const EvoucherUsesPage = lazyPage(personalPages, 'EvoucherUsesPage');

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
    element: <EvoucherLookupPage />,
    nav: { label: '电子凭证查询', icon: <SafetyCertificateOutlined /> },
  },
  { path: 'evoucher/keys', element: <EvoucherKeysPage />, nav: { label: '凭证签名密钥', icon: <KeyOutlined /> } },
  { path: 'evoucher/stats', element: <EvoucherStatsPage />, nav: { label: '用码统计', icon: <BarChartOutlined /> } },
];

export const evoucherPublicRoute = <Route key="evoucher-h5" path="/h5/evoucher" element={<EvoucherH5Page />} />;
