import { AuditOutlined, IdcardOutlined } from '@ant-design/icons';
import { lazyPages, type PortalPage } from '../../portals/registry';

const { PersonLookupPage } = lazyPages(() => import('./PersonLookup'), 'PersonLookupPage');
const { PolicyPageForRegion } = lazyPages(() => import('./PolicyPage'), 'PolicyPageForRegion');

export const corezoneConsolePages: PortalPage[] = [
  {
    path: 'corezone/policies',
    permission: 'corezone:policy.read',
    element: <PolicyPageForRegion />,
    nav: { label: '待遇政策', icon: <AuditOutlined /> },
  },
  {
    path: 'corezone/persons',
    permission: 'corezone:person.read',
    element: <PersonLookupPage />,
    nav: { label: '参保人查询', icon: <IdcardOutlined /> },
  },
];
