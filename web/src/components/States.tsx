import { Button, Empty, Result, Skeleton, Spin } from 'antd';
import type { CSSProperties, ReactNode } from 'react';
import { Link } from 'react-router';
import { errorText } from '../lib/api';

/** Nothing to show yet, said plainly in Chinese, with an optional next step. */
export function EmptyState({
  title = '暂无数据',
  hint,
  action,
}: {
  title?: string;
  hint?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <div role="status">
      <Empty
        image={Empty.PRESENTED_IMAGE_SIMPLE}
        description={
          <span>
            <strong>{title}</strong>
            {hint ? <span style={{ display: 'block', color: '#595959', marginTop: 4 }}>{hint}</span> : null}
          </span>
        }
      >
        {action}
      </Empty>
    </div>
  );
}

/** Loading placeholder; `lines` draws a skeleton of that many rows (announced to screen readers). */
export function Loading({ label = '正在加载…', lines }: { label?: string; lines?: number }) {
  return (
    <div role="status" aria-live="polite" aria-busy="true" style={{ padding: 16, textAlign: 'center' }}>
      {lines ? (
        <Skeleton active paragraph={{ rows: lines }} title={false} />
      ) : (
        <Spin tip={label}>
          <div style={{ minHeight: 48 }} />
        </Spin>
      )}
      <span className="sr-only" style={srOnly}>
        {label}
      </span>
    </div>
  );
}

/** An error in plain Chinese (problem+json title/detail), with a retry button when the caller can retry. */
export function ErrorState({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  return (
    <Result
      status="warning"
      title={title ?? '暂时无法获取数据'}
      subTitle={errorText(error)}
      extra={
        onRetry ? (
          <Button size="large" onClick={onRetry}>
            重试
          </Button>
        ) : null
      }
    />
  );
}

function BackHome({ home }: { home: string }) {
  return (
    <Link to={home}>
      <Button type="primary" size="large">
        返回首页
      </Button>
    </Link>
  );
}

/** An address no page answers (a stale bookmark, a typo): said plainly, with the way back to the portal's home. */
export function NotFound({ home }: { home: string }) {
  return (
    <Result
      status="404"
      title="页面不存在"
      subTitle="您访问的页面不存在或已移动，请检查地址，或返回首页。"
      extra={<BackHome home={home} />}
    />
  );
}

/** A page the staff member's roles do not cover: which permission it needs and who grants it, not an error. */
export function Forbidden({ page, permission, home }: { page?: string; permission: string | string[]; home: string }) {
  return (
    <Result
      status="403"
      title="无权访问此页面"
      subTitle={`${page ? `「${page}」` : '此页面'}需要权限 ${[permission].flat().join(' 或 ')}，您在当前统筹区的角色不包含它。如需使用，请联系本统筹区的用户管理员在「工作人员与角色」中授予。`}
      extra={<BackHome home={home} />}
    />
  );
}

const srOnly: CSSProperties = {
  position: 'absolute',
  width: 1,
  height: 1,
  overflow: 'hidden',
  clip: 'rect(0 0 0 0)',
  whiteSpace: 'nowrap',
};

/** Integer fen → "1,234.56" without floating point. */
export function formatFen(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  const yuan = Math.trunc(abs / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${yuan}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * "12.3" / "12.34" / "12" / "1,234.56" (as the halls print it) → fen, or undefined if not a money amount (parsed as
 * text, never as a float).
 */
export function parseYuan(text: string): number | undefined {
  const m = /^\s*(\d{1,3}(?:,\d{3}){1,2}|\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!m) return undefined;
  return Number(m[1].replaceAll(',', '')) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/** "¥1,234.56" */
export const yuan = (fen: number) => `¥${formatFen(fen)}`;

const badgeTone = {
  ok: { color: '#135200', background: '#f6ffed', borderColor: '#95de64' },
  warn: { color: '#612500', background: '#fff7e6', borderColor: '#ffc069' },
  off: { color: '#262626', background: '#fafafa', borderColor: '#d9d9d9' },
  info: { color: '#002c8c', background: '#e6f4ff', borderColor: '#91caff' },
} as const;

/** A status label with AA contrast (antd's light tags are below 4.5:1). */
export function StatusBadge({ tone, children }: { tone: keyof typeof badgeTone; children: ReactNode }) {
  return (
    <span
      style={{
        ...badgeTone[tone],
        display: 'inline-block',
        border: '1px solid',
        borderRadius: 6,
        padding: '1px 8px',
        fontSize: 14,
        lineHeight: '22px',
      }}
    >
      {children}
    </span>
  );
}
