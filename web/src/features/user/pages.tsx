import {
  ApartmentOutlined,
  ContactsOutlined,
  SafetyOutlined,
  SolutionOutlined,
  TeamOutlined,
  UserAddOutlined,
  UserOutlined,
} from '@ant-design/icons';
import { lazyPages, type PortalPage } from '../../portals/registry';

const { AgentsPage, MyStaffAccountPage, PersonsPage, StaffPage, UnitsPage } = lazyPages(
  () => import('./ConsolePages'),
  'AgentsPage',
  'MyStaffAccountPage',
  'PersonsPage',
  'StaffPage',
  'UnitsPage',
);
const { ProfilePage, RegisterPage, ResetPasswordPage, SecurityPage } = lazyPages(
  () => import('./PersonalPages'),
  'ProfilePage',
  'RegisterPage',
  'ResetPasswordPage',
  'SecurityPage',
);
const { MyUnitsPage, UnitAgentsPage, UnitRegisterPage } = lazyPages(
  () => import('./UnitPages'),
  'MyUnitsPage',
  'UnitAgentsPage',
  'UnitRegisterPage',
);

export const userPersonalPages: PortalPage[] = [
  { path: 'register', element: <RegisterPage />, public: true },
  { path: 'password-reset', element: <ResetPasswordPage />, public: true },
  { path: 'profile', element: <ProfilePage />, nav: { label: '个人资料', icon: <UserOutlined /> } },
  { path: 'security', element: <SecurityPage />, nav: { label: '账号安全', icon: <SafetyOutlined /> } },
];

export const userUnitPages: PortalPage[] = [
  { path: 'units', element: <MyUnitsPage />, nav: { label: '我的单位', icon: <ApartmentOutlined />, bottom: true } },
  { path: 'register', element: <UnitRegisterPage />, nav: { label: '单位注册', icon: <UserAddOutlined /> } },
  { path: 'agents', element: <UnitAgentsPage />, nav: { label: '经办人管理', icon: <TeamOutlined />, bottom: true } },
];

/** Every staff member's own account (我的账号), in each staff portal; reached from the header, not the menu. */
export const staffAccountPage: PortalPage = { path: 'me', element: <MyStaffAccountPage /> };

export const userConsolePages: PortalPage[] = [
  {
    path: 'user/persons',
    permission: 'user:read',
    element: <PersonsPage />,
    nav: { label: '个人用户', icon: <UserOutlined /> },
  },
  {
    path: 'user/units',
    permission: 'user:read',
    element: <UnitsPage />,
    nav: { label: '单位', icon: <ApartmentOutlined /> },
  },
  {
    path: 'user/agents',
    permission: 'user:read',
    element: <AgentsPage />,
    nav: { label: '经办人', icon: <ContactsOutlined /> },
  },
  {
    path: 'user/staff',
    permission: 'user:admin',
    element: <StaffPage />,
    nav: { label: '工作人员与角色', icon: <SolutionOutlined /> },
  },
  staffAccountPage,
];
