import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  DatePicker,
  Form,
  Input,
  InputNumber,
  Modal,
  Row,
  Select,
  Space,
  Statistic,
  Switch,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { Permitted } from '../../components/Permitted';
import { PageTitle } from '../../components/PortalShell';
import { api, errorText, newIdempotencyKey } from '../../lib/api';
import { MOBILE } from '../../lib/ids';
import { useStaffPermissions } from '../../lib/permissions';
import { useToast } from '../../lib/toast';
import { type Bill, dateTime, KIND, STATUS, yuan } from './format';
import { UsageChart, type UsageRow } from './UsageChart';

/** 票据检索: staff search, every query audited with its purpose. */
export function EbillSearchPage() {
  const [params, setParams] = useState<string>();
  const [page, setPage] = useState(1);
  const { data, error, isFetching } = useQuery({
    queryKey: ['ebill', 'admin', 'search', params, page],
    enabled: !!params,
    queryFn: () => api<{ total: number; items: Bill[] }>(`/api/ebill/admin/bills?${params}&page=${page}&pageSize=20`),
  });
  const onFinish = (v: {
    purpose: string;
    billCode?: string;
    billNumber?: string;
    orderId?: string;
    institutionCode?: string;
    kind?: string;
    range?: [Dayjs, Dayjs];
  }) => {
    const q = new URLSearchParams({ purpose: v.purpose });
    for (const k of ['billCode', 'billNumber', 'orderId', 'institutionCode', 'kind'] as const)
      if (v[k]) q.set(k, v[k]!);
    if (v.range) {
      q.set('from', v.range[0].startOf('day').toISOString());
      q.set('to', v.range[1].endOf('day').toISOString());
    }
    setPage(1);
    setParams(q.toString());
  };
  return (
    <>
      <PageTitle>电子票据检索</PageTitle>
      <Card style={{ marginBottom: 16 }}>
        <Form layout="inline" onFinish={onFinish} style={{ rowGap: 12 }}>
          <Form.Item name="purpose" rules={[{ required: true, min: 2, message: '请填写查询事由（记入审计）' }]}>
            <Input placeholder="查询事由（必填，记入审计）" style={{ width: 220 }} />
          </Form.Item>
          <Form.Item name="billCode">
            <Input placeholder="票据代码" maxLength={8} style={{ width: 120 }} />
          </Form.Item>
          <Form.Item name="billNumber">
            <Input placeholder="票据号码" maxLength={10} style={{ width: 140 }} />
          </Form.Item>
          <Form.Item name="orderId">
            <Input placeholder="支付订单号" style={{ width: 180 }} />
          </Form.Item>
          <Form.Item name="institutionCode">
            <Input placeholder="定点机构编码" style={{ width: 150 }} />
          </Form.Item>
          <Form.Item name="kind">
            <Select
              aria-label="票据类型"
              allowClear
              placeholder="票据类型"
              style={{ width: 120 }}
              options={[
                { value: 'blue', label: '正常票据' },
                { value: 'red', label: '红字票据' },
              ]}
            />
          </Form.Item>
          <Form.Item name="range">
            <DatePicker.RangePicker />
          </Form.Item>
          <Button type="primary" htmlType="submit">
            检索
          </Button>
        </Form>
      </Card>
      {error && <Alert type="error" message={errorText(error)} style={{ marginBottom: 12 }} />}
      <Table
        rowKey="id"
        loading={isFetching}
        dataSource={data?.items ?? []}
        scroll={{ x: 1000 }}
        pagination={{ current: page, pageSize: 20, total: data?.total ?? 0, onChange: setPage }}
        columns={[
          { title: '票据代码', dataIndex: 'billCode' },
          { title: '票据号码', dataIndex: 'billNumber' },
          {
            title: '类型',
            dataIndex: 'kind',
            render: (k: string) => <Tag color={KIND[k]?.color}>{KIND[k]?.text}</Tag>,
          },
          {
            title: '状态',
            dataIndex: 'status',
            render: (s: string) => <Tag color={STATUS[s]?.color}>{STATUS[s]?.text}</Tag>,
          },
          { title: '交款人', dataIndex: 'payerName' },
          { title: '收款单位', dataIndex: 'payeeName' },
          { title: '金额（元）', dataIndex: 'total', align: 'right', render: (v: number) => yuan(v) },
          { title: '订单号', dataIndex: 'orderId' },
          { title: '开票时间', dataIndex: 'issuedAt', render: dateTime },
        ]}
      />
    </>
  );
}

interface Keys {
  appId: string;
  appSecret: string;
  privateKeyHex: string;
  publicKeyHex: string;
}

interface ChannelApiGrant {
  api: string;
  name: string;
  enabled: boolean;
  dailyQuota: number;
  usedToday: number;
}
interface Channel {
  source: 'ebill' | 'auth';
  appId: string;
  name: string;
  institutionCode: string | null;
  status: 'enabled' | 'disabled';
  contactName: string | null;
  contactMobile: string | null;
  callbackUrl: string | null;
  createdAt: string;
  apis: ChannelApiGrant[];
}

const API_NAMES: Record<string, string> = {
  'bill.query': '按机构查询票据',
  'bill.detail': '票据结构化数据',
  'bill.byOrder': '按订单获取票据',
  'bill.verify': '票据查验',
};

function ApisEditor({ channel, onClose }: { channel: Channel; onClose: () => void }) {
  const toast = useToast();
  const manage = !!useStaffPermissions().can?.('ebill:manage');
  const qc = useQueryClient();
  const [rows, setRows] = useState(() =>
    Object.keys(API_NAMES).map((api) => {
      const g = channel.apis.find((a) => a.api === api);
      return { api, enabled: g?.enabled ?? false, dailyQuota: g?.dailyQuota ?? 1000 };
    }),
  );
  const save = useMutation({
    mutationFn: () => api(`/api/ebill/admin/channels/${channel.appId}/apis`, { method: 'PUT', body: { apis: rows } }),
    onSuccess: () => {
      toast.success('已保存接口权限与配额');
      void qc.invalidateQueries({ queryKey: ['ebill', 'channels'] });
      onClose();
    },
    onError: toast.failed,
  });
  return (
    <Modal
      open
      title={`接口权限与每日配额 · ${channel.name}`}
      onCancel={onClose}
      onOk={() => save.mutate()}
      confirmLoading={save.isPending}
      okButtonProps={{ hidden: !manage }}
    >
      <Table
        rowKey="api"
        pagination={false}
        size="small"
        dataSource={rows}
        columns={[
          { title: '接口', dataIndex: 'api', render: (a: string) => API_NAMES[a] ?? a },
          {
            title: '开通',
            dataIndex: 'enabled',
            render: (v: boolean, r) => (
              <Switch
                checked={v}
                onChange={(c) => setRows((x) => x.map((y) => (y.api === r.api ? { ...y, enabled: c } : y)))}
              />
            ),
          },
          {
            title: '每日配额',
            dataIndex: 'dailyQuota',
            render: (v: number, r) => (
              <InputNumber
                min={0}
                max={10_000_000}
                value={v}
                onChange={(n) =>
                  setRows((x) => x.map((y) => (y.api === r.api ? { ...y, dailyQuota: Number(n ?? 0) } : y)))
                }
              />
            ),
          },
        ]}
      />
    </Modal>
  );
}

interface CallbackDelivery {
  id: string;
  billCode: string | null;
  billNumber: string | null;
  event: 'bill.issued' | 'bill.reversed';
  url: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
}

const CALLBACK_STATUS: Record<string, { text: string; color: string }> = {
  pending: { text: '投递中（将重试）', color: 'gold' },
  delivered: { text: '已送达', color: 'green' },
  failed: { text: '投递失败', color: 'red' },
};
const CALLBACK_EVENT: Record<string, string> = { 'bill.issued': '票据开具', 'bill.reversed': '票据冲红' };

/** 回调记录: the channel's signed notifications (issue / reversal), their attempts and status; failed ones can be resent. */
function CallbacksModal({ channel, onClose }: { channel: Channel; onClose: () => void }) {
  const toast = useToast();
  const qc = useQueryClient();
  const key = ['ebill', 'callbacks', channel.appId];
  const { data, error, isLoading } = useQuery({
    queryKey: key,
    queryFn: () =>
      api<{ counts: Record<string, number>; items: CallbackDelivery[] }>(
        `/api/ebill/admin/channels/${channel.appId}/callbacks`,
      ),
    refetchInterval: 10_000,
  });
  const retry = useMutation({
    mutationFn: (d: CallbackDelivery) =>
      api(`/api/ebill/admin/channels/${channel.appId}/callbacks/${d.id}/retry`, { method: 'POST' }),
    onSuccess: () => {
      toast.success('已重新发送');
      void qc.invalidateQueries({ queryKey: key });
    },
    onError: toast.failed,
  });
  return (
    <Modal open title={`回调通知记录 · ${channel.name}`} onCancel={onClose} footer={null} width={960}>
      <Typography.Paragraph type="secondary">
        回调地址：{channel.callbackUrl ?? '未设置（不发送通知）'}。通知以 HMAC-SM3（渠道
        appSecret）签名，失败自动重试（指数退避）。
      </Typography.Paragraph>
      {error && <Alert type="error" message={errorText(error)} style={{ marginBottom: 12 }} />}
      <Space wrap style={{ marginBottom: 12 }}>
        {Object.entries(CALLBACK_STATUS).map(([k, v]) => (
          <Tag key={k} color={v.color}>
            {v.text} {data?.counts[k] ?? 0}
          </Tag>
        ))}
      </Space>
      <Table
        rowKey="id"
        size="small"
        loading={isLoading}
        dataSource={data?.items ?? []}
        scroll={{ x: 860 }}
        pagination={{ pageSize: 10 }}
        columns={[
          { title: '事件', dataIndex: 'event', render: (e: string) => CALLBACK_EVENT[e] ?? e },
          { title: '票据', render: (_, d) => (d.billCode ? `${d.billCode}-${d.billNumber}` : '—') },
          {
            title: '状态',
            dataIndex: 'status',
            render: (s: string) => <Tag color={CALLBACK_STATUS[s]?.color}>{CALLBACK_STATUS[s]?.text ?? s}</Tag>,
          },
          { title: '尝试次数', dataIndex: 'attempts' },
          { title: '最近响应', dataIndex: 'lastStatusCode', render: (v: number | null) => v ?? '—' },
          { title: '最近错误', dataIndex: 'lastError', ellipsis: true, render: (v: string | null) => v ?? '—' },
          { title: '产生时间', dataIndex: 'createdAt', render: dateTime },
          { title: '送达时间', dataIndex: 'deliveredAt', render: (v: string | null) => (v ? dateTime(v) : '—') },
          {
            title: '操作',
            render: (_, d) =>
              d.status === 'failed' ? (
                <Permitted permission="ebill:manage">
                  <Button size="small" loading={retry.isPending} onClick={() => retry.mutate(d)}>
                    重发
                  </Button>
                </Permitted>
              ) : null,
          },
        ]}
      />
    </Modal>
  );
}

/** 接入渠道管理 + API 管理: register channels (keys shown once), enable/disable, contacts, callbacks, grants/quotas. */
export function EbillChannelsPage() {
  const { modal } = App.useApp();
  const manage = !!useStaffPermissions().can?.('ebill:manage');
  const toast = useToast();
  const qc = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Channel>();
  const [callbacksOf, setCallbacksOf] = useState<Channel>();
  const [form] = Form.useForm();
  const { data, error, isLoading } = useQuery({
    queryKey: ['ebill', 'channels'],
    queryFn: () => api<Channel[]>('/api/ebill/admin/channels'),
  });
  const create = useMutation({
    mutationFn: (v: Record<string, string>) =>
      api<{ appId: string; appSecret: string; privateKeyHex: string; publicKeyHex: string }>(
        '/api/ebill/admin/channels',
        {
          body: Object.fromEntries(Object.entries(v).filter(([, x]) => x)),
          idempotencyKey: newIdempotencyKey(),
        },
      ),
    onSuccess: (r) => {
      setCreating(false);
      form.resetFields();
      void qc.invalidateQueries({ queryKey: ['ebill', 'channels'] });
      showKeys('渠道已登记：请立即保存以下密钥（仅显示一次）', r);
    },
    onError: (err) => toast.refused(form, err),
  });
  const rotate = useMutation({
    mutationFn: (c: Channel) =>
      api<Keys>(`/api/ebill/admin/channels/${c.appId}/keys`, { method: 'POST', idempotencyKey: newIdempotencyKey() }),
    onSuccess: (r) => showKeys('密钥已重置：旧密钥立即失效，请保存新密钥（仅显示一次）', r),
    onError: toast.failed,
  });
  // returns nothing: antd's modal is a promise until closed, and the mutation that shows it would wait for it
  const showKeys = (title: string, r: Keys): void => {
    modal.success({
      title,
      width: 640,
      content: (
        <Typography.Paragraph copyable={{ text: JSON.stringify(r, null, 2) }} style={{ wordBreak: 'break-all' }}>
          appId: {r.appId}
          <br />
          appSecret: {r.appSecret}
          <br />
          SM2 私钥: {r.privateKeyHex}
        </Typography.Paragraph>
      ),
    });
  };
  const toggle = useMutation({
    mutationFn: (c: Channel) =>
      api(`/api/ebill/admin/channels/${c.appId}`, {
        method: 'PATCH',
        body: { status: c.status === 'enabled' ? 'disabled' : 'enabled' },
      }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['ebill', 'channels'] }),
    onError: toast.failed,
  });
  return (
    <>
      <PageTitle
        extra={
          <Permitted permission="ebill:manage">
            <Button type="primary" onClick={() => setCreating(true)}>
              登记渠道
            </Button>
          </Permitted>
        }
      >
        票据接入渠道管理
      </PageTitle>
      {error && <Alert type="error" message={errorText(error)} style={{ marginBottom: 12 }} />}
      <Table
        rowKey="appId"
        loading={isLoading}
        dataSource={data ?? []}
        scroll={{ x: 1100 }}
        columns={[
          {
            title: '渠道名称',
            render: (_, c) => (
              <Space direction="vertical" size={0}>
                <span>{c.name}</span>
                <Tag color={c.source === 'auth' ? 'purple' : 'default'}>
                  {c.source === 'auth' ? '统一认证中心渠道' : '票据中心登记'}
                </Tag>
              </Space>
            ),
          },
          {
            title: 'appId',
            dataIndex: 'appId',
            render: (v: string) => <Typography.Text copyable>{v}</Typography.Text>,
          },
          { title: '定点机构', dataIndex: 'institutionCode', render: (v: string | null) => v ?? '—' },
          {
            title: '联系人',
            render: (_, c) => (c.contactName ? `${c.contactName} ${c.contactMobile ?? ''}` : '—'),
          },
          { title: '回调地址', dataIndex: 'callbackUrl', ellipsis: true, render: (v: string | null) => v ?? '—' },
          {
            title: '接口（今日用量/配额）',
            render: (_, c) => (
              <Space direction="vertical" size={0}>
                {c.apis.map((a) => (
                  <span key={a.api}>
                    <Tag color={a.enabled ? 'blue' : 'default'}>{a.name}</Tag>
                    {a.usedToday}/{a.dailyQuota}
                  </span>
                ))}
              </Space>
            ),
          },
          {
            title: '状态',
            render: (_, c) => (
              <Switch
                disabled={c.source === 'auth' || !manage}
                checked={c.status === 'enabled'}
                checkedChildren="启用"
                unCheckedChildren="停用"
                loading={toggle.isPending}
                onChange={() => toggle.mutate(c)}
              />
            ),
          },
          {
            title: '操作',
            render: (_, c) => (
              <Space wrap>
                <Button onClick={() => setEditing(c)}>接口与配额</Button>
                {c.source === 'ebill' && <Button onClick={() => setCallbacksOf(c)}>回调记录</Button>}
                <Permitted permission="ebill:manage">
                  <Button
                    danger
                    disabled={c.source === 'auth'}
                    title={c.source === 'auth' ? '该渠道的密钥在统一认证中心管理' : undefined}
                    onClick={() =>
                      modal.confirm({
                        title: `重置「${c.name}」的密钥？`,
                        content: '旧的 SM2 私钥与 appSecret 将立即失效，渠道需更换为新密钥。',
                        onOk: () => rotate.mutateAsync(c),
                      })
                    }
                  >
                    重置密钥
                  </Button>
                </Permitted>
              </Space>
            ),
          },
        ]}
      />
      <Modal
        open={creating}
        title="登记接入渠道"
        onCancel={() => setCreating(false)}
        onOk={() => form.submit()}
        confirmLoading={create.isPending}
      >
        <Form form={form} layout="vertical" onFinish={(v) => create.mutate(v)}>
          <Form.Item name="name" label="渠道名称" rules={[{ required: true, min: 2 }]}>
            <Input placeholder="如：东湖市第一人民医院 HIS" />
          </Form.Item>
          <Form.Item
            name="institutionCode"
            label="定点医药机构编码"
            rules={[{ pattern: /^[HP]\d{11}$/, message: 'H/P + 11 位数字' }]}
          >
            <Input placeholder="H99010000001（机构渠道可查本机构票据）" />
          </Form.Item>
          <Form.Item name="contactName" label="联系人">
            <Input />
          </Form.Item>
          <Form.Item name="contactMobile" label="联系电话" rules={[{ pattern: MOBILE, message: '11 位手机号' }]}>
            <Input inputMode="tel" />
          </Form.Item>
          <Form.Item
            name="callbackUrl"
            label="回调地址"
            rules={[{ type: 'url', message: '请输入完整 URL' }]}
            extra="http(s) 地址；医保专网内网地址可用，链路本地（如 169.254.169.254）与本机回环地址不可用"
          >
            <Input placeholder="https://" />
          </Form.Item>
        </Form>
      </Modal>
      {editing && <ApisEditor channel={editing} onClose={() => setEditing(undefined)} />}
      {callbacksOf && <CallbacksModal channel={callbacksOf} onClose={() => setCallbacksOf(undefined)} />}
    </>
  );
}

/** 接口调用统计: calls per channel per day (chart). */
export function EbillUsagePage() {
  const [days, setDays] = useState(14);
  const { data, error } = useQuery({
    queryKey: ['ebill', 'usage', days],
    queryFn: () => api<UsageRow[]>(`/api/ebill/admin/usage?days=${days}`),
  });
  const total = (data ?? []).reduce((s, r) => s + r.calls, 0);
  const refused = (data ?? []).reduce((s, r) => s + r.refused, 0);
  return (
    <>
      <PageTitle
        extra={
          <Select
            aria-label="统计天数"
            value={days}
            onChange={setDays}
            options={[7, 14, 30, 90].map((d) => ({ value: d, label: `近 ${d} 天` }))}
            style={{ width: 110 }}
          />
        }
      >
        票据接口调用统计
      </PageTitle>
      {error && <Alert type="error" message={errorText(error)} style={{ marginBottom: 12 }} />}
      <Row gutter={16} style={{ marginBottom: 16 }}>
        <Col xs={12} md={6}>
          <Card>
            <Statistic title="调用次数" value={total} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card>
            <Statistic title="超配额拒绝" value={refused} valueStyle={{ color: refused ? '#cf1322' : undefined }} />
          </Card>
        </Col>
      </Row>
      <Card title="各渠道每日调用量">
        <UsageChart rows={data ?? []} days={days} />
      </Card>
    </>
  );
}

interface NationalStatus {
  sandbox: boolean;
  counts: Record<string, number>;
  recent: Array<{
    billId: string;
    billCode: string;
    billNumber: string;
    kind: string;
    status: string;
    attempts: number;
    lastError: string | null;
    receipt: string | null;
    createdAt: string;
    reportedAt: string | null;
  }>;
}

const REPORT_STATUS: Record<string, { text: string; color: string }> = {
  pending: { text: '待上报', color: 'gold' },
  reported: { text: '已上报', color: 'green' },
  failed: { text: '上报失败', color: 'red' },
};

/** 国家平台上报: the outbox of issued bills and what the (sandbox) national platform acknowledged. */
export function EbillNationalPage() {
  const { data, error } = useQuery({
    queryKey: ['ebill', 'national'],
    queryFn: () => api<NationalStatus>('/api/ebill/admin/national'),
    refetchInterval: 10_000,
  });
  return (
    <>
      <PageTitle>票据国家平台上报</PageTitle>
      {data?.sandbox && (
        <Alert
          type="info"
          showIcon
          message="当前对接的是沙箱国家平台，上报记录仅用于演示与联调"
          style={{ marginBottom: 12 }}
        />
      )}
      {error && <Alert type="error" message={errorText(error)} style={{ marginBottom: 12 }} />}
      <Row gutter={16} style={{ marginBottom: 16 }}>
        {Object.entries(REPORT_STATUS).map(([k, v]) => (
          <Col xs={8} md={6} key={k}>
            <Card>
              <Statistic
                title={v.text}
                value={data?.counts[k] ?? 0}
                valueStyle={{ color: k === 'failed' && data?.counts[k] ? '#cf1322' : undefined }}
              />
            </Card>
          </Col>
        ))}
      </Row>
      <Table
        rowKey="billId"
        dataSource={data?.recent ?? []}
        scroll={{ x: 900 }}
        columns={[
          { title: '票据', render: (_, r) => `${r.billCode}-${r.billNumber}` },
          {
            title: '类型',
            dataIndex: 'kind',
            render: (k: string) => <Tag color={KIND[k]?.color}>{KIND[k]?.text}</Tag>,
          },
          {
            title: '状态',
            dataIndex: 'status',
            render: (s: string) => <Tag color={REPORT_STATUS[s]?.color}>{REPORT_STATUS[s]?.text}</Tag>,
          },
          { title: '尝试次数', dataIndex: 'attempts' },
          { title: '回执', dataIndex: 'receipt', render: (v: string | null) => v ?? '—' },
          { title: '最近错误', dataIndex: 'lastError', ellipsis: true, render: (v: string | null) => v ?? '—' },
          { title: '开票', dataIndex: 'createdAt', render: dateTime },
          { title: '上报', dataIndex: 'reportedAt', render: (v: string | null) => (v ? dateTime(v) : '—') },
        ]}
      />
    </>
  );
}
