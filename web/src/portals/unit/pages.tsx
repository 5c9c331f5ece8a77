import { HomeOutlined } from '@ant-design/icons';
import { Typography } from 'antd';
import { PageTitle } from '../../components/PortalShell';
import { HallAnnouncements, messageUnitPages } from '../../features/message/pages';
import { userUnitPages } from '../../features/user/pages';
import type { PortalPage } from '../registry';

function UnitHome() {
  return (
    <>
      <PageTitle>单位网厅</PageTitle>
      <Typography.Paragraph type="secondary">请从左侧菜单选择业务。</Typography.Paragraph>
      <HallAnnouncements hall="unit" />
    </>
  );
}

/** Pages of the 单位网厅; each center adds its own list here. */
export const unitPages: PortalPage[] = [
  { path: '', element: <UnitHome />, nav: { label: '首页', icon: <HomeOutlined />, bottom: true } },
  ...userUnitPages,
  ...messageUnitPages,
];
