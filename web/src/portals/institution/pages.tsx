import { HomeOutlined } from '@ant-design/icons';
import { institutionWorkstationPages } from '../../features/institution/pages';
import { staffAccountPage } from '../../features/user/pages';
import { lazyPages, type PortalPage } from '../registry';

const { InstitutionHome } = lazyPages(() => import('../../features/institution/Home'), 'InstitutionHome');

/** Pages of the 医药机构工作台; each center adds its own list here. */
export const institutionPages: PortalPage[] = [
  { path: '', element: <InstitutionHome />, nav: { label: '首页', icon: <HomeOutlined />, bottom: true } },
  ...institutionWorkstationPages,
  staffAccountPage,
];
