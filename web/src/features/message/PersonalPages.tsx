import {
  BellOutlined,
  CheckOutlined,
  DeleteOutlined,
  NotificationOutlined,
  RightOutlined,
  SettingOutlined,
  WechatOutlined,
} from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Badge,
  Button,
  Card,
  Empty,
  Grid,
  List,
  Pagination,
  Popconfirm,
  Segmented,
  Space,
  Switch,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useState } from 'react';
import { Link } from 'react-router';
import { openableRow } from '../../components/openableRow';
import { PageTitle } from '../../components/PortalShell';
import { api, errorText } from '../../lib/api';
import { useToast } from '../../lib/toast';
import {
  type Announcement,
  CHANNEL_LABELS,
  type Channel,
  dateTime,
  type InboxItem,
  type InboxPage,
  useUnreadCount,
} from './api';

/** The unit the signed-in person acts for in the unit hall (set by the user center's unit switch). */
const actingUnit = () => (typeof sessionStorage === 'undefined' ? null : sessionStorage.getItem('yibao.actingUnit'));

/** The hall's live announcements; in the unit hall also those addressed to the unit the person acts for. */
function useHallAnnouncements(hall: 'personal' | 'unit') {
  return useQuery({
    queryKey: ['message', 'announcements', hall, hall === 'unit' ? actingUnit() : null],
    queryFn: () => api<Announcement[]>(`/api/message/announcements?hall=${hall}`),
    staleTime: 60_000,
  });
}

/** 公告 of the hall (current region), for any page of a hall. */
export function HallAnnouncements({ hall = 'personal' }: { hall?: 'personal' | 'unit' }) {
  const { data } = useHallAnnouncements(hall);
  if (!data || data.length === 0) return null;
  return (
    <Card
      size="small"
      title={
        <>
          <NotificationOutlined /> 通知公告
        </>
      }
      style={{ marginBottom: 16 }}
    >
      <List
        dataSource={data}
        renderItem={(a) => (
          <List.Item>
            <List.Item.Meta
              title={a.title}
              description={
                <>
                  <Typography.Paragraph
                    style={{ marginBottom: 4 }}
                    ellipsis={{ rows: 3, expandable: true, symbol: '展开' }}
                  >
                    {a.body}
                  </Typography.Paragraph>
                  <Typography.Text type="secondary">{dateTime(a.publishAt)}</Typography.Text>
                </>
              }
            />
          </List.Item>
        )}
      />
    </Card>
  );
}

/** 通知公告 of the region (personal hall: public, no sign-in needed; unit hall: with the acting unit's own). */
export function NoticesPage({ hall = 'personal' }: { hall?: 'personal' | 'unit' }) {
  const { data, isLoading } = useHallAnnouncements(hall);
  return (
    <>
      <PageTitle>{hall === 'unit' ? '单位通知公告' : '通知公告'}</PageTitle>
      {isLoading || (data && data.length > 0) ? <HallAnnouncements hall={hall} /> : <Empty description="暂无公告" />}
    </>
  );
}

/** 我的消息: the in-site inbox with live unread count, read and delete. */
export function InboxPageView() {
  const toast = useToast();
  const qc = useQueryClient();
  const [page, setPage] = useState(1);
  const [filter, setFilter] = useState<'all' | 'unread'>('all');
  const [open, setOpen] = useState<string>();
  const unread = useUnreadCount();
  const { data, isLoading, error } = useQuery({
    queryKey: ['message', 'inbox', page, filter],
    queryFn: () =>
      api<InboxPage>(`/api/message/inbox?page=${page}&size=10${filter === 'unread' ? '&unread=true' : ''}`),
  });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ['message'] });
  };
  const read = useMutation({
    mutationFn: (id?: string) =>
      api(id ? `/api/message/inbox/${id}/read` : '/api/message/inbox/read-all', { method: 'POST' }),
    onSuccess: refresh,
    onError: toast.failed,
  });
  const remove = useMutation({
    mutationFn: (id: string) => api(`/api/message/inbox/${id}`, { method: 'DELETE' }),
    onSuccess: () => {
      toast.success('已删除');
      refresh();
    },
    onError: toast.failed,
  });
  return (
    <>
      <PageTitle
        extra={
          <Space>
            <Link to="/personal/messages/settings">
              <Button icon={<SettingOutlined />}>通知设置</Button>
            </Link>
            <Button disabled={!unread} onClick={() => read.mutate(undefined)} icon={<CheckOutlined />}>
              全部已读
            </Button>
          </Space>
        }
      >
        我的消息 {unread ? <Badge count={unread} style={{ marginLeft: 8 }} /> : null}
      </PageTitle>
      <HallAnnouncements />
      <Segmented
        value={filter}
        onChange={(v) => {
          setFilter(v as 'all' | 'unread');
          setPage(1);
        }}
        options={[
          { label: '全部', value: 'all' },
          { label: `未读${unread ? `（${unread}）` : ''}`, value: 'unread' },
        ]}
        style={{ marginBottom: 12 }}
        size="large"
      />
      {error ? <Alert type="error" showIcon message={errorText(error)} /> : null}
      <List
        loading={isLoading}
        locale={{ emptyText: <Empty description="暂无消息" /> }}
        dataSource={data?.items ?? []}
        renderItem={(m) => (
          <List.Item
            {...openableRow<InboxItem>(() => {
              setOpen(open === m.id ? undefined : m.id);
              if (!m.readAt) read.mutate(m.id);
            })(m)}
            style={{ cursor: 'pointer', padding: '14px 8px' }}
            actions={[
              <Popconfirm
                key="del"
                title="删除这条消息？"
                onConfirm={() => remove.mutate(m.id)}
                okText="删除"
                cancelText="取消"
              >
                <Button
                  type="text"
                  danger
                  icon={<DeleteOutlined />}
                  aria-label="删除"
                  size="large"
                  onClick={(e) => e.stopPropagation()}
                />
              </Popconfirm>,
            ]}
          >
            <List.Item.Meta
              avatar={
                <Badge dot={!m.readAt}>
                  <BellOutlined style={{ fontSize: 20 }} />
                </Badge>
              }
              title={<Typography.Text strong={!m.readAt}>{m.title}</Typography.Text>}
              description={
                <>
                  <Typography.Paragraph style={{ marginBottom: 4 }} ellipsis={open === m.id ? false : { rows: 2 }}>
                    {m.body}
                  </Typography.Paragraph>
                  {open === m.id && MESSAGE_PAGES[m.type] ? (
                    <Link
                      to={MESSAGE_PAGES[m.type]!.to}
                      onClick={(e) => e.stopPropagation()}
                      style={{ display: 'inline-block', marginBottom: 4 }}
                    >
                      {MESSAGE_PAGES[m.type]!.label} <RightOutlined aria-hidden />
                    </Link>
                  ) : null}
                  <Typography.Text type="secondary">{dateTime(m.createdAt)}</Typography.Text>
                </>
              }
            />
          </List.Item>
        )}
      />
      {data && data.total > 10 ? (
        <Pagination
          align="center"
          current={page}
          total={data.total}
          pageSize={10}
          onChange={setPage}
          showSizeChanger={false}
        />
      ) : null}
    </>
  );
}

/** Where the hall deals with what a message is about, offered under the opened message. */
const MESSAGE_PAGES: Record<string, { to: string; label: string }> = {
  'payment.bill_ready': { to: '/personal/payments', label: '去确认账单' },
  'payment.completed': { to: '/personal/payments?tab=history', label: '查看支付记录' },
  'payment.refunded': { to: '/personal/payments?tab=history', label: '查看退款' },
  'ebill.issued': { to: '/personal/ebills', label: '查看电子票据' },
  'user.password_changed': { to: '/personal/security', label: '查看账号安全' },
  'auth.new_device_login': { to: '/personal/security', label: '查看登录设备' },
};

interface Preferences {
  channels: Array<{ code: Channel; name: string }>;
  categories: Array<{ code: string; name: string; note?: string; channels: Record<Channel, boolean> }>;
}

/** 消息通知设置: per category × channel, plus the WeChat binding (sandbox). */
export function PreferencesPageView() {
  const toast = useToast();
  const qc = useQueryClient();
  const mobile = !Grid.useBreakpoint().md;
  const { data, error } = useQuery({
    queryKey: ['message', 'preferences'],
    queryFn: () => api<Preferences>('/api/message/preferences'),
  });
  const binding = useQuery({
    queryKey: ['message', 'wechat'],
    queryFn: () => api<{ bound: boolean; sandbox: boolean }>('/api/message/wechat/binding'),
  });
  const save = useMutation({
    mutationFn: (item: { category: string; channel: Channel; enabled: boolean }) =>
      api<Preferences>('/api/message/preferences', { method: 'PUT', body: { items: [item] } }),
    onSuccess: (d) => {
      qc.setQueryData(['message', 'preferences'], d);
      toast.success('已保存');
    },
    onError: toast.failed,
  });
  const bind = useMutation({
    mutationFn: () => api('/api/message/wechat/binding', { method: 'POST' }),
    onSuccess: () => {
      void binding.refetch();
      toast.success('已绑定微信公众号');
    },
    onError: toast.failed,
  });
  const channels = data?.channels ?? [];
  const sw = (cat: Preferences['categories'][number], c: Channel) => (
    <Switch
      checked={cat.channels[c]}
      aria-label={`${cat.name} · ${CHANNEL_LABELS[c]}`}
      onChange={(enabled) => save.mutate({ category: cat.code, channel: c, enabled })}
    />
  );
  return (
    <>
      <PageTitle>消息通知设置</PageTitle>
      {error ? <Alert type="error" showIcon message={errorText(error)} /> : null}
      <Alert
        type="info"
        showIcon
        style={{ marginBottom: 16 }}
        message="验证码、新设备登录等账户安全消息为强制消息，关闭后仍会发送。夜间（免打扰时段）的普通短信和微信消息将在次日早上发送。"
      />
      {mobile ? (
        <Space direction="vertical" style={{ width: '100%' }}>
          {data?.categories.map((cat) => (
            <Card key={cat.code} size="small" title={cat.name}>
              {channels.map((c) => (
                <div key={c.code} style={{ display: 'flex', justifyContent: 'space-between', padding: '10px 0' }}>
                  <span>{c.name}</span>
                  {sw(cat, c.code)}
                </div>
              ))}
              {cat.note ? <Typography.Text type="secondary">{cat.note}</Typography.Text> : null}
            </Card>
          ))}
        </Space>
      ) : (
        <Table
          rowKey="code"
          pagination={false}
          dataSource={data?.categories ?? []}
          columns={[
            {
              title: '消息分类',
              dataIndex: 'name',
              render: (name: string, r) => (
                <>
                  {name}
                  {r.note ? (
                    <div>
                      <Typography.Text type="secondary">{r.note}</Typography.Text>
                    </div>
                  ) : null}
                </>
              ),
            },
            ...channels.map((c) => ({
              title: c.name,
              key: c.code,
              render: (_: unknown, r: Preferences['categories'][number]) => sw(r, c.code),
            })),
          ]}
        />
      )}
      <Card
        size="small"
        style={{ marginTop: 16 }}
        title={
          <>
            <WechatOutlined /> 微信公众号
          </>
        }
      >
        {binding.data?.bound ? (
          <Tag color="#237804">已绑定</Tag>
        ) : (
          <Button size="large" onClick={() => bind.mutate()} loading={bind.isPending}>
            绑定微信公众号
          </Button>
        )}
        {binding.data?.sandbox ? (
          <Tag color="#ad4e00" style={{ marginLeft: 8 }}>
            沙箱
          </Tag>
        ) : null}
        <Typography.Paragraph type="secondary" style={{ marginTop: 8, marginBottom: 0 }}>
          绑定后，支付、退款等通知优先通过微信模板消息发送，微信发送失败时改用短信。
        </Typography.Paragraph>
      </Card>
    </>
  );
}
