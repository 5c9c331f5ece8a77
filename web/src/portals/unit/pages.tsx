import { HomeOutlined } from '@ant-design/icons';
import { messageUnitPages } from '../../features/message/pages';
import { userUnitPages } from '../../features/user/pages';
import { lazyPages, type PortalPage } from '../registry';

const { UnitHome } = lazyPages(() => import('./Home'), 'UnitHome');

/** Pages of the 单位网厅; each center adds its own list here. */
export const unitPages: PortalPage[] = [
  { path: '', element: <UnitHome />, nav: { label: '首页', icon: <HomeOutlined />, bottom: true } },
  ...userUnitPages,
  ...messageUnitPages,
];
