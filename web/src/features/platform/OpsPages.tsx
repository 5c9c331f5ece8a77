import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Button,
  Card,
  Checkbox,
  ColorPicker,
  Divider,
  Form,
  Input,
  InputNumber,
  Progress,
  Space,
  Switch,
  Table,
  Tag,
  Typography,
} from 'antd';
import { PageTitle } from '../../components/PortalShell';
import { api, errorText } from '../../lib/api';
import { useStaffPermissions } from '../../lib/permissions';
import { useRegionCode } from '../../lib/region';
import { useToast } from '../../lib/toast';
import { BACKLOG_SECONDS, type JobsView, queueRows, waitText } from './jobs';

const SERVICES = [
  ['evoucher', '电子凭证'],
  ['payment', '移动支付'],
  ['ebill', '电子票据'],
  ['message', '消息中心'],
  ['personal', '个人服务'],
  ['unit', '单位服务'],
];

/** The e-voucher center's parameters in seconds (its declared settings: server/src/centers/evoucher/service.ts). */
const SECONDS_SETTINGS = [
  {
    field: 'qrTtlSeconds',
    label: '医保码有效期（秒）',
    min: 15,
    max: 300,
    fallback: 60,
    hint: '；较短更安全，较长便于网络差时扫码',
  },
  { field: 'clockSkewSeconds', label: '允许的手机时钟偏差（秒）', min: 0, max: 120, fallback: 10, hint: '' },
];

interface RegionConfig {
  displayName: string;
  brandColor: string;
  logoUrl: string | null;
  enabledServices: string[];
  /** the centers' own parameters for this region (each center declares what it reads) */
  settings?: {
    evoucher?: { qrTtlSeconds?: number; clockSkewSeconds?: number };
    payment?: { partialCashRefund?: boolean };
  };
}

/** 统筹区配置: the locality's own name, branding and enabled services (地方可以调整). */
export function RegionConfigPage() {
  const code = useRegionCode();
  const toast = useToast();
  const client = useQueryClient();
  const [form] = Form.useForm();
  const { data, isLoading } = useQuery({
    queryKey: ['region-config', code],
    queryFn: () => api<RegionConfig>(`/api/regions/${code}/config`),
  });
  const save = useMutation({
    mutationFn: (v: RegionConfig) => api(`/api/regions/${code}/config`, { method: 'PUT', body: v }),
    onSuccess: () => {
      toast.success('已保存，各网厅将在 30 秒内生效');
      client.invalidateQueries({ queryKey: ['region-config', code] });
    },
    onError: (err) => toast.refused(form, err),
  });
  if (isLoading || !data) return <Card loading />;
  return (
    <>
      <PageTitle>统筹区配置 · {code}</PageTitle>
      <Card>
        <Form
          form={form}
          layout="vertical"
          initialValues={data}
          onFinish={(v) =>
            save.mutate({
              ...v,
              brandColor: typeof v.brandColor === 'string' ? v.brandColor : v.brandColor.toHexString(),
              // an emptied number field means "the default": leave it out
              settings: JSON.parse(JSON.stringify(v.settings ?? {}, (_k, x) => (x === null ? undefined : x))),
            })
          }
          style={{ maxWidth: 560 }}
        >
          <Form.Item name="displayName" label="显示名称" rules={[{ required: true, min: 2, max: 40 }]}>
            <Input />
          </Form.Item>
          <Form.Item name="brandColor" label="品牌色">
            <ColorPicker format="hex" disabledAlpha />
          </Form.Item>
          <Form.Item name="logoUrl" label="标志图片地址">
            <Input placeholder="https://…/logo.png" />
          </Form.Item>
          <Form.Item name="enabledServices" label="启用的服务">
            <Checkbox.Group options={SERVICES.map(([value, label]) => ({ value, label }))} />
          </Form.Item>
          <Divider titlePlacement="start">业务参数</Divider>
          {SECONDS_SETTINGS.map((f) => (
            <Form.Item
              key={f.field}
              name={['settings', 'evoucher', f.field]}
              label={f.label}
              extra={`${f.min}–${f.max} 秒，留空为默认 ${f.fallback} 秒${f.hint}`}
            >
              <InputNumber
                min={f.min}
                max={f.max}
                precision={0}
                placeholder={String(f.fallback)}
                style={{ width: 200 }}
              />
            </Form.Item>
          ))}
          <Form.Item
            name={['settings', 'payment', 'partialCashRefund']}
            label="允许只退还部分现金（按项目退费）"
            valuePropName="checked"
          >
            <Switch />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={save.isPending}>
            保存
          </Button>
        </Form>
      </Card>
    </>
  );
}

/** A queue by what it does, its name below (what logs and metrics call it). */
function QueueName({ queue, titles }: { queue: string; titles?: Record<string, string> }) {
  const title = titles?.[queue];
  if (!title) return <>{queue}</>;
  return (
    <>
      {title}
      <div>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {queue}
        </Typography.Text>
      </div>
    </>
  );
}

/** 任务队列: each queue's due, scheduled, running, done and dead jobs and its longest wait; dead letters with retry. */
export function JobsPage() {
  const toast = useToast();
  const client = useQueryClient();
  const { can } = useStaffPermissions();
  const { data, isLoading, error } = useQuery({
    queryKey: ['jobs'],
    queryFn: () => api<JobsView>('/api/platform/jobs'),
    refetchInterval: 5000,
  });
  const retry = useMutation({
    mutationFn: (id: number) => api(`/api/platform/jobs/${id}/retry`, { method: 'POST' }),
    onSuccess: () => {
      toast.success('已重新排队');
      client.invalidateQueries({ queryKey: ['jobs'] });
    },
    onError: toast.failed,
  });
  if (error) return <Alert type="error" message={errorText(error)} />;
  return (
    <>
      <PageTitle>任务队列</PageTitle>
      <Card
        title="队列概况"
        extra={<Typography.Text type="secondary">本统筹区及全平台任务</Typography.Text>}
        loading={isLoading}
        style={{ marginBottom: 16 }}
      >
        <Table
          size="small"
          rowKey="queue"
          pagination={false}
          scroll={{ x: 'max-content' }}
          dataSource={queueRows(data?.stats ?? [])}
          columns={[
            {
              title: '队列',
              dataIndex: 'queue',
              render: (q: string) => <QueueName queue={q} titles={data?.titles} />,
            },
            { title: '待执行', dataIndex: 'queued', align: 'right' },
            {
              title: '最久等待',
              dataIndex: 'waitSeconds',
              align: 'right',
              render: (s: number, r) =>
                r.queued === 0 ? '—' : s > BACKLOG_SECONDS ? <Tag color="red">{waitText(s)}</Tag> : waitText(s),
            },
            { title: '定时（未到时间）', dataIndex: 'scheduled', align: 'right' },
            { title: '执行中', dataIndex: 'running', align: 'right' },
            { title: '已完成', dataIndex: 'done', align: 'right' },
            {
              title: '死信',
              dataIndex: 'dead',
              align: 'right',
              render: (n: number) => (n > 0 ? <Tag color="red">{n}</Tag> : n),
            },
          ]}
        />
      </Card>
      <Card title="死信任务">
        <Table
          size="small"
          rowKey="id"
          dataSource={data?.dead ?? []}
          locale={{ emptyText: '没有死信任务' }}
          columns={[
            { title: '编号', dataIndex: 'id' },
            { title: '队列', dataIndex: 'queue', render: (q: string) => <QueueName queue={q} titles={data?.titles} /> },
            { title: '尝试次数', dataIndex: 'attempts' },
            { title: '最后错误', dataIndex: 'last_error', ellipsis: true },
            {
              title: '操作',
              hidden: !can?.('ops:manage'),
              render: (_: unknown, r) => (
                <Button size="small" onClick={() => retry.mutate(r.id)}>
                  重试
                </Button>
              ),
            },
          ]}
        />
      </Card>
    </>
  );
}

interface ChainReport {
  regionCode: string;
  checked: number;
  brokenAt?: { seq: number; reason: string };
}

interface KeyStatus {
  currentKeyId: string;
  columns: Array<{ table: string; column: string; total: number; underOldKeys: number }>;
}

/** 审计与密钥: verify the audit hash chain; rotate personal-data keys with progress. */
export function SecurityOpsPage() {
  const toast = useToast();
  const { can } = useStaffPermissions();
  const chain = useMutation({ mutationFn: () => api<ChainReport[]>('/api/platform/audit/verify') });
  const keys = useQuery({
    queryKey: ['privacy-keys'],
    queryFn: () => api<KeyStatus>('/api/platform/privacy/keys'),
    refetchInterval: 3000,
    enabled: !!can?.('ops:read'),
  });
  const rotate = useMutation({
    mutationFn: () => api('/api/platform/privacy/reencrypt', { method: 'POST' }),
    onSuccess: () => toast.success('重新加密任务已启动'),
    onError: toast.failed,
  });
  return (
    <>
      <PageTitle>审计与密钥</PageTitle>
      {can?.('audit:read') ? (
        <Card title="审计日志哈希链" style={{ marginBottom: 16 }}>
          <Space direction="vertical" style={{ width: '100%' }}>
            <Button onClick={() => chain.mutate()} loading={chain.isPending}>
              校验本统筹区审计链
            </Button>
            {chain.error ? <Alert type="error" message={errorText(chain.error)} /> : null}
            {chain.data?.map((r) =>
              r.brokenAt ? (
                <Alert
                  key={r.regionCode}
                  type="error"
                  message={`第 ${r.brokenAt.seq} 条断链：${r.brokenAt.reason}（此前 ${r.checked} 条完好）`}
                />
              ) : (
                <Alert key={r.regionCode} type="success" message={`${r.checked} 条记录，哈希链完整`} />
              ),
            )}
            {chain.data?.length === 0 ? <Alert type="info" message="本统筹区尚无审计记录" /> : null}
          </Space>
        </Card>
      ) : null}
      {can?.('ops:read') ? (
        <Card
          title={`个人数据加密密钥（当前：${keys.data?.currentKeyId ?? '…'}）`}
          extra={
            can?.('ops:manage') ? (
              <Button onClick={() => rotate.mutate()} loading={rotate.isPending}>
                按新密钥重新加密
              </Button>
            ) : null
          }
        >
          {keys.error ? <Alert type="error" message={errorText(keys.error)} /> : null}
          <Table
            size="small"
            rowKey={(r) => `${r.table}.${r.column}`}
            pagination={false}
            dataSource={keys.data?.columns ?? []}
            columns={[
              { title: '数据列', render: (_: unknown, r) => `${r.table}.${r.column}` },
              { title: '总数', dataIndex: 'total', align: 'right' },
              {
                title: '轮换进度',
                render: (_: unknown, r) => (
                  <Progress
                    aria-label={`${r.table}.${r.column} 轮换进度`}
                    percent={r.total === 0 ? 100 : Math.floor(((r.total - r.underOldKeys) * 100) / r.total)}
                    size="small"
                  />
                ),
              },
            ]}
          />
        </Card>
      ) : null}
    </>
  );
}
