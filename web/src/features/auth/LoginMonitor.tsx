import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Col, Popconfirm, Row, Segmented, Space, Statistic, Table, Tag, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { type ChartOption, chartFrame, EChart } from '../../components/EChart';
import { PageTitle } from '../../components/PortalShell';
import { ErrorState, Loading } from '../../components/States';
import { api } from '../../lib/api';
import { chinaDay, dateMinute, hourMinute } from '../../lib/time';
import { useToast } from '../../lib/toast';
import { CLIENT_LABEL, type Counts, type LockedAccount, type LoginOverview, loginOverview } from './api';
import { METHOD_LABEL } from './SecurityPanels';

const ALERT = '#a8071a';
const SERIES: Array<{ key: keyof Counts; name: string; color: string }> = [
  { key: 'success', name: '成功', color: '#389e0d' },
  { key: 'failure', name: '失败（账号、密码或验证码错误）', color: '#cf1322' },
  { key: 'refused', name: '拒绝（锁定或限流）', color: '#d46b08' },
];

function HourlyChart({ rows, hours }: { rows: LoginOverview['hourly']; hours: number }) {
  const option = useMemo<ChartOption>(
    () => ({
      ...chartFrame(),
      xAxis: {
        type: 'category',
        data: rows.map((r) => {
          const at = new Date(r.hour);
          return hours > 24 ? `${chinaDay(at).slice(5)} ${hourMinute(at)}` : hourMinute(at);
        }),
      },
      yAxis: { type: 'value', name: '次数', minInterval: 1 },
      series: SERIES.map((s) => ({
        name: s.name,
        type: 'bar',
        stack: 'logins',
        color: s.color,
        data: rows.map((r) => r[s.key]),
      })),
    }),
    [rows, hours],
  );
  return <EChart option={option} height={300} label="每小时登录成功、失败与被拒绝次数图表" />;
}

/**
 * 登录监控: the region's logins over the last day or week — a spike of failures from one address is a
 * credential-stuffing run, a locked account a person who will call the hotline — and the unlock that helps them.
 */
export function LoginMonitorPage() {
  const toast = useToast();
  const qc = useQueryClient();
  const [hours, setHours] = useState(24);
  const overview = useQuery({
    queryKey: ['auth', 'logins-overview', hours],
    queryFn: () => loginOverview(hours),
    refetchInterval: 60_000,
  });
  const unlock = useMutation({
    mutationFn: (a: LockedAccount) => api(`/api/auth/accounts/${a.kind}/${a.id}/unlock`, { method: 'POST' }),
    onSuccess: () => {
      toast.success('已解除锁定，对方可以重新登录');
      void qc.invalidateQueries({ queryKey: ['auth', 'logins-overview'] });
    },
    onError: toast.failed,
  });
  const span = hours > 24 ? '近 7 天' : '近 24 小时';
  return (
    <>
      <PageTitle>登录监控</PageTitle>
      <Space style={{ marginBottom: 16 }} wrap>
        <Segmented
          aria-label="时间范围"
          value={hours}
          onChange={(v) => setHours(Number(v))}
          options={[
            { label: '近 24 小时', value: 24 },
            { label: '近 7 天', value: 168 },
          ]}
        />
        <Typography.Text type="secondary">本统筹区全部登录方式，每分钟刷新；时间为北京时间</Typography.Text>
      </Space>
      {overview.isPending ? (
        <Loading />
      ) : overview.isError ? (
        <ErrorState error={overview.error} onRetry={() => void overview.refetch()} />
      ) : (
        <Overview
          o={overview.data}
          hours={hours}
          span={span}
          onUnlock={(a) => unlock.mutate(a)}
          unlocking={unlock.isPending}
        />
      )}
    </>
  );
}

function Overview(props: {
  o: LoginOverview;
  hours: number;
  span: string;
  onUnlock: (a: LockedAccount) => void;
  unlocking: boolean;
}) {
  const { o } = props;
  const attempts = o.totals.success + o.totals.failure + o.totals.refused;
  const failed = o.totals.failure + o.totals.refused;
  return (
    <Space orientation="vertical" size={16} style={{ width: '100%' }}>
      <Row gutter={[16, 16]}>
        {[
          { title: `${props.span}登录成功`, value: o.totals.success },
          {
            title: '失败或被拒绝',
            value: failed,
            suffix: attempts > 0 ? `(${((failed * 100) / attempts).toFixed(1)}%)` : undefined,
          },
          { title: '可疑来源 IP', value: o.suspiciousIps.length, alarm: true },
          { title: '锁定中的账号', value: o.locked.length, alarm: true },
        ].map((f) => (
          <Col key={f.title} xs={12} lg={6}>
            <Card>
              <Statistic
                title={f.title}
                value={f.value}
                suffix={f.suffix}
                styles={{ content: f.alarm && f.value > 0 ? { color: ALERT } : undefined }}
              />
            </Card>
          </Col>
        ))}
      </Row>
      <Card title="每小时登录">
        <HourlyChart rows={o.hourly} hours={props.hours} />
      </Card>
      <Card title="锁定中的账号">
        {o.lockedUnknownLoginIds > 0 ? (
          <Alert
            type="warning"
            showIcon
            style={{ marginBottom: 12 }}
            message={`另有 ${o.lockedUnknownLoginIds} 个不存在的登录名因反复失败被锁定`}
            description="有人在猜测账号（撞库）。登录页对存在与不存在的账号回答相同，不会泄露账号是否存在。"
          />
        ) : null}
        <Table<LockedAccount>
          rowKey={(a) => `${a.kind}:${a.id}`}
          size="small"
          pagination={false}
          scroll={{ x: 720 }}
          dataSource={o.locked}
          locale={{ emptyText: '没有锁定中的账号' }}
          columns={[
            { title: '类型', dataIndex: 'kind', width: 90, render: (k) => (k === 'staff' ? '工作人员' : '个人') },
            { title: '姓名', dataIndex: 'name', width: 110, render: (n: string) => n || '（账号已不存在）' },
            { title: '连续失败', dataIndex: 'failures', width: 90 },
            {
              title: '状态',
              width: 200,
              render: (_, a) =>
                a.hardLocked ? (
                  <Tag color="red">已锁定，需人工解锁</Tag>
                ) : (
                  <Tag color="orange">暂停至 {dateMinute(a.lockedUntil)}</Tag>
                ),
            },
            { title: '最近失败', dataIndex: 'lastFailureAt', width: 150, render: dateMinute },
            {
              title: '操作',
              width: 90,
              render: (_, a) => (
                <Popconfirm
                  title={`解除 ${a.name || '该账号'} 的登录锁定？`}
                  description="请先通过电话或柜面核实是本人，解锁将记入审计日志。"
                  onConfirm={() => props.onUnlock(a)}
                >
                  <Button size="small" loading={props.unlocking}>
                    解锁
                  </Button>
                </Popconfirm>
              ),
            },
          ]}
        />
      </Card>
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={12}>
          <Card title="可疑来源 IP（失败 5 次及以上）">
            <Table
              rowKey="ip"
              size="small"
              pagination={false}
              scroll={{ x: 520 }}
              dataSource={o.suspiciousIps}
              locale={{ emptyText: '没有可疑来源' }}
              columns={[
                { title: 'IP 地址', dataIndex: 'ip' },
                { title: '失败或拒绝', dataIndex: 'failures', width: 100 },
                { title: '成功', dataIndex: 'successes', width: 70 },
                { title: '涉及账号', dataIndex: 'accounts', width: 90 },
                { title: '最近', dataIndex: 'lastAt', width: 150, render: dateMinute },
              ]}
            />
          </Card>
        </Col>
        <Col xs={24} xl={12}>
          <Card title="按登录方式与应用">
            <Space orientation="vertical" size={12} style={{ width: '100%' }}>
              <CountsTable
                first="方式"
                rows={o.byMethod.map((m) => ({ key: m.method, name: METHOD_LABEL[m.method] ?? m.method, ...m }))}
                empty={`${props.span}没有登录`}
              />
              <CountsTable
                first="应用"
                rows={o.byClient.map((c) => ({
                  key: c.clientId ?? '—',
                  name: CLIENT_LABEL[c.clientId ?? ''] ?? c.clientId ?? '未知',
                  ...c,
                }))}
                empty={`${props.span}没有登录`}
              />
            </Space>
          </Card>
        </Col>
      </Row>
    </Space>
  );
}

/** Successes, failures and refusals by one grouping (login method, or the application logged in to). */
function CountsTable(props: { first: string; rows: Array<Counts & { key: string; name: string }>; empty: string }) {
  return (
    <Table
      rowKey="key"
      size="small"
      pagination={false}
      scroll={{ x: 420 }}
      dataSource={props.rows}
      locale={{ emptyText: props.empty }}
      columns={[
        { title: props.first, dataIndex: 'name' },
        { title: '成功', dataIndex: 'success', width: 80 },
        { title: '失败', dataIndex: 'failure', width: 80 },
        { title: '拒绝', dataIndex: 'refused', width: 80 },
      ]}
    />
  );
}
