import { AuditOutlined, IdcardOutlined } from '@ant-design/icons';
import { lazyPage, type PortalPage } from '../../portals/registry';

const personLookup = () => import('./PersonLookup');
const PersonLookupPage = lazyPage(personLookup, 'PersonLookupPage');
const policyPage = () => import('./PolicyPage');
const PolicyPageForRegion = lazyPage(policyPage, 'PolicyPageForRegion');

export const corezoneConsolePages: PortalPage[] = [
  { path: 'corezone/policies', element: <PolicyPageForRegion />, nav: { label: '待遇政策', icon: <AuditOutlined /> } },
  { path: 'corezone/persons', element: <PersonLookupPage />, nav: { label: '参保人查询', icon: <IdcardOutlined /> } },
];
