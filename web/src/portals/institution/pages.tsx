import { HomeOutlined } from '@ant-design/icons';
import { InstitutionHome } from '../../features/institution/Home';
import { institutionWorkstationPages } from '../../features/institution/pages';
import type { PortalPage } from '../registry';

/** Pages of the 医药机构工作台; each center adds its own list here. */
export const institutionPages: PortalPage[] = [
  { path: '', element: <InstitutionHome />, nav: { label: '首页', icon: <HomeOutlined />, bottom: true } },
  ...institutionWorkstationPages,
];
