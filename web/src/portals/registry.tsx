import { type ComponentType, isValidElement, type LazyExoticComponent, lazy, type ReactNode } from 'react';
import type { NavItem } from '../components/PortalShell';

/** A page of a portal: its path under the portal, its element, and its menu entry (if any). */
export interface PortalPage {
  path: string;
  element: ReactNode;
  nav?: Omit<NavItem, 'path'>;
  /** Shown without signing in. */
  public?: boolean;
  /**
   * Staff permission the page's data needs (any one of a list); without it the page is left out of the menu and says
   * so when opened.
   */
  permission?: string | string[];
}

/**
 * Page components whose code is fetched on their first visit, so that a phone opening the hall downloads the home
 * and not every page of every portal (the console's charts, the workstation's scanner): `const { A, B } =
 * lazyPages(() => import('./X'), 'A', 'B')`. Each has `preload()` for fetching ahead.
 */
export function lazyPages<M extends Record<K, ComponentType<any>>, K extends keyof M & string>(
  load: () => Promise<M>,
  ...names: K[]
) {
  const page = (name: K) =>
    Object.assign(
      lazy(() => load().then((m) => ({ default: m[name] }))),
      { preload: load },
    );
  return Object.fromEntries(names.map((n) => [n, page(n)])) as {
    [P in K]: LazyExoticComponent<M[P]> & { preload: () => Promise<M> };
  };
}

/**
 * Fetches the code of these pages a few seconds after the portal opened, when the browser is idle, so that the tabs
 * a person taps next (医保码 at the counter) open at once without competing with the first screen for a slow
 * network; not when the person asked the browser to save data.
 */
export function preloadWhenIdle(pages: PortalPage[], afterMs = 3000): () => void {
  if ((navigator as Navigator & { connection?: { saveData?: boolean } }).connection?.saveData) return () => {};
  let idle: number | undefined;
  const run = () => {
    for (const p of pages) {
      const type = isValidElement(p.element) ? (p.element.type as { preload?: () => Promise<unknown> }) : undefined;
      void type?.preload?.().catch(() => {}); // a failed prefetch is retried when the page is opened
    }
  };
  const timer = setTimeout(() => {
    if (typeof requestIdleCallback === 'function') idle = requestIdleCallback(run, { timeout: 5000 });
    else run();
  }, afterMs);
  return () => {
    clearTimeout(timer);
    if (idle !== undefined) cancelIdleCallback(idle);
  };
}
