import { ClusterOutlined, EnvironmentOutlined, SafetyCertificateOutlined } from '@ant-design/icons';
import { lazyPages, type PortalPage } from '../../portals/registry';

const { JobsPage, RegionConfigPage, SecurityOpsPage } = lazyPages(
  () => import('./OpsPages'),
  'JobsPage',
  'RegionConfigPage',
  'SecurityOpsPage',
);

export const platformConsolePages: PortalPage[] = [
  { path: 'region', element: <RegionConfigPage />, nav: { label: '统筹区配置', icon: <EnvironmentOutlined /> } },
  { path: 'jobs', element: <JobsPage />, nav: { label: '任务队列', icon: <ClusterOutlined /> } },
  { path: 'security', element: <SecurityOpsPage />, nav: { label: '审计与密钥', icon: <SafetyCertificateOutlined /> } },
];
