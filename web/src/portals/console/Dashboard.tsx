import { useQuery } from '@tanstack/react-query';
import { Card, Col, Row, Statistic, Typography } from 'antd';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { PermissionsPending } from '../../components/Permitted';
import { PageTitle } from '../../components/PortalShell';
import { loginOverview } from '../../features/auth/api';
import { BACKLOG_SECONDS, countOf, type JobsView, longestWait, waitText } from '../../features/platform/jobs';
import { StaffPasswordNotice } from '../../features/user/StaffPasswordNotice';
import { ApiError, api, errorText } from '../../lib/api';
import { useStaffPermissions } from '../../lib/permissions';

interface MessageStat {
  channel: string;
  total: number;
  failed: number;
}
interface ReconRun {
  date: string;
  mismatchCount: number;
  open: number;
}

const ALERT = '#a8071a';
/** A figure that wants attention when above zero is shown in red. */
const alarm = (n: number) => ({ content: n > 0 ? { color: ALERT } : undefined });

/** One watch card: its figures, or why they cannot be shown (no permission, error), and where to act. */
function Watch<T>(props: {
  title: string;
  to: string;
  shown: boolean;
  query: { data?: T; error: unknown; isPending: boolean };
  children: (d: T) => ReactNode;
}) {
  const { data, error, isPending } = props.query;
  if (!props.shown) return null;
  return (
    <Col xs={24} md={12} xl={6}>
      <Card title={props.title} extra={<Link to={props.to}>查看</Link>} loading={isPending}>
        {error ? (
          <Typography.Text type="secondary">
            {error instanceof ApiError && error.status === 403 ? '无权限查看' : errorText(error)}
          </Typography.Text>
        ) : data !== undefined ? (
          props.children(data)
        ) : null}
      </Card>
    </Col>
  );
}

const OPS = 'ops:read';
const MESSAGES = 'message:read';
const RECONCILE = 'payment:reconcile';
const PAYMENTS = 'payment:read';
const SESSIONS = 'auth:session';

/**
 * 管理后台首页: what an operator on duty checks first — stuck jobs, failing channels, unreconciled payments, payment
 * orders that need a person, accounts locked out and addresses guessing at passwords.
 */
export function ConsoleDashboard() {
  const { can, me } = useStaffPermissions();
  // a card the staff member's roles do not cover is left out, not shown refused
  const watch = (permission: string) => ({ retry: false, refetchInterval: 30_000, enabled: !!can?.(permission) });
  const jobs = useQuery({
    queryKey: ['dashboard', 'jobs'],
    queryFn: () => api<JobsView>('/api/platform/jobs'),
    ...watch(OPS),
  });
  const messages = useQuery({
    queryKey: ['dashboard', 'messages'],
    queryFn: () => api<MessageStat[]>('/api/message/stats?days=1'),
    ...watch(MESSAGES),
  });
  const recon = useQuery({
    queryKey: ['dashboard', 'reconciliation'],
    queryFn: () => api<{ runs: ReconRun[] }>('/api/payment/admin/reconciliation'),
    ...watch(RECONCILE),
  });
  const abnormal = useQuery({
    queryKey: ['dashboard', 'payment-abnormal'],
    queryFn: () => api<{ total: number }>('/api/payment/admin/orders?status=abnormal&pageSize=1'),
    ...watch(PAYMENTS),
  });
  const logins = useQuery({
    queryKey: ['dashboard', 'logins'],
    queryFn: () => loginOverview(24),
    ...watch(SESSIONS),
  });
  if (!can) return <PermissionsPending />;
  if (![OPS, MESSAGES, RECONCILE, PAYMENTS, SESSIONS].some(can))
    return (
      <>
        <PageTitle>您好，{me?.displayName}</PageTitle>
        <StaffPasswordNotice />
        <Typography.Paragraph>
          请在菜单中选择要办理的业务。菜单只列出您的角色在本统筹区可以使用的功能；值班概览需要运维或支付对账等权限。
        </Typography.Paragraph>
      </>
    );
  return (
    <>
      <PageTitle>值班概览</PageTitle>
      <StaffPasswordNotice />
      <Row gutter={[16, 16]}>
        <Watch title="任务队列" shown={can(OPS)} to="/console/jobs" query={jobs}>
          {(d) => {
            const wait = longestWait(d.stats);
            const scheduled = countOf(d.stats, 'scheduled');
            return (
              <>
                <Row gutter={8}>
                  <Col span={8}>
                    <Statistic
                      title="待执行"
                      value={countOf(d.stats, 'queued')}
                      styles={alarm(wait > BACKLOG_SECONDS ? 1 : 0)}
                    />
                  </Col>
                  <Col span={8}>
                    <Statistic title="执行中" value={countOf(d.stats, 'running')} />
                  </Col>
                  <Col span={8}>
                    <Statistic title="死信" value={countOf(d.stats, 'dead')} styles={alarm(countOf(d.stats, 'dead'))} />
                  </Col>
                </Row>
                <Typography.Text type={wait > BACKLOG_SECONDS ? 'danger' : 'secondary'}>
                  {wait > BACKLOG_SECONDS ? `最久已等待 ${waitText(wait)}，请检查任务执行进程` : null}
                  {wait > BACKLOG_SECONDS && scheduled > 0 ? '；' : null}
                  {scheduled > 0 ? `另有 ${scheduled} 个定时任务未到执行时间` : null}
                </Typography.Text>
              </>
            );
          }}
        </Watch>
        <Watch title="今日消息发送" shown={can(MESSAGES)} to="/console/message/deliveries" query={messages}>
          {(rows) => {
            const total = rows.reduce((n, r) => n + r.total, 0);
            const failed = rows.reduce((n, r) => n + r.failed, 0);
            return (
              <Row gutter={8}>
                <Col span={12}>
                  <Statistic title="发送" value={total} />
                </Col>
                <Col span={12}>
                  <Statistic
                    title="失败"
                    value={failed}
                    suffix={total > 0 ? `(${((failed * 100) / total).toFixed(1)}%)` : undefined}
                    styles={alarm(failed)}
                  />
                </Col>
              </Row>
            );
          }}
        </Watch>
        <Watch title="支付对账" shown={can(RECONCILE)} to="/console/payment/reconciliation" query={recon}>
          {(d) => {
            const last = d.runs[0];
            if (!last) return <Typography.Text type="secondary">尚未对账（每日 02:00 自动对账前一日）</Typography.Text>;
            return (
              <Row gutter={8}>
                <Col span={12}>
                  {/* a date, not a count: smaller, so it keeps to one line in a narrow card */}
                  <Statistic
                    title="最近对账日"
                    value={last.date}
                    styles={{ content: { fontSize: 18, whiteSpace: 'nowrap', lineHeight: '38px' } }}
                  />
                </Col>
                <Col span={12}>
                  <Statistic title="待处理差异" value={last.open} styles={alarm(last.open)} />
                </Col>
              </Row>
            );
          }}
        </Watch>
        {/* orders recovery could not bring to a final state: a person may have paid and not be settled */}
        <Watch title="异常支付订单" shown={can(PAYMENTS)} to="/console/payment/orders?status=abnormal" query={abnormal}>
          {(d) => <Statistic title="待人工处理" value={d.total} styles={alarm(d.total)} />}
        </Watch>
        <Watch title="登录安全（近 24 小时）" shown={can(SESSIONS)} to="/console/auth/logins" query={logins}>
          {(d) => (
            <Row gutter={8}>
              <Col span={12}>
                <Statistic title="锁定中的账号" value={d.locked.length} styles={alarm(d.locked.length)} />
              </Col>
              <Col span={12}>
                <Statistic title="可疑来源 IP" value={d.suspiciousIps.length} styles={alarm(d.suspiciousIps.length)} />
              </Col>
            </Row>
          )}
        </Watch>
      </Row>
    </>
  );
}
