import type { ReactNode } from 'react';

/** Service tiles of the personal hall's home page; `service` must be enabled in the region's configuration. */
export const personalServices: Array<{ path: string; label: string; icon: ReactNode; service: string }> = [];
