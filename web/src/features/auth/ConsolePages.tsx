import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Button,
  Card,
  Checkbox,
  Descriptions,
  Drawer,
  Form,
  Input,
  Modal,
  Popconfirm,
  Select,
  Space,
  Switch,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useState } from 'react';
import { PageTitle } from '../../components/PortalShell';
import { EmptyState, ErrorState, Loading } from '../../components/States';
import { api, newIdempotencyKey } from '../../lib/api';
import { dateMinute, dateTime } from '../../lib/time';
import { useToast } from '../../lib/toast';

interface Channel {
  regionCode: string;
  appId: string;
  name: string;
  type: 'web' | 'app' | 'miniprogram' | 'institution' | 'partner';
  institutionCode: string | null;
  scopes: string[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  loginMethods: string[];
  grantTypes: string[];
  publicClient: boolean;
  publicKeyHex: string;
  status: 'active' | 'disabled';
  createdAt: string;
}

interface Registered {
  appId: string;
  appSecret: string;
  privateKeyHex: string;
  publicKeyHex: string;
}

const TYPE_LABEL: Record<Channel['type'], string> = {
  web: '网上服务大厅',
  app: '移动应用',
  miniprogram: '小程序',
  institution: '定点医药机构系统',
  partner: '合作方系统',
};
const METHOD_OPTIONS = [
  { value: 'pwd', label: '密码' },
  { value: 'sms', label: '短信验证码' },
  { value: 'passkey', label: '通行密钥' },
  { value: 'cert', label: '数字证书' },
  { value: 'qr', label: '电子凭证扫码' },
];
const SCOPE_OPTIONS = [
  'openid',
  'profile',
  'offline_access',
  'api',
  'payment',
  'settlement',
  'evoucher',
  'ebill',
  'prescription',
  'message',
  'staff',
];
const time = dateMinute;
const lines = (v?: string) =>
  (v ?? '')
    .split(/\s+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** 渠道管理: register channels (SM2 key pair generated server-side or uploaded), scopes, redirect URIs, login methods. */
export function ChannelsPage() {
  const toast = useToast();
  const qc = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Channel>();
  const [shown, setShown] = useState<Registered | { appId: string; appSecret: string }>();
  const [form] = Form.useForm();
  const [editForm] = Form.useForm();
  const [key, setKey] = useState(newIdempotencyKey);
  const list = useQuery({ queryKey: ['auth', 'channels'], queryFn: () => api<Channel[]>('/api/auth/channels') });
  const refresh = () => qc.invalidateQueries({ queryKey: ['auth', 'channels'] });

  const create = useMutation({
    mutationFn: (v: Record<string, unknown>) =>
      api<Registered>('/api/auth/channels', {
        idempotencyKey: key,
        body: {
          name: v.name,
          type: v.type,
          scopes: v.scopes ?? [],
          loginMethods: v.loginMethods ?? [],
          redirectUris: lines(v.redirectUris as string),
          ...(v.institutionCode ? { institutionCode: v.institutionCode } : {}),
          ...(v.publicKeyHex ? { publicKeyHex: v.publicKeyHex } : {}),
          publicClient: Boolean(v.publicClient),
        },
      }),
    onSuccess: (r) => {
      setCreating(false);
      form.resetFields();
      setKey(newIdempotencyKey());
      setShown(r);
      void refresh();
    },
    onError: (err) => toast.refused(form, err),
  });
  const update = useMutation({
    mutationFn: (v: { appId: string; body: Record<string, unknown> }) =>
      api<Channel>(`/api/auth/channels/${encodeURIComponent(v.appId)}`, { method: 'PATCH', body: v.body }),
    onSuccess: () => {
      toast.success('已保存');
      setEditing(undefined);
      void refresh();
    },
    onError: (err) => toast.refused(editForm, err),
  });
  const resetSecret = useMutation({
    mutationFn: (appId: string) =>
      api<{ appId: string; appSecret: string }>(`/api/auth/channels/${encodeURIComponent(appId)}/secret`, {
        method: 'POST',
      }),
    onSuccess: (r) => setShown(r),
    onError: toast.failed,
  });

  return (
    <>
      <PageTitle
        extra={
          <Button type="primary" onClick={() => setCreating(true)}>
            注册渠道
          </Button>
        }
      >
        渠道管理
      </PageTitle>
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.length === 0 ? (
        <EmptyState title="尚未注册渠道" />
      ) : (
        <Table<Channel>
          rowKey="appId"
          dataSource={list.data}
          scroll={{ x: 900 }}
          columns={[
            {
              title: '渠道编号 (appId)',
              dataIndex: 'appId',
              render: (v: string) => <Typography.Text copyable>{v}</Typography.Text>,
            },
            { title: '名称', dataIndex: 'name' },
            { title: '类型', dataIndex: 'type', render: (t: Channel['type']) => TYPE_LABEL[t] },
            { title: '权限范围', dataIndex: 'scopes', render: (s: string[]) => s.map((x) => <Tag key={x}>{x}</Tag>) },
            {
              title: '状态',
              dataIndex: 'status',
              render: (s: Channel['status'], c) => (
                <Switch
                  checked={s === 'active'}
                  checkedChildren="启用"
                  unCheckedChildren="停用"
                  onChange={(on) => update.mutate({ appId: c.appId, body: { status: on ? 'active' : 'disabled' } })}
                />
              ),
            },
            { title: '注册时间', dataIndex: 'createdAt', render: time },
            {
              title: '操作',
              render: (_, c) => (
                <Space>
                  <Button
                    size="small"
                    onClick={() => {
                      setEditing(c);
                      editForm.setFieldsValue({
                        name: c.name,
                        scopes: c.scopes,
                        loginMethods: c.loginMethods,
                        redirectUris: c.redirectUris.join('\n'),
                      });
                    }}
                  >
                    编辑
                  </Button>
                  {!c.publicClient && (
                    <Popconfirm
                      title="重置后旧的 appSecret 立即失效，确定？"
                      onConfirm={() => resetSecret.mutate(c.appId)}
                    >
                      <Button size="small" danger>
                        重置密钥
                      </Button>
                    </Popconfirm>
                  )}
                </Space>
              ),
            },
          ]}
        />
      )}

      <Drawer open={creating} title="注册渠道" width={520} onClose={() => setCreating(false)} destroyOnHidden>
        <Form
          form={form}
          layout="vertical"
          onFinish={(v) => create.mutate(v)}
          initialValues={{ type: 'institution', loginMethods: ['pwd', 'sms', 'passkey'], scopes: ['api'] }}
        >
          <Form.Item name="name" label="渠道名称" rules={[{ required: true, min: 2, max: 60 }]}>
            <Input placeholder="例如：东湖市第一人民医院 HIS" />
          </Form.Item>
          <Form.Item name="type" label="类型" rules={[{ required: true }]}>
            <Select options={Object.entries(TYPE_LABEL).map(([value, label]) => ({ value, label }))} />
          </Form.Item>
          <Form.Item name="institutionCode" label="定点机构编码（机构系统填写）">
            <Input placeholder="H99010000001" />
          </Form.Item>
          <Form.Item name="scopes" label="允许的权限范围">
            <Select mode="tags" options={SCOPE_OPTIONS.map((s) => ({ value: s, label: s }))} />
          </Form.Item>
          <Form.Item name="loginMethods" label="允许的登录方式">
            <Checkbox.Group options={METHOD_OPTIONS} />
          </Form.Item>
          <Form.Item name="redirectUris" label="登录回调地址（每行一个，仅网页/应用登录需要）">
            <Input.TextArea rows={3} placeholder="https://example.com/callback" />
          </Form.Item>
          <Form.Item
            name="publicClient"
            valuePropName="checked"
            label="公开客户端（浏览器/移动端，无 appSecret，强制 PKCE）"
          >
            <Switch />
          </Form.Item>
          <Form.Item name="publicKeyHex" label="渠道自带 SM2 公钥（可选；留空由平台生成密钥对）">
            <Input.TextArea rows={2} placeholder="04 开头的 130 位十六进制" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block size="large" loading={create.isPending}>
            注册
          </Button>
        </Form>
      </Drawer>

      <Drawer
        open={editing !== undefined}
        title={`编辑渠道 ${editing?.appId ?? ''}`}
        width={520}
        onClose={() => setEditing(undefined)}
      >
        <Form
          form={editForm}
          layout="vertical"
          onFinish={(v) =>
            editing &&
            update.mutate({
              appId: editing.appId,
              body: {
                name: v.name,
                scopes: v.scopes,
                loginMethods: v.loginMethods,
                redirectUris: lines(v.redirectUris),
              },
            })
          }
        >
          <Form.Item name="name" label="渠道名称" rules={[{ required: true, min: 2, max: 60 }]}>
            <Input />
          </Form.Item>
          <Form.Item name="scopes" label="允许的权限范围">
            <Select mode="tags" options={SCOPE_OPTIONS.map((s) => ({ value: s, label: s }))} />
          </Form.Item>
          <Form.Item name="loginMethods" label="允许的登录方式">
            <Checkbox.Group options={METHOD_OPTIONS} />
          </Form.Item>
          <Form.Item name="redirectUris" label="登录回调地址（每行一个）">
            <Input.TextArea rows={3} />
          </Form.Item>
          {editing && (
            <Descriptions column={1} size="small" style={{ marginBottom: 16 }}>
              <Descriptions.Item label="SM2 公钥">
                <Typography.Text copyable style={{ wordBreak: 'break-all' }}>
                  {editing.publicKeyHex}
                </Typography.Text>
              </Descriptions.Item>
              <Descriptions.Item label="授权方式">{editing.grantTypes.join(', ')}</Descriptions.Item>
            </Descriptions>
          )}
          <Button type="primary" htmlType="submit" block size="large" loading={update.isPending}>
            保存
          </Button>
        </Form>
      </Drawer>

      <Modal
        open={shown !== undefined}
        title="请立即保存以下凭据"
        footer={
          <Button type="primary" onClick={() => setShown(undefined)}>
            我已保存
          </Button>
        }
        onCancel={() => setShown(undefined)}
        closable={false}
        maskClosable={false}
      >
        <Alert
          type="warning"
          showIcon
          message="appSecret 与私钥只显示这一次，平台不保存私钥。"
          style={{ marginBottom: 12 }}
        />
        {shown && (
          <Descriptions column={1} bordered size="small">
            <Descriptions.Item label="appId">
              <Typography.Text copyable>{shown.appId}</Typography.Text>
            </Descriptions.Item>
            <Descriptions.Item label="appSecret">
              <Typography.Text copyable>{shown.appSecret}</Typography.Text>
            </Descriptions.Item>
            {'privateKeyHex' in shown && shown.privateKeyHex && (
              <Descriptions.Item label="SM2 私钥">
                <Typography.Text copyable style={{ wordBreak: 'break-all' }}>
                  {shown.privateKeyHex}
                </Typography.Text>
              </Descriptions.Item>
            )}
            {'publicKeyHex' in shown && (
              <Descriptions.Item label="SM2 公钥">
                <Typography.Text copyable style={{ wordBreak: 'break-all' }}>
                  {shown.publicKeyHex}
                </Typography.Text>
              </Descriptions.Item>
            )}
          </Descriptions>
        )}
      </Modal>
    </>
  );
}

interface Sms {
  id: string;
  mobileMasked: string;
  purpose: string;
  text: string;
  createdAt: string;
}
const PURPOSE_LABEL: Record<string, string> = {
  register: '注册',
  login: '登录',
  reset: '重置密码',
  change_mobile: '更换手机号',
  step_up: '二次验证',
  deactivate: '注销',
};

/** 沙箱短信发件箱: what the sandbox SMS gateway "sent" (nothing leaves the machine). */
export function SmsOutboxPage() {
  const list = useQuery({
    queryKey: ['auth', 'sms-outbox'],
    queryFn: () => api<{ sandbox: boolean; messages: Sms[] }>('/api/auth/sms-outbox?limit=200'),
    refetchInterval: 5_000,
  });
  return (
    <>
      <PageTitle>
        短信发件箱 <Tag color="gold">沙箱</Tag>
      </PageTitle>
      <Alert
        type="info"
        showIcon
        style={{ marginBottom: 16 }}
        message="沙箱短信网关：验证码不会真实发送，仅记录在此处供测试与演示使用。接入消息中心后，短信经消息中心发送。"
      />
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.messages.length === 0 ? (
        <EmptyState title="暂无短信" />
      ) : (
        <Table<Sms>
          rowKey="id"
          size="small"
          dataSource={list.data.messages}
          scroll={{ x: 700 }}
          columns={[
            {
              title: '时间',
              dataIndex: 'createdAt',
              render: dateTime,
              width: 170,
            },
            { title: '手机号', dataIndex: 'mobileMasked', width: 130 },
            { title: '用途', dataIndex: 'purpose', render: (p: string) => PURPOSE_LABEL[p] ?? p, width: 100 },
            { title: '内容', dataIndex: 'text' },
          ]}
        />
      )}
    </>
  );
}

interface SigningKey {
  kid: string;
  alg: string;
  createdAt: string;
  retiredAt: string | null;
}

/** 签名密钥: the keys that sign ID and access tokens (JWKS), with rotation. */
export function SigningKeysPage() {
  const toast = useToast();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ['auth', 'keys'], queryFn: () => api<SigningKey[]>('/api/auth/keys') });
  const rotate = useMutation({
    mutationFn: () => api<{ kid: string }>('/api/auth/keys/rotate', { method: 'POST' }),
    onSuccess: (r) => {
      toast.success(`已生成新密钥 ${r.kid}，约 10 秒内所有节点开始使用`);
      void qc.invalidateQueries({ queryKey: ['auth', 'keys'] });
    },
    onError: toast.failed,
  });
  return (
    <>
      <PageTitle
        extra={
          <Popconfirm title="生成新的签名密钥？旧密钥签发的令牌仍可验证至过期。" onConfirm={() => rotate.mutate()}>
            <Button type="primary" loading={rotate.isPending}>
              轮换密钥
            </Button>
          </Popconfirm>
        }
      >
        签名密钥
      </PageTitle>
      <Card>
        <Typography.Paragraph type="secondary">
          统一认证中心用这些 ES256 密钥签发 ID 令牌与访问令牌，公钥发布于{' '}
          <Typography.Text code>/oidc/jwks</Typography.Text>。系统每 30 天自动轮换一次。
        </Typography.Paragraph>
        {list.isPending ? (
          <Loading />
        ) : list.isError ? (
          <ErrorState error={list.error} onRetry={() => void list.refetch()} />
        ) : (
          <Table<SigningKey>
            rowKey="kid"
            size="small"
            pagination={false}
            dataSource={list.data}
            columns={[
              { title: '密钥编号 (kid)', dataIndex: 'kid' },
              { title: '算法', dataIndex: 'alg' },
              { title: '生成时间', dataIndex: 'createdAt', render: time },
              {
                title: '状态',
                render: (_, k, i) =>
                  k.retiredAt ? (
                    <Tag>已停用</Tag>
                  ) : i === 0 ? (
                    <Tag color="green">签发中</Tag>
                  ) : (
                    <Tag color="blue">仅验证</Tag>
                  ),
              },
            ]}
          />
        )}
      </Card>
    </>
  );
}
