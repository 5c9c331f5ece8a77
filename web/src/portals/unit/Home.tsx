import { Button, Card, List, Tag, Typography } from 'antd';
import { Link } from 'react-router';
import { PageTitle } from '../../components/PortalShell';
import { ServiceTiles } from '../../components/ServiceTiles';
import { ErrorState, Loading } from '../../components/States';
import { HallAnnouncements } from '../../features/message/PersonalPages';
import { AGENT_ROLE_LABELS } from '../../features/user/api';
import { ExpiryTag, useMyUnits } from '../../features/user/UnitPages';
import { unitPages } from './pages';

/** 单位网厅 home: the units the person acts for (or how to register one), the hall's services, announcements. */
export function UnitHome() {
  const units = useMyUnits();
  const services = unitPages
    .filter((p) => p.path && p.nav)
    .map((p) => ({ to: `/unit/${p.path}`, label: p.nav!.label, icon: p.nav!.icon }));
  return (
    <>
      <PageTitle>单位网厅</PageTitle>
      <Card title="我的单位" extra={<Link to="/unit/units">管理</Link>} style={{ marginBottom: 16 }}>
        {units.isLoading ? (
          <Loading lines={2} />
        ) : units.error ? (
          <ErrorState error={units.error} onRetry={() => units.refetch()} />
        ) : (units.data ?? []).length === 0 ? (
          <>
            <Typography.Paragraph>
              您还不是任何单位的经办人：注册单位后即为其管理员，也可请单位管理员为您授权。
            </Typography.Paragraph>
            <Link to="/unit/register">
              <Button type="primary" size="large" block>
                单位注册
              </Button>
            </Link>
          </>
        ) : (
          <List
            dataSource={units.data}
            renderItem={(m) => (
              <List.Item key={m.unit.id}>
                <List.Item.Meta title={m.unit.name} description={m.unit.uscc} />
                <Tag>{AGENT_ROLE_LABELS[m.role]}</Tag>
                <ExpiryTag expiresAt={m.expiresAt} />
              </List.Item>
            )}
          />
        )}
      </Card>
      <Card title="服务" styles={{ body: { padding: 12 } }} style={{ marginBottom: 16 }}>
        <ServiceTiles items={services} />
      </Card>
      <HallAnnouncements hall="unit" />
    </>
  );
}
