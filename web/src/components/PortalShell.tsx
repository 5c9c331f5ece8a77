import { MenuOutlined } from '@ant-design/icons';
import { Button, ConfigProvider, Drawer, Grid, Layout, Menu, Typography } from 'antd';
import { type ReactNode, useState } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import { useRegion } from '../lib/region';
import { PageBoundary } from './PageErrorBoundary';
import styles from './PortalShell.module.css';

export interface NavItem {
  path: string;
  label: string;
  icon: ReactNode;
  /** Shown in the phone's bottom bar (at most five). */
  bottom?: boolean;
  /** Heading the item is listed under in the side menu (e.g. the center), in first-seen order. */
  group?: string;
}

type MenuEntry = { key: string; icon: ReactNode; label: string };

/** Side-menu entries: ungrouped items first, then one titled group per `group`. */
function menuItems(items: NavItem[], base: string) {
  const entry = (i: NavItem): MenuEntry => ({ key: `${base}${i.path}`, icon: i.icon, label: i.label });
  const groups = new Map<string, MenuEntry[]>();
  for (const i of items.filter((i) => i.group)) groups.set(i.group!, [...(groups.get(i.group!) ?? []), entry(i)]);
  return [
    ...items.filter((i) => !i.group).map(entry),
    ...[...groups].map(([label, children]) => ({ type: 'group' as const, key: `group:${label}`, label, children })),
  ];
}

/** Responsive portal frame: side menu on a PC, top bar and bottom navigation on a phone. */
export function PortalShell({
  title,
  base,
  items,
  extra,
}: {
  title: string;
  base: string;
  items: NavItem[];
  extra?: ReactNode;
}) {
  const screens = Grid.useBreakpoint();
  const mobile = !screens.md;
  const region = useRegion();
  const location = useLocation();
  const navigate = useNavigate();
  const selected = items
    .map((i) => `${base}${i.path}`)
    // the home is current only at its own address (else every unknown address would light up 首页)
    .filter((p) => location.pathname === p || (p !== base && location.pathname.startsWith(`${p}/`)))
    .sort((a, b) => b.length - a.length)[0];
  const [menuOpen, setMenuOpen] = useState(false);
  const menu = (onNavigate?: () => void) => (
    <Menu
      mode="inline"
      style={onNavigate ? { borderInlineEnd: 0 } : undefined}
      selectedKeys={selected ? [selected] : []}
      items={menuItems(items, base)}
      onClick={(e) => {
        navigate(e.key);
        onNavigate?.();
      }}
    />
  );
  // on a phone the bottom bar holds at most five pages: the rest are one tap away in the drawer
  const drawer = mobile && items.some((i) => !i.bottom);
  const header = (
    <div className={styles.header} style={{ background: region?.brandColor ?? '#1677ff' }}>
      <Link to={base} className={styles.brand}>
        {region?.logoUrl ? <img src={region.logoUrl} alt="" className={styles.logo} /> : null}
        <span>{region?.displayName ?? '医疗保障局'}</span>
        <span className={styles.subtitle}>{title}</span>
      </Link>
      <div className={styles.extra}>
        {extra}
        {drawer ? (
          <Button ghost icon={<MenuOutlined />} aria-label="全部功能" onClick={() => setMenuOpen(true)} />
        ) : null}
      </div>
    </div>
  );
  const bottom = items.filter((i) => i.bottom).slice(0, 5);
  // One tree for both layouts: a window resized across the breakpoint, a tablet turned, or a browser re-measuring
  // itself (a full-page screenshot) must not remount the page, which would lose its state (an open dialog, a form).
  return (
    <Layout className={mobile ? styles.mobile : styles.desktop}>
      {header}
      {drawer ? (
        <Drawer title="全部功能" placement="right" size="80%" open={menuOpen} onClose={() => setMenuOpen(false)}>
          <ConfigProvider theme={{ components: { Menu: { itemHeight: 48 } } }}>
            {menu(() => setMenuOpen(false))}
          </ConfigProvider>
        </Drawer>
      ) : null}
      <Layout hasSider={!mobile}>
        {mobile ? null : (
          <Layout.Sider width={208} theme="light" className={styles.sider}>
            {menu()}
          </Layout.Sider>
        )}
        <Layout.Content className={mobile ? styles.mobileMain : styles.content}>
          <PageBoundary home={base}>
            <Outlet />
          </PageBoundary>
        </Layout.Content>
      </Layout>
      {mobile ? (
        <nav className={styles.tabbar} aria-label="底部导航">
          {bottom.map((i) => (
            <Link
              key={i.path}
              to={`${base}${i.path}`}
              className={`${base}${i.path}` === selected ? styles.tabActive : styles.tab}
              aria-current={`${base}${i.path}` === selected ? 'page' : undefined}
            >
              <span className={styles.tabIcon}>{i.icon}</span>
              <span>{i.label}</span>
            </Link>
          ))}
        </nav>
      ) : null}
    </Layout>
  );
}

export function PageTitle({ children, extra }: { children: ReactNode; extra?: ReactNode }) {
  return (
    <div className={styles.pageTitle}>
      <Typography.Title level={4} style={{ margin: 0 }}>
        {children}
      </Typography.Title>
      {extra}
    </div>
  );
}
