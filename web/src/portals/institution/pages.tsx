import { HomeOutlined } from '@ant-design/icons';
import { Typography } from 'antd';
import { PageTitle } from '../../components/PortalShell';
import { institutionWorkstationPages } from '../../features/institution/pages';
import type { PortalPage } from '../registry';

function InstitutionHome() {
  return (
    <>
      <PageTitle>医药机构工作台</PageTitle>
      <Typography.Paragraph type="secondary">请从菜单选择业务；收费请进入「收费工作台」。</Typography.Paragraph>
    </>
  );
}

/** Pages of the 医药机构工作台; each center adds its own list here. */
export const institutionPages: PortalPage[] = [
  { path: '', element: <InstitutionHome />, nav: { label: '首页', icon: <HomeOutlined />, bottom: true } },
  ...institutionWorkstationPages,
];
