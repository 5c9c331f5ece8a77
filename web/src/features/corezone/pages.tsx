import { AuditOutlined, IdcardOutlined } from '@ant-design/icons';
import type { PortalPage } from '../../portals/registry';
import { PersonLookupPage } from './PersonLookup';
import { PolicyPageForRegion } from './PolicyPage';

export const corezoneConsolePages: PortalPage[] = [
  { path: 'corezone/policies', element: <PolicyPageForRegion />, nav: { label: '待遇政策', icon: <AuditOutlined /> } },
  { path: 'corezone/persons', element: <PersonLookupPage />, nav: { label: '参保人查询', icon: <IdcardOutlined /> } },
];
