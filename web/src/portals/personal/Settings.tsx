import { Button, Card, Descriptions } from 'antd';
import { PageTitle } from '../../components/PortalShell';
import { type RegionConfig, useRegion } from '../../lib/region';
import { setSession, useSession } from '../../lib/session';

/** 设置: who is signed in, which region serves them, and signing out. */
export function SettingsPage() {
  const session = useSession();
  const region = useRegion() as (RegionConfig & { settings?: { hotline?: string } }) | undefined;
  return (
    <>
      <PageTitle>设置</PageTitle>
      <Card>
        <Descriptions column={1} size="middle">
          <Descriptions.Item label="当前用户">{session?.name ?? '—'}</Descriptions.Item>
          <Descriptions.Item label="参保地">{region?.displayName ?? session?.regionCode ?? '—'}</Descriptions.Item>
          <Descriptions.Item label="服务热线">{region?.settings?.hotline ?? '12393'}</Descriptions.Item>
          <Descriptions.Item label="语言">简体中文</Descriptions.Item>
        </Descriptions>
        <Button
          danger
          size="large"
          block
          style={{ marginTop: 16 }}
          onClick={() => {
            setSession(undefined);
            location.assign('/personal');
          }}
        >
          退出登录
        </Button>
      </Card>
    </>
  );
}
