import {
  ApiOutlined,
  MailOutlined,
  NotificationOutlined,
  SendOutlined,
  SettingOutlined,
  UnorderedListOutlined,
} from '@ant-design/icons';
import { lazyPages, type PortalPage } from '../../portals/registry';
import { InboxNavIcon } from './InboxNavIcon';

const { BroadcastsPage, ChannelsPage, DeliveriesPage, MessageTypesPage } = lazyPages(
  () => import('./ConsolePages'),
  'BroadcastsPage',
  'ChannelsPage',
  'DeliveriesPage',
  'MessageTypesPage',
);
const { InboxPageView, NoticesPage, PreferencesPageView } = lazyPages(
  () => import('./PersonalPages'),
  'InboxPageView',
  'NoticesPage',
  'PreferencesPageView',
);

export const messagePersonalPages: PortalPage[] = [
  { path: 'messages', element: <InboxPageView />, nav: { label: '消息', icon: <InboxNavIcon />, bottom: true } },
  {
    path: 'messages/settings',
    element: <PreferencesPageView />,
    nav: { label: '通知设置', icon: <SettingOutlined /> },
  },
  {
    path: 'notices',
    element: <NoticesPage />,
    nav: { label: '通知公告', icon: <NotificationOutlined /> },
    public: true,
  },
];

/** The 单位网厅's 通知公告 (announcements for units, and for the unit the person acts for). */
export const messageUnitPages: PortalPage[] = [
  {
    path: 'notices',
    element: <NoticesPage hall="unit" />,
    nav: { label: '通知公告', icon: <NotificationOutlined /> },
  },
];

export const messagePersonalService = {
  path: '/messages',
  label: '我的消息',
  icon: <MailOutlined />,
  service: 'message',
};

export const messageConsolePages: PortalPage[] = [
  {
    path: 'message/types',
    permission: 'message:read',
    element: <MessageTypesPage />,
    nav: { label: '消息类型与模板', icon: <UnorderedListOutlined /> },
  },
  {
    path: 'message/broadcasts',
    permission: 'message:read',
    element: <BroadcastsPage />,
    nav: { label: '公告与群发', icon: <NotificationOutlined /> },
  },
  {
    path: 'message/deliveries',
    permission: 'message:read',
    element: <DeliveriesPage />,
    nav: { label: '消息投递记录', icon: <SendOutlined /> },
  },
  {
    path: 'message/channels',
    permission: 'message:read',
    element: <ChannelsPage />,
    nav: { label: '消息渠道与沙箱', icon: <ApiOutlined /> },
  },
];
