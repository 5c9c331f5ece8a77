import { api } from '../../lib/api';

/** One login attempt of an account (登录记录). */
export interface LoginEvent {
  id: string;
  method: string;
  result: string;
  clientId: string | null;
  ip: string | null;
  userAgent: string | null;
  at: string;
}

/** The signed-in account's last 50 login attempts, newest first. */
export const myLogins = () => api<LoginEvent[]>('/api/auth/me/logins?limit=50');

/** The portals by their OIDC client id, as people call them. */
export const CLIENT_LABEL: Record<string, string> = {
  'portal-personal': '个人网厅',
  'portal-unit': '单位网厅',
  'portal-console': '管理后台',
  'portal-institution': '医药机构工作台',
};

/** A user agent as a person names their device. */
export function device(ua: string | null): string {
  if (!ua) return '未知设备';
  if (/iPhone|iPad/.test(ua)) return 'iPhone / iPad';
  if (/Android/.test(ua)) return 'Android 手机';
  if (/Windows/.test(ua)) return 'Windows 电脑';
  if (/Mac OS X/.test(ua)) return 'Mac 电脑';
  if (/Linux/.test(ua)) return 'Linux 电脑';
  return ua.slice(0, 40);
}

/** Signs every other device of the signed-in account out (this one stays); answers how many. */
export const endOtherSessions = () => api<{ ended: number }>('/api/auth/me/sessions/end-others', { body: {} });

/** 登录监控 (staff with auth:session): the region's logins of the last `hours` hours. */
export interface Counts {
  success: number;
  failure: number;
  refused: number;
}
export interface LockedAccount {
  kind: 'person' | 'staff';
  id: string;
  name: string;
  failures: number;
  hardLocked: boolean;
  lockedUntil: string | null;
  lastFailureAt: string | null;
}
export interface LoginOverview {
  from: string;
  to: string;
  totals: Counts;
  hourly: Array<Counts & { hour: string }>;
  byMethod: Array<Counts & { method: string }>;
  byClient: Array<Counts & { clientId: string | null }>;
  suspiciousIps: Array<{ ip: string; failures: number; successes: number; accounts: number; lastAt: string }>;
  locked: LockedAccount[];
  lockedUnknownLoginIds: number;
}

export const loginOverview = (hours: number) => api<LoginOverview>(`/api/auth/logins/overview?hours=${hours}`);
