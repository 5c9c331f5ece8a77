import { LaptopOutlined, QrcodeOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Checkbox,
  Descriptions,
  Form,
  InputNumber,
  List,
  Modal,
  Result,
  Select,
  Space,
  Tag,
  Typography,
} from 'antd';
import { type ReactNode, useEffect, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { PageTitle } from '../../components/PortalShell';
import { EmptyState, ErrorState, Loading } from '../../components/States';
import { ApiError, api, errorText, newIdempotencyKey } from '../../lib/api';
import { useToast } from '../../lib/toast';
import { endOtherSessions } from '../auth/api';
import { OwnerPasswordField, useOwnerCheck } from '../auth/ownerCheck';
import { ActivatePage } from './Activate';
import { type Authorization, dateTime, SCOPE_LABELS, STATUS_LABELS, type Use, type Voucher } from './api';
import { CodeView } from './CodeView';

const useVoucher = () =>
  useQuery({
    queryKey: ['evoucher', 'me'],
    queryFn: async () => {
      try {
        return await api<Voucher>('/api/evoucher/me');
      } catch (e) {
        if (e instanceof ApiError && e.code === 'EVOUCHER_NOT_ACTIVATED') return null;
        throw e;
      }
    },
  });

/**
 * The pages under 医保码 that need an activated voucher: a person who opens one before activating (a bookmark, a
 * message's link) is told so and offered activation, not shown the server's refusal as a fault to retry.
 */
function WithVoucher({ title, children }: { title?: string; children: (v: Voucher) => ReactNode }) {
  const q = useVoucher();
  if (q.isLoading) return <Loading />;
  if (q.error) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) {
    return (
      <>
        {title ? <PageTitle>{title}</PageTitle> : null}
        <EmptyState
          title="尚未激活医保电子凭证"
          hint="激活后才能出示医保码、授权渠道和查看用码记录"
          action={
            <Link to="/personal/evoucher">
              <Button type="primary" size="large">
                去激活
              </Button>
            </Link>
          }
        />
      </>
    );
  }
  return children(q.data);
}

export function EvoucherHomePage() {
  const { modal } = App.useApp();
  const toast = useToast();
  const qc = useQueryClient();
  const q = useVoucher();
  const [reactivate, setReactivate] = useState(false);
  const status = useMutation({
    mutationFn: (to: 'suspend' | 'resume') =>
      api<Voucher>(`/api/evoucher/me/${to}`, { method: 'POST', body: to === 'suspend' ? { reason: '本人挂失' } : {} }),
    onSuccess: (v) => {
      qc.setQueryData(['evoucher', 'me'], v);
      toast.success(v.status === 'suspended' ? '已挂失，电子凭证暂停使用' : '已恢复使用');
    },
    onError: (e) => {
      if (e instanceof ApiError && e.code === 'STEP_UP_REQUIRED') {
        modal.confirm({
          title: '恢复前需要再次验证身份',
          content:
            '为防止丢失的手机被他人使用，恢复电子凭证需通过实人认证（将在本设备重新激活，旧设备上的码随之失效）。',
          okText: '实人认证并恢复',
          cancelText: '取消',
          onOk: () => setReactivate(true),
        });
      } else toast.failed(e);
    },
  });
  if (q.isLoading) return <Loading />;
  if (q.error) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  const v = q.data;
  if (reactivate) {
    return (
      <>
        <PageTitle>医保电子凭证</PageTitle>
        <ActivatePage onDone={() => setReactivate(false)} />
      </>
    );
  }
  if (!v) {
    return (
      <>
        <PageTitle>医保电子凭证</PageTitle>
        <Result
          icon={<QrcodeOutlined />}
          title="您尚未激活医保电子凭证"
          subTitle="激活后可在医院、药店出示医保码就医购药，并可授权 App 使用"
          extra={
            <Button type="primary" size="large" onClick={() => setReactivate(true)}>
              立即激活
            </Button>
          }
        />
      </>
    );
  }
  return (
    <>
      <PageTitle>医保电子凭证</PageTitle>
      <Card>
        <Descriptions column={1} size="middle">
          <Descriptions.Item label="状态">
            <Tag color={v.status === 'active' ? 'green' : 'red'}>{STATUS_LABELS[v.status]}</Tag>
          </Descriptions.Item>
          <Descriptions.Item label="姓名">{v.name}</Descriptions.Item>
          <Descriptions.Item label="证件号码">{v.residentId}</Descriptions.Item>
          <Descriptions.Item label="绑定设备">{v.device.os ?? v.device.model?.slice(0, 40) ?? '—'}</Descriptions.Item>
          <Descriptions.Item label="激活时间">{dateTime(v.activatedAt)}</Descriptions.Item>
        </Descriptions>
        <Space orientation="vertical" style={{ width: '100%', marginTop: 16 }}>
          {v.status === 'active' ? (
            <Link to="code">
              <Button type="primary" size="large" block icon={<QrcodeOutlined />}>
                出示医保码
              </Button>
            </Link>
          ) : (
            <Alert type="warning" showIcon title="电子凭证已挂失/暂停，恢复后才能出示和使用" />
          )}
          <Space wrap>
            <Link to="authorizations">
              <Button size="large">渠道授权</Button>
            </Link>
            <Link to="uses">
              <Button size="large">用码记录</Button>
            </Link>
            {v.status === 'active' ? (
              <Button
                size="large"
                danger
                loading={status.isPending}
                onClick={() => {
                  // a lost phone is usually still signed in to the hall: offer to end that too, in the same step
                  let signOutOthers = true;
                  modal.confirm({
                    title: '确认挂失？',
                    content: (
                      <>
                        <p>挂失后电子凭证立即停止使用，医院、药店扫码将被拒绝。</p>
                        <Checkbox defaultChecked onChange={(e) => (signOutOthers = e.target.checked)}>
                          同时让其他设备退出登录（手机丢失时建议勾选）
                        </Checkbox>
                      </>
                    ),
                    okText: '确认挂失',
                    okButtonProps: { danger: true },
                    cancelText: '取消',
                    onOk: async () => {
                      await status.mutateAsync('suspend');
                      if (!signOutOthers) return;
                      try {
                        const { ended } = await endOtherSessions();
                        toast.success(ended > 0 ? `其他 ${ended} 台设备已退出登录` : '没有其他登录中的设备');
                      } catch (e) {
                        toast.failed(e);
                      }
                    },
                  });
                }}
              >
                挂失
              </Button>
            ) : (
              <Button size="large" loading={status.isPending} onClick={() => status.mutate('resume')}>
                恢复使用
              </Button>
            )}
            <Button size="large" onClick={() => setReactivate(true)}>
              更换手机重新激活
            </Button>
          </Space>
        </Space>
      </Card>
    </>
  );
}

export function EvoucherCodePage() {
  const navigate = useNavigate();
  return (
    <WithVoucher>
      {(v) => (
        <div style={{ minHeight: '70vh', display: 'flex', alignItems: 'center' }}>
          <div style={{ width: '100%' }}>
            <CodeView name={v.name} onSuspended={() => navigate('..')} />
          </div>
        </div>
      )}
    </WithVoucher>
  );
}

export function EvoucherUsesPage() {
  return <WithVoucher title="用码记录">{() => <Uses />}</WithVoucher>;
}

function Uses() {
  const q = useQuery({ queryKey: ['evoucher', 'uses'], queryFn: () => api<Use[]>('/api/evoucher/me/uses') });
  return (
    <>
      <PageTitle>用码记录</PageTitle>
      {q.isLoading ? (
        <Loading />
      ) : q.error ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} />
      ) : (q.data ?? []).length === 0 ? (
        <EmptyState title="暂无用码记录" hint="在医院、药店出示医保码后，这里会显示每次使用" />
      ) : (
        <>
          <List
            dataSource={q.data}
            renderItem={(u) => (
              <List.Item>
                <List.Item.Meta
                  title={
                    <Space>
                      <Tag color="blue">{u.businessTypeName}</Tag>
                      {u.institutionName ?? u.institutionCode}
                    </Space>
                  }
                  description={u.operator ? `${dateTime(u.usedAt)} · ${u.operator}` : dateTime(u.usedAt)}
                />
              </List.Item>
            )}
          />
          {/* a scan the person does not recognise is a lost or copied phone: the way to stop it is one tap away */}
          <Alert
            style={{ marginTop: 12 }}
            type="warning"
            showIcon
            message="有不是您本人的用码记录？"
            description={
              <>
                请立即
                <Link to="/personal/evoucher" style={{ textDecoration: 'underline' }}>
                  挂失医保码
                </Link>
                ，并拨打医保服务热线。
              </>
            }
          />
        </>
      )}
    </>
  );
}

export function EvoucherAuthorizationsPage() {
  return <WithVoucher title="渠道授权">{() => <Authorizations />}</WithVoucher>;
}

function Authorizations() {
  const { modal } = App.useApp();
  const toast = useToast();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [issued, setIssued] = useState<{ authCode: string; authCodeExpiresAt: string }>();
  const list = useQuery({
    queryKey: ['evoucher', 'auths'],
    queryFn: () => api<Authorization[]>('/api/evoucher/me/authorizations'),
  });
  const channels = useQuery({
    queryKey: ['evoucher', 'channels'],
    queryFn: () => api<Array<{ appId: string; name: string; type: string }>>('/api/evoucher/me/channels'),
    enabled: open,
  });
  const [form] = Form.useForm();
  const owner = useOwnerCheck('授权渠道', 'grant');
  const close = () => {
    setOpen(false);
    owner.reset();
  };
  const grant = useMutation({
    mutationFn: (v: { appId: string; scopes: string[]; days: number; password?: string }) =>
      api<{ authCode: string; authCodeExpiresAt: string }>('/api/evoucher/me/authorizations', {
        method: 'POST',
        body: v,
        idempotencyKey: newIdempotencyKey(),
      }),
    onSuccess: (r) => {
      close();
      setIssued(r);
      void qc.invalidateQueries({ queryKey: ['evoucher', 'auths'] });
    },
    onError: (err) => {
      if (!owner.handled(err)) toast.refused(form, err);
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api(`/api/evoucher/me/authorizations/${id}`, { method: 'DELETE' }),
    onSuccess: () => {
      toast.success('已撤销授权');
      void qc.invalidateQueries({ queryKey: ['evoucher', 'auths'] });
    },
    onError: toast.failed,
  });
  return (
    <>
      <PageTitle extra={<Button onClick={() => setOpen(true)}>新增授权</Button>}>渠道授权</PageTitle>
      {issued ? (
        <Alert
          type="success"
          showIcon
          closable
          onClose={() => setIssued(undefined)}
          style={{ marginBottom: 16 }}
          title="授权成功"
          description={
            <>
              一次性授权码：
              <Typography.Text copyable code>
                {issued.authCode}
              </Typography.Text>
              <br />
              请在 {dateTime(issued.authCodeExpiresAt)} 前交给该渠道（仅可使用一次）。
            </>
          }
        />
      ) : null}
      {list.isLoading ? (
        <Loading />
      ) : list.error ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : (list.data ?? []).length === 0 ? (
        <EmptyState title="尚未授权任何渠道" />
      ) : (
        <List
          dataSource={list.data}
          renderItem={(a) => (
            <List.Item
              actions={
                a.state === 'active'
                  ? [
                      <Button
                        key="revoke"
                        danger
                        onClick={() =>
                          modal.confirm({
                            title: `撤销对「${a.channelName}」的授权？`,
                            okText: '撤销',
                            cancelText: '取消',
                            onOk: () => revoke.mutateAsync(a.id),
                          })
                        }
                      >
                        撤销
                      </Button>,
                    ]
                  : []
              }
            >
              <List.Item.Meta
                title={
                  <Space wrap>
                    {a.channelName}
                    <Tag color={a.state === 'active' ? 'green' : 'default'}>
                      {{ active: '有效', revoked: '已撤销', expired: '已过期' }[a.state]}
                    </Tag>
                  </Space>
                }
                description={`${a.scopes.map((s) => SCOPE_LABELS[s] ?? s).join('、')} · 有效至 ${dateTime(a.expiresAt)}`}
              />
            </List.Item>
          )}
        />
      )}
      <Modal title="授权渠道使用医保电子凭证" open={open} onCancel={close} footer={null} destroyOnHidden>
        <Form
          form={form}
          name="grant"
          layout="vertical"
          preserve={false}
          onFinish={(v) => grant.mutate(v)}
          initialValues={{ scopes: ['identity'], days: 30 }}
        >
          <Form.Item name="appId" label="渠道" rules={[{ required: true, message: '请选择渠道' }]}>
            <Select
              size="large"
              loading={channels.isLoading}
              options={(channels.data ?? []).map((c) => ({ value: c.appId, label: c.name }))}
              placeholder="选择 App、小程序或医院应用"
            />
          </Form.Item>
          <Form.Item name="scopes" label="授权范围" rules={[{ required: true, message: '至少选择一项' }]}>
            <Checkbox.Group options={Object.entries(SCOPE_LABELS).map(([value, label]) => ({ value, label }))} />
          </Form.Item>
          <Form.Item name="days" label="有效天数" rules={[{ required: true }]}>
            <InputNumber min={1} max={365} size="large" style={{ width: '100%' }} />
          </Form.Item>
          {owner.asked ? <OwnerPasswordField what="授权渠道" /> : null}
          <Button type="primary" htmlType="submit" size="large" block loading={grant.isPending}>
            确认授权
          </Button>
        </Form>
      </Modal>
    </>
  );
}

/** Opened by scanning the web hall's login QR with the phone (already signed in to the personal hall). */
export function EvoucherLoginConfirmPage() {
  const [params] = useSearchParams();
  const ticket = params.get('ticket') ?? '';
  const [state, setState] = useState<'scanning' | 'ready' | 'done' | 'error'>('scanning');
  const [error, setError] = useState<string>();
  useEffect(() => {
    api(`/api/evoucher/login-tickets/${encodeURIComponent(ticket)}/scan`, { method: 'POST', body: {} }).then(
      () => setState('ready'),
      (e) => {
        setError(errorText(e));
        setState('error');
      },
    );
  }, [ticket]);
  const confirm = async () => {
    try {
      await api(`/api/evoucher/login-tickets/${encodeURIComponent(ticket)}/confirm`, { method: 'POST', body: {} });
      setState('done');
    } catch (e) {
      setError(errorText(e));
      setState('error');
    }
  };
  if (state === 'scanning') return <Loading label="正在识别登录二维码…" />;
  if (state === 'error') return <Result status="warning" title="无法登录" subTitle={error} />;
  if (state === 'done') return <Result status="success" title="已确认登录" subTitle="请回到电脑继续办理" />;
  return (
    <Result
      icon={<LaptopOutlined />}
      title="电脑端网厅登录确认"
      subTitle="请确认是您本人正在电脑上登录医保网厅。如非本人操作，请点击取消。"
      extra={
        <Space orientation="vertical" style={{ width: '100%', maxWidth: 320 }}>
          <Button type="primary" size="large" block onClick={() => void confirm()}>
            确认登录
          </Button>
          <Link to="/personal">
            <Button size="large" block>
              取消
            </Button>
          </Link>
        </Space>
      }
    />
  );
}
