import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Button,
  Card,
  Checkbox,
  DatePicker,
  Descriptions,
  Drawer,
  Form,
  Input,
  InputNumber,
  Radio,
  Select,
  Space,
  Switch,
  Table,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import type { Dayjs } from 'dayjs';
import { useEffect, useRef, useState } from 'react';
import { openableRow } from '../../components/openableRow';
import { Permitted } from '../../components/Permitted';
import { PageTitle } from '../../components/PortalShell';
import { ErrorState, Loading } from '../../components/States';
import { api, errorText, newIdempotencyKey } from '../../lib/api';
import { RESIDENT_ID } from '../../lib/ids';
import { useStaffPermissions } from '../../lib/permissions';
import { useToast } from '../../lib/toast';
import {
  CHANNEL_LABELS,
  CHANNEL_LIST,
  type Channel,
  type Delivery,
  dateTime,
  type MessageTypeInfo,
  PRIORITY_LABELS,
  type Rule,
  STATUS_LABELS,
} from './api';
import { type StatRow, VolumeChart } from './VolumeChart';

const channelOptions = CHANNEL_LIST.map((c) => ({ value: c, label: CHANNEL_LABELS[c] }));
const SandboxTag = () => <Tag color="#ad4e00">沙箱</Tag>;

/** 消息类型: declared types with their rule; a drawer edits the rule and the templates. */
export function MessageTypesPage() {
  const { data, error, isLoading } = useQuery({
    queryKey: ['message', 'types'],
    queryFn: () => api<MessageTypeInfo[]>('/api/message/types'),
  });
  const [open, setOpen] = useState<MessageTypeInfo>();
  return (
    <>
      <PageTitle>消息类型与推送规则</PageTitle>
      {error ? <Alert type="error" showIcon message={errorText(error)} /> : null}
      <Table
        rowKey="code"
        loading={isLoading}
        dataSource={data ?? []}
        pagination={false}
        scroll={{ x: 900 }}
        onRow={openableRow(setOpen)}
        columns={[
          {
            title: '类型',
            dataIndex: 'name',
            render: (n: string, r) => (
              <>
                <b>{n}</b>
                <div>
                  <Typography.Text type="secondary" copyable>
                    {r.code}
                  </Typography.Text>
                </div>
              </>
            ),
          },
          { title: '分类', dataIndex: 'categoryName' },
          {
            title: '优先级',
            dataIndex: 'priority',
            render: (p: string) => (
              <Tag color={p === 'urgent' ? '#a8071a' : p === 'high' ? '#ad4e00' : 'default'}>{PRIORITY_LABELS[p]}</Tag>
            ),
          },
          {
            title: '强制',
            dataIndex: 'mandatory',
            render: (m: boolean) => (m ? <Tag color="#a8071a">强制</Tag> : '可退订'),
          },
          {
            title: '推送渠道',
            key: 'rule',
            render: (_: unknown, r) => (
              <Space wrap>
                {r.rule.always.map((c) => (
                  <Tag key={c} color="#0958d9">
                    {CHANNEL_LABELS[c]}
                  </Tag>
                ))}
                {r.rule.fallback.length ? (
                  <span>{r.rule.fallback.map((c) => CHANNEL_LABELS[c]).join(' → ')}</span>
                ) : null}
                {!r.rule.enabled ? <Tag color="#a8071a">已停用</Tag> : null}
                {r.rule.customized ? <Tag>已自定义</Tag> : null}
              </Space>
            ),
          },
          {
            title: '操作',
            key: 'op',
            render: (_: unknown, r) => <Button onClick={() => setOpen(r)}>规则与模板</Button>,
          },
        ]}
      />
      <Drawer
        open={!!open}
        onClose={() => setOpen(undefined)}
        width={Math.min(760, window.innerWidth)}
        title={open ? `${open.name}（${open.code}）` : ''}
        destroyOnHidden
      >
        {open ? (
          <Tabs
            items={[
              { key: 'tpl', label: '模板', children: <TemplatesEditor type={open} /> },
              { key: 'rule', label: '推送规则', children: <RuleEditor type={open} /> },
            ]}
          />
        ) : null}
      </Drawer>
    </>
  );
}

function RuleEditor({ type }: { type: MessageTypeInfo }) {
  const toast = useToast();
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: (v: Omit<Rule, 'typeCode' | 'customized'>) =>
      api<Rule>(`/api/message/types/${type.code}/rule`, { method: 'PUT', body: v }),
    onSuccess: () => {
      toast.success('规则已保存');
      void qc.invalidateQueries({ queryKey: ['message', 'types'] });
    },
    onError: toast.failed,
  });
  const { typeCode: _t, customized: _c, ...initial } = type.rule;
  const readOnly = !useStaffPermissions().can?.('message:manage');
  return (
    <Form layout="vertical" initialValues={initial} onFinish={(v) => save.mutate(v)} disabled={readOnly}>
      <Form.Item name="always" label="总是发送的渠道" extra="例如站内信：每条消息都会写入">
        <Checkbox.Group options={channelOptions} />
      </Form.Item>
      <Form.Item name="fallback" label="按顺序尝试的渠道（前一个失败或不可用时用下一个）">
        <Select mode="multiple" options={channelOptions} placeholder="例如：微信公众号 → 短信" />
      </Form.Item>
      <Space wrap size="large">
        <Form.Item name="dedupeSeconds" label="去重时间窗（秒）">
          <InputNumber min={0} max={604800} />
        </Form.Item>
        <Form.Item name="userLimitPerHour" label="每人每小时上限（条）">
          <InputNumber min={1} max={10000} />
        </Form.Item>
        <Form.Item name="respectQuietHours" label="遵守免打扰时段" valuePropName="checked">
          <Switch disabled={readOnly || type.priority === 'urgent'} />
        </Form.Item>
        <Form.Item name="enabled" label="启用" valuePropName="checked">
          <Switch disabled={readOnly || type.mandatory} />
        </Form.Item>
      </Space>
      <Permitted permission="message:manage">
        <Button type="primary" htmlType="submit" loading={save.isPending}>
          保存规则
        </Button>
      </Permitted>
    </Form>
  );
}

interface TemplateVersions {
  channel: Channel;
  default: { title?: string; body: string } | null;
  versions: Array<{ version: number; title: string; body: string; createdBy: string; createdAt: string }>;
}

function TemplatesEditor({ type }: { type: MessageTypeInfo }) {
  const toast = useToast();
  const qc = useQueryClient();
  const [channel, setChannel] = useState<Channel>(type.channels[0] ?? 'inbox');
  const [form] = Form.useForm<{ title?: string; body: string }>();
  const [preview, setPreview] = useState<{ title: string; body: string; length: number; limit: number }>();
  const { data, error, refetch } = useQuery({
    queryKey: ['message', 'templates', type.code],
    queryFn: () => api<TemplateVersions[]>(`/api/message/types/${type.code}/templates`),
  });
  const current = data?.find((t) => t.channel === channel);
  const latest = current?.versions[0] ?? (current?.default ? { ...current.default, version: 0 } : undefined);
  // The form instance outlives channel switches: load the channel's current version into it when the channel or
  // the version changes — not when the editor first appears (its initial values are that version already, and a
  // clerk may have started typing).
  const shown = useRef<string>(undefined);
  useEffect(() => {
    if (!data) return;
    const key = `${channel}:${latest?.version ?? '-'}`;
    if (shown.current !== undefined && shown.current !== key) {
      form.setFieldsValue({ title: latest?.title ?? '', body: latest?.body ?? '' });
    }
    shown.current = key;
  }, [form, data, channel, latest?.version, latest?.title, latest?.body]);
  const doPreview = useMutation({
    mutationFn: (v: { title?: string; body: string }) =>
      api<{ title: string; body: string; length: number; limit: number }>(`/api/message/types/${type.code}/preview`, {
        method: 'POST',
        // an empty editor previews the channel's current template
        body: v.body ? { channel, title: v.title || undefined, body: v.body } : { channel },
      }),
    onSuccess: setPreview,
    onError: (err) => toast.refused(form, err),
  });
  const save = useMutation({
    mutationFn: (v: { title?: string; body: string }) =>
      api<{ version: number }>(`/api/message/types/${type.code}/templates`, {
        method: 'POST',
        body: { channel, ...v },
      }),
    onSuccess: (r) => {
      toast.success(`已保存为第 ${r.version} 版`);
      void qc.invalidateQueries({ queryKey: ['message', 'templates', type.code] });
    },
    onError: (err) => toast.refused(form, err),
  });
  // the editor appears with the current version in it: text typed before that arrived would be overwritten
  if (error) return <ErrorState error={error} onRetry={() => void refetch()} />;
  if (!data) return <Loading lines={4} label="正在加载模板…" />;
  return (
    <>
      <Radio.Group
        value={channel}
        onChange={(e) => {
          setChannel(e.target.value);
          setPreview(undefined);
        }}
        optionType="button"
        options={channelOptions}
        style={{ marginBottom: 12 }}
      />
      <Typography.Paragraph type="secondary">
        可用变量：
        {Object.entries(type.variables).map(([k, t]) => (
          <Tag key={k}>
            {`{{${k}}}`} <small>{t}</small>
          </Tag>
        ))}
        过滤器：<Tag>|yuan</Tag>（分→元）<Tag>|time</Tag>（北京时间）<Tag>|mask</Tag>（脱敏）
      </Typography.Paragraph>
      <Form
        form={form}
        layout="vertical"
        initialValues={latest ? { title: latest.title, body: latest.body } : { body: '' }}
        onFinish={(v) => save.mutate(v)}
      >
        {channel !== 'sms' ? (
          <Form.Item name="title" label={channel === 'email' ? '邮件主题' : '标题'}>
            <Input maxLength={200} />
          </Form.Item>
        ) : null}
        <Form.Item
          name="body"
          label={`正文（当前第 ${latest?.version ?? 0} 版${latest?.version === 0 ? '，系统默认' : ''}）`}
          rules={[{ required: true, message: '请填写正文' }]}
        >
          <Input.TextArea rows={6} />
        </Form.Item>
        <Space>
          <Button onClick={() => doPreview.mutate(form.getFieldsValue())} loading={doPreview.isPending}>
            用示例数据预览
          </Button>
          <Permitted permission="message:manage">
            <Button type="primary" htmlType="submit" loading={save.isPending}>
              保存为新版本
            </Button>
          </Permitted>
        </Space>
      </Form>
      {preview ? (
        <Card size="small" title="预览" style={{ marginTop: 12 }}>
          {preview.title ? <Typography.Title level={5}>{preview.title}</Typography.Title> : null}
          <Typography.Paragraph style={{ whiteSpace: 'pre-wrap' }}>{preview.body}</Typography.Paragraph>
          <Typography.Text type={preview.length > preview.limit ? 'danger' : 'secondary'}>
            {preview.length} / {preview.limit} 字
          </Typography.Text>
        </Card>
      ) : null}
      {current && current.versions.length > 0 ? (
        <Table
          size="small"
          style={{ marginTop: 16 }}
          rowKey="version"
          pagination={false}
          dataSource={current.versions}
          columns={[
            { title: '版本', dataIndex: 'version', width: 64 },
            { title: '正文', dataIndex: 'body', ellipsis: true },
            { title: '保存人', dataIndex: 'createdBy', width: 100, ellipsis: true },
            { title: '时间', dataIndex: 'createdAt', width: 170, render: dateTime },
          ]}
        />
      ) : null}
    </>
  );
}

interface AnnouncementRow {
  id: string;
  title: string;
  body: string;
  hall: string;
  audience: { kind: string; unitId?: string; unitName?: string; personIds?: string[] };
  toInbox: boolean;
  publishAt: string;
  expiresAt: string | null;
  status: string;
  fanoutCount: number | null;
}

const AUDIENCE: Record<string, string> = {
  public: '公开（网厅公告栏）',
  region_persons: '本统筹区参保人',
  unit_staff: '某单位经办人',
  list: '指定名单',
};
const HALL: Record<string, string> = { all: '全部网厅', personal: '个人网厅', unit: '单位网厅' };
const ANN_STATUS: Record<string, { text: string; color: string }> = {
  scheduled: { text: '待发布', color: '#0958d9' },
  published: { text: '已发布', color: '#237804' },
  withdrawn: { text: '已撤回', color: 'default' },
};

/** Resident ID numbers pasted as a list (commas, spaces, new lines), upper case. */
const idList = (text: string | undefined) =>
  (text ?? '')
    .split(/[\s,，;；、]+/)
    .filter(Boolean)
    .map((id) => id.toUpperCase());

/** 公告与群发. */
export function BroadcastsPage() {
  const toast = useToast();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const kind = Form.useWatch(['audience', 'kind'], form);
  const { data, isLoading } = useQuery({
    queryKey: ['message', 'broadcasts'],
    queryFn: () => api<AnnouncementRow[]>('/api/message/broadcasts'),
  });
  const create = useMutation({
    mutationFn: (v: {
      title: string;
      body: string;
      hall: string;
      audience: { kind: string; uscc?: string; residentIds?: string };
      toInbox: boolean;
      publishAt?: Dayjs;
      expiresAt?: Dayjs;
    }) => {
      const audience =
        v.audience.kind === 'list'
          ? { kind: 'list', residentIds: idList(v.audience.residentIds) }
          : v.audience.kind === 'unit_staff'
            ? { kind: 'unit_staff', uscc: v.audience.uscc?.trim() }
            : { kind: v.audience.kind };
      return api<{ unmatched: number }>('/api/message/broadcasts', {
        body: {
          title: v.title,
          body: v.body,
          hall: v.hall,
          audience,
          toInbox: v.audience.kind === 'public' ? false : v.toInbox,
          publishAt: v.publishAt?.toISOString(),
          expiresAt: v.expiresAt?.toISOString(),
        },
        idempotencyKey: newIdempotencyKey(),
      });
    },
    onSuccess: ({ unmatched }) => {
      if (unmatched > 0) toast.warning(`公告已创建；名单中 ${unmatched} 个身份证号码尚未开通网厅账户，不会收到站内信`);
      else toast.success('公告已创建');
      form.resetFields();
      void qc.invalidateQueries({ queryKey: ['message', 'broadcasts'] });
    },
    onError: (err) => toast.refused(form, err),
  });
  const withdraw = useMutation({
    mutationFn: (id: string) => api(`/api/message/broadcasts/${id}/withdraw`, { method: 'POST' }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['message', 'broadcasts'] }),
    onError: toast.failed,
  });
  return (
    <>
      <PageTitle>公告与群发</PageTitle>
      <Permitted permission="message:manage">
        <Card title="发布公告" style={{ marginBottom: 16 }}>
          <Form
            form={form}
            layout="vertical"
            initialValues={{ hall: 'all', audience: { kind: 'public' }, toInbox: false }}
            onFinish={(v) => create.mutate(v)}
          >
            <Form.Item name="title" label="标题" rules={[{ required: true, message: '请填写标题' }, { max: 100 }]}>
              <Input />
            </Form.Item>
            <Form.Item name="body" label="正文" rules={[{ required: true, message: '请填写正文' }, { max: 5000 }]}>
              <Input.TextArea rows={4} />
            </Form.Item>
            <Space wrap size="large">
              <Form.Item name="hall" label="展示位置">
                <Select
                  style={{ width: 160 }}
                  options={Object.entries(HALL).map(([value, label]) => ({ value, label }))}
                />
              </Form.Item>
              <Form.Item name={['audience', 'kind']} label="受众">
                <Select
                  style={{ width: 200 }}
                  options={Object.entries(AUDIENCE).map(([value, label]) => ({ value, label }))}
                />
              </Form.Item>
              {kind === 'unit_staff' ? (
                <Form.Item
                  name={['audience', 'uscc']}
                  label="单位统一社会信用代码"
                  rules={[
                    { required: true, pattern: /^\s*[0-9A-Za-z]{18}\s*$/, message: '请填写 18 位统一社会信用代码' },
                  ]}
                >
                  <Input style={{ width: 240 }} maxLength={20} />
                </Form.Item>
              ) : null}
              {kind !== 'public' ? (
                <Form.Item name="toInbox" label="同时推送站内信" valuePropName="checked">
                  <Switch />
                </Form.Item>
              ) : null}
              <Form.Item name="publishAt" label="定时发布（留空立即发布）">
                <DatePicker showTime />
              </Form.Item>
              <Form.Item name="expiresAt" label="下线时间">
                <DatePicker showTime />
              </Form.Item>
            </Space>
            {kind === 'list' ? (
              <Form.Item
                name={['audience', 'residentIds']}
                label="身份证号码名单（逗号、空格或换行分隔）"
                extra="已开通网厅账户的参保人会收到；未开通的，发布后会告诉您人数"
                rules={[
                  { required: true, message: '请填写身份证号码' },
                  {
                    validator: async (_, v: string | undefined) => {
                      const wrong = idList(v).filter((id) => !RESIDENT_ID.test(id));
                      if (wrong.length) throw new Error(`格式不对：${wrong.slice(0, 3).join('、')}`);
                    },
                  },
                ]}
              >
                <Input.TextArea rows={3} />
              </Form.Item>
            ) : null}
            <Button type="primary" htmlType="submit" loading={create.isPending}>
              发布
            </Button>
          </Form>
        </Card>
      </Permitted>
      <Table
        rowKey="id"
        loading={isLoading}
        dataSource={data ?? []}
        scroll={{ x: 900 }}
        columns={[
          { title: '标题', dataIndex: 'title' },
          { title: '展示', dataIndex: 'hall', render: (h: string) => HALL[h] },
          {
            title: '受众',
            dataIndex: 'audience',
            render: (a: AnnouncementRow['audience']) =>
              a.kind === 'list'
                ? `${AUDIENCE.list}（${a.personIds?.length ?? 0} 人）`
                : a.kind === 'unit_staff' && a.unitName
                  ? `${a.unitName} 的经办人`
                  : AUDIENCE[a.kind],
          },
          {
            title: '站内信',
            key: 'inbox',
            render: (_: unknown, r) =>
              !r.toInbox
                ? '否'
                : r.status === 'scheduled'
                  ? '发布时推送'
                  : r.fanoutCount === null
                    ? '未推送'
                    : `已推送 ${r.fanoutCount} 人`,
          },
          { title: '发布时间', dataIndex: 'publishAt', render: dateTime },
          {
            title: '状态',
            dataIndex: 'status',
            render: (s: string) => <Tag color={ANN_STATUS[s]?.color}>{ANN_STATUS[s]?.text}</Tag>,
          },
          {
            title: '操作',
            key: 'op',
            render: (_: unknown, r) =>
              r.status !== 'withdrawn' ? (
                <Permitted permission="message:manage">
                  <Button danger size="small" onClick={() => withdraw.mutate(r.id)}>
                    撤回
                  </Button>
                </Permitted>
              ) : null,
          },
        ]}
      />
    </>
  );
}

/** 投递记录 with filters, resend, and the volume / failure-rate chart. */
export function DeliveriesPage() {
  const toast = useToast();
  const qc = useQueryClient();
  const [filters, setFilters] = useState<{ status?: string; channel?: string; type?: string; range?: [Dayjs, Dayjs] }>(
    {},
  );
  const [page, setPage] = useState(1);
  const [days, setDays] = useState(14);
  const [detail, setDetail] = useState<Delivery>();
  const q = new URLSearchParams({ page: String(page), size: '20' });
  if (filters.status) q.set('status', filters.status);
  if (filters.channel) q.set('channel', filters.channel);
  if (filters.type) q.set('type', filters.type);
  if (filters.range) {
    q.set('from', filters.range[0].startOf('day').toISOString());
    q.set('to', filters.range[1].endOf('day').toISOString());
  }
  const { data, isLoading, error } = useQuery({
    queryKey: ['message', 'deliveries', q.toString()],
    queryFn: () => api<{ total: number; items: Delivery[] }>(`/api/message/deliveries?${q}`),
  });
  const stats = useQuery({
    queryKey: ['message', 'stats', days],
    queryFn: () => api<StatRow[]>(`/api/message/stats?days=${days}`),
  });
  const types = useQuery({
    queryKey: ['message', 'types'],
    queryFn: () => api<MessageTypeInfo[]>('/api/message/types'),
  });
  const resend = useMutation({
    mutationFn: (id: string) => api<{ deliveryId: string }>(`/api/message/deliveries/${id}/resend`, { method: 'POST' }),
    onSuccess: () => {
      toast.success('已重新排队发送');
      void qc.invalidateQueries({ queryKey: ['message', 'deliveries'] });
    },
    onError: toast.failed,
  });
  const totals = (stats.data ?? []).reduce((a, r) => ({ total: a.total + r.total, failed: a.failed + r.failed }), {
    total: 0,
    failed: 0,
  });
  return (
    <>
      <PageTitle>投递记录</PageTitle>
      <Card
        title="各渠道发送量与失败率"
        extra={
          <Radio.Group
            value={days}
            onChange={(e) => setDays(e.target.value)}
            options={[
              { value: 7, label: '7 天' },
              { value: 14, label: '14 天' },
              { value: 30, label: '30 天' },
            ]}
            optionType="button"
          />
        }
        style={{ marginBottom: 16 }}
      >
        <VolumeChart rows={stats.data ?? []} days={days} />
        <Typography.Text type="secondary">
          合计 {totals.total} 条，失败/死信 {totals.failed} 条（
          {totals.total ? ((totals.failed / totals.total) * 100).toFixed(1) : '0.0'}%）
        </Typography.Text>
      </Card>
      <Card style={{ marginBottom: 16 }}>
        <Form
          layout="inline"
          onFinish={(v) => {
            setFilters(v);
            setPage(1);
          }}
        >
          <Form.Item name="status" label="状态">
            <Select
              allowClear
              style={{ width: 120 }}
              options={Object.entries(STATUS_LABELS).map(([value, s]) => ({ value, label: s.text }))}
            />
          </Form.Item>
          <Form.Item name="channel" label="渠道">
            <Select allowClear style={{ width: 130 }} options={channelOptions} />
          </Form.Item>
          <Form.Item name="type" label="类型">
            <Select
              allowClear
              style={{ width: 180 }}
              options={(types.data ?? []).map((t) => ({ value: t.code, label: t.name }))}
            />
          </Form.Item>
          <Form.Item name="range" label="日期">
            <DatePicker.RangePicker />
          </Form.Item>
          <Button type="primary" htmlType="submit">
            查询
          </Button>
        </Form>
      </Card>
      {error ? <Alert type="error" showIcon message={errorText(error)} /> : null}
      <Table
        rowKey="id"
        loading={isLoading}
        dataSource={data?.items ?? []}
        scroll={{ x: 1000 }}
        pagination={{ current: page, total: data?.total ?? 0, pageSize: 20, onChange: setPage, showSizeChanger: false }}
        columns={[
          { title: '时间', dataIndex: 'createdAt', width: 170, render: dateTime },
          { title: '类型', dataIndex: 'type', width: 170 },
          {
            title: '渠道',
            dataIndex: 'channel',
            width: 130,
            render: (c: Channel, r) => (
              <>
                {CHANNEL_LABELS[c]} {r.sandbox ? <SandboxTag /> : null}
                {r.chainIndex !== null && r.chainIndex > 0 ? <Tag>备选 {r.chainIndex + 1}</Tag> : null}
              </>
            ),
          },
          { title: '接收方', dataIndex: 'address', width: 140, render: (a: string | null) => a ?? '—' },
          {
            title: '状态',
            dataIndex: 'status',
            width: 110,
            render: (s: string, r) => (
              <Tag color={STATUS_LABELS[s]?.color}>
                {s === 'queued' && r.attempts > 0 ? '重试中' : STATUS_LABELS[s]?.text}
              </Tag>
            ),
          },
          { title: '尝试', dataIndex: 'attempts', width: 64 },
          { title: '原因', dataIndex: 'reason', ellipsis: true },
          {
            title: '操作',
            key: 'op',
            width: 140,
            render: (_: unknown, r) => (
              <Space>
                <Button size="small" onClick={() => setDetail(r)}>
                  详情
                </Button>
                {r.status === 'failed' || r.status === 'dead' ? (
                  <Permitted permission="message:manage">
                    <Button size="small" type="primary" onClick={() => resend.mutate(r.id)} disabled={!r.address}>
                      重发
                    </Button>
                  </Permitted>
                ) : null}
              </Space>
            ),
          },
        ]}
      />
      <Drawer
        open={!!detail}
        onClose={() => setDetail(undefined)}
        title="投递详情"
        width={Math.min(600, window.innerWidth)}
      >
        {detail ? (
          <Descriptions column={1} bordered size="small">
            <Descriptions.Item label="投递编号">{detail.id}</Descriptions.Item>
            <Descriptions.Item label="消息编号">{detail.messageId}</Descriptions.Item>
            <Descriptions.Item label="来源">{detail.source}</Descriptions.Item>
            <Descriptions.Item label="渠道">
              {CHANNEL_LABELS[detail.channel]} {detail.sandbox ? <SandboxTag /> : null}
            </Descriptions.Item>
            <Descriptions.Item label="状态">{STATUS_LABELS[detail.status]?.text}</Descriptions.Item>
            <Descriptions.Item label="原因">{detail.reason ?? '—'}</Descriptions.Item>
            <Descriptions.Item label="模板版本">{detail.templateVersion ?? '—'}</Descriptions.Item>
            <Descriptions.Item label="标题">{detail.title ?? '—'}</Descriptions.Item>
            <Descriptions.Item label="内容">
              <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', marginBottom: 0 }}>
                {detail.body ?? '—'}
              </Typography.Paragraph>
            </Descriptions.Item>
            <Descriptions.Item label="发送时间">{dateTime(detail.sentAt)}</Descriptions.Item>
          </Descriptions>
        ) : null}
      </Drawer>
    </>
  );
}

interface ChannelConfig {
  channel: Channel;
  name: string;
  enabled: boolean;
  ratePerMinute: number;
  sandboxFail: boolean;
  provider: string;
  sandbox: boolean;
}

interface SandboxRecord {
  id: string;
  channel: string;
  address: string;
  templateId: string | null;
  title: string | null;
  content: string;
  status: string;
  createdAt: string;
  receiptAt: string | null;
}

/** 渠道与免打扰 plus the sandbox gateways' records (what would have been sent). */
export function ChannelsPage() {
  const toast = useToast();
  const qc = useQueryClient();
  const [outboxChannel, setOutboxChannel] = useState<'sms' | 'wechat' | 'email'>('sms');
  const readOnly = !useStaffPermissions().can?.('message:manage');
  const { data } = useQuery({
    queryKey: ['message', 'channels'],
    queryFn: () =>
      api<{ channels: ChannelConfig[]; settings: { quietStart: number; quietEnd: number } }>('/api/message/channels'),
  });
  const outbox = useQuery({
    queryKey: ['message', 'sandbox', outboxChannel],
    queryFn: () => api<SandboxRecord[]>(`/api/message/sandbox?channel=${outboxChannel}&limit=100`),
  });
  const patch = useMutation({
    mutationFn: (v: { channel: Channel } & Partial<ChannelConfig>) =>
      api(`/api/message/channels/${v.channel}`, {
        method: 'PUT',
        body: { enabled: v.enabled, ratePerMinute: v.ratePerMinute, sandboxFail: v.sandboxFail },
      }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['message', 'channels'] }),
    onError: toast.failed,
  });
  const quiet = useMutation({
    mutationFn: (v: { quietStart: number; quietEnd: number }) =>
      api('/api/message/settings', { method: 'PUT', body: v }),
    onSuccess: () => {
      toast.success('免打扰时段已保存');
      void qc.invalidateQueries({ queryKey: ['message', 'channels'] });
    },
    onError: toast.failed,
  });
  return (
    <>
      <PageTitle>渠道与沙箱</PageTitle>
      <Table
        rowKey="channel"
        pagination={false}
        dataSource={data?.channels ?? []}
        scroll={{ x: 800 }}
        style={{ marginBottom: 16 }}
        columns={[
          { title: '渠道', dataIndex: 'name' },
          {
            title: '服务商',
            dataIndex: 'provider',
            render: (p: string, r) => (
              <>
                {p} {r.sandbox ? <SandboxTag /> : null}
              </>
            ),
          },
          {
            title: '启用',
            dataIndex: 'enabled',
            render: (v: boolean, r) => (
              <Switch
                checked={v}
                disabled={readOnly}
                aria-label={`启用${r.name}`}
                onChange={(enabled) => patch.mutate({ channel: r.channel, enabled })}
              />
            ),
          },
          {
            title: '每分钟上限',
            dataIndex: 'ratePerMinute',
            render: (v: number, r) => (
              <InputNumber
                min={1}
                disabled={readOnly}
                aria-label={`${r.name}每分钟上限`}
                defaultValue={v}
                onBlur={(e) => {
                  const n = Number(e.target.value);
                  if (n > 0 && n !== v) patch.mutate({ channel: r.channel, ratePerMinute: n });
                }}
              />
            ),
          },
          {
            title: '故障注入（沙箱）',
            dataIndex: 'sandboxFail',
            render: (v: boolean, r) =>
              r.sandbox ? (
                <Switch
                  checked={v}
                  disabled={readOnly}
                  aria-label={`${r.name}沙箱故障注入`}
                  checkedChildren="故障"
                  onChange={(sandboxFail) => patch.mutate({ channel: r.channel, sandboxFail })}
                />
              ) : (
                '—'
              ),
          },
        ]}
      />
      <Card title="免打扰时段（北京时间，仅影响非紧急的短信和微信消息）" style={{ marginBottom: 16 }}>
        {data ? (
          <Form layout="inline" initialValues={data.settings} onFinish={(v) => quiet.mutate(v)}>
            <Form.Item name="quietStart" label="开始（时）">
              <InputNumber min={0} max={23} />
            </Form.Item>
            <Form.Item name="quietEnd" label="结束（时）">
              <InputNumber min={0} max={23} />
            </Form.Item>
            <Permitted permission="message:manage">
              <Button htmlType="submit" type="primary">
                保存
              </Button>
            </Permitted>
          </Form>
        ) : null}
      </Card>
      <Card
        title={
          <>
            沙箱网关记录 <SandboxTag />
          </>
        }
        extra={
          <Radio.Group
            value={outboxChannel}
            onChange={(e) => setOutboxChannel(e.target.value)}
            optionType="button"
            options={[
              { value: 'sms', label: '短信' },
              { value: 'wechat', label: '微信' },
              { value: 'email', label: '邮件' },
            ]}
          />
        }
      >
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 12 }}
          message="以下为沙箱服务商记录的“本应发出”的消息，并未真正发送给用户。"
        />
        <Table
          rowKey="id"
          size="small"
          loading={outbox.isLoading}
          dataSource={outbox.data ?? []}
          scroll={{ x: 800 }}
          columns={[
            { title: '时间', dataIndex: 'createdAt', width: 170, render: dateTime },
            { title: '接收方', dataIndex: 'address', width: 140 },
            { title: '模板', dataIndex: 'templateId', width: 180, render: (v: string | null) => v ?? '—' },
            {
              title: '内容',
              dataIndex: 'content',
              render: (c: string, r) => (
                <>
                  {r.title ? <b>{r.title}：</b> : null}
                  {c}
                </>
              ),
            },
            {
              title: '回执',
              dataIndex: 'status',
              width: 90,
              render: (s: string) => (
                <Tag color={s === 'delivered' ? '#237804' : 'blue'}>{s === 'delivered' ? '已送达' : '已受理'}</Tag>
              ),
            },
          ]}
        />
      </Card>
    </>
  );
}
