import { Button, Result, Spin } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { Route, useNavigate } from 'react-router';
import { completeLogin, startLogin } from '../../auth/oidc';

/** /login?portal=personal&return=/personal/xxx — starts the unified login. */
function LoginStart() {
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const q = new URLSearchParams(location.search);
    const portal = q.get('portal') ?? 'personal';
    const back = q.get('return');
    void startLogin(portal, back?.startsWith('/') && !back.startsWith('//') ? back : `/${portal}`, {
      acr: q.get('acr') === 'mfa' ? 'mfa' : undefined,
    });
  }, []);
  return (
    <div style={{ padding: 48, textAlign: 'center' }}>
      <Spin size="large" />
      <p>正在前往统一身份认证…</p>
    </div>
  );
}

/** /login/callback — exchanges the authorization code (PKCE) for tokens and returns to the portal. */
function LoginCallback() {
  const navigate = useNavigate();
  const [error, setError] = useState<string>();
  const done = useRef(false);
  useEffect(() => {
    if (done.current) return;
    done.current = true;
    completeLogin(location.search)
      .then((to) => navigate(to, { replace: true }))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : '登录失败'));
  }, [navigate]);
  if (error) {
    return (
      <Result
        status="warning"
        title="登录未完成"
        subTitle={error}
        extra={
          <Button type="primary" size="large" href="/">
            返回首页
          </Button>
        }
      />
    );
  }
  return (
    <div style={{ padding: 48, textAlign: 'center' }}>
      <Spin size="large" />
      <p>正在登录…</p>
    </div>
  );
}

export const authPublicRoutes = [
  <Route key="auth-login" path="/login" element={<LoginStart />} />,
  <Route key="auth-callback" path="/login/callback" element={<LoginCallback />} />,
];
