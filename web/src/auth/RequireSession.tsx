import { Button, Result } from 'antd';
import type { ReactNode } from 'react';
import { useSession } from '../lib/session';

/** Shows the portal only to a signed-in person of the right kind; otherwise offers the unified login. */
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
  if (session && session.kind === kind) return <>{children}</>;
  const back = encodeURIComponent(location.pathname + location.search);
  return (
    <Result
      status="403"
      title="请先登录"
      subTitle="登录后即可办理医保业务"
      extra={
        <Button type="primary" size="large" href={`/login?portal=${portal}&return=${back}`}>
          统一身份认证登录
        </Button>
      }
    />
  );
}
