import { BankOutlined, MedicineBoxOutlined, SettingOutlined, UserOutlined } from '@ant-design/icons';
import { Card, Col, Row, Typography } from 'antd';
import { Link } from 'react-router';
import { useRegion } from './lib/region';

const portals = [
  { to: '/personal', title: '个人网厅', desc: '参保查询、电子凭证、移动支付、电子票据', icon: <UserOutlined /> },
  { to: '/unit', title: '单位网厅', desc: '单位信息、人员增减、缴费账单', icon: <BankOutlined /> },
  { to: '/institution', title: '医药机构工作台', desc: '扫码识别、费用上传、移动支付', icon: <MedicineBoxOutlined /> },
  { to: '/console', title: '管理后台', desc: '经办人员：用户、渠道、消息、对账、审计', icon: <SettingOutlined /> },
];

export function Landing() {
  const region = useRegion();
  return (
    <main style={{ maxWidth: 960, margin: '0 auto', padding: 24 }}>
      <Typography.Title level={2}>{region?.displayName ?? '医疗保障局'} · 医保公共服务平台</Typography.Title>
      <Typography.Paragraph type="secondary">请选择您要进入的服务大厅</Typography.Paragraph>
      <Row gutter={[16, 16]}>
        {portals.map((p) => (
          <Col xs={24} sm={12} key={p.to}>
            <Link to={p.to}>
              <Card hoverable>
                <Card.Meta
                  avatar={<span style={{ fontSize: 32 }}>{p.icon}</span>}
                  title={p.title}
                  description={p.desc}
                />
              </Card>
            </Link>
          </Col>
        ))}
      </Row>
    </main>
  );
}
