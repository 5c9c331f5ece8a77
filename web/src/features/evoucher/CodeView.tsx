import { ReloadOutlined } from '@ant-design/icons';
import { Alert, Button, Progress, Typography } from 'antd';
import QRCode from 'qrcode';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, errorText } from '../../lib/api';
import type { IssuedCode } from './api';

/**
 * The dynamic e-voucher code: fetched from the center, shown as a QR, refreshed automatically a few seconds before
 * it expires (and after every use it is single-use anyway), with a countdown. Used full screen by the personal hall
 * and the H5 page.
 */
export function CodeView({
  name,
  onSuspended,
  accessToken,
}: {
  name?: string;
  onSuspended?: () => void;
  /** H5 in a channel app: the person's access token handed over by the channel (else the hall's session). */
  accessToken?: string;
}) {
  const [code, setCode] = useState<IssuedCode>();
  const [svg, setSvg] = useState('');
  const [left, setLeft] = useState(0);
  const [error, setError] = useState<string>();
  const busy = useRef(false);

  const refresh = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      const c = await api<IssuedCode>('/api/evoucher/me/codes', {
        method: 'POST',
        body: {},
        headers: accessToken ? { authorization: `Bearer ${accessToken}` } : undefined,
      });
      setCode(c);
      setSvg(await QRCode.toString(c.token, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
      setError(undefined);
    } catch (e) {
      setError(errorText(e));
      if ((e as { code?: string }).code === 'EVOUCHER_SUSPENDED') onSuspended?.();
    } finally {
      busy.current = false;
    }
  }, [onSuspended, accessToken]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  useEffect(() => {
    const t = setInterval(() => {
      if (!code) return;
      const s = Math.max(0, Math.floor((Date.parse(code.expiresAt) - Date.now()) / 1000));
      setLeft(s);
      if (s <= 3) void refresh();
    }, 500);
    return () => clearInterval(t);
  }, [code, refresh]);

  return (
    <div style={{ textAlign: 'center', maxWidth: 420, margin: '0 auto' }}>
      {name ? (
        <Typography.Title level={4} style={{ marginBottom: 4 }}>
          {name}
        </Typography.Title>
      ) : null}
      <Typography.Text type="secondary">请向医院、药店出示此码，一码仅可使用一次</Typography.Text>
      {error ? <Alert type="error" showIcon title={error} style={{ margin: '12px 0', textAlign: 'left' }} /> : null}
      <div
        role="img"
        aria-label="医保电子凭证动态码"
        style={{ width: 'min(80vw, 320px)', margin: '16px auto', background: '#fff', borderRadius: 8 }}
        // biome-ignore lint/security/noDangerouslySetInnerHtml: SVG produced by the qrcode library from our own token
        dangerouslySetInnerHTML={{ __html: svg }}
      />
      {code ? (
        <>
          <Progress
            percent={Math.round((left / code.ttlSeconds) * 100)}
            showInfo={false}
            strokeColor={left <= 10 ? '#faad14' : undefined}
            aria-label="有效期剩余"
          />
          <Typography.Paragraph aria-live="polite">
            {left > 0 ? `${left} 秒后自动刷新` : '正在刷新…'}
          </Typography.Paragraph>
        </>
      ) : null}
      <Button size="large" icon={<ReloadOutlined />} onClick={() => void refresh()} block>
        手动刷新
      </Button>
    </div>
  );
}
