import { IdcardOutlined, WalletOutlined } from '@ant-design/icons';
import type { ReactNode } from 'react';
import { ebillPersonalService } from '../../features/ebill/pages';
import { evoucherPersonalService } from '../../features/evoucher/pages';
import { messagePersonalService } from '../../features/message/pages';
import { paymentPersonalService } from '../../features/payment/pages';

/** Service tiles of the personal hall's home page; `service` must be enabled in the region's configuration. */
export const personalServices: Array<{ path: string; label: string; icon: ReactNode; service: string }> = [
  { path: '/insurance', label: '我的参保', icon: <IdcardOutlined />, service: 'personal' },
  { path: '/account', label: '个人账户', icon: <WalletOutlined />, service: 'personal' },
  evoucherPersonalService,
  ebillPersonalService,
  messagePersonalService,
  paymentPersonalService,
];
