import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Space } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router';
import { dateMinute } from '../../lib/time';
import { device, type LoginEvent, myLogins } from './api';

/**
 * The failed attempts since the sign-in before this one (newest first; also those while this one lasts), keyed by the
 * newest, so a dismissed notice comes back when someone tries again: someone trying the person's password is worth a
 * word on the home page, not only deep in 登录记录.
 */
function failedSinceLastLogin(events: LoginEvent[]): { since: string; failed: LoginEvent[] } | undefined {
  const current = events.findIndex((e) => e.result === 'success');
  if (current < 0) return undefined;
  const previous = events.findIndex((e, i) => i > current && e.result === 'success');
  const failed = events.slice(0, previous < 0 ? undefined : previous).filter((e) => e.result !== 'success');
  return failed.length ? { since: failed[0]!.id, failed } : undefined;
}

const SEEN = 'yibao.failed-logins.seen';

/** On the hall's home: 自上次登录以来 N 次登录失败, until the person says 知道了 (remembered on this device). */
export function FailedLoginsNotice({ securityPath }: { securityPath: string }) {
  const [seen, setSeen] = useState(() => localStorage.getItem(SEEN));
  const { data } = useQuery({ queryKey: ['auth', 'logins', 'me'], queryFn: myLogins });
  const report = data ? failedSinceLastLogin(data) : undefined;
  if (!report || report.since === seen) return null;
  const [last] = report.failed;
  const dismiss = () => {
    localStorage.setItem(SEEN, report.since);
    setSeen(report.since);
  };
  return (
    <Alert
      type="error"
      showIcon
      role="status"
      style={{ marginBottom: 16 }}
      message={`自上次登录以来，您的账户有 ${report.failed.length} 次登录失败`}
      description={`最近一次：${dateMinute(last!.at)} · ${device(last!.userAgent)} · IP ${last!.ip ?? '—'}。如不是您本人，请立即修改密码。`}
      action={
        <Space orientation="vertical">
          <Link to={securityPath}>
            <Button danger>修改密码</Button>
          </Link>
          <Button type="text" onClick={dismiss}>
            知道了
          </Button>
        </Space>
      }
    />
  );
}
