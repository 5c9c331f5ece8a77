import { ApiOutlined, KeyOutlined, MessageOutlined, SafetyCertificateOutlined } from '@ant-design/icons';
import { lazyPages, type PortalPage } from '../../portals/registry';

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
