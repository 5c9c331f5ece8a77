import { PhoneOutlined, RightOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Button, Card, Col, Row, Typography } from 'antd';
import { Link } from 'react-router';
import { ServiceTiles } from '../../components/ServiceTiles';
import { EmptyState, ErrorState, Loading, StatusBadge, yuan } from '../../components/States';
import { FailedLoginsNotice } from '../../features/auth/FailedLoginsNotice';
import { PendingBillsNotice } from '../../features/payment/PendingNotice';
import { ApiError, api } from '../../lib/api';
import { type RegionConfig, serviceEnabled, useRegion } from '../../lib/region';
import { useSession } from '../../lib/session';
import type { MyAccount, MyInsurance } from './api';
import styles from './personal.module.css';
import { personalServices } from './services';

type Branded = RegionConfig & { settings?: { slogan?: string; hotline?: string } };

export function PersonalHome() {
  const region = useRegion() as Branded | undefined;
  const session = useSession();
  const signedIn = session?.kind === 'person';
  const services = personalServices.filter((s) => serviceEnabled(region, s.service));
  return (
    <div className={styles.home}>
      <section
        className={styles.banner}
        style={{ background: region?.brandColor ?? '#0958d9' }}
        aria-label="地区服务信息"
      >
        <h1 className={styles.bannerTitle}>{signedIn && session?.name ? `您好，${session.name}` : '个人网厅'}</h1>
        <p className={styles.bannerText}>
          {region?.settings?.slogan ?? `${region?.displayName ?? ''} · 足不出户办医保`}
        </p>
        {region?.settings?.hotline ? (
          <p className={styles.bannerText}>
            <PhoneOutlined aria-hidden /> 医保服务热线 {region.settings.hotline}
          </p>
        ) : null}
      </section>
      {signedIn ? <FailedLoginsNotice securityPath="/personal/security" /> : null}
      {signedIn && serviceEnabled(region, 'payment') ? <PendingBillsNotice /> : null}
      <Row gutter={[16, 16]}>
        <Col xs={24} md={{ span: 9, order: 2 }}>
          {signedIn ? (
            <Summary />
          ) : (
            <Card>
              <Typography.Paragraph>登录后可查看参保状态、个人账户余额、电子凭证与缴费记录。</Typography.Paragraph>
              <div className={styles.accountActions}>
                <Button
                  type="primary"
                  size="large"
                  block
                  href={`/login?portal=personal&return=${encodeURIComponent('/personal')}`}
                >
                  登录
                </Button>
                <Button size="large" block href="/personal/register">
                  注册账号
                </Button>
              </div>
            </Card>
          )}
        </Col>
        <Col xs={24} md={{ span: 15, order: 1 }}>
          <Card title="服务" styles={{ body: { padding: 12 } }}>
            {services.length === 0 ? (
              <EmptyState title="本地区暂未开通网上服务" hint="请拨打医保服务热线咨询" />
            ) : (
              <ServiceTiles items={services.map((s) => ({ to: `/personal${s.path}`, label: s.label, icon: s.icon }))} />
            )}
          </Card>
        </Col>
      </Row>
    </div>
  );
}

/** My insurance and my balance at a glance (the signed-in person). */
function Summary() {
  const insurance = useQuery({
    queryKey: ['personal', 'insurance'],
    queryFn: () => api<MyInsurance>('/api/personal/insurance'),
  });
  const account = useQuery({
    queryKey: ['personal', 'account'],
    queryFn: () => api<MyAccount>('/api/personal/account'),
  });
  if (insurance.isPending)
    return (
      <Card>
        <Loading lines={3} label="正在查询参保信息…" />
      </Card>
    );
  if (insurance.error) {
    if (insurance.error instanceof ApiError && insurance.error.code === 'PERSONAL_NOT_INSURED')
      return (
        <Card>
          <EmptyState title="未查询到您的参保信息" hint="如已参保，请携带身份证到医保经办窗口核实" />
        </Card>
      );
    return (
      <Card>
        <ErrorState error={insurance.error} onRetry={() => insurance.refetch()} />
      </Card>
    );
  }
  const active = insurance.data.insurances.find((i) => i.status === 'active') ?? insurance.data.insurances[0];
  return (
    <Card
      title="我的医保"
      extra={
        <Link to="/personal/insurance">
          详情 <RightOutlined aria-hidden />
        </Link>
      }
    >
      <dl className={styles.facts}>
        <dt>参保状态</dt>
        <dd>
          {active ? (
            <StatusBadge tone={active.status === 'active' ? 'ok' : 'warn'}>{active.statusLabel}</StatusBadge>
          ) : (
            '未参保'
          )}
        </dd>
        <dt>险种</dt>
        <dd>{active?.insuranceTypeLabel ?? '—'}</dd>
        <dt>参保地</dt>
        <dd>{insurance.data.regionName}</dd>
        <dt>账户余额</dt>
        <dd data-testid="home-balance">
          {account.isPending
            ? '查询中…'
            : account.error
              ? '暂时无法查询'
              : account.data.hasAccount
                ? yuan(account.data.balance)
                : '无个人账户'}
        </dd>
      </dl>
    </Card>
  );
}
