import { ApiOutlined, KeyOutlined, MessageOutlined, SafetyCertificateOutlined } from '@ant-design/icons';
import { lazyPage, type PortalPage } from '../../portals/registry';

const caPage = () => import('./CaPage');
const TrustedCasPage = lazyPage(caPage, 'TrustedCasPage');
const consolePages = () => import('./ConsolePages');
const ChannelsPage = lazyPage(consolePages, 'ChannelsPage');
const SigningKeysPage = lazyPage(consolePages, 'SigningKeysPage');
const SmsOutboxPage = lazyPage(consolePages, 'SmsOutboxPage');

export const authConsolePages: PortalPage[] = [
  { path: 'auth/channels', element: <ChannelsPage />, nav: { label: '渠道管理', icon: <ApiOutlined /> } },
  { path: 'auth/sms-outbox', element: <SmsOutboxPage />, nav: { label: '沙箱短信', icon: <MessageOutlined /> } },
  { path: 'auth/keys', element: <SigningKeysPage />, nav: { label: '签名密钥', icon: <KeyOutlined /> } },
  { path: 'auth/cas', element: <TrustedCasPage />, nav: { label: '数字证书 CA', icon: <SafetyCertificateOutlined /> } },
];
