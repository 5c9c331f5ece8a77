import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Button,
  Card,
  Col,
  Descriptions,
  Input,
  InputNumber,
  Modal,
  Popconfirm,
  Radio,
  Row,
  Select,
  Space,
  Table,
} from 'antd';
import { useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { PageTitle } from '../../components/PortalShell';
import { EmptyState, ErrorState, Loading, StatusBadge, yuan } from '../../components/States';
import { api, errorText, newIdempotencyKey } from '../../lib/api';
import { useRegionName } from '../../lib/region';
import { clockTime } from '../../lib/time';
import { STATUS_TEXT } from '../payment/format';
import {
  type CatalogueItem,
  type ChannelOrder,
  FINAL,
  ITEM_CLASS,
  type Me,
  parseYuan,
  type RecentOrder,
  type VerifiedPerson,
} from './api';
import { ScanButton } from './Scanner';

interface Line {
  key: string;
  item: CatalogueItem;
  quantity: number;
  unitPrice: number;
}

/** 医药机构工作台: identify the person (scan or paste the e-voucher code), pick fee lines, upload, watch until paid. */
export function Workstation() {
  const me = useQuery({ queryKey: ['institution', 'me'], queryFn: () => api<Me>('/api/institution/me') });
  const [person, setPerson] = useState<(VerifiedPerson & { credential: { type: '01' | '02'; value: string } }) | null>(
    null,
  );
  // the open order lives in the address (?order=…): a reload, or a sign-in that had to start over, comes back to it
  const [params, setParams] = useSearchParams();
  const orderId = params.get('order');
  const setOrderId = (id: string | null) => setParams(id ? { order: id } : {}, { replace: true });
  if (me.isPending) return <Loading lines={6} label="正在加载工作台…" />;
  if (me.error) return <ErrorState title="无法进入工作台" error={me.error} onRetry={() => me.refetch()} />;
  return (
    <>
      <PageTitle extra={<StatusBadge tone="info">{me.data.institution.code}</StatusBadge>}>
        {me.data.institution.name}
      </PageTitle>
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={10}>
          <Identify
            person={person}
            onPerson={(p) => {
              setPerson(p);
              setOrderId(null);
            }}
          />
          <div style={{ height: 16 }} />
          {orderId ? (
            <OrderWatch
              id={orderId}
              onNew={() => {
                setOrderId(null);
                setPerson(null);
              }}
            />
          ) : (
            <Recent onOpen={setOrderId} />
          )}
        </Col>
        <Col xs={24} xl={14}>
          <Fees person={person} orderOpen={!!orderId} onUploaded={setOrderId} />
        </Col>
      </Row>
    </>
  );
}

function Identify({
  person,
  onPerson,
}: {
  person: (VerifiedPerson & { credential: { type: '01' | '02'; value: string } }) | null;
  onPerson: (p: (VerifiedPerson & { credential: { type: '01' | '02'; value: string } }) | null) => void;
}) {
  const [code, setCode] = useState('');
  const insuranceRegion = useRegionName(person?.insuranceRegion);
  const verify = useMutation({
    mutationFn: (qrCode: string) =>
      api<VerifiedPerson>('/api/institution/verify', { body: { qrCode: qrCode.trim(), businessType: '01301' } }),
    onSuccess: (p) => onPerson({ ...p, credential: { type: '01', value: p.ecToken } }),
  });
  return (
    <Card title="① 识别参保人">
      <label htmlFor="voucher-code" style={{ display: 'block', marginBottom: 8 }}>
        医保电子凭证码（扫码枪、摄像头扫码或粘贴）
      </label>
      <Space.Compact style={{ width: '100%' }}>
        <Input
          id="voucher-code"
          size="large"
          value={code}
          placeholder="请扫描或粘贴参保人出示的电子凭证码"
          onChange={(e) => setCode(e.target.value)}
          onPressEnter={() => code.trim() && verify.mutate(code)}
          autoComplete="off"
        />
        <Button
          type="primary"
          size="large"
          loading={verify.isPending}
          onClick={() => verify.mutate(code)}
          disabled={!code.trim()}
        >
          核验
        </Button>
      </Space.Compact>
      <div style={{ marginTop: 8 }}>
        <ScanButton
          onCode={(c) => {
            setCode(c);
            verify.mutate(c);
          }}
        />
      </div>
      {verify.error ? (
        <Alert style={{ marginTop: 12 }} type="error" showIcon message={errorText(verify.error)} />
      ) : null}
      {person ? (
        <Descriptions style={{ marginTop: 16 }} column={1} size="small" bordered aria-label="参保人信息">
          <Descriptions.Item label="姓名">{person.name}</Descriptions.Item>
          <Descriptions.Item label="身份证号">{person.residentIdMasked}</Descriptions.Item>
          <Descriptions.Item label="参保地">{insuranceRegion}</Descriptions.Item>
          <Descriptions.Item label="用码业务">{person.businessTypeName}</Descriptions.Item>
        </Descriptions>
      ) : null}
    </Card>
  );
}

function Fees({
  person,
  orderOpen,
  onUploaded,
}: {
  person: (VerifiedPerson & { credential: { type: '01' | '02'; value: string } }) | null;
  /** an uploaded order is on screen (③): fees wait for the next person */
  orderOpen: boolean;
  onUploaded: (id: string) => void;
}) {
  const disabled = !person || orderOpen;
  const [q, setQ] = useState('');
  const [lines, setLines] = useState<Line[]>([]);
  const [picked, setPicked] = useState<string>();
  const [qty, setQty] = useState<number>(1);
  const [price, setPrice] = useState('');
  const catalogue = useQuery({
    queryKey: ['institution', 'catalogue', q],
    queryFn: () => api<{ items: CatalogueItem[] }>(`/api/institution/catalogue?q=${encodeURIComponent(q)}`),
  });
  const item = catalogue.data?.items.find((i) => i.code === picked);
  const total = useMemo(() => lines.reduce((a, l) => a + l.quantity * l.unitPrice, 0), [lines]);
  const upload = useMutation({
    mutationFn: () =>
      api<ChannelOrder>('/api/institution/orders', {
        idempotencyKey: newIdempotencyKey(),
        body: {
          credential: person!.credential,
          personName: person!.name,
          medicalType: '11',
          lines: lines.map((l) => ({ code: l.item.code, quantity: l.quantity, unitPrice: l.unitPrice })),
        },
      }),
    onSuccess: (o) => {
      setLines([]);
      onUploaded(o.payOrdId);
    },
  });
  const add = () => {
    const fen = parseYuan(price);
    if (!item || !fen || qty < 1) return;
    setLines((ls) => [...ls, { key: `${item.code}-${ls.length}`, item, quantity: qty, unitPrice: fen }]);
    setPicked(undefined);
    setPrice('');
    setQty(1);
  };
  return (
    <Card title="② 选择收费项目并上传">
      {orderOpen || !person ? (
        <Alert
          type="info"
          showIcon
          message={
            orderOpen ? '本单已上传，支付进度见「③ 订单状态」；点「接待下一位」后录入新的收费' : '请先识别参保人'
          }
          style={{ marginBottom: 12 }}
        />
      ) : null}
      <Row gutter={[8, 8]} align="bottom">
        <Col xs={24} md={12}>
          <label htmlFor="catalogue-item" style={{ display: 'block', marginBottom: 4 }}>
            医保目录项目
          </label>
          <Select
            id="catalogue-item"
            showSearch={{ filterOption: false, onSearch: setQ }}
            size="large"
            style={{ width: '100%' }}
            placeholder="输入名称或编码检索"
            value={picked}
            loading={catalogue.isFetching}
            notFoundContent={catalogue.isFetching ? '检索中…' : '未找到项目'}
            onChange={(code: string) => {
              setPicked(code);
              const it = catalogue.data?.items.find((i) => i.code === code);
              if (it?.priceCap) setPrice(String(it.priceCap / 100));
            }}
            options={(catalogue.data?.items ?? []).map((i) => ({
              value: i.code,
              label: `${i.name}${i.spec ? `（${i.spec}）` : ''} · ${ITEM_CLASS[i.itemClass]}`,
            }))}
            disabled={disabled}
          />
        </Col>
        <Col xs={8} md={4}>
          <label htmlFor="fee-qty" style={{ display: 'block', marginBottom: 4 }}>
            数量
          </label>
          <InputNumber
            id="fee-qty"
            size="large"
            min={1}
            max={999}
            precision={0}
            value={qty}
            onChange={(v) => setQty(v ?? 1)}
            style={{ width: '100%' }}
            disabled={disabled}
          />
        </Col>
        <Col xs={16} md={5}>
          <label htmlFor="fee-price" style={{ display: 'block', marginBottom: 4 }}>
            单价（元）
          </label>
          <Input
            id="fee-price"
            size="large"
            inputMode="decimal"
            value={price}
            onChange={(e) => setPrice(e.target.value)}
            disabled={disabled}
          />
        </Col>
        <Col xs={24} md={3}>
          <Button
            size="large"
            icon={<PlusOutlined />}
            onClick={add}
            disabled={disabled || !item || !parseYuan(price)}
            block
          >
            添加
          </Button>
        </Col>
      </Row>
      <Table
        style={{ marginTop: 16 }}
        size="small"
        rowKey="key"
        pagination={false}
        dataSource={lines}
        locale={{ emptyText: <EmptyState title="尚未添加费用" hint="从医保目录检索并添加收费项目" /> }}
        columns={[
          { title: '项目', render: (_: unknown, l: Line) => l.item.name },
          { title: '类别', render: (_: unknown, l: Line) => ITEM_CLASS[l.item.itemClass] },
          { title: '数量', dataIndex: 'quantity', align: 'right' },
          { title: '单价', dataIndex: 'unitPrice', align: 'right', render: (v: number) => yuan(v) },
          { title: '金额', align: 'right', render: (_: unknown, l: Line) => yuan(l.quantity * l.unitPrice) },
          {
            title: '操作',
            render: (_: unknown, l: Line) => (
              <Button
                type="text"
                aria-label={`删除 ${l.item.name}`}
                icon={<DeleteOutlined />}
                onClick={() => setLines((ls) => ls.filter((x) => x.key !== l.key))}
              />
            ),
          },
        ]}
      />
      <div
        style={{
          display: 'flex',
          justifyContent: 'space-between',
          alignItems: 'center',
          marginTop: 16,
          gap: 12,
          flexWrap: 'wrap',
        }}
      >
        <strong style={{ fontSize: 18 }} data-testid="fee-total">
          合计 {yuan(total)}
        </strong>
        <Button
          type="primary"
          size="large"
          disabled={disabled || lines.length === 0}
          loading={upload.isPending}
          onClick={() => upload.mutate()}
        >
          上传费用
        </Button>
      </div>
      {upload.error ? (
        <Alert style={{ marginTop: 12 }} type="error" showIcon message={errorText(upload.error)} />
      ) : null}
    </Card>
  );
}

export const tone = (s: string) =>
  s === 'completed'
    ? 'ok'
    : s === 'refunded' || s === 'cancelled'
      ? 'off'
      : s === 'failed' || s === 'abnormal'
        ? 'warn'
        : 'info';

function OrderWatch({ id, onNew }: { id: string; onNew: () => void }) {
  const qc = useQueryClient();
  const order = useQuery({
    queryKey: ['institution', 'order', id],
    queryFn: () => api<ChannelOrder>(`/api/institution/orders/${id}`),
    refetchInterval: (q) =>
      q.state.data && FINAL.includes(q.state.data.ordStas) && q.state.data.ordStas !== 'refunding' ? false : 1500,
  });
  // a refund sends money back on every leg and cannot be undone: it is asked for, with its reason, in a dialog
  const [refunding, setRefunding] = useState(false);
  const [reason, setReason] = useState(REFUND_REASONS[0]);
  const refund = useMutation({
    mutationFn: () =>
      api(`/api/institution/orders/${id}/refund`, {
        body: { reason },
        idempotencyKey: newIdempotencyKey(),
      }),
    onSuccess: () => {
      setRefunding(false);
      void qc.invalidateQueries({ queryKey: ['institution', 'order', id] });
    },
  });
  const cancel = useMutation({
    mutationFn: () => api(`/api/institution/orders/${id}/cancel`, { body: { reason: '机构撤销' } }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['institution', 'order', id] }),
  });
  if (order.isPending)
    return (
      <Card title="③ 订单状态">
        <Loading lines={3} />
      </Card>
    );
  if (order.error)
    return (
      <Card title="③ 订单状态">
        <ErrorState error={order.error} onRetry={() => order.refetch()} />
      </Card>
    );
  const o = order.data;
  return (
    <Card
      title="③ 订单状态"
      extra={
        <span data-testid="order-status">
          <StatusBadge tone={tone(o.ordStas)}>{o.ordStasName}</StatusBadge>
        </span>
      }
    >
      <Descriptions column={1} size="small" bordered>
        {o.personName ? <Descriptions.Item label="参保人">{o.personName}</Descriptions.Item> : null}
        <Descriptions.Item label="订单号">{o.payOrdId}</Descriptions.Item>
        <Descriptions.Item label="费用总额">{yuan(o.feeSumamt)}</Descriptions.Item>
        <Descriptions.Item label="统筹基金支付">{yuan(o.fundPay)}</Descriptions.Item>
        <Descriptions.Item label="个人账户支付">{yuan(o.psnAcctPay)}</Descriptions.Item>
        <Descriptions.Item label="个人现金支付">{yuan(o.ownPayAmt)}</Descriptions.Item>
        {o.refdFundAmt || o.refdAcctAmt || o.refdCashAmt ? (
          <Descriptions.Item label="已退款">
            {yuan((o.refdFundAmt ?? 0) + (o.refdAcctAmt ?? 0) + (o.refdCashAmt ?? 0))}
          </Descriptions.Item>
        ) : null}
      </Descriptions>
      {o.feedetail?.length ? (
        // what was uploaded, so the cashier can check it with the patient (also after a reload)
        <Table
          style={{ marginTop: 12 }}
          size="small"
          rowKey="feedetlSn"
          pagination={false}
          aria-label="已上传的费用明细"
          dataSource={o.feedetail}
          columns={[
            { title: '项目', dataIndex: 'medListName' },
            { title: '类别', dataIndex: 'chrgitmLv', render: (c: string) => ITEM_CLASS[c] ?? c },
            { title: '数量', dataIndex: 'cnt', align: 'right' },
            { title: '金额', dataIndex: 'detItemFeeSumamt', align: 'right', render: (v: number) => yuan(v) },
          ]}
        />
      ) : null}
      {!FINAL.includes(o.ordStas) ? (
        <p style={{ marginTop: 12 }} role="status">
          等待参保人在手机上确认并支付…
        </p>
      ) : null}
      <Space style={{ marginTop: 12 }} wrap>
        {o.ordStas === 'completed' ? (
          <Button danger size="large" loading={refund.isPending} onClick={() => setRefunding(true)}>
            全额退款
          </Button>
        ) : null}
        {o.ordStas === 'pre_settled' || o.ordStas === 'awaiting_payment' ? (
          <Popconfirm
            title="撤销本次上传的费用？"
            description="参保人手机上的待支付账单随之取消。"
            okText="撤销费用"
            cancelText="返回"
            onConfirm={() => cancel.mutate()}
          >
            <Button size="large" loading={cancel.isPending}>
              撤销费用
            </Button>
          </Popconfirm>
        ) : null}
        <Button size="large" onClick={onNew}>
          接待下一位
        </Button>
      </Space>
      {refund.error || cancel.error ? (
        <Alert style={{ marginTop: 12 }} type="error" showIcon message={errorText(refund.error ?? cancel.error)} />
      ) : null}
      <Modal
        title="确认全额退款"
        open={refunding}
        okText="确认退款"
        okButtonProps={{ danger: true }}
        cancelText="返回"
        maskClosable={false}
        confirmLoading={refund.isPending}
        onOk={() => refund.mutate()}
        onCancel={() => setRefunding(false)}
      >
        <p>
          统筹基金 {yuan(o.fundPay)}、个人账户 {yuan(o.psnAcctPay)}、现金 {yuan(o.ownPayAmt)}{' '}
          将原路退回参保人，退款后不能撤回。
        </p>
        <p style={{ marginBottom: 8 }}>退款原因</p>
        <Radio.Group
          aria-label="退款原因"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          options={REFUND_REASONS.map((r) => ({ value: r, label: r }))}
        />
      </Modal>
    </Card>
  );
}

const REFUND_REASONS = ['患者申请退费', '收费项目有误', '重复收费'];

/** The institution's latest orders with their status; 查看 opens one. */
export function Recent({ onOpen }: { onOpen: (id: string) => void }) {
  const list = useQuery({
    queryKey: ['institution', 'orders'],
    queryFn: () => api<RecentOrder[]>('/api/institution/orders'),
  });
  return (
    <Card title="最近订单">
      {list.isPending ? (
        <Loading lines={3} />
      ) : list.error ? (
        <ErrorState error={list.error} onRetry={() => list.refetch()} />
      ) : list.data.length === 0 ? (
        <EmptyState title="还没有订单" />
      ) : (
        <Table
          size="small"
          rowKey="id"
          pagination={false}
          dataSource={list.data}
          columns={[
            { title: '参保人', dataIndex: 'personName' },
            { title: '金额', dataIndex: 'total', align: 'right', render: (v: number) => yuan(v) },
            {
              title: '状态',
              dataIndex: 'status',
              render: (s: string) => <StatusBadge tone={tone(s)}>{STATUS_TEXT[s] ?? s}</StatusBadge>,
            },
            {
              title: '时间',
              dataIndex: 'createdAt',
              render: (v: string) => clockTime(v),
            },
            {
              title: '',
              render: (_: unknown, r: RecentOrder) => (
                <Button type="link" onClick={() => onOpen(r.id)}>
                  查看
                </Button>
              ),
            },
          ]}
        />
      )}
    </Card>
  );
}
