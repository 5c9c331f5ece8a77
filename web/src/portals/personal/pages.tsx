import { HomeOutlined } from '@ant-design/icons';
import { ebillPersonalPages } from '../../features/ebill/pages';
import { evoucherPersonalPages } from '../../features/evoucher/pages';
import { messagePersonalPages } from '../../features/message/pages';
import { paymentPersonalPages } from '../../features/payment/pages';
import { userPersonalPages } from '../../features/user/pages';
import type { PortalPage } from '../registry';
import { PersonalHome } from './Home';

/** Pages of the personal web hall; each center adds its own list here. */
export const personalPages: PortalPage[] = [
  { path: '', element: <PersonalHome />, nav: { label: '首页', icon: <HomeOutlined />, bottom: true }, public: true },
  ...ebillPersonalPages,
  ...evoucherPersonalPages,
  ...messagePersonalPages,
  ...paymentPersonalPages,
  ...userPersonalPages,
];
