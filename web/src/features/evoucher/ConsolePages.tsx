import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Form,
  Input,
  Modal,
  Segmented,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useState } from 'react';
import { PageTitle } from '../../components/PortalShell';
import { EmptyState, ErrorState, Loading } from '../../components/States';
import { api } from '../../lib/api';
import { RESIDENT_ID } from '../../lib/ids';
import { useStaffPermissions } from '../../lib/permissions';
import { useToast } from '../../lib/toast';
import { dateTime, STATUS_LABELS, type Use, type Voucher } from './api';
import { RefusalChart, type Refusals } from './RefusalChart';
import { ScanChart, type ScanRow } from './ScanChart';

interface LookupResult {
  voucher: Voucher;
  events: Array<{
    action: string;
    fromStatus: string | null;
    toStatus: string;
    actorKind: string;
    reason: string | null;
    at: string;
  }>;
  uses: Use[];
}

const ACTIONS: Record<string, string> = {
  activate: '激活',
  reactivate: '重新激活',
  suspend: '挂失/暂停',
  resume: '恢复',
};
const ACTORS: Record<string, string> = { person: '本人', staff: '经办人员', system: '系统', channel: '渠道' };

export function EvoucherLookupPage() {
  const toast = useToast();
  const qc = useQueryClient();
  const [query, setQuery] = useState<{ residentId: string; purpose: string }>();
  const [action, setAction] = useState<'suspend' | 'resume'>();
  const manage = !!useStaffPermissions().can?.('evoucher:manage');
  const q = useQuery({
    queryKey: ['evoucher', 'lookup', query],
    enabled: !!query,
    queryFn: () =>
      api<LookupResult>(
        `/api/evoucher/admin/vouchers?residentId=${encodeURIComponent(query!.residentId)}&purpose=${encodeURIComponent(query!.purpose)}`,
      ),
  });
  const change = useMutation({
    mutationFn: (v: { reason: string }) =>
      api<Voucher>(`/api/evoucher/admin/vouchers/${q.data!.voucher.id}/${action}`, { method: 'POST', body: v }),
    onSuccess: () => {
      toast.success('已处理');
      setAction(undefined);
      void qc.invalidateQueries({ queryKey: ['evoucher', 'lookup'] });
    },
    onError: toast.failed,
  });
  return (
    <>
      <PageTitle>电子凭证查询</PageTitle>
      <Card style={{ marginBottom: 16 }}>
        <Form layout="inline" onFinish={(v) => setQuery(v)} style={{ rowGap: 8 }}>
          <Form.Item
            name="residentId"
            label="身份证号"
            rules={[{ required: true, pattern: RESIDENT_ID, message: '请输入 18 位身份证号' }]}
          >
            <Input allowClear style={{ width: 220 }} />
          </Form.Item>
          <Form.Item
            name="purpose"
            label="查询事由"
            rules={[{ required: true, min: 2, message: '请填写查询事由（记入审计）' }]}
          >
            <Input allowClear placeholder="如：参保人来电挂失" style={{ width: 220 }} />
          </Form.Item>
          <Button type="primary" htmlType="submit">
            查询
          </Button>
        </Form>
        <Typography.Text type="secondary">每次查询均记入审计日志（含查询事由）。</Typography.Text>
      </Card>
      {!query ? null : q.isLoading ? (
        <Loading />
      ) : q.error ? (
        <ErrorState error={q.error} />
      ) : q.data ? (
        <Space orientation="vertical" style={{ width: '100%' }} size="middle">
          <Card
            title="凭证信息"
            extra={
              !manage ? null : q.data.voucher.status === 'active' ? (
                <Button danger onClick={() => setAction('suspend')}>
                  暂停
                </Button>
              ) : (
                <Button onClick={() => setAction('resume')}>恢复</Button>
              )
            }
          >
            <Descriptions column={{ xs: 1, md: 2 }}>
              <Descriptions.Item label="凭证编号">{q.data.voucher.id}</Descriptions.Item>
              <Descriptions.Item label="状态">
                <Tag color={q.data.voucher.status === 'active' ? 'green' : 'red'}>
                  {STATUS_LABELS[q.data.voucher.status]}
                </Tag>
              </Descriptions.Item>
              <Descriptions.Item label="姓名">{q.data.voucher.name}</Descriptions.Item>
              <Descriptions.Item label="证件号码">{q.data.voucher.residentId}</Descriptions.Item>
              <Descriptions.Item label="绑定设备">{q.data.voucher.device.id ?? '—'}</Descriptions.Item>
              <Descriptions.Item label="激活时间">{dateTime(q.data.voucher.activatedAt)}</Descriptions.Item>
            </Descriptions>
          </Card>
          <Card title="状态变更">
            <Table
              rowKey="at"
              size="small"
              pagination={false}
              dataSource={q.data.events}
              scroll={{ x: true }}
              columns={[
                { title: '时间', dataIndex: 'at', render: dateTime },
                { title: '操作', dataIndex: 'action', render: (a: string) => ACTIONS[a] ?? a },
                { title: '操作人', dataIndex: 'actorKind', render: (a: string) => ACTORS[a] ?? a },
                { title: '原因', dataIndex: 'reason' },
              ]}
            />
          </Card>
          <Card title="最近用码">
            <Table
              rowKey="id"
              size="small"
              pagination={false}
              dataSource={q.data.uses}
              scroll={{ x: true }}
              columns={[
                { title: '时间', dataIndex: 'usedAt', render: dateTime },
                { title: '业务类型', dataIndex: 'businessTypeName' },
                {
                  title: '机构',
                  dataIndex: 'institutionCode',
                  render: (code: string, u: Use) => (u.institutionName ? `${u.institutionName}（${code}）` : code),
                },
                { title: '操作员', dataIndex: 'operator' },
              ]}
            />
          </Card>
        </Space>
      ) : null}
      <Modal
        title={action === 'suspend' ? '暂停电子凭证' : '恢复电子凭证'}
        open={!!action}
        onCancel={() => setAction(undefined)}
        footer={null}
        destroyOnHidden
      >
        <Form layout="vertical" onFinish={(v) => change.mutate(v)}>
          <Form.Item name="reason" label="原因" rules={[{ required: true, min: 2, message: '请填写原因' }]}>
            <Input.TextArea rows={3} />
          </Form.Item>
          <Button type="primary" danger={action === 'suspend'} htmlType="submit" block loading={change.isPending}>
            确认
          </Button>
        </Form>
      </Modal>
    </>
  );
}

interface KeyRow {
  kid: number;
  purpose: 'qr' | 'sandbox_liveness';
  alg: 'SM2' | 'Ed25519';
  status: 'active' | 'retiring' | 'retired';
  publicKey: string;
  createdAt: string;
  retiredAt: string | null;
}

const KEY_STATUS: Record<KeyRow['status'], [string, string]> = {
  active: ['签发中', 'green'],
  retiring: ['仅验签', 'orange'],
  retired: ['已停用', 'default'],
};

export function EvoucherKeysPage() {
  const { modal } = App.useApp();
  const toast = useToast();
  const qc = useQueryClient();
  const [alg, setAlg] = useState<'SM2' | 'Ed25519'>('SM2');
  const q = useQuery({ queryKey: ['evoucher', 'keys'], queryFn: () => api<KeyRow[]>('/api/evoucher/admin/keys') });
  const done = () => void qc.invalidateQueries({ queryKey: ['evoucher', 'keys'] });
  const rotate = useMutation({
    mutationFn: () => api<{ kid: number }>('/api/evoucher/admin/keys', { method: 'POST', body: { alg } }),
    onSuccess: (r) => {
      toast.success(`已启用新密钥 ${r.kid}`);
      done();
    },
    onError: toast.failed,
  });
  const retire = useMutation({
    mutationFn: (kid: number) => api(`/api/evoucher/admin/keys/${kid}/retire`, { method: 'POST', body: {} }),
    onSuccess: () => {
      toast.success('已停用');
      done();
    },
    onError: toast.failed,
  });
  return (
    <>
      <PageTitle
        extra={
          <Space wrap>
            <Segmented options={['SM2', 'Ed25519']} value={alg} onChange={(v) => setAlg(v as 'SM2' | 'Ed25519')} />
            <Button
              type="primary"
              loading={rotate.isPending}
              onClick={() =>
                modal.confirm({
                  title: `轮换为新的 ${alg} 密钥？`,
                  content: '新密钥立即签发动态码；旧密钥转为“仅验签”，机构离线核验需重新下载公钥。',
                  okText: '轮换',
                  cancelText: '取消',
                  onOk: () => rotate.mutateAsync(),
                })
              }
            >
              轮换密钥
            </Button>
          </Space>
        }
      >
        电子凭证签名密钥
      </PageTitle>
      <Alert
        style={{ marginBottom: 16 }}
        type="info"
        showIcon
        title="公钥下载地址（机构离线核验）：/api/evoucher/keys"
      />
      {q.isLoading ? (
        <Loading />
      ) : q.error ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} />
      ) : (
        <Table
          rowKey="kid"
          dataSource={q.data}
          scroll={{ x: true }}
          pagination={false}
          columns={[
            { title: '密钥编号', dataIndex: 'kid' },
            {
              title: '用途',
              dataIndex: 'purpose',
              render: (p: KeyRow['purpose']) => (p === 'qr' ? '动态码签名' : <Tag color="orange">沙箱实人认证</Tag>),
            },
            { title: '算法', dataIndex: 'alg' },
            {
              title: '状态',
              dataIndex: 'status',
              render: (s: KeyRow['status']) => <Tag color={KEY_STATUS[s][1]}>{KEY_STATUS[s][0]}</Tag>,
            },
            { title: '创建时间', dataIndex: 'createdAt', render: dateTime },
            {
              title: '公钥',
              dataIndex: 'publicKey',
              render: (k: string) => <Typography.Text copyable={{ text: k }}>{`${k.slice(0, 16)}…`}</Typography.Text>,
            },
            {
              title: '操作',
              render: (_: unknown, k: KeyRow) =>
                k.status === 'retiring' ? (
                  <Button size="small" danger onClick={() => retire.mutate(k.kid)}>
                    停用
                  </Button>
                ) : null,
            },
          ]}
        />
      )}
    </>
  );
}

export function EvoucherStatsPage() {
  const [days, setDays] = useState(30);
  const q = useQuery({
    queryKey: ['evoucher', 'stats', days],
    queryFn: () => api<ScanRow[]>(`/api/evoucher/admin/stats/daily?days=${days}`),
  });
  const refusals = useQuery({
    queryKey: ['evoucher', 'refusals', days],
    queryFn: () => api<Refusals>(`/api/evoucher/admin/stats/refusals?days=${days}`),
  });
  return (
    <>
      <PageTitle
        extra={
          <Select
            aria-label="统计天数"
            value={days}
            onChange={setDays}
            options={[7, 30, 90].map((d) => ({ value: d, label: `近 ${d} 天` }))}
            style={{ width: 120 }}
          />
        }
      >
        用码统计
      </PageTitle>
      <Card>
        {q.isLoading ? (
          <Loading />
        ) : q.error ? (
          <ErrorState error={q.error} onRetry={() => void q.refetch()} />
        ) : (q.data ?? []).length === 0 ? (
          <EmptyState title="所选期间暂无用码记录" />
        ) : (
          <ScanChart rows={q.data ?? []} days={days} />
        )}
      </Card>
      <Card title="核验被拒（按原因）" style={{ marginTop: 16 }}>
        {refusals.isLoading ? (
          <Loading />
        ) : refusals.error ? (
          <ErrorState error={refusals.error} onRetry={() => void refusals.refetch()} />
        ) : refusals.data ? (
          <RefusalChart data={refusals.data} days={days} />
        ) : null}
      </Card>
    </>
  );
}
