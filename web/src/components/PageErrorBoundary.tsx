import { Button, Result } from 'antd';
import { Component, type ReactNode, Suspense } from 'react';
import { useLocation } from 'react-router';
import { sendReport } from '../lib/api';
import { Loading } from './States';

/** What browsers say when a page's code could not be fetched (offline, or a release replaced it). */
const CHUNK_FAILED = /dynamically imported module|Importing a module script failed|Unable to preload CSS/i;

export const isChunkError = (error: unknown) => error instanceof Error && CHUNK_FAILED.test(error.message);

interface Props {
  children: ReactNode;
  /** The address; a new one clears the error, so that moving on from a failed page works without a reload. */
  resetKey: string;
  home: string;
}

/**
 * Catches a page that failed — its code did not arrive, or it threw while rendering — and says so in Chinese with a
 * way on, instead of leaving a blank screen; the platform is told (`/api/client-errors`, shown in /metrics).
 */
class PageErrorBoundary extends Component<Props, { error?: unknown; at?: string }> {
  override state: { error?: unknown; at?: string } = {};

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  static getDerivedStateFromProps(props: Props, state: { error?: unknown; at?: string }) {
    if (state.error === undefined) return { at: props.resetKey };
    return state.at === props.resetKey ? null : { error: undefined, at: props.resetKey };
  }

  override componentDidCatch(error: unknown) {
    sendReport('/api/client-errors', {
      kind: isChunkError(error) ? 'chunk' : 'render',
      path: location.pathname.slice(0, 300),
      message: String(error instanceof Error ? error.message : error).slice(0, 500),
    });
  }

  override render() {
    if (this.state.error === undefined) return this.props.children;
    const chunk = isChunkError(this.state.error);
    return (
      <Result
        status={chunk ? 'warning' : 'error'}
        title={chunk ? '页面未能打开' : '页面出现问题'}
        subTitle={
          chunk
            ? '网络不稳定，或平台刚刚更新。请检查网络后重新加载。'
            : '这个页面暂时无法显示，我们已记录此问题。请重新加载，或返回首页办理其他业务。'
        }
        extra={[
          <Button key="reload" type="primary" size="large" onClick={() => location.reload()}>
            重新加载
          </Button>,
          <Button key="home" size="large" href={this.props.home}>
            返回首页
          </Button>,
        ]}
      />
    );
  }
}

/**
 * Where pages render: their code may still be on the way (pages load on first visit), or may fail to come; a new
 * address clears a failure.
 */
export function PageBoundary({ home, children }: { home: string; children: ReactNode }) {
  const { pathname } = useLocation();
  return (
    <PageErrorBoundary resetKey={pathname} home={home}>
      <Suspense fallback={<Loading label="正在打开页面…" />}>{children}</Suspense>
    </PageErrorBoundary>
  );
}
