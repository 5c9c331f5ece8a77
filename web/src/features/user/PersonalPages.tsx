import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Descriptions, Form, Input, Modal, Result, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router';
import { logout } from '../../auth/oidc';
import { PageTitle } from '../../components/PortalShell';
import { api, errorText, fieldErrors } from '../../lib/api';
import { MOBILE, RESIDENT_ID } from '../../lib/ids';
import { useToast } from '../../lib/toast';
import { dateTime, idempotencyKeys, PERSON_STATUS, type Person } from './api';
import { FormError, NewPasswordFields, SmsCodeField } from './fields';
import { SecurityPanelCards } from './securitySlots';

const MOBILE_RULE = { pattern: MOBILE, message: '请输入 11 位手机号码' };
const ID_RULE = { pattern: RESIDENT_ID, message: '请输入 18 位身份证号码' };

/** 个人注册: real name, ID number, mobile with an SMS code, password. */
export function RegisterPage() {
  const [form] = Form.useForm();
  const mobile = Form.useWatch('mobile', form) as string | undefined;
  const [done, setDone] = useState<Person>();
  const [keyFor] = useState(idempotencyKeys);
  const mutation = useMutation({
    mutationFn: ({ passwordConfirm: _confirm, ...v }: Record<string, string>) => {
      const body = { ...v, residentId: v.residentId.toUpperCase() };
      return api<Person>('/api/user/persons', { body, idempotencyKey: keyFor(body) });
    },
    onSuccess: setDone,
    onError: (err) => form.setFields(fieldErrors(err)),
  });
  if (done) {
    return (
      <DoneGoLogin
        title="注册成功"
        text={`${done.name}，您的账号已开通，可使用手机号、身份证号${done.username ? '或用户名' : ''}登录。`}
      />
    );
  }
  return (
    <>
      <PageTitle>个人注册</PageTitle>
      <Card style={{ maxWidth: 560 }}>
        <FormError error={mutation.error} />
        <Form form={form} layout="vertical" size="large" onFinish={(v) => mutation.mutate(v)} requiredMark={false}>
          <Form.Item name="name" label="真实姓名" rules={[{ required: true, message: '请输入姓名' }]}>
            <Input autoComplete="name" maxLength={30} />
          </Form.Item>
          <Form.Item
            name="residentId"
            label="居民身份证号码"
            rules={[{ required: true, message: '请输入身份证号码' }, ID_RULE]}
          >
            <Input maxLength={18} autoComplete="off" />
          </Form.Item>
          <Form.Item
            name="mobile"
            label="手机号码"
            rules={[{ required: true, message: '请输入手机号码' }, MOBILE_RULE]}
          >
            <Input maxLength={11} inputMode="numeric" autoComplete="tel" />
          </Form.Item>
          <SmsCodeField id="register-sms" mobile={mobile} purpose="register" size="large" />
          <NewPasswordFields
            name="password"
            label="登录密码"
            facts={() => ({ residentId: form.getFieldValue('residentId'), mobile })}
          />
          <Button type="primary" htmlType="submit" block loading={mutation.isPending}>
            注册
          </Button>
        </Form>
        <Typography.Paragraph style={{ marginTop: 16, textAlign: 'center' }}>
          已有账号？<a href="/login?portal=personal&return=%2Fpersonal">登录</a>　·　
          <Link to="/personal/password-reset">忘记密码</Link>
        </Typography.Paragraph>
      </Card>
    </>
  );
}

/** 找回密码 (public): mobile + SMS code + ID number, then a new password. */
export function ResetPasswordPage() {
  const toast = useToast();
  const [form] = Form.useForm();
  const mobile = Form.useWatch('mobile', form) as string | undefined;
  const [done, setDone] = useState(false);
  const mutation = useMutation({
    mutationFn: (v: Record<string, string>) =>
      api('/api/user/password-reset', {
        body: {
          mobile: v.mobile,
          residentId: v.residentId.toUpperCase(),
          smsCode: v.smsCode,
          newPassword: v.newPassword,
        },
      }),
    onSuccess: () => {
      setDone(true);
      toast.success('密码已重置');
    },
    onError: (err) => form.setFields(fieldErrors(err)),
  });
  if (done) {
    return (
      <DoneGoLogin
        title="密码已重置"
        text="原来在各设备上的登录已全部退出；如账号因多次登录失败被锁定，锁定也已解除。请用新密码登录。"
      />
    );
  }
  return (
    <>
      <PageTitle>找回密码</PageTitle>
      <Card style={{ maxWidth: 560 }}>
        <FormError error={mutation.error} />
        <Form form={form} layout="vertical" size="large" onFinish={(v) => mutation.mutate(v)} requiredMark={false}>
          <Form.Item
            name="mobile"
            label="注册手机号"
            rules={[{ required: true, message: '请输入手机号码' }, MOBILE_RULE]}
          >
            <Input maxLength={11} inputMode="numeric" />
          </Form.Item>
          <SmsCodeField id="reset-sms" mobile={mobile} purpose="reset-password" size="large" />
          <Form.Item
            name="residentId"
            label="身份证号码"
            rules={[{ required: true, message: '请输入身份证号码' }, ID_RULE]}
          >
            <Input maxLength={18} />
          </Form.Item>
          <NewPasswordFields facts={() => ({ residentId: form.getFieldValue('residentId'), mobile })} />
          <Button type="primary" htmlType="submit" block loading={mutation.isPending}>
            重置密码
          </Button>
        </Form>
      </Card>
    </>
  );
}

function useMe(reveal: boolean) {
  return useQuery({
    queryKey: ['user', 'me', reveal],
    queryFn: () => api<Person>(`/api/user/me${reveal ? '?reveal=true' : ''}`),
  });
}

/** 个人资料: masked by default; the owner may show the full values; username/e-mail editable; mobile change. */
export function ProfilePage() {
  const toast = useToast();
  const qc = useQueryClient();
  const [reveal, setReveal] = useState(false);
  const [editing, setEditing] = useState(false);
  const [changingMobile, setChangingMobile] = useState(false);
  const { data: me, error, isLoading } = useMe(reveal);
  const [form] = Form.useForm();
  const save = useMutation({
    mutationFn: (v: { username?: string; email?: string }) =>
      api<Person>('/api/user/me', {
        method: 'PATCH',
        body: { username: v.username || null, email: v.email || null },
      }),
    onSuccess: () => {
      toast.success('已保存');
      setEditing(false);
      qc.invalidateQueries({ queryKey: ['user', 'me'] });
    },
    onError: (err) => form.setFields(fieldErrors(err)),
  });
  return (
    <>
      <PageTitle
        extra={
          <Button onClick={() => setReveal(!reveal)} aria-pressed={reveal}>
            {reveal ? '隐藏完整信息' : '显示完整信息'}
          </Button>
        }
      >
        个人资料
      </PageTitle>
      {error ? <Alert type="error" showIcon title={errorText(error)} /> : null}
      <Card loading={isLoading}>
        {me ? (
          <Descriptions column={1} size="middle" bordered>
            <Descriptions.Item label="姓名">{me.name}</Descriptions.Item>
            <Descriptions.Item label="身份证号">{me.residentId}</Descriptions.Item>
            <Descriptions.Item label="手机号">
              <Space wrap>
                {me.mobile}
                <Button size="small" onClick={() => setChangingMobile(true)}>
                  更换手机号
                </Button>
              </Space>
            </Descriptions.Item>
            <Descriptions.Item label="用户名">{me.username ?? '未设置'}</Descriptions.Item>
            <Descriptions.Item label="电子邮箱">{me.email ?? '未设置'}</Descriptions.Item>
            <Descriptions.Item label="账号状态">
              <Tag color={PERSON_STATUS[me.status].color}>{PERSON_STATUS[me.status].label}</Tag>
            </Descriptions.Item>
            <Descriptions.Item label="注册时间">{dateTime(me.createdAt)}</Descriptions.Item>
          </Descriptions>
        ) : null}
        <Button
          type="primary"
          size="large"
          block
          style={{ marginTop: 16 }}
          onClick={() => {
            form.setFieldsValue({ username: me?.username, email: '' });
            setEditing(true);
          }}
        >
          修改用户名 / 邮箱
        </Button>
      </Card>
      <Modal
        title="修改资料"
        open={editing}
        onCancel={() => setEditing(false)}
        onOk={() => form.submit()}
        okText="保存"
        confirmLoading={save.isPending}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
          <Form.Item name="username" label="用户名" extra="字母开头，4–32 位；可用于登录。留空表示不设置">
            <Input maxLength={32} />
          </Form.Item>
          <Form.Item
            name="email"
            label="电子邮箱"
            extra="留空表示不设置"
            rules={[{ type: 'email', message: '邮箱格式不正确' }]}
          >
            <Input maxLength={254} />
          </Form.Item>
        </Form>
      </Modal>
      <ChangeMobileModal open={changingMobile} onClose={() => setChangingMobile(false)} />
    </>
  );
}

function ChangeMobileModal({ open, onClose }: { open: boolean; onClose: () => void }) {
  const toast = useToast();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const newMobile = Form.useWatch('newMobile', form) as string | undefined;
  const { data: me } = useQuery({
    queryKey: ['user', 'me', true],
    queryFn: () => api<Person>('/api/user/me?reveal=true'),
    enabled: open,
  });
  const change = useMutation({
    mutationFn: (v: Record<string, string>) => api<Person>('/api/user/me/mobile', { body: v }),
    onSuccess: () => {
      toast.success('手机号已更换');
      qc.invalidateQueries({ queryKey: ['user', 'me'] });
      onClose();
    },
    onError: (err) => toast.refused(form, err),
  });
  return (
    <Modal
      title="更换手机号"
      open={open}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText="确认更换"
      confirmLoading={change.isPending}
      destroyOnHidden
    >
      <Typography.Paragraph type="secondary">需要原手机号和新手机号分别收到的短信验证码。</Typography.Paragraph>
      <Form form={form} layout="vertical" onFinish={(v) => change.mutate(v)}>
        <SmsCodeField
          id="old-mobile-code"
          label={`原手机号验证码（${me ? `${me.mobile.slice(0, 3)}****${me.mobile.slice(-4)}` : '…'}）`}
          name="oldCode"
          mobile={me?.mobile}
          purpose="change-mobile"
        />
        <Form.Item
          name="newMobile"
          label="新手机号"
          rules={[{ required: true, message: '请输入新手机号' }, MOBILE_RULE]}
        >
          <Input maxLength={11} inputMode="numeric" />
        </Form.Item>
        <SmsCodeField
          id="new-mobile-code"
          label="新手机号验证码"
          name="newCode"
          mobile={newMobile}
          purpose="change-mobile"
        />
      </Form>
    </Modal>
  );
}

/** 账号安全: password change, deactivation, and the auth center's panels (passkeys, sessions, login history). */
export function SecurityPage() {
  const { modal } = App.useApp();
  const qc = useQueryClient();
  const toast = useToast();
  const [form] = Form.useForm();
  const [deactivating, setDeactivating] = useState(false);
  const { data: me } = useMe(true);
  const change = useMutation({
    mutationFn: (v: Record<string, string>) =>
      api('/api/user/me/password', { body: { oldPassword: v.oldPassword ?? '', newPassword: v.newPassword } }),
    onSuccess: () => {
      toast.success('密码已修改，其他设备上的登录已退出');
      form.resetFields();
      void qc.invalidateQueries({ queryKey: ['auth', 'sessions'] });
    },
    onError: (err) =>
      form.setFields(fieldErrors(err).map((e) => ({ ...e, name: e.name === 'password' ? 'newPassword' : e.name }))),
  });
  return (
    <>
      <PageTitle>账号安全</PageTitle>
      <Space orientation="vertical" size={16} style={{ width: '100%' }}>
        <Card title="修改密码">
          <FormError error={change.error} />
          <Form form={form} layout="vertical" size="large" onFinish={(v) => change.mutate(v)} style={{ maxWidth: 480 }}>
            {me?.passwordSet !== false ? (
              <Form.Item name="oldPassword" label="原密码" rules={[{ required: true, message: '请输入原密码' }]}>
                <Input.Password autoComplete="current-password" />
              </Form.Item>
            ) : null}
            <NewPasswordFields facts={() => ({ residentId: me?.residentId, mobile: me?.mobile })} />
            <Button type="primary" htmlType="submit" block loading={change.isPending}>
              修改密码
            </Button>
          </Form>
        </Card>
        <SecurityPanelCards />
        <Card title="注销账号">
          <Typography.Paragraph type="secondary">
            注销后不能再登录，单位经办授权随之终止；身份证号和手机号可重新注册。若您是某单位的唯一管理员，请先指定其他管理员。
          </Typography.Paragraph>
          <Button danger size="large" block onClick={() => setDeactivating(true)}>
            注销账号
          </Button>
        </Card>
      </Space>
      <DeactivateModal
        open={deactivating}
        person={me}
        onClose={() => setDeactivating(false)}
        onDone={() =>
          modal.success({
            title: '账号已注销',
            // the account is gone: end the single sign-on session as well
            onOk: () => logout('personal'),
          })
        }
      />
    </>
  );
}

function DeactivateModal(props: { open: boolean; person?: Person; onClose: () => void; onDone: () => void }) {
  const [form] = Form.useForm();
  const run = useMutation({
    mutationFn: (v: Record<string, string>) => api('/api/user/me/deactivate', { body: v }),
    onSuccess: () => {
      props.onClose();
      props.onDone();
    },
    onError: (err) => form.setFields(fieldErrors(err)),
  });
  return (
    <Modal
      title="确认注销账号"
      open={props.open}
      onCancel={props.onClose}
      onOk={() => form.submit()}
      okText="注销"
      okButtonProps={{ danger: true }}
      confirmLoading={run.isPending}
      destroyOnHidden
    >
      <FormError error={run.error} />
      <Form form={form} layout="vertical" onFinish={(v) => run.mutate(v)}>
        {props.person?.passwordSet !== false ? (
          <Form.Item name="password" label="登录密码" rules={[{ required: true, message: '请输入密码' }]}>
            <Input.Password />
          </Form.Item>
        ) : null}
        <SmsCodeField id="deactivate-sms" mobile={props.person?.mobile} purpose="deactivate" />
      </Form>
    </Modal>
  );
}

/** The end of a signed-out flow (registration, password reset): what happened, and the way to log in. */
function DoneGoLogin({ title, text }: { title: string; text: string }) {
  return (
    <Result
      status="success"
      title={title}
      subTitle={text}
      extra={
        <Button type="primary" size="large" href="/login?portal=personal&return=%2Fpersonal">
          去登录
        </Button>
      }
    />
  );
}
