import { DownloadOutlined, FileTextOutlined, SafetyCertificateOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import {
  Alert,
  Button,
  Card,
  Descriptions,
  Drawer,
  Empty,
  Grid,
  List,
  Space,
  Spin,
  Table,
  Tag,
  Typography,
} from 'antd';
import QRCode from 'qrcode';
import { useEffect, useState } from 'react';
import { PageTitle } from '../../components/PortalShell';
import { ApiError, api, errorText } from '../../lib/api';
import { getSession } from '../../lib/session';
import { useToast } from '../../lib/toast';
import { type Bill, CLASS_NAMES, dateTime, KIND, STATUS, yuan } from './format';

/** Downloads the bill's PDF with the session token (a plain link could not carry it). */
async function downloadPdf(bill: Bill): Promise<void> {
  const token = getSession()?.accessToken;
  const res = await fetch(`/api/ebill/my/bills/${bill.id}/pdf`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `医疗收费电子票据-${bill.billCode}-${bill.billNumber}.pdf`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The public verification page for the bill's QR (same origin, whatever public URL the QR text names). */
function verifyHref(qr: string): string {
  try {
    const u = new URL(qr, location.origin);
    const q = u.searchParams.get('qr');
    if (q) return `/public/ebill/verify?qr=${encodeURIComponent(q)}`;
  } catch {
    // not a URL: the payload itself
  }
  return `/public/ebill/verify?qr=${encodeURIComponent(qr)}`;
}

function BillDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const toast = useToast();
  const screens = Grid.useBreakpoint();
  const {
    data: bill,
    error,
    isLoading,
  } = useQuery({
    queryKey: ['ebill', 'my', id],
    queryFn: () => api<Bill>(`/api/ebill/my/bills/${id}`),
  });
  const [qr, setQr] = useState<string>();
  const [downloading, setDownloading] = useState(false);
  useEffect(() => {
    if (bill?.qr) void QRCode.toDataURL(bill.qr, { margin: 1, width: 180 }).then(setQr);
  }, [bill?.qr]);
  return (
    <Drawer
      open
      onClose={onClose}
      title="票据详情"
      size={screens.md ? 'large' : 'default'}
      placement={screens.md ? 'right' : 'bottom'}
      height="90%"
    >
      {isLoading && <Spin />}
      {error && <Alert type="error" message={errorText(error)} />}
      {bill && (
        <Space direction="vertical" style={{ width: '100%' }} size="middle">
          {bill.issuer.sandbox && <Alert type="info" showIcon message="沙箱环境开具的票据，仅供演示，非真实财政票据" />}
          <Typography.Title level={5} style={{ textAlign: 'center', color: '#b71c1c', margin: 0 }}>
            医疗收费电子票据{bill.kind === 'red' ? '（红字）' : ''}
          </Typography.Title>
          <Descriptions column={screens.md ? 2 : 1} size="small" bordered>
            <Descriptions.Item label="票据代码">{bill.billCode}</Descriptions.Item>
            <Descriptions.Item label="票据号码">{bill.billNumber}</Descriptions.Item>
            <Descriptions.Item label="校验码">{bill.checkCode}</Descriptions.Item>
            <Descriptions.Item label="开票时间">{dateTime(bill.issuedAt)}</Descriptions.Item>
            <Descriptions.Item label="交款人">{bill.payerName}</Descriptions.Item>
            <Descriptions.Item label="收款单位">{bill.payeeName}</Descriptions.Item>
            <Descriptions.Item label="状态">
              <Tag color={STATUS[bill.status]?.color}>{STATUS[bill.status]?.text}</Tag>
              <Tag color={KIND[bill.kind]?.color}>{KIND[bill.kind]?.text}</Tag>
            </Descriptions.Item>
            <Descriptions.Item label="合计（元）">{yuan(bill.total)}</Descriptions.Item>
            <Descriptions.Item label="医保统筹基金支付">{yuan(bill.fundPayment)}</Descriptions.Item>
            <Descriptions.Item label="个人账户支付">{yuan(bill.accountPayment)}</Descriptions.Item>
            <Descriptions.Item label="个人现金支付">{yuan(bill.cashPayment)}</Descriptions.Item>
            {bill.refundedTotal > 0 && (
              <Descriptions.Item label="已冲红金额">{yuan(bill.refundedTotal)}</Descriptions.Item>
            )}
          </Descriptions>
          {screens.md ? (
            <Table
              size="small"
              rowKey={(r) => `${r.code}-${r.name}-${r.amount}`}
              pagination={false}
              dataSource={bill.items}
              columns={[
                { title: '项目名称', dataIndex: 'name' },
                { title: '类别', dataIndex: 'itemClass', render: (c: string) => CLASS_NAMES[c] ?? c, width: 60 },
                { title: '数量', dataIndex: 'quantity', width: 60, align: 'right' },
                {
                  title: '金额（元）',
                  dataIndex: 'amount',
                  render: (a: number) => yuan(a),
                  width: 100,
                  align: 'right',
                },
              ]}
            />
          ) : (
            // a phone: one line per item (a table this wide would scroll sideways)
            <List
              size="small"
              header={<Typography.Text strong>收费项目</Typography.Text>}
              dataSource={bill.items}
              renderItem={(r) => (
                <List.Item extra={<span>¥{yuan(r.amount)}</span>}>
                  <List.Item.Meta
                    title={r.name}
                    description={`${CLASS_NAMES[r.itemClass] ?? r.itemClass} · 数量 ${r.quantity}`}
                  />
                </List.Item>
              )}
            />
          )}
          <Space align="center" wrap>
            {qr && <img src={qr} alt="票据查验二维码" width={120} height={120} />}
            <Typography.Text type="secondary">扫描二维码可查验本票据真伪</Typography.Text>
          </Space>
          {bill.qr && (
            <Button size="large" block icon={<SafetyCertificateOutlined />} href={verifyHref(bill.qr)}>
              在线查验
            </Button>
          )}
          <Button
            type="primary"
            size="large"
            block
            icon={<DownloadOutlined />}
            loading={downloading}
            onClick={async () => {
              setDownloading(true);
              try {
                await downloadPdf(bill);
              } catch (e) {
                toast.failed(e);
              } finally {
                setDownloading(false);
              }
            }}
          >
            下载 PDF 票据
          </Button>
        </Space>
      )}
    </Drawer>
  );
}

/** 我的电子票据: every settlement's bill, newest first; detail, QR and PDF download. */
export function MyBills() {
  const mobile = !Grid.useBreakpoint().md;
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState<string>();
  const { data, error, isLoading } = useQuery({
    queryKey: ['ebill', 'my', 'list', page],
    queryFn: () => api<{ total: number; items: Bill[] }>(`/api/ebill/my/bills?page=${page}&pageSize=10`),
  });
  return (
    <>
      <PageTitle>我的电子票据</PageTitle>
      {error && <Alert type="error" message={errorText(error)} style={{ marginBottom: 12 }} />}
      <Card styles={mobile ? { body: { padding: 12 } } : undefined}>
        <List
          loading={isLoading}
          dataSource={data?.items ?? []}
          locale={{ emptyText: <Empty description="暂无电子票据，医保移动支付结算后会自动开具" /> }}
          pagination={
            data && data.total > 10
              ? { current: page, pageSize: 10, total: data.total, onChange: setPage, simple: true }
              : false
          }
          renderItem={(b) => {
            const view = (
              <Button
                key="d"
                type="link"
                size={mobile ? 'middle' : 'large'}
                icon={<FileTextOutlined />}
                style={mobile ? { paddingInlineEnd: 0 } : undefined}
              >
                查看
              </Button>
            );
            return (
              <List.Item
                onClick={() => setOpen(b.id)}
                style={{ cursor: 'pointer', minHeight: 64 }}
                // on a phone 查看 sits beside the tags, so the payee and amount keep the width and the list stays short
                actions={mobile ? undefined : [view]}
              >
                <List.Item.Meta
                  title={
                    // the payee and the amount on one line: what a person looks for first
                    <div style={{ display: 'flex', justifyContent: 'space-between', gap: 8 }}>
                      <span>{b.payeeName}</span>
                      <span style={{ color: b.kind === 'red' ? '#b71c1c' : undefined, whiteSpace: 'nowrap' }}>
                        {b.kind === 'red' ? '-' : ''}¥{yuan(b.total)}
                      </span>
                    </div>
                  }
                  description={
                    <>
                      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center' }}>
                        <Space wrap size={4}>
                          <Tag color={KIND[b.kind]?.color}>{KIND[b.kind]?.text}</Tag>
                          <Tag color={STATUS[b.status]?.color}>{STATUS[b.status]?.text}</Tag>
                        </Space>
                        {mobile && view}
                      </div>
                      {dateTime(b.issuedAt)} · 票据号 {b.billCode}-{b.billNumber}
                    </>
                  }
                />
              </List.Item>
            );
          }}
        />
      </Card>
      {open && <BillDetail id={open} onClose={() => setOpen(undefined)} />}
    </>
  );
}
