import { useSyncExternalStore } from 'react';

export interface Session {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  expiresAt?: number;
  /** person | staff */
  kind: string;
  subject: string;
  name?: string;
  regionCode: string;
  portal: string;
}

const KEY = 'yibao.session';
const listeners = new Set<() => void>();
let cached: Session | undefined | null = null;

export function getSession(): Session | undefined {
  if (cached === null) {
    const raw = typeof sessionStorage === 'undefined' ? null : sessionStorage.getItem(KEY);
    cached = raw ? (JSON.parse(raw) as Session) : undefined;
  }
  return cached;
}

export function setSession(session: Session | undefined): void {
  cached = session;
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
  for (const l of listeners) l();
}

export function useSession(): Session | undefined {
  return useSyncExternalStore(
    (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    getSession,
    () => undefined,
  );
}
