import { Alert, Button, Result, Tag } from 'antd';
import { useMemo } from 'react';
import { useSession } from '../../lib/session';
import { CodeView } from './CodeView';

/**
 * /h5/evoucher — the e-voucher code for any channel (app, mini-program, a hospital's own app) to show in a web view.
 * The channel opens it with the person's access token in the fragment (`#access_token=…`, never sent to servers in
 * logs); inside the hall the signed-in session is used.
 */
export function EvoucherH5Page() {
  const session = useSession();
  const token = useMemo(() => new URLSearchParams(location.hash.slice(1)).get('access_token') ?? undefined, []);
  const signedIn = token || session?.kind === 'person';
  return (
    <main style={{ minHeight: '100vh', padding: 16, background: '#f5f7fa' }}>
      <h1 style={{ textAlign: 'center', fontSize: 20, margin: '8px 0 16px' }}>
        医保电子凭证 <Tag color="blue">动态码</Tag>
      </h1>
      {signedIn ? (
        <CodeView accessToken={token} />
      ) : (
        <Result
          status="403"
          title="请先登录"
          subTitle="登录个人网厅后即可出示医保电子凭证"
          extra={
            <Button
              type="primary"
              size="large"
              href={`/login?portal=personal&return=${encodeURIComponent('/h5/evoucher')}`}
            >
              登录
            </Button>
          }
        />
      )}
      <Alert style={{ marginTop: 24 }} type="info" title="此码 60 秒内有效且仅可使用一次，请勿截图转发。" />
    </main>
  );
}
