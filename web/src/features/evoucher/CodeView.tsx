import { ReloadOutlined } from '@ant-design/icons';
import { Alert, Button, Progress, Typography } from 'antd';
import QRCode from 'qrcode';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, errorText } from '../../lib/api';
import { clockTime } from '../../lib/time';
import type { IssuedCode, Use } from './api';

/** How often the code screen asks whether its code was scanned (while it is on screen). */
const SCAN_POLL_MS = 3000;

/**
 * The dynamic e-voucher code: fetched from the center, shown as a QR, refreshed automatically a few seconds before
 * it expires, with a countdown. While it is on screen the phone stays awake, and a scan at the counter is confirmed
 * (where, for what) and answered with a fresh code; hidden (another app, the screen locked) it neither refreshes nor
 * asks. Used full screen by the personal hall and the H5 page.
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
  const [scanned, setScanned] = useState<Use>();
  const busy = useRef(false);
  const visible = useVisible();

  const refresh = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      const c = await api<IssuedCode>('/api/evoucher/me/codes', { method: 'POST', body: {}, headers: as(accessToken) });
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
    if (!visible) return;
    const tick = () => {
      if (!code) return;
      const s = Math.max(0, Math.floor((Date.parse(code.expiresAt) - Date.now()) / 1000));
      setLeft(s);
      if (s <= 3) void refresh();
    };
    tick(); // back on screen after a while: a stale code is replaced at once
    const t = setInterval(tick, 500);
    return () => clearInterval(t);
  }, [code, refresh, visible]);

  useScans(code, visible, accessToken, (use) => {
    setScanned(use);
    void refresh(); // the code is spent for that business: the next scan gets a fresh one
  });
  useWakeLock(visible);

  return (
    <div style={{ textAlign: 'center', maxWidth: 420, margin: '0 auto' }}>
      {name ? (
        <Typography.Title level={4} style={{ marginBottom: 4 }}>
          {name}
        </Typography.Title>
      ) : null}
      <Typography.Text type="secondary">请向医院、药店出示此码，一码仅可使用一次</Typography.Text>
      {error ? <Alert type="error" showIcon title={error} style={{ margin: '12px 0', textAlign: 'left' }} /> : null}
      <div aria-live="polite">
        {scanned ? (
          <Alert
            type="success"
            showIcon
            title={`已扫码：${scanned.institutionName ?? scanned.institutionCode}`}
            description={`${scanned.businessTypeName}${scanned.operator ? ` · ${scanned.operator}` : ''} · ${clockTime(scanned.usedAt)}`}
            style={{ margin: '12px 0', textAlign: 'left' }}
          />
        ) : null}
      </div>
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

/** The channel's hand-over token when there is one, else the hall's own session (the api default). */
const as = (accessToken?: string) => (accessToken ? { authorization: `Bearer ${accessToken}` } : undefined);

/** Whether the page is on screen (not another tab or app, not a locked phone). */
function useVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible');
  useEffect(() => {
    const on = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', on);
    return () => document.removeEventListener('visibilitychange', on);
  }, []);
  return visible;
}

/**
 * Asks every few seconds, while on screen, for uses since the shown code was issued (the server's clock: expiry −
 * validity), and tells of each new one once.
 */
function useScans(
  code: IssuedCode | undefined,
  visible: boolean,
  accessToken: string | undefined,
  onScan: (use: Use) => void,
) {
  const seen = useRef(new Set<string>());
  const latest = useRef(onScan);
  latest.current = onScan;
  const issuedAt = code ? new Date(Date.parse(code.expiresAt) - code.ttlSeconds * 1000).toISOString() : undefined;
  useEffect(() => {
    if (!issuedAt || !visible) return;
    let stopped = false;
    const ask = async () => {
      try {
        const uses = await api<Use[]>(`/api/evoucher/me/uses?since=${encodeURIComponent(issuedAt)}`, {
          headers: as(accessToken),
        });
        const fresh = uses.filter((u) => !seen.current.has(u.id));
        for (const u of uses) seen.current.add(u.id);
        if (!stopped && fresh.length > 0) latest.current(fresh[0]);
      } catch {
        // the code itself still works; the next round asks again
      }
    };
    const t = setInterval(ask, SCAN_POLL_MS);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, [issuedAt, visible, accessToken]);
}

/** Keeps the screen on while the code is shown, so it does not go dark in front of the cashier (where supported). */
function useWakeLock(visible: boolean) {
  useEffect(() => {
    const wl = (
      navigator as Navigator & { wakeLock?: { request(type: 'screen'): Promise<{ release(): Promise<void> }> } }
    ).wakeLock;
    if (!visible || !wl) return;
    let lock: { release(): Promise<void> } | undefined;
    let released = false;
    wl.request('screen')
      .then((l) => {
        if (released) void l.release();
        else lock = l;
      })
      .catch(() => {}); // refused (battery saver, no permission): the code still shows
    return () => {
      released = true;
      void lock?.release().catch(() => {});
    };
  }, [visible]);
}
