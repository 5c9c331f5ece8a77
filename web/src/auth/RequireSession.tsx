import { Button, Result } from 'antd';
import { type ReactNode, useEffect } from 'react';
import { useSession } from '../lib/session';
import { refreshDelay, refreshSession, startLogin } from './oidc';

const RETRY_MS = 30_000;

/** Shows the portal only to a signed-in account of the right kind; otherwise starts the unified login (OIDC + PKCE). */
export function RequireSession({
  portal,
  kind,
  children,
}: {
  portal: string;
  kind: 'person' | 'staff';
  children: ReactNode;
}) {
  const session = useSession();

  // Keep the access token fresh: refresh one minute before it expires (the refresh token rotates); when the network
  // is down, try again in half a minute.
  useEffect(() => {
    if (!session?.refreshToken) return;
    let timer: ReturnType<typeof setTimeout>;
    const schedule = (ms: number) => {
      timer = setTimeout(() => refreshSession().catch(() => schedule(RETRY_MS)), ms);
    };
    schedule(refreshDelay(session));
    return () => clearTimeout(timer);
  }, [session]);

  if (session && session.kind === kind) return <>{children}</>;
  return (
    <Result
      status="403"
      title={session ? '当前账号无权访问此门户' : '请先登录'}
      subTitle={kind === 'staff' ? '工作人员请使用经办账号登录' : '登录后即可办理医保业务'}
      extra={
        <Button type="primary" size="large" onClick={() => void startLogin(portal)}>
          统一身份认证登录
        </Button>
      }
    />
  );
}
