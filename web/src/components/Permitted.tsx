import type { ReactNode } from 'react';
import { useStaffPermissions } from '../lib/permissions';
import { ErrorState, Loading } from './States';

/** Its children only for staff whose roles hold the permission: the console does not offer what would be refused. */
export function Permitted({ permission, children }: { permission: string; children: ReactNode }) {
  return useStaffPermissions().can?.(permission) ? children : null;
}

/** While the staff member's permissions are not known: loading, or why they could not be read, with 重试. */
export function PermissionsPending() {
  const { failed } = useStaffPermissions();
  return failed ? <ErrorState error={failed.error} onRetry={failed.retry} title="暂时无法确认您的权限" /> : <Loading />;
}
