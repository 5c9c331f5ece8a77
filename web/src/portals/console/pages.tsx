import { HomeOutlined } from '@ant-design/icons';
import { Typography } from 'antd';
import { PageTitle } from '../../components/PortalShell';
import { authConsolePages } from '../../features/auth/pages';
import { corezoneConsolePages } from '../../features/corezone/pages';
import { ebillConsolePages } from '../../features/ebill/pages';
import { evoucherConsolePages } from '../../features/evoucher/pages';
import { messageConsolePages } from '../../features/message/pages';
import { paymentConsolePages } from '../../features/payment/pages';
import { platformConsolePages } from '../../features/platform/pages';
import { userConsolePages } from '../../features/user/pages';
import type { PortalPage } from '../registry';

function ConsoleHome() {
  return (
    <>
      <PageTitle>管理后台</PageTitle>
      <Typography.Paragraph type="secondary">请从左侧菜单选择业务。</Typography.Paragraph>
    </>
  );
}

/** Pages of the 管理后台; each center adds its own list here. */
export const consolePages: PortalPage[] = [
  { path: '', element: <ConsoleHome />, nav: { label: '首页', icon: <HomeOutlined />, bottom: true } },
  ...userConsolePages,
  ...authConsolePages,
  ...platformConsolePages,
  ...ebillConsolePages,
  ...evoucherConsolePages,
  ...messageConsolePages,
  ...paymentConsolePages,
  ...corezoneConsolePages,
];
