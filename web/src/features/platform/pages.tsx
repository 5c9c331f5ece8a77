import { ClusterOutlined, EnvironmentOutlined, SafetyCertificateOutlined } from '@ant-design/icons';
import { lazyPages, type PortalPage } from '../../portals/registry';

const { JobsPage, RegionConfigPage, SecurityOpsPage } = lazyPages(
  () => import('./OpsPages'),
  'JobsPage',
  'RegionConfigPage',
  'SecurityOpsPage',
);

export const platformConsolePages: PortalPage[] = [
  {
    path: 'region',
    permission: 'region:manage',
    element: <RegionConfigPage />,
    nav: { label: '统筹区配置', icon: <EnvironmentOutlined /> },
  },
  {
    path: 'jobs',
    permission: 'ops:read',
    element: <JobsPage />,
    nav: { label: '任务队列', icon: <ClusterOutlined /> },
  },
  {
    path: 'security',
    permission: ['audit:read', 'ops:read'],
    element: <SecurityOpsPage />,
    nav: { label: '审计与密钥', icon: <SafetyCertificateOutlined /> },
  },
];
