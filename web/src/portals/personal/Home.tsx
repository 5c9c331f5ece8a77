import { Card, Col, Row, Typography } from 'antd';
import { Link } from 'react-router';
import { PageTitle } from '../../components/PortalShell';
import { useRegion } from '../../lib/region';
import { useSession } from '../../lib/session';
import { personalServices } from './services';

export function PersonalHome() {
  const region = useRegion();
  const session = useSession();
  const services = personalServices.filter((s) => !region || region.enabledServices.includes(s.service));
  return (
    <>
      <PageTitle>{session?.name ? `您好，${session.name}` : '个人网厅'}</PageTitle>
      <Typography.Paragraph type="secondary">{region?.displayName ?? ''} · 足不出户办医保</Typography.Paragraph>
      <Row gutter={[12, 12]}>
        {services.map((s) => (
          <Col xs={12} sm={8} md={6} key={s.path}>
            <Link to={`/personal${s.path}`}>
              <Card hoverable size="small" style={{ textAlign: 'center', minHeight: 96 }}>
                <div style={{ fontSize: 28 }}>{s.icon}</div>
                <div>{s.label}</div>
              </Card>
            </Link>
          </Col>
        ))}
      </Row>
    </>
  );
}
