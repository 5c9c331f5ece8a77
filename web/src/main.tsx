import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntApp, ConfigProvider } from 'antd';
import zhCN from 'antd/locale/zh_CN';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router';
import { PageBoundary } from './components/PageErrorBoundary';
import { NotFound } from './components/States';
import { Landing } from './Landing';
import { retryTransient } from './lib/api';
import { RegionProvider } from './lib/region';
import { consolePages } from './portals/console/pages';
import { institutionPages } from './portals/institution/pages';
import { Portal } from './portals/Portal';
import { personalPages } from './portals/personal/pages';
import { unitPages } from './portals/unit/pages';
import { publicRoutes } from './public/routes';
import './global.css';
import './components/a11y.css';
import { keepScrollRegionsFocusable } from './components/scrollRegions';

dayjs.locale('zh-cn');
/** Secondary text dark enough for WCAG AA contrast (antd's default #8c8c8c on white is 3.4:1). */
const A11Y_TOKENS = {
  colorTextDescription: '#595959',
  colorTextTertiary: '#595959',
  colorTextPlaceholder: '#6b6b6b',
  colorError: '#cf1322',
  colorSuccess: '#237804',
  colorInfo: '#0958d9',
  // the darker seeds above would tint alert backgrounds grey-green; keep antd's light ones
  colorSuccessBg: '#f6ffed',
  colorSuccessBorder: '#b7eb8f',
  colorErrorBg: '#fff2f0',
  colorErrorBorder: '#ffccc7',
  colorInfoBg: '#e6f4ff',
  colorInfoBorder: '#91caff',
  /** links inside text are underlined, not told apart by colour alone */
  linkDecoration: 'underline',
};
/**
 * A primary button's hover a shade darker than the brand colour, not antd's lighter one: white text on the lighter
 * shade falls under AA (4.16:1 for #0958d9's), and on a phone the hover stays on a button after it is tapped.
 */
const darker = (hex: string, by = 0.15) =>
  `#${[1, 3, 5]
    .map((i) =>
      Math.round(Number.parseInt(hex.slice(i, i + 2), 16) * (1 - by))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;

const PORTALS = [
  { name: 'personal', title: '个人网厅', kind: 'person', pages: personalPages },
  { name: 'unit', title: '单位网厅', kind: 'person', pages: unitPages },
  { name: 'console', title: '管理后台', kind: 'staff', pages: consolePages },
  { name: 'institution', title: '医药机构工作台', kind: 'staff', pages: institutionPages },
] as const;

/** People who asked their system for less motion get no opening and closing animations (WCAG 2.3.3). */
const reducedMotion = typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: retryTransient, refetchOnWindowFocus: false } },
});

function Root() {
  return (
    <RegionProvider>
      {(region) => (
        <ConfigProvider
          locale={zhCN}
          theme={{
            token: {
              colorPrimary: region?.brandColor ?? '#1677ff',
              colorPrimaryHover: darker(region?.brandColor ?? '#1677ff'),
              borderRadius: 8,
              colorLink: region?.brandColor ?? '#0958d9',
              ...A11Y_TOKENS,
              motion: !reducedMotion,
            },
          }}
        >
          <AntApp>
            <PageBoundary home="/">
              <Routes>
                <Route path="/" element={<Landing />} />
                {PORTALS.map((p) => (
                  <Route key={p.name} path={`/${p.name}/*`} element={<Portal {...p} />} />
                ))}
                {publicRoutes}
                <Route path="*" element={<NotFound home="/" />} />
              </Routes>
            </PageBoundary>
          </AntApp>
        </ConfigProvider>
      )}
    </RegionProvider>
  );
}

keepScrollRegionsFocusable();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <Root />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
