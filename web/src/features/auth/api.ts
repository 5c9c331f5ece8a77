import { api } from '../../lib/api';

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
  suspiciousIps: Array<{ ip: string; failures: number; successes: number; accounts: number; lastAt: string }>;
  locked: LockedAccount[];
  lockedUnknownLoginIds: number;
}

export const loginOverview = (hours: number) => api<LoginOverview>(`/api/auth/logins/overview?hours=${hours}`);
