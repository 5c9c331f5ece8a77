import { ScanOutlined } from '@ant-design/icons';
import { lazyPages, type PortalPage } from '../../portals/registry';

const { Workstation } = lazyPages(() => import('./Workstation'), 'Workstation');

/** The workstation's pages in the 医药机构工作台 portal. */
export const institutionWorkstationPages: PortalPage[] = [
  {
    path: 'workstation',
    permission: 'institution:operate',
    element: <Workstation />,
    nav: { label: '收费工作台', icon: <ScanOutlined />, bottom: true },
  },
];
