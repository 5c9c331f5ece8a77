import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Button,
  Card,
  DatePicker,
  Descriptions,
  Drawer,
  Form,
  Grid,
  Input,
  List,
  Modal,
  Select,
  Space,
  Statistic,
  Table,
  Tag,
  Timeline,
  Typography,
} from 'antd';
import dayjs from 'dayjs';
import { useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { chartFrame, EChart, lastDays } from '../../components/EChart';
import { openableRow } from '../../components/openableRow';
import { PageTitle } from '../../components/PortalShell';
import { api, errorText, newIdempotencyKey } from '../../lib/api';
import { RESIDENT_ID } from '../../lib/ids';
import { useStaffPermissions } from '../../lib/permissions';
import { chinaDay } from '../../lib/time';
import { useToast } from '../../lib/toast';
import {
  CLASS_TAGS,
  dateTime,
  institutionLabel,
  LEG_STATUS,
  type PaymentOrder,
  type PaymentRefund,
  REFUND_KIND,
  STATUS_COLORS,
  STATUS_TEXT,
  yuan,
} from './format';

interface AdminOrder extends PaymentOrder {
  personNo: string;
  appId: string;
  providerTxnId: string | null;
  version: number;
  transitions: Array<{
    seq: number;
    fromStatus: string | null;
    toStatus: string;
    reason: string;
    actor: string;
    at: string;
  }>;
  refunds: PaymentRefund[];
  notifications: Array<{ id: string; eventType: string; seq: number; effect: string; receivedAt: string }>;
}

function ReasonModal({
  title,
  open,
  onCancel,
  onOk,
  loading,
  withAction,
}: {
  title: string;
  open: boolean;
  onCancel: () => void;
  onOk: (v: { reason: string; action?: string }) => void;
  loading: boolean;
  withAction?: boolean;
}) {
  const [form] = Form.useForm();
  return (
    <Modal
      title={title}
      open={open}
      onCancel={onCancel}
      onOk={() => form.submit()}
      confirmLoading={loading}
      okText="确认"
      destroyOnHidden
    >
      <Form form={form} layout="vertical" onFinish={onOk}>
        {withAction && (
          <Form.Item name="action" label="处理方式" rules={[{ required: true, message: '请选择处理方式' }]}>
            <Select
              options={[
                { value: 'retry_settlement', label: '重试医保结算' },
                { value: 'refund_cash', label: '退回自费部分（冲正）' },
              ]}
            />
          </Form.Item>
        )}
        <Form.Item name="reason" label="原因（记入审计）" rules={[{ required: true, min: 2, message: '请填写原因' }]}>
          <Input.TextArea rows={3} maxLength={200} showCount />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function AdminOrderDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const toast = useToast();
  const qc = useQueryClient();
  const [modal, setModal] = useState<'reversal' | 'resolve'>();
  const refund = !!useStaffPermissions().can?.('payment:refund');
  const { data: o, error } = useQuery({
    queryKey: ['payment', 'admin', id],
    queryFn: () => api<AdminOrder>(`/api/payment/admin/orders/${id}`),
  });
  const done = () => {
    setModal(undefined);
    void qc.invalidateQueries({ queryKey: ['payment', 'admin'] });
  };
  const reversal = useMutation({
    mutationFn: (v: { reason: string }) =>
      api(`/api/payment/admin/orders/${id}/reversal`, { body: v, idempotencyKey: newIdempotencyKey() }),
    onSuccess: () => {
      toast.success('已提交冲正');
      done();
    },
    onError: toast.failed,
  });
  const resolve = useMutation({
    mutationFn: (v: { reason: string; action?: string }) =>
      api(`/api/payment/admin/orders/${id}/resolve`, { body: v, idempotencyKey: newIdempotencyKey() }),
    onSuccess: () => {
      toast.success('已处理');
      done();
    },
    onError: toast.failed,
  });
  return (
    <Drawer open onClose={onClose} title={`订单 ${id}`} size="large">
      {error && <Alert type="error" message={errorText(error)} />}
      {o && (
        <Space direction="vertical" style={{ width: '100%' }} size="middle">
          <Space wrap>
            <Tag color={STATUS_COLORS[o.status]}>{STATUS_TEXT[o.status]}</Tag>
            {o.providerLabel?.includes('沙箱') && <Tag color="orange">沙箱支付</Tag>}
            {refund && (o.status === 'completed' || o.status === 'partially_refunded') && (
              <Button danger onClick={() => setModal('reversal')}>
                人工冲正
              </Button>
            )}
            {refund && o.status === 'abnormal' && (
              <Button type="primary" danger onClick={() => setModal('resolve')}>
                异常处理
              </Button>
            )}
          </Space>
          <Descriptions size="small" column={2} bordered>
            <Descriptions.Item label="总额">¥{yuan(o.total)}</Descriptions.Item>
            <Descriptions.Item label="统筹">¥{yuan(o.fundPayment)}</Descriptions.Item>
            <Descriptions.Item label="个人账户">¥{yuan(o.accountPayment)}</Descriptions.Item>
            <Descriptions.Item label="自费">¥{yuan(o.cashPayment)}</Descriptions.Item>
            <Descriptions.Item label="已退（统筹/个账/自费）">
              {yuan(o.refundedFund)} / {yuan(o.refundedAccount)} / {yuan(o.refundedCash)}
            </Descriptions.Item>
            <Descriptions.Item label="机构">
              {o.institutionName ? `${o.institutionName}（${o.institutionCode}）` : o.institutionCode}
            </Descriptions.Item>
            <Descriptions.Item label="参保人编号">{o.personNo}</Descriptions.Item>
            <Descriptions.Item label="渠道">{o.appId}</Descriptions.Item>
            <Descriptions.Item label="结算号">{o.settlementId ?? '-'}</Descriptions.Item>
            <Descriptions.Item label="支付流水">{o.providerTxnId ?? '-'}</Descriptions.Item>
            {o.failureReason && (
              <Descriptions.Item label="失败原因" span={2}>
                {o.failureCode}：{o.failureReason}
              </Descriptions.Item>
            )}
          </Descriptions>
          <Card size="small" title="费用明细">
            <Table
              size="small"
              rowKey="lineNo"
              pagination={false}
              dataSource={o.lines}
              columns={[
                { title: '编码', dataIndex: 'code' },
                { title: '名称', dataIndex: 'name' },
                {
                  title: '类别',
                  dataIndex: 'itemClass',
                  render: (c: string) => <Tag color={CLASS_TAGS[c]?.color}>{CLASS_TAGS[c]?.text}</Tag>,
                },
                { title: '数量', dataIndex: 'quantity' },
                { title: '金额', dataIndex: 'amount', render: yuan },
              ]}
            />
          </Card>
          <Card size="small" title="状态时间线">
            <Timeline
              items={o.transitions.map((t) => ({
                color:
                  t.toStatus === 'failed' || t.toStatus === 'abnormal'
                    ? 'red'
                    : t.toStatus === 'completed'
                      ? 'green'
                      : 'blue',
                children: (
                  <Space direction="vertical" size={0}>
                    <Typography.Text strong>
                      {t.fromStatus ? `${STATUS_TEXT[t.fromStatus]} → ` : ''}
                      {STATUS_TEXT[t.toStatus]}
                    </Typography.Text>
                    <Typography.Text>{t.reason}</Typography.Text>
                    <Typography.Text type="secondary">
                      {dateTime(t.at)} · <span title={t.actor}>{actorText(t.actor)}</span>
                    </Typography.Text>
                  </Space>
                ),
              }))}
            />
          </Card>
          {o.refunds.length > 0 && (
            <Card size="small" title="退款 / 冲正">
              <Table
                size="small"
                rowKey="id"
                pagination={false}
                dataSource={o.refunds}
                columns={[
                  { title: '类型', dataIndex: 'kind', render: (k: string) => REFUND_KIND[k] ?? k },
                  {
                    title: '医保',
                    render: (_: unknown, r: PaymentRefund) => leg(r.fundAmount + r.accountAmount, r.insuranceStatus),
                  },
                  { title: '自费', render: (_: unknown, r: PaymentRefund) => leg(r.cashAmount, r.cashStatus) },
                  { title: '原因', dataIndex: 'reason' },
                  { title: '发起', dataIndex: 'requestedBy', render: (a: string) => actorText(a) },
                  { title: '时间', dataIndex: 'createdAt', render: dateTime },
                ]}
              />
            </Card>
          )}
          {o.notifications.length > 0 && (
            <Card size="small" title="支付通知（已验签）">
              <Table
                size="small"
                rowKey="id"
                pagination={false}
                dataSource={o.notifications}
                columns={[
                  { title: '事件', dataIndex: 'eventType', render: (e: string) => coded(NOTICE_EVENTS, e) },
                  { title: '序号', dataIndex: 'seq' },
                  { title: '处理结果', dataIndex: 'effect', render: (e: string) => coded(NOTICE_EFFECTS, e) },
                  { title: '收到时间', dataIndex: 'receivedAt', render: dateTime },
                ]}
              />
            </Card>
          )}
        </Space>
      )}
      <ReasonModal
        title="人工冲正（统筹、个人账户、自费全部退回）"
        open={modal === 'reversal'}
        onCancel={() => setModal(undefined)}
        onOk={(v) => reversal.mutate({ reason: v.reason })}
        loading={reversal.isPending}
      />
      <ReasonModal
        title="异常订单处理"
        withAction
        open={modal === 'resolve'}
        onCancel={() => setModal(undefined)}
        onOk={(v) => resolve.mutate(v)}
        loading={resolve.isPending}
      />
    </Drawer>
  );
}

/** 管理后台 · 支付订单: search, timeline, manual reversal. */
/** A refund leg's amount with its state. */
const leg = (amount: number, status: string) => (
  <>
    {yuan(amount)} <Tag color={LEG_STATUS[status]?.color}>{LEG_STATUS[status]?.text}</Tag>
  </>
);

export function PaymentOrdersPage() {
  // the filter lives in the address: the duty overview links here filtered (?status=abnormal), and F5 keeps it
  const [search, setSearch] = useSearchParams();
  const query = {
    status: STATUS_TEXT[search.get('status') ?? ''] ? (search.get('status') as string) : undefined,
    q: search.get('q') ?? undefined,
    page: Math.max(1, Number(search.get('page')) || 1),
  };
  const setQuery = (next: { status?: string; q?: string; page: number }) =>
    setSearch(
      Object.fromEntries(
        Object.entries({ ...next, page: next.page > 1 ? String(next.page) : undefined }).filter(([, v]) => v),
      ) as Record<string, string>,
    );
  const [selected, setSelected] = useState<string>();
  // a person's ID number stays out of the address (browser history), and its search states a purpose (audited)
  const [person, setPerson] = useState<{ residentId: string; purpose: string }>();
  const [purpose, setPurpose] = useState('');
  const toast = useToast();
  const params = new URLSearchParams({ page: String(query.page), pageSize: '20' });
  if (query.status) params.set('status', query.status);
  if (person) {
    params.set('q', person.residentId);
    params.set('purpose', person.purpose);
  } else if (query.q) params.set('q', query.q);
  const phone = !Grid.useBreakpoint().md;
  const onSearch = (text: string) => {
    const q = text.trim();
    if (!RESIDENT_ID.test(q)) {
      setPerson(undefined);
      setQuery({ ...query, q: q || undefined, page: 1 });
    } else if (purpose.trim().length < 2) toast.warning('按身份证号查询需先填写查询事由（记入审计）');
    else {
      setPerson({ residentId: q.toUpperCase(), purpose: purpose.trim() });
      setQuery({ ...query, q: undefined, page: 1 });
    }
  };
  const { data, error, isLoading } = useQuery({
    queryKey: ['payment', 'admin', 'orders', query, person],
    queryFn: () => api<{ items: PaymentOrder[]; total: number }>(`/api/payment/admin/orders?${params}`),
  });
  const pagination = {
    current: query.page,
    total: data?.total ?? 0,
    pageSize: 20,
    onChange: (page: number) => setQuery({ ...query, page }),
  };
  return (
    <>
      <PageTitle>支付订单</PageTitle>
      <Space wrap style={{ marginBottom: 12 }}>
        <Input.Search
          aria-label="订单号、机构流水号或参保人身份证号"
          placeholder="订单号、机构流水号或参保人身份证号"
          allowClear
          defaultValue={query.q}
          onSearch={onSearch}
          style={{ width: 320 }}
        />
        <Input
          aria-label="查询事由"
          placeholder="查询事由（按身份证号查询时必填）"
          value={purpose}
          onChange={(e) => setPurpose(e.target.value)}
          maxLength={100}
          style={{ width: 260 }}
        />
        <Select
          aria-label="订单状态"
          allowClear
          placeholder="状态"
          style={{ width: 160 }}
          value={query.status}
          onChange={(status) => setQuery({ ...query, status, page: 1 })}
          options={Object.entries(STATUS_TEXT).map(([value, label]) => ({ value, label }))}
        />
      </Space>
      {error && <Alert type="error" message={errorText(error)} />}
      {phone ? (
        // on a phone each order shows whole (status and amounts were off to the right of a sideways-scrolling table)
        <List
          loading={isLoading}
          dataSource={data?.items ?? []}
          pagination={pagination}
          renderItem={(o) => (
            <List.Item key={o.id} onClick={() => setSelected(o.id)} style={{ cursor: 'pointer' }}>
              <List.Item.Meta
                title={
                  <Space wrap>
                    <Tag color={STATUS_COLORS[o.status]}>{STATUS_TEXT[o.status]}</Tag>
                    {institutionLabel(o)}
                  </Space>
                }
                description={
                  <>
                    <div>
                      总额 ¥{yuan(o.total)} · 统筹 ¥{yuan(o.fundPayment)} · 个账 ¥{yuan(o.accountPayment)} · 自费 ¥
                      {yuan(o.cashPayment)}
                    </div>
                    <div style={{ fontSize: 12 }}>
                      {o.id} · {dateTime(o.createdAt)}
                    </div>
                  </>
                }
              />
            </List.Item>
          )}
        />
      ) : (
        <Table
          rowKey="id"
          loading={isLoading}
          dataSource={data?.items ?? []}
          onRow={openableRow((r) => setSelected(r.id))}
          pagination={pagination}
          scroll={{ x: 900 }}
          columns={[
            { title: '订单号', dataIndex: 'id' },
            {
              title: '机构',
              dataIndex: 'institutionCode',
              render: (code: string, o) =>
                o.institutionName ? (
                  <>
                    {o.institutionName}
                    <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
                      {code}
                    </Typography.Text>
                  </>
                ) : (
                  code
                ),
            },
            {
              title: '状态',
              dataIndex: 'status',
              render: (s: string) => <Tag color={STATUS_COLORS[s]}>{STATUS_TEXT[s]}</Tag>,
            },
            { title: '总额', dataIndex: 'total', render: yuan, align: 'right' },
            { title: '统筹', dataIndex: 'fundPayment', render: yuan, align: 'right' },
            { title: '个账', dataIndex: 'accountPayment', render: yuan, align: 'right' },
            { title: '自费', dataIndex: 'cashPayment', render: yuan, align: 'right' },
            { title: '创建时间', dataIndex: 'createdAt', render: dateTime },
          ]}
        />
      )}
      {selected && <AdminOrderDetail id={selected} onClose={() => setSelected(undefined)} />}
    </>
  );
}

interface Totals {
  orders: number;
  completed: number;
  total: number;
  fund: number;
  account: number;
  cash: number;
  cashRefunded: number;
  providerPaid: number;
  providerRefunded: number;
  coreSettled: number;
}
interface Mismatch {
  orderId: string;
  kind: string;
  detail: Record<string, unknown>;
  status: 'open' | 'resolved';
  resolution: string | null;
  resolvedBy: string | null;
}
interface ReconPage {
  runs: Array<{ date: string; ranAt: string; totals: Totals; mismatchCount: number; open: number }>;
  report: { date: string; ranAt: string; totals: Totals; mismatches: Mismatch[] } | null;
}

const KIND_TEXT: Record<string, string> = {
  missing_in_platform: '平台缺失',
  missing_in_core: '核心区缺失',
  missing_in_provider: '支付机构缺失',
  amount_differs: '金额不符',
  status_differs: '状态不符',
};

/**
 * The last 30 days: completed orders (bars) and the differences found, still open (line), so a bad day stands out
 * among normal ones; a day without a run is a gap (the daily job did not run, or nobody ran it).
 */
function RunsChart({ runs, onPick }: { runs: ReconPage['runs']; onPick: (date: string) => void }) {
  const days = useMemo(() => lastDays(30), []);
  const option = useMemo(() => {
    const byDate = new Map(runs.map((r) => [r.date, r]));
    const of = (pick: (r: ReconPage['runs'][number]) => number) =>
      days.map((d) => (byDate.has(d) ? pick(byDate.get(d)!) : null));
    return {
      ...chartFrame(48),
      xAxis: { type: 'category', data: days.map((d) => d.slice(5)) },
      yAxis: [
        { type: 'value', name: '订单', minInterval: 1 },
        { type: 'value', name: '差异', minInterval: 1, position: 'right' },
      ],
      series: [
        { name: '完成订单', type: 'bar', data: of((r) => r.totals.completed) },
        { name: '差异（全部）', type: 'line', yAxisIndex: 1, data: of((r) => r.mismatchCount) },
        { name: '差异（待处理）', type: 'line', yAxisIndex: 1, data: of((r) => r.open) },
      ],
    };
  }, [runs, days]);
  return (
    <EChart
      option={option}
      height={260}
      label="近 30 日对账：每日完成订单数与差异数图表（点击某日查看）"
      onPick={(i) => onPick(days[i]!)}
    />
  );
}

/** Platform cash vs the provider's statement, platform insurance vs the core zone: bars to compare. */
function TotalsChart({ totals }: { totals: Totals }) {
  const option = useMemo(() => {
    const toYuan = (fen: number) => fen / 100; // display only
    return {
      ...chartFrame(),
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => `¥${v.toFixed(2)}` },
      grid: { left: 64, right: 16, top: 24, bottom: 48 },
      xAxis: { type: 'category', data: ['自费收款', '自费退款', '医保（统筹+个账）'] },
      yAxis: { type: 'value', name: '元' },
      series: [
        {
          name: '平台',
          type: 'bar',
          data: [toYuan(totals.cash), toYuan(totals.cashRefunded), toYuan(totals.fund + totals.account)],
        },
        {
          name: '支付机构对账单 / 核心区',
          type: 'bar',
          data: [toYuan(totals.providerPaid), toYuan(totals.providerRefunded), toYuan(totals.coreSettled)],
        },
      ],
    };
  }, [totals]);
  return <EChart option={option} height={280} label="对账金额对比图" />;
}

/** 管理后台 · 支付对账: the day's totals and mismatches, with a staff resolution per item. */
export function PaymentReconciliationPage() {
  const toast = useToast();
  const qc = useQueryClient();
  const [date, setDate] = useState(chinaDay(Date.now() - 86_400_000));
  const [resolving, setResolving] = useState<Mismatch>();
  const [form] = Form.useForm();
  const { data, error, isLoading } = useQuery({
    queryKey: ['payment', 'recon', date],
    queryFn: () => api<ReconPage>(`/api/payment/admin/reconciliation?date=${date}`),
  });
  const run = useMutation({
    mutationFn: () => api(`/api/payment/admin/reconciliation/${date}/run`, { method: 'POST' }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['payment', 'recon'] }),
    onError: toast.failed,
  });
  const resolve = useMutation({
    mutationFn: (v: { action: string; note: string }) =>
      api(`/api/payment/admin/reconciliation/${date}/items/${resolving!.orderId}/${resolving!.kind}/resolve`, {
        body: v,
        idempotencyKey: newIdempotencyKey(),
      }),
    onSuccess: () => {
      setResolving(undefined);
      toast.success('已处理');
      void qc.invalidateQueries({ queryKey: ['payment', 'recon'] });
    },
    onError: (err) => toast.refused(form, err),
  });
  const report = data?.report;
  return (
    <>
      <PageTitle>支付对账</PageTitle>
      <Space wrap style={{ marginBottom: 12 }}>
        <DatePicker
          aria-label="对账日期"
          value={dayjs(date)}
          onChange={(d) => d && setDate(d.format('YYYY-MM-DD'))}
          disabledDate={(d) => d.format('YYYY-MM-DD') > chinaDay(Date.now())}
          allowClear={false}
        />
        <Button type="primary" loading={run.isPending} onClick={() => run.mutate()}>
          执行对账
        </Button>
        <Typography.Text type="secondary">
          比对平台订单、核心区结算与支付机构对账单（每日 02:00 自动对账前一日）
        </Typography.Text>
      </Space>
      {error && <Alert type="error" message={errorText(error)} />}
      {data && data.runs.length > 0 && (
        <Card
          size="small"
          title="近 30 日对账"
          extra={`点击某日查看；${data.runs.filter((r) => r.open > 0).length} 天有待处理差异`}
          style={{ marginBottom: 12 }}
        >
          <RunsChart runs={data.runs} onPick={setDate} />
        </Card>
      )}
      {!isLoading && !report && <Alert type="info" message={`${date} 尚未对账`} />}
      {report && (
        <Space direction="vertical" style={{ width: '100%' }} size="middle">
          <Card size="small" title={`${report.date} 合计（对账时间 ${dateTime(report.ranAt)}）`}>
            <Space wrap size="large">
              <Statistic title="订单数" value={report.totals.orders} />
              <Statistic title="完成数" value={report.totals.completed} />
              <Statistic title="总额" value={yuan(report.totals.total)} prefix="¥" />
              <Statistic title="统筹" value={yuan(report.totals.fund)} prefix="¥" />
              <Statistic title="个人账户" value={yuan(report.totals.account)} prefix="¥" />
              <Statistic title="自费" value={yuan(report.totals.cash)} prefix="¥" />
              <OpenMismatches count={report.mismatches.filter((m) => m.status === 'open').length} />
            </Space>
            <TotalsChart totals={report.totals} />
          </Card>
          <Card size="small" title="差异明细">
            <Table
              size="small"
              rowKey={(m) => `${m.orderId}-${m.kind}`}
              dataSource={report.mismatches}
              pagination={false}
              scroll={{ x: 800 }}
              columns={[
                { title: '订单号', dataIndex: 'orderId' },
                { title: '差异', dataIndex: 'kind', render: (k: string) => <Tag color="red">{KIND_TEXT[k] ?? k}</Tag> },
                {
                  title: '详情',
                  dataIndex: 'detail',
                  render: (d: object) => <Typography.Text code>{JSON.stringify(d)}</Typography.Text>,
                },
                {
                  title: '状态',
                  render: (_: unknown, m: Mismatch) =>
                    m.status === 'open' ? (
                      <Tag color="error">待处理</Tag>
                    ) : (
                      <Tag color="success">已处理：{m.resolution}</Tag>
                    ),
                },
                {
                  title: '操作',
                  render: (_: unknown, m: Mismatch) =>
                    m.status === 'open' && (
                      <Button size="small" onClick={() => setResolving(m)}>
                        处理
                      </Button>
                    ),
                },
              ]}
            />
          </Card>
        </Space>
      )}
      <Modal
        title="处理对账差异"
        open={!!resolving}
        onCancel={() => setResolving(undefined)}
        onOk={() => form.submit()}
        confirmLoading={resolve.isPending}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={(v) => resolve.mutate(v)} initialValues={{ action: 'recover' }}>
          <Form.Item name="action" label="处理方式">
            <Select
              options={[
                { value: 'recover', label: '运行恢复任务后确认' },
                { value: 'accept', label: '确认无误 / 已线下处理' },
              ]}
            />
          </Form.Item>
          <Form.Item
            name="note"
            label="处理说明（记入审计）"
            rules={[{ required: true, min: 2, message: '请填写处理说明' }]}
          >
            <Input.TextArea rows={3} maxLength={200} showCount />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}

/** Red while something waits for staff; a calm 0 with 已核平 once the day balances. */
function OpenMismatches({ count }: { count: number }) {
  return (
    <Statistic
      title="差异（待处理）"
      value={count}
      suffix={count === 0 ? <Typography.Text type="success">已核平</Typography.Text> : undefined}
      valueStyle={count > 0 ? { color: '#cf1322' } : undefined}
    />
  );
}

/** Who moved the order, in a clerk's words; the stored actor stays in the tooltip (and the audit log). */
function actorText(actor: string): string {
  const [kind, id = ''] = actor.split(/:(.*)/s);
  if (kind === 'system') return '系统（自动）';
  if (kind === 'person') return '参保人本人';
  if (kind === 'channel') return `机构渠道 ${id}`;
  if (kind === 'staff') return `工作人员 ${id.slice(0, 8)}`;
  return actor;
}

const NOTICE_EVENTS: Record<string, string> = {
  'TRANSACTION.SUCCESS': '支付成功',
  'TRANSACTION.FAIL': '支付失败',
  'TRANSACTION.USERPAYING': '用户支付中',
  'REFUND.SUCCESS': '退款成功',
};

/** what a verified provider notification did to the order (payment service `applyProviderState`) */
const NOTICE_EFFECTS: Record<string, string> = {
  'cash-paid': '已入账（自费已支付）',
  noted: '已记录',
  'refund-noted': '退款已记录',
  stale: '过期通知，忽略',
  ignored: '与订单状态不符，忽略',
  failed: '订单置为支付失败',
  'amount-mismatch': '金额不符，转异常',
  'late-refund': '关闭后到账，自动退回',
  'duplicate-state': '重复通知，订单已处理',
  duplicate: '重复通知，忽略',
};

/** a code in words, the code itself beside it for whoever reads the provider's logs */
const coded = (names: Record<string, string>, code: string) => <span title={code}>{names[code] ?? code}</span>;
