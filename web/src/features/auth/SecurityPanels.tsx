import { startRegistration } from '@simplewebauthn/browser';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Form, Grid, Input, List, Modal, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { EmptyState, ErrorState, Loading } from '../../components/States';
import { api } from '../../lib/api';
import { dateMinute } from '../../lib/time';
import { useToast } from '../../lib/toast';
import { CLIENT_LABEL, device, endOtherSessions, type LoginEvent, myLogins } from './api';
import { OwnerPasswordField, useOwnerCheck } from './ownerCheck';

interface Passkey {
  id: string;
  name: string;
  deviceType: string | null;
  backedUp: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

interface SessionRow {
  sid: string;
  clientId: string | null;
  acr: string;
  amr: string[];
  ip: string | null;
  userAgent: string | null;
  createdAt: string;
  authenticatedAt: string;
  current?: boolean;
}

const time = dateMinute;

export const METHOD_LABEL: Record<string, string> = {
  pwd: '密码',
  sms: '短信验证码',
  passkey: '通行密钥',
  hwk: '通行密钥',
  stepup_sms: '短信二次验证',
  cert: '数字证书',
  qr: '电子凭证扫码',
};
const RESULT_TAG: Record<string, { color: string; label: string }> = {
  success: { color: 'green', label: '成功' },
  failure: { color: 'red', label: '失败' },
  locked: { color: 'volcano', label: '已锁定' },
  throttled: { color: 'orange', label: '受限' },
};
const ACR_LABEL: Record<string, string> = {
  pwd: '单因素',
  sms: '单因素',
  mfa: '双因素',
  passkey: '通行密钥',
  cert: '证书',
};

/** 通行密钥: add several (fingerprint / face / device PIN), rename, remove. */
export function PasskeysPanel() {
  const toast = useToast();
  const qc = useQueryClient();
  const [naming, setNaming] = useState<{ id?: string; name: string }>();
  const [form] = Form.useForm<{ name: string; password?: string }>();
  const owner = useOwnerCheck('添加通行密钥', 'passkey');
  const close = () => {
    setNaming(undefined);
    owner.reset();
  };
  const list = useQuery({ queryKey: ['auth', 'passkeys'], queryFn: () => api<Passkey[]>('/api/auth/me/passkeys') });
  const refresh = () => qc.invalidateQueries({ queryKey: ['auth', 'passkeys'] });

  const add = useMutation({
    mutationFn: async (v: { name: string; password?: string }) => {
      const options = await api<Parameters<typeof startRegistration>[0]['optionsJSON']>(
        '/api/auth/me/passkeys/options',
        { body: v.password ? { password: v.password } : {} },
      );
      const response = await startRegistration({ optionsJSON: options });
      return api<Passkey>('/api/auth/me/passkeys', { body: { name: v.name, response } });
    },
    onSuccess: () => {
      toast.success('通行密钥已添加，下次可直接用指纹或面容登录');
      close();
      void refresh();
    },
    onError: (err) => {
      if (owner.handled(err)) return;
      if (err instanceof Error && err.name === 'NotAllowedError') toast.error('已取消');
      else toast.refused(form, err);
    },
  });
  const rename = useMutation({
    mutationFn: (v: { id: string; name: string }) =>
      api(`/api/auth/me/passkeys/${encodeURIComponent(v.id)}`, { method: 'PATCH', body: { name: v.name } }),
    onSuccess: () => {
      close();
      void refresh();
    },
    onError: toast.failed,
  });
  const remove = useMutation({
    mutationFn: (id: string) => api(`/api/auth/me/passkeys/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSuccess: () => {
      toast.success('已删除');
      void refresh();
    },
    onError: toast.failed,
  });

  if (list.isPending) return <Loading lines={2} />;
  if (list.isError) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />;
  return (
    <>
      <Typography.Paragraph type="secondary">
        通行密钥使用本机的指纹、面容或锁屏密码登录，无需输入密码，且不会被钓鱼网站盗用。可以为每台设备各添加一个。
      </Typography.Paragraph>
      {list.data.length === 0 ? (
        <EmptyState title="尚未添加通行密钥" />
      ) : (
        <List
          dataSource={list.data}
          renderItem={(p) => (
            <List.Item
              actions={[
                <Button key="rename" type="link" onClick={() => setNaming({ id: p.id, name: p.name })}>
                  重命名
                </Button>,
                <Popconfirm
                  key="del"
                  title="删除后该设备将不能用通行密钥登录，确定？"
                  onConfirm={() => remove.mutate(p.id)}
                >
                  <Button type="link" danger>
                    删除
                  </Button>
                </Popconfirm>,
              ]}
            >
              <List.Item.Meta
                title={p.name}
                description={`添加于 ${time(p.createdAt)} · 最近使用 ${time(p.lastUsedAt)}${p.backedUp ? ' · 已同步' : ''}`}
              />
            </List.Item>
          )}
        />
      )}
      <Button type="primary" size="large" onClick={() => setNaming({ name: '我的手机' })} loading={add.isPending}>
        添加通行密钥
      </Button>
      <Modal
        open={naming !== undefined}
        title={naming?.id ? '重命名通行密钥' : '添加通行密钥'}
        okText={naming?.id ? '保存' : '下一步'}
        cancelText="取消"
        confirmLoading={add.isPending || rename.isPending}
        onCancel={close}
        onOk={() => form.submit()}
        destroyOnHidden
      >
        <Form
          form={form}
          name="passkey"
          layout="vertical"
          preserve={false}
          initialValues={{ name: naming?.name }}
          onFinish={(v) => {
            const name = v.name.trim();
            if (naming?.id) rename.mutate({ id: naming.id, name });
            else add.mutate({ name, password: v.password });
          }}
        >
          <Form.Item name="name" label="名称" rules={[{ required: true, whitespace: true, message: '请输入名称' }]}>
            <Input size="large" maxLength={40} placeholder="例如：我的手机、办公电脑" />
          </Form.Item>
          {owner.asked && !naming?.id ? <OwnerPasswordField what="添加通行密钥" /> : null}
        </Form>
      </Modal>
    </>
  );
}

/** Whose sessions and logins a panel shows: one's own, or (console, `auth:session`) an account's. */
export interface AccountOf {
  kind: 'person' | 'staff';
  id: string;
}
const base = (account?: AccountOf) => (account ? `/api/auth/accounts/${account.kind}/${account.id}` : '/api/auth/me');

interface LockState {
  failures: number;
  locked: boolean;
  delayedUntil: string | null;
}

/**
 * 登录锁定 (console): whether the account can log in now — locked until staff unlock, in a growing delay, or free —
 * with the failures behind it, and 解锁 once the clerk has checked who is calling.
 */
export function LockPanel({ account }: { account: AccountOf }) {
  const toast = useToast();
  const qc = useQueryClient();
  const key = ['auth', 'lock', account.id];
  const state = useQuery({ queryKey: key, queryFn: () => api<LockState>(`${base(account)}/lock`) });
  const unlock = useMutation({
    mutationFn: () => api(`${base(account)}/unlock`, { method: 'POST' }),
    onSuccess: () => {
      toast.success('已解除锁定，对方可以重新登录');
      void qc.invalidateQueries({ queryKey: key });
    },
    onError: toast.failed,
  });
  if (state.isPending) return <Loading lines={1} />;
  if (state.isError) return <ErrorState error={state.error} onRetry={() => void state.refetch()} />;
  const s = state.data;
  if (!s.locked && !s.delayedUntil)
    return (
      <Typography.Text>
        <Tag color="green">可以登录</Tag>
        {s.failures > 0 ? `近期连续失败 ${s.failures} 次` : null}
      </Typography.Text>
    );
  return (
    <Space wrap>
      {s.locked ? <Tag color="red">已锁定，需人工解锁</Tag> : <Tag color="orange">暂停至 {time(s.delayedUntil)}</Tag>}
      <Typography.Text>连续失败 {s.failures} 次</Typography.Text>
      <Popconfirm
        title="解除该账号的登录锁定？"
        description="请先核实是本人，解锁将记入审计日志。"
        onConfirm={() => unlock.mutate()}
      >
        <Button loading={unlock.isPending}>解锁</Button>
      </Popconfirm>
    </Space>
  );
}

/**
 * 登录设备与会话: every signed-in device. One's own: remote sign-out per device. An account's (console): a clerk
 * signs it out on every device at once, e.g. for a person whose phone was lost.
 */
export function SessionsPanel({ account }: { account?: AccountOf }) {
  const toast = useToast();
  const qc = useQueryClient();
  const key = ['auth', 'sessions', account?.id ?? 'me'];
  const list = useQuery({ queryKey: key, queryFn: () => api<SessionRow[]>(`${base(account)}/sessions`) });
  const revoke = useMutation({
    mutationFn: (sid: string) => api(`/api/auth/me/sessions/${encodeURIComponent(sid)}`, { method: 'DELETE' }),
    onSuccess: () => {
      toast.success('该设备已退出登录');
      void qc.invalidateQueries({ queryKey: key });
    },
    onError: toast.failed,
  });
  const endAll = useMutation({
    mutationFn: () =>
      account ? api<{ ended: number }>(`${base(account)}/sessions/end`, { body: {} }) : endOtherSessions(),
    onSuccess: (r) => {
      toast.success(`已在 ${r.ended} 台设备上退出登录`);
      void qc.invalidateQueries({ queryKey: key });
    },
    onError: toast.failed,
  });
  if (list.isPending) return <Loading lines={2} />;
  if (list.isError) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />;
  if (list.data.length === 0) return <EmptyState title={account ? '没有登录中的设备' : '没有其他登录中的设备'} />;
  return (
    <>
      {account || list.data.some((s) => !s.current) ? (
        <Popconfirm
          title={account ? '让该账号在所有设备上退出登录？' : '让其他所有设备退出登录？本设备保持登录。'}
          onConfirm={() => endAll.mutate()}
        >
          <Button danger loading={endAll.isPending} style={{ marginBottom: 8 }}>
            {account ? '全部退出登录' : '退出其他所有设备'}
          </Button>
        </Popconfirm>
      ) : null}
      <List
        dataSource={list.data}
        renderItem={(s) => (
          <List.Item
            actions={
              account
                ? []
                : s.current
                  ? [
                      <Tag key="cur" color="blue">
                        当前设备
                      </Tag>,
                    ]
                  : [
                      <Popconfirm key="out" title="让该设备退出登录？" onConfirm={() => revoke.mutate(s.sid)}>
                        <Button danger>退出</Button>
                      </Popconfirm>,
                    ]
            }
          >
            <List.Item.Meta
              title={
                <Space wrap>
                  {device(s.userAgent)}
                  <Tag>{CLIENT_LABEL[s.clientId ?? ''] ?? s.clientId ?? '—'}</Tag>
                  <Tag color={s.acr === 'mfa' || s.acr === 'passkey' ? 'green' : undefined}>
                    {ACR_LABEL[s.acr] ?? s.acr}
                  </Tag>
                </Space>
              }
              description={`登录于 ${time(s.authenticatedAt)} · IP ${s.ip ?? '—'} · 方式 ${s.amr.map((a) => METHOD_LABEL[a] ?? a).join('、')}`}
            />
          </List.Item>
        )}
      />
    </>
  );
}

/** 登录记录: the account's login history (successes and failures): one's own, or (console) an account's. */
export function LoginHistoryPanel({ account }: { account?: AccountOf }) {
  const screens = Grid.useBreakpoint();
  const list = useQuery({
    queryKey: ['auth', 'logins', account?.id ?? 'me'],
    queryFn: () => (account ? api<LoginEvent[]>(`${base(account)}/logins`) : myLogins()),
  });
  if (list.isPending) return <Loading lines={3} />;
  if (list.isError) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />;
  if (list.data.length === 0) return <EmptyState title="暂无登录记录" />;
  const tag = (r: string) => <Tag color={RESULT_TAG[r]?.color}>{RESULT_TAG[r]?.label ?? r}</Tag>;
  if (!screens.md) {
    return (
      <List
        dataSource={list.data}
        renderItem={(e) => (
          <List.Item>
            <List.Item.Meta
              title={
                <Space>
                  {tag(e.result)}
                  {METHOD_LABEL[e.method] ?? e.method}
                </Space>
              }
              description={`${time(e.at)} · ${device(e.userAgent)} · IP ${e.ip ?? '—'}`}
            />
          </List.Item>
        )}
      />
    );
  }
  return (
    <Table<LoginEvent>
      rowKey="id"
      size="small"
      dataSource={list.data}
      pagination={{ pageSize: 10 }}
      columns={[
        { title: '时间', dataIndex: 'at', render: time },
        { title: '结果', dataIndex: 'result', render: tag },
        { title: '方式', dataIndex: 'method', render: (m: string) => METHOD_LABEL[m] ?? m },
        { title: '应用', dataIndex: 'clientId', render: (c: string | null) => CLIENT_LABEL[c ?? ''] ?? c ?? '—' },
        { title: '设备', dataIndex: 'userAgent', render: device },
        { title: 'IP', dataIndex: 'ip' },
      ]}
    />
  );
}
