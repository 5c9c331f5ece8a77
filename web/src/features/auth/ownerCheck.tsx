import { App, Form, Input } from 'antd';
import { useState } from 'react';
import { stepUp } from '../../auth/oidc';
import { ApiError } from '../../lib/api';
import { getSession } from '../../lib/session';

/**
 * What a change that gives lasting access (a passkey, a channel's authorisation) asks of a one-factor session — the
 * server's `AuthService.confirmOwner`: the password again, or for an account without one, a second factor.
 * `asked`: show `<OwnerPasswordField />`. `handled(err)`: whether the refusal was that question (else report it).
 */
export function useOwnerCheck(what: string, stepUpFor: 'passkey' | 'grant') {
  const { modal } = App.useApp();
  const [asked, setAsked] = useState(false);
  const handled = (err: unknown): boolean => {
    if (!(err instanceof ApiError)) return false;
    if (err.code === 'AUTH_CONFIRM_PASSWORD') {
      setAsked(true);
      return true;
    }
    if (err.code !== 'STEP_UP_REQUIRED') return false;
    modal.confirm({
      title: '需要再次验证身份',
      content: `${what}前，请用短信验证码再次验证；验证后回到本页继续。`,
      okText: '去验证',
      cancelText: '取消',
      onOk: () => stepUp(getSession()?.portal ?? 'personal', stepUpFor),
    });
    return true;
  };
  return { asked, handled, reset: () => setAsked(false) };
}

/** The password field of that question, inside the change's form (field `password`). */
export function OwnerPasswordField({ what }: { what: string }) {
  return (
    <Form.Item
      name="password"
      label="登录密码"
      extra={`${what}前，请输入登录密码确认是您本人`}
      rules={[{ required: true, message: '请输入登录密码' }]}
    >
      <Input.Password size="large" autoComplete="current-password" autoFocus />
    </Form.Item>
  );
}
