import { api } from '../../lib/api';

/** Signs every other device of the signed-in account out (this one stays); answers how many. */
export const endOtherSessions = () => api<{ ended: number }>('/api/auth/me/sessions/end-others', { body: {} });
