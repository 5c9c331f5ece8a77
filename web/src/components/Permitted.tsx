import type { ReactNode } from 'react';
import { useStaffPermissions } from '../lib/permissions';

/** Its children only for staff whose roles hold the permission: the console does not offer what would be refused. */
export function Permitted({ permission, children }: { permission: string; children: ReactNode }) {
  return useStaffPermissions().can?.(permission) ? children : null;
}
