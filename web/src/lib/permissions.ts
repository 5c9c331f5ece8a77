import { useQuery } from '@tanstack/react-query';
import { api } from './api';
import { useSession } from './session';

interface StaffMe {
  id: string;
  displayName: string;
  permissions: string[];
  /** when the password ages out (none when passwords never do) */
  passwordExpiresAt?: string;
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
  const staff = session?.kind === 'staff';
  const { data, error, refetch } = useQuery({
    queryKey: ['staff-me', session?.subject, session?.regionCode],
    queryFn: () => api<StaffMe>('/api/user/admin/me'),
    enabled: staff,
    staleTime: 60_000,
  });
  if (!staff) return { can: () => false };
  if (!data) return { can: undefined, failed: error ? { error, retry: () => void refetch() } : undefined };
  const held = new Set(data.permissions);
  return { can: (anyOf) => held.has('*') || [anyOf].flat().some((p) => held.has(p)), me: data };
}
