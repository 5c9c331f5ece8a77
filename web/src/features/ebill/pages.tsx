import {
  ApiOutlined,
  BarChartOutlined,
  CloudUploadOutlined,
  FileSearchOutlined,
  FileTextOutlined,
} from '@ant-design/icons';
import { Route } from 'react-router';
import { lazyPages, type PortalPage } from '../../portals/registry';

const { EbillChannelsPage, EbillNationalPage, EbillSearchPage, EbillUsagePage } = lazyPages(
  () => import('./ConsolePages'),
  'EbillChannelsPage',
  'EbillNationalPage',
  'EbillSearchPage',
  'EbillUsagePage',
);
const { MyBills } = lazyPages(() => import('./MyBills'), 'MyBills');
const { EbillVerifyPage } = lazyPages(() => import('./VerifyPage'), 'EbillVerifyPage');

export const ebillPersonalPages: PortalPage[] = [
  { path: 'ebills', element: <MyBills />, nav: { label: '电子票据', icon: <FileTextOutlined /> } },
];

export const ebillPersonalService = {
  path: '/ebills',
  label: '电子票据',
  icon: <FileTextOutlined />,
  service: 'ebill',
};

export const ebillConsolePages: PortalPage[] = [
  {
    path: 'ebill/search',
    permission: 'ebill:read',
    element: <EbillSearchPage />,
    nav: { label: '票据检索', icon: <FileSearchOutlined /> },
  },
  {
    path: 'ebill/channels',
    permission: 'ebill:read',
    element: <EbillChannelsPage />,
    nav: { label: '票据接入渠道', icon: <ApiOutlined /> },
  },
  {
    path: 'ebill/usage',
    permission: 'ebill:read',
    element: <EbillUsagePage />,
    nav: { label: '票据接口统计', icon: <BarChartOutlined /> },
  },
  {
    path: 'ebill/national',
    permission: 'ebill:read',
    element: <EbillNationalPage />,
    nav: { label: '票据国家上报', icon: <CloudUploadOutlined /> },
  },
];

export const ebillPublicRoute = <Route key="ebill-verify" path="/public/ebill/verify" element={<EbillVerifyPage />} />;
