import { ClockCircleOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Drawer,
  Empty,
  Grid,
  List,
  Segmented,
  Space,
  Spin,
  Statistic,
  Switch,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import { stepUp } from '../../auth/oidc';
import { PageTitle } from '../../components/PortalShell';
import { ApiError, api, errorText, newIdempotencyKey } from '../../lib/api';
import { useToast } from '../../lib/toast';
import {
  CLASS_TAGS,
  dateTime,
  dueText,
  institutionLabel,
  LEG_STATUS,
  MEDICAL_TYPES,
  type PaymentOrder,
  REFUND_KIND,
  refundedText,
  STATUS_COLORS,
  STATUS_TEXT,
  yuan,
} from './format';
import styles from './MyPayments.module.css';

/** Leg colours dark enough for AA contrast on white (antd's green-6 / blue-6 are 3.5:1 / 4.1:1). */
const FUND_COLOR = '#237804';
const ACCOUNT_COLOR = '#0958d9';
const CASH_COLOR = '#cf1322';
const REFUNDED_COLOR = '#ad4e00';

const OPEN = ['pre_settled', 'awaiting_payment', 'cash_paid', 'insurance_settled', 'refunding'];

/** The split the person compares: fund X / personal account Y / you pay Z. */
/** The time a waiting bill runs out, in a dark orange that keeps AA contrast (antd's warning yellow does not). */
function Due({ order }: { order: PaymentOrder }) {
  const text = dueText(order);
  return text ? (
    <Typography.Text style={{ color: '#ad4e00' }}>
      <ClockCircleOutlined /> {text}
    </Typography.Text>
  ) : null;
}

function SplitSummary({ order }: { order: PaymentOrder }) {
  return (
    <Card size="small" styles={{ body: { padding: 12 } }}>
      <Space wrap size="large" style={{ width: '100%', justifyContent: 'space-between' }}>
        <Statistic title="费用总额" value={yuan(order.total)} prefix="¥" />
        <Statistic title="医保统筹支付" value={yuan(order.fundPayment)} prefix="¥" valueStyle={{ color: FUND_COLOR }} />
        <Statistic
          title="个人账户支付"
          value={yuan(order.accountPayment)}
          prefix="¥"
          valueStyle={{ color: ACCOUNT_COLOR }}
        />
        <Statistic title="您需支付" value={yuan(order.cashPayment)} prefix="¥" valueStyle={{ color: CASH_COLOR }} />
      </Space>
      {order.accountBalanceAfter !== null && (
        <Typography.Text type="secondary">支付后个人账户余额：¥{yuan(order.accountBalanceAfter)}</Typography.Text>
      )}
    </Card>
  );
}

function Lines({ order }: { order: PaymentOrder }) {
  const screens = Grid.useBreakpoint();
  if (!screens.md) {
    return (
      <List
        size="small"
        dataSource={order.lines}
        renderItem={(l) => (
          <List.Item extra={<span>¥{yuan(l.amount)}</span>}>
            <List.Item.Meta
              title={
                <Space size={4} wrap>
                  <Tag color={CLASS_TAGS[l.itemClass]?.color}>{CLASS_TAGS[l.itemClass]?.text}</Tag>
                  {l.name}
                </Space>
              }
              description={`${l.quantity} × ¥${yuan(l.unitPrice)}${l.preSelfPay ? `，先行自付 ¥${yuan(l.preSelfPay)}` : ''}${l.fullySelfPaid ? '，全自费' : ''}`}
            />
          </List.Item>
        )}
      />
    );
  }
  return (
    <Table
      size="small"
      rowKey="lineNo"
      pagination={false}
      dataSource={order.lines}
      columns={[
        { title: '项目', dataIndex: 'name' },
        {
          title: '类别',
          dataIndex: 'itemClass',
          render: (c: string) => <Tag color={CLASS_TAGS[c]?.color}>{CLASS_TAGS[c]?.text}</Tag>,
        },
        { title: '数量', dataIndex: 'quantity' },
        { title: '单价(元)', dataIndex: 'unitPrice', render: yuan },
        { title: '金额(元)', dataIndex: 'amount', render: yuan },
        { title: '先行自付', dataIndex: 'preSelfPay', render: yuan },
        { title: '全自费', dataIndex: 'fullySelfPaid', render: yuan },
        { title: '超限价', dataIndex: 'overPriceCap', render: yuan },
      ]}
    />
  );
}

/** Refund state per leg: 统筹 / 个人账户 / 自费. */
function Refunds({ order }: { order: PaymentOrder }) {
  if (!order.refunds?.length) return null;
  return (
    <Card size="small" title="退款进度">
      <List
        size="small"
        dataSource={order.refunds}
        renderItem={(r) => (
          <List.Item>
            <Space direction="vertical" size={2} style={{ width: '100%' }}>
              <Space wrap>
                <Typography.Text strong>{REFUND_KIND[r.kind] ?? r.kind}</Typography.Text>
                <Tag color={r.status === 'succeeded' ? 'success' : r.status === 'failed' ? 'error' : 'processing'}>
                  {r.status === 'succeeded' ? '已完成' : r.status === 'failed' ? '失败' : '处理中'}
                </Tag>
                <Typography.Text type="secondary">{dateTime(r.createdAt)}</Typography.Text>
              </Space>
              <Space wrap>
                <span>
                  医保（统筹 ¥{yuan(r.fundAmount)} + 个账 ¥{yuan(r.accountAmount)}）
                  <Tag color={LEG_STATUS[r.insuranceStatus]?.color}>{LEG_STATUS[r.insuranceStatus]?.text}</Tag>
                </span>
                <span>
                  自费 ¥{yuan(r.cashAmount)}{' '}
                  <Tag color={LEG_STATUS[r.cashStatus]?.color}>{LEG_STATUS[r.cashStatus]?.text}</Tag>
                </span>
              </Space>
              <Typography.Text type="secondary">原因：{r.reason}</Typography.Text>
            </Space>
          </List.Item>
        )}
      />
    </Card>
  );
}

function OrderDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const toast = useToast();
  const { modal } = App.useApp();
  const screens = Grid.useBreakpoint();
  const qc = useQueryClient();
  const {
    data: order,
    error,
    isLoading,
  } = useQuery({
    queryKey: ['payment', 'my', id],
    queryFn: () => api<PaymentOrder>(`/api/payment/my/orders/${id}`),
    // while money moves, poll for the result of the provider's callback
    refetchInterval: (q) =>
      q.state.data && OPEN.includes(q.state.data.status) && q.state.data.status !== 'pre_settled' ? 1500 : false,
  });
  const refresh = () => qc.invalidateQueries({ queryKey: ['payment'] });
  const account = useMutation({
    mutationFn: (useAccount: boolean) =>
      api<PaymentOrder>(`/api/payment/my/orders/${id}/account`, {
        body: { useAccount },
        idempotencyKey: newIdempotencyKey(),
      }),
    onSuccess: refresh,
    onError: toast.failed,
  });
  const payKey = useMemo(() => newIdempotencyKey(), []);
  const pay = useMutation({
    mutationFn: () => api<PaymentOrder>(`/api/payment/my/orders/${id}/pay`, { method: 'POST', idempotencyKey: payKey }),
    onSuccess: (o) => {
      refresh();
      if (o.cashierUrl) {
        const back = `${window.location.origin}/personal/payments?order=${id}`;
        window.location.href = `${o.cashierUrl}?return=${encodeURIComponent(back)}`;
      } else toast.success('支付已提交');
    },
    onError: (err) => {
      if (!(err instanceof ApiError && err.code === 'STEP_UP_REQUIRED')) return toast.failed(err);
      modal.confirm({
        title: '使用个人账户支付，请再次验证身份',
        content: `本单由个人账户支付 ¥${yuan(order?.accountPayment ?? 0)}。为确认是您本人，请用短信验证码或通行密钥再次验证；验证后回到本订单，再点确认支付。`,
        okText: '去验证',
        cancelText: '取消',
        onOk: () => stepUp('personal', 'pay'),
      });
    },
  });
  return (
    <Drawer
      open
      onClose={onClose}
      title="医保移动支付"
      size={screens.md ? 'large' : 'default'}
      placement={screens.md ? 'right' : 'bottom'}
      height="92%"
    >
      {/* the drawer body scrolls on a phone: keyboard users reach it through this focusable region */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable (WCAG 2.1.1) */}
      <section tabIndex={0} aria-label="订单详情" className={styles.detail}>
        {isLoading && <Spin />}
        {error && <Alert type="error" message={errorText(error)} />}
        {order && (
          <Space direction="vertical" style={{ width: '100%' }} size="middle">
            <Space wrap>
              <Tag color={STATUS_COLORS[order.status]}>{STATUS_TEXT[order.status] ?? order.statusLabel}</Tag>
              <Typography.Text type="secondary">
                {MEDICAL_TYPES[order.medicalType] ?? order.medicalType} · {institutionLabel(order)} ·{' '}
                {dateTime(order.createdAt)}
              </Typography.Text>
            </Space>
            {order.failureReason && <Alert type="warning" showIcon message={order.failureReason} />}
            <SplitSummary order={order} />
            {order.status === 'pre_settled' && (
              <Card size="small">
                <Space style={{ width: '100%', justifyContent: 'space-between' }}>
                  <span>使用个人账户支付</span>
                  <Switch
                    checked={order.useAccount}
                    loading={account.isPending}
                    onChange={(v) => account.mutate(v)}
                    aria-label="使用个人账户支付"
                  />
                </Space>
                <Typography.Paragraph type="secondary" style={{ margin: '8px 0 0' }}>
                  关闭后个人账户不支付，将按重新预结算的金额由您自付。
                </Typography.Paragraph>
              </Card>
            )}
            <Lines order={order} />
            <Refunds order={order} />
            {(order.status === 'pre_settled' || order.status === 'awaiting_payment') && (
              <Space direction="vertical" style={{ width: '100%' }}>
                {order.providerLabel?.includes('沙箱') && (
                  <Alert type="info" showIcon message="当前为沙箱支付通道，不产生真实扣款" />
                )}
                <Due order={order} />
                <Button type="primary" size="large" block loading={pay.isPending} onClick={() => pay.mutate()}>
                  {order.cashPayment ? `确认并支付 ¥${yuan(order.cashPayment)}` : '确认结算（无需自付）'}
                </Button>
              </Space>
            )}
            {(order.status === 'cash_paid' || order.status === 'insurance_settled') && (
              <Alert type="info" showIcon message="自费部分已支付，医保结算处理中…" />
            )}
            {order.status === 'completed' && (
              <Alert type="success" showIcon message={`支付完成 ${dateTime(order.settledAt)}`} />
            )}
            <Descriptions size="small" column={1} bordered>
              <Descriptions.Item label="订单号">{order.id}</Descriptions.Item>
              <Descriptions.Item label="机构流水号">{order.institutionOrderNo}</Descriptions.Item>
              {order.settlementId && <Descriptions.Item label="医保结算号">{order.settlementId}</Descriptions.Item>}
            </Descriptions>
          </Space>
        )}
      </section>
    </Drawer>
  );
}

/** 个人网厅 · 医保移动支付: pending bills, confirm and pay, history with the per-leg breakdown, refund state. */
export function MyPayments() {
  // the tab and the open order live in the address: a reload or Back keeps the person where they were
  const [params, setParams] = useSearchParams();
  const filter = params.get('tab') === 'history' ? 'history' : 'pending';
  const setFilter = (tab: 'pending' | 'history') => setParams(tab === 'history' ? { tab } : {}, { replace: true });
  const withOrder = (id: string | undefined) => {
    const next = new URLSearchParams(params);
    if (id) next.set('order', id);
    else next.delete('order');
    return next;
  };
  const selected = params.get('order');
  const { data, error, isLoading } = useQuery({
    queryKey: ['payment', 'my', 'list', filter],
    queryFn: () => api<{ items: PaymentOrder[] }>(`/api/payment/my/orders?filter=${filter}`),
  });
  const open = (id: string | undefined) => setParams(withOrder(id));
  return (
    <>
      <PageTitle>医保移动支付</PageTitle>
      <Segmented
        block
        size="large"
        value={filter}
        onChange={(v) => setFilter(v as 'pending' | 'history')}
        options={[
          { label: '待支付账单', value: 'pending' },
          { label: '支付记录', value: 'history' },
        ]}
        style={{ marginBottom: 12 }}
      />
      {error && <Alert type="error" message={errorText(error)} />}
      <List
        loading={isLoading}
        dataSource={data?.items ?? []}
        locale={{ emptyText: <Empty description={filter === 'pending' ? '暂无待支付账单' : '暂无支付记录'} /> }}
        split={false}
        renderItem={(o) => (
          <List.Item className={styles.orderItem}>
            <Card hoverable size="small" className={styles.orderCard}>
              <Space direction="vertical" size={4} style={{ width: '100%' }}>
                <Space style={{ width: '100%', justifyContent: 'space-between' }}>
                  {/* the whole card is the link's target area (stretched link), so a tap anywhere opens it */}
                  <Link to={{ search: `?${withOrder(o.id)}` }} className={styles.orderLink}>
                    {MEDICAL_TYPES[o.medicalType] ?? '医疗费用'} · {institutionLabel(o)}
                  </Link>
                  <Tag color={STATUS_COLORS[o.status]}>{STATUS_TEXT[o.status]}</Tag>
                </Space>
                <Typography.Text type="secondary">{dateTime(o.createdAt)}</Typography.Text>
                <Due order={o} />
                <div className={styles.amounts}>
                  <span>总额 ¥{yuan(o.total)}</span>
                  <span style={{ color: FUND_COLOR }}>统筹 ¥{yuan(o.fundPayment)}</span>
                  <span style={{ color: ACCOUNT_COLOR }}>个账 ¥{yuan(o.accountPayment)}</span>
                  <span style={{ color: CASH_COLOR }}>自付 ¥{yuan(o.cashPayment)}</span>
                </div>
                {refundedText(o) && (
                  <Typography.Text style={{ color: REFUNDED_COLOR }}>{refundedText(o)}</Typography.Text>
                )}
              </Space>
            </Card>
          </List.Item>
        )}
      />
      {selected && <OrderDetail id={selected} onClose={() => open(undefined)} />}
    </>
  );
}
