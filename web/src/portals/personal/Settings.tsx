import { LoginOutlined, RightOutlined, SafetyOutlined, UserAddOutlined, UserOutlined } from '@ant-design/icons';
import { Button, Card, Descriptions, Typography } from 'antd';
import { Link } from 'react-router';
import { logout } from '../../auth/oidc';
import { PageTitle } from '../../components/PortalShell';
import { type RegionConfig, useRegion } from '../../lib/region';
import { useSession } from '../../lib/session';
import styles from './personal.module.css';

const LOGIN_HREF = `/login?portal=personal&return=${encodeURIComponent('/personal/settings')}`;

/**
 * 我的 (the phone's bottom tab): the way to the account pages (profile, security), who is signed in, which region
 * serves them, and signing out; signed out, the way to log in or register.
 */
export function SettingsPage() {
  const session = useSession();
  const region = useRegion() as (RegionConfig & { settings?: { hotline?: string } }) | undefined;
  const hotline = region?.settings?.hotline ?? '12393';
  if (session?.kind !== 'person') {
    return (
      <>
        <PageTitle>我的</PageTitle>
        <Card>
          <Typography.Paragraph>登录后可查看参保状态、个人账户余额、电子凭证与缴费记录。</Typography.Paragraph>
          <div className={styles.accountActions}>
            <Button type="primary" size="large" block icon={<LoginOutlined />} href={LOGIN_HREF}>
              登录
            </Button>
            <Button size="large" block icon={<UserAddOutlined />} href="/personal/register">
              注册账号
            </Button>
          </div>
          <Typography.Paragraph type="secondary" style={{ marginTop: 16, marginBottom: 0 }}>
            服务热线 {hotline}
          </Typography.Paragraph>
        </Card>
      </>
    );
  }
  return (
    <>
      <PageTitle>我的</PageTitle>
      <Card styles={{ body: { padding: 0 } }} style={{ marginBottom: 16 }}>
        <nav aria-label="账号">
          <ul className={styles.menu}>
            <li>
              <Link to="/personal/profile" className={styles.menuItem}>
                <UserOutlined aria-hidden className={styles.menuIcon} />
                <span className={styles.menuLabel}>个人资料</span>
                <RightOutlined aria-hidden />
              </Link>
            </li>
            <li>
              <Link to="/personal/security" className={styles.menuItem}>
                <SafetyOutlined aria-hidden className={styles.menuIcon} />
                <span className={styles.menuLabel}>账号安全</span>
                <RightOutlined aria-hidden />
              </Link>
            </li>
          </ul>
        </nav>
      </Card>
      <Card>
        <Descriptions column={1} size="middle">
          <Descriptions.Item label="当前用户">{session.name ?? '—'}</Descriptions.Item>
          <Descriptions.Item label="参保地">{region?.displayName ?? session.regionCode}</Descriptions.Item>
          <Descriptions.Item label="服务热线">{hotline}</Descriptions.Item>
          <Descriptions.Item label="语言">简体中文</Descriptions.Item>
        </Descriptions>
        <Button danger size="large" block style={{ marginTop: 16 }} onClick={() => logout('personal')}>
          退出登录
        </Button>
      </Card>
    </>
  );
}
