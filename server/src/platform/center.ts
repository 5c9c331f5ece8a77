import type { Context } from './context.ts';
import type { App } from './http.ts';

/** A middle-office center: one module with its own tables, service and routes. */
export interface Center {
  /** OpenAPI tag, e.g. 'user', 'auth', 'evoucher'. */
  name: string;
  /** Chinese description shown in the API catalogue. */
  description: string;
  /** Builds the center's service (register it in ctx.services) and its job handlers. Runs in list order. */
  init?(ctx: Context): Promise<void> | void;
  /** Declares the HTTP routes. */
  routes?(app: App, ctx: Context): Promise<void> | void;
  /** Loads demo data into an empty database (idempotent). */
  seed?(ctx: Context): Promise<void>;
  /** Demo accounts this center's seed created, printed at start (`npm start`) and listed in the README. */
  demoAccounts?(ctx: Context): DemoAccount[];
}

export interface DemoAccount {
  who: string;
  where: string;
  login: string;
}
