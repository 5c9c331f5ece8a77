import { useQuery } from '@tanstack/react-query';
import { api } from './api';
import { useSession } from './session';

export interface StaffMe {
  id: string;
  displayName: string;
  permissions: string[];
  /** when the password ages out (none when passwords never do) */
  passwordExpiresAt?: string;
}

/** The signed-in staff member's own account (`/api/user/admin/me`), one cache entry for every page that reads it. */
export function useStaffMe<T extends StaffMe = StaffMe>() {
  const session = useSession();
  return useQuery({
    queryKey: ['staff-me', session?.subject, session?.regionCode],
    queryFn: () => api<T>('/api/user/admin/me'),
    enabled: session?.kind === 'staff',
    staleTime: 60_000,
  });
}

/**
 * What the signed-in staff member may do in the acting region, as the server decides it (`/api/user/admin/me`), so
 * the console offers only what will not be refused. `can` is undefined until known; a person's session can nothing.
 */
export function useStaffPermissions(): {
  can: ((anyOf: string | string[]) => boolean) | undefined;
  me?: StaffMe;
  /** why the permissions could not be read, and how to try again */
  failed?: { error: unknown; retry: () => void };
} {
  const session = useSession();
  const { data, error, refetch } = useStaffMe();
  if (session?.kind !== 'staff') return { can: () => false };
  if (!data) return { can: undefined, failed: error ? { error, retry: () => void refetch() } : undefined };
  const held = new Set(data.permissions);
  return { can: (anyOf) => held.has('*') || [anyOf].flat().some((p) => held.has(p)), me: data };
}
