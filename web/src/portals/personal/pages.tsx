import { HomeOutlined, IdcardOutlined, UserOutlined, WalletOutlined } from '@ant-design/icons';
import { ebillPersonalPages } from '../../features/ebill/pages';
import { evoucherPersonalPages } from '../../features/evoucher/pages';
import { messagePersonalPages } from '../../features/message/pages';
import { paymentPersonalPages } from '../../features/payment/pages';
import { userPersonalPages } from '../../features/user/pages';
import { lazyPages, type PortalPage } from '../registry';
import { PersonalHome } from './Home';

const { MyAccountPage } = lazyPages(() => import('./MyAccount'), 'MyAccountPage');
const { MyInsurancePage } = lazyPages(() => import('./MyInsurance'), 'MyInsurancePage');
const { SettingsPage } = lazyPages(() => import('./Settings'), 'SettingsPage');

/** Pages of the personal web hall; each center adds its own list here. */
export const personalPages: PortalPage[] = [
  { path: '', element: <PersonalHome />, nav: { label: '首页', icon: <HomeOutlined />, bottom: true }, public: true },
  { path: 'insurance', element: <MyInsurancePage />, nav: { label: '我的参保', icon: <IdcardOutlined /> } },
  { path: 'account', element: <MyAccountPage />, nav: { label: '个人账户', icon: <WalletOutlined />, bottom: true } },
  ...ebillPersonalPages,
  ...evoucherPersonalPages,
  ...messagePersonalPages,
  ...paymentPersonalPages,
  ...userPersonalPages,
  // last, as phone apps put 我的 at the right end of the bottom bar
  {
    path: 'settings',
    element: <SettingsPage />,
    nav: { label: '我的', icon: <UserOutlined />, bottom: true },
    public: true, // signed out, it offers login and registration
  },
];
