import type { ReactNode } from 'react';
import type { NavItem } from '../components/PortalShell';

/** A page of a portal: its path under the portal, its element, and its menu entry (if any). */
export interface PortalPage {
  path: string;
  element: ReactNode;
  nav?: Omit<NavItem, 'path'>;
  /** Shown without signing in. */
  public?: boolean;
}
