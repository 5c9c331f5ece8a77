import { Card } from 'antd';
import type { ReactNode } from 'react';
import { type AccountOf, LockPanel, LoginHistoryPanel, PasskeysPanel, SessionsPanel } from '../auth/SecurityPanels';

/**
 * SLOT for the unified authentication center: panels shown on the personal hall's 账号安全 page and a staff member's
 * 我的账号, below 修改密码.
 * The auth center adds its panels here, one line each (build the components in web/src/features/auth/), e.g.
 *   { key: 'passkeys', title: '通行密钥（指纹/面容）', element: <PasskeysPanel /> },
 *   { key: 'sessions', title: '登录设备与会话', element: <SessionsPanel /> },
 *   { key: 'login-history', title: '登录记录', element: <LoginHistoryPanel /> },
 */
const securityPanels: Array<{ key: string; title: string; element: ReactNode }> = [
  { key: 'passkeys', title: '通行密钥（指纹/面容）', element: <PasskeysPanel /> },
  { key: 'sessions', title: '登录设备与会话', element: <SessionsPanel /> },
  { key: 'login-history', title: '登录记录', element: <LoginHistoryPanel /> },
];

/** Those panels, a card each, in the page's column. */
export function SecurityPanelCards() {
  return securityPanels.map((p) => (
    <Card key={p.key} title={p.title}>
      {p.element}
    </Card>
  ));
}

/** SLOT for the auth center: panels in the console's account details, each shown to staff with its permission. */
export const accountPanels = (
  account: AccountOf,
): Array<{ key: string; title: string; permission: string; element: ReactNode }> => [
  { key: 'lock', title: '登录锁定', permission: 'auth:session', element: <LockPanel account={account} /> },
  { key: 'sessions', title: '登录中的设备', permission: 'auth:session', element: <SessionsPanel account={account} /> },
  {
    key: 'login-history',
    title: '登录记录',
    permission: 'auth:session',
    element: <LoginHistoryPanel account={account} />,
  },
];
