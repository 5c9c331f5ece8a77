import { HomeOutlined } from '@ant-design/icons';
import { authConsolePages } from '../../features/auth/pages';
import { corezoneConsolePages } from '../../features/corezone/pages';
import { ebillConsolePages } from '../../features/ebill/pages';
import { evoucherConsolePages } from '../../features/evoucher/pages';
import { messageConsolePages } from '../../features/message/pages';
import { paymentConsolePages } from '../../features/payment/pages';
import { platformConsolePages } from '../../features/platform/pages';
import { userConsolePages } from '../../features/user/pages';
import { lazyPages, type PortalPage } from '../registry';

const { ConsoleDashboard } = lazyPages(() => import('./Dashboard'), 'ConsoleDashboard');

/** A center's pages, listed under its name in the side menu. */
const under = (group: string, pages: PortalPage[]): PortalPage[] =>
  pages.map((p) => (p.nav ? { ...p, nav: { ...p.nav, group } } : p));

/** Pages of the 管理后台; each center adds its own list here. */
export const consolePages: PortalPage[] = [
  { path: '', element: <ConsoleDashboard />, nav: { label: '首页', icon: <HomeOutlined />, bottom: true } },
  ...under('用户中心', userConsolePages),
  ...under('统一认证', authConsolePages),
  ...under('电子凭证', evoucherConsolePages),
  ...under('移动支付', paymentConsolePages),
  ...under('电子票据', ebillConsolePages),
  ...under('消息中心', messageConsolePages),
  ...under('核心区（示范）', corezoneConsolePages),
  ...under('平台运维', platformConsolePages),
];
