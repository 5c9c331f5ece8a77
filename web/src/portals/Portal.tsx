import { UserOutlined } from '@ant-design/icons';
import { Button, Grid, Space } from 'antd';
import { useEffect } from 'react';
import { Route, Routes, useNavigate } from 'react-router';
import { logout } from '../auth/oidc';
import { RequireSession } from '../auth/RequireSession';
import { PermissionsPending } from '../components/Permitted';
import { PortalShell } from '../components/PortalShell';
import { Forbidden, NotFound } from '../components/States';
import { useStaffPermissions } from '../lib/permissions';
import { useSession } from '../lib/session';
import { type PortalPage, preloadWhenIdle } from './registry';

/** One portal: its shell, its pages, and sign-in for the pages that need it. */
export function Portal(props: { name: string; title: string; kind: 'person' | 'staff'; pages: PortalPage[] }) {
  const session = useSession();
  const navigate = useNavigate();
  const screens = Grid.useBreakpoint();
  const { can } = useStaffPermissions();
  const base = `/${props.name}`;
  // a staff member's menu holds only the pages their roles cover (known once the server has said)
  const items = props.pages
    .filter((p) => p.nav && (!p.permission || can?.(p.permission)))
    .map((p) => ({ path: p.path ? `/${p.path}` : '', ...p.nav! }));
  useEffect(() => preloadWhenIdle(props.pages.filter((p) => p.nav?.bottom)), [props.pages]);
  // Signing out ends the single sign-on session at the authentication center too (RP-initiated logout), so the next
  // visit asks for credentials again instead of silently signing back in.
  const hasAccountPage = props.kind === 'staff' && props.pages.some((p) => p.path === 'me');
  const extra = session ? (
    <Space size={8}>
      {hasAccountPage ? (
        <Button size="small" ghost icon={<UserOutlined />} aria-label="我的账号" onClick={() => navigate(`${base}/me`)}>
          {screens.sm ? '我的账号' : null}
        </Button>
      ) : null}
      <Button size="small" ghost onClick={() => logout(props.name)}>
        退出
      </Button>
    </Space>
  ) : null;
  return (
    <Routes>
      <Route element={<PortalShell title={props.title} base={base} items={items} extra={extra} />}>
        {props.pages.map((p) => (
          <Route
            key={p.path}
            path={p.path || undefined}
            index={!p.path}
            element={
              p.public ? (
                p.element
              ) : (
                <RequireSession portal={props.name} kind={props.kind}>
                  {!p.permission || can?.(p.permission) ? (
                    p.element
                  ) : can ? (
                    <Forbidden page={p.nav?.label} permission={p.permission} home={base} />
                  ) : (
                    <PermissionsPending />
                  )}
                </RequireSession>
              )
            }
          />
        ))}
        <Route path="*" element={<NotFound home={base} />} />
      </Route>
    </Routes>
  );
}
