import {
  ApiOutlined,
  KeyOutlined,
  LineChartOutlined,
  MessageOutlined,
  SafetyCertificateOutlined,
} from '@ant-design/icons';
import { lazyPages, type PortalPage } from '../../portals/registry';

const { LoginMonitorPage } = lazyPages(() => import('./LoginMonitor'), 'LoginMonitorPage');
const { TrustedCasPage } = lazyPages(() => import('./CaPage'), 'TrustedCasPage');
const { ChannelsPage, SigningKeysPage, SmsOutboxPage } = lazyPages(
  () => import('./ConsolePages'),
  'ChannelsPage',
  'SigningKeysPage',
  'SmsOutboxPage',
);

export const authConsolePages: PortalPage[] = [
  {
    path: 'auth/channels',
    permission: 'auth:channel',
    element: <ChannelsPage />,
    nav: { label: '渠道管理', icon: <ApiOutlined /> },
  },
  {
    path: 'auth/logins',
    permission: 'auth:session',
    element: <LoginMonitorPage />,
    nav: { label: '登录监控', icon: <LineChartOutlined /> },
  },
  {
    path: 'auth/sms-outbox',
    permission: 'auth:sms',
    element: <SmsOutboxPage />,
    nav: { label: '沙箱短信', icon: <MessageOutlined /> },
  },
  {
    path: 'auth/keys',
    permission: 'auth:keys',
    element: <SigningKeysPage />,
    nav: { label: '签名密钥', icon: <KeyOutlined /> },
  },
  {
    path: 'auth/cas',
    permission: 'auth:keys',
    element: <TrustedCasPage />,
    nav: { label: '数字证书 CA', icon: <SafetyCertificateOutlined /> },
  },
];
