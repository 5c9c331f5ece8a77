import type { Logger } from 'pino';
import type { PermissionResolver } from './auth.ts';
import type { Config } from './config.ts';
import type { Database } from './db/index.ts';
import type { EventBus } from './events.ts';
import type { JobRunner } from './jobs.ts';
import type { Metrics } from './metrics.ts';
import type { Privacy } from './privacy/index.ts';
import type { RegionService } from './region.ts';
import type { AccessTokens, KeyStore } from './tokens.ts';

/**
 * The services centers export to each other. Each center augments this interface:
 *   declare module '../../platform/context.ts' { interface Services { user: UserService } }
 */
// biome-ignore lint/suspicious/noEmptyInterface: augmented by the centers
export interface Services {}

/** Everything a center is built from. Built once by the composition root (app.ts). */
export interface Context {
  config: Config;
  db: Database;
  log: Logger;
  regions: RegionService;
  privacy: Privacy;
  jobs: JobRunner;
  events: EventBus;
  metrics: Metrics;
  keys: KeyStore;
  tokens: AccessTokens;
  publicUrl: string;
  /** Set by the user center; staff routes ask it for permissions. */
  permissions: PermissionResolver;
  /** Set by the auth center: whether a token's session is still active (remote sign-out). */
  sessionActive?: (sessionId: string, regionCode: string) => Promise<boolean>;
  services: Partial<Services>;
}

export function service<K extends keyof Services>(ctx: Context, name: K): Services[K] {
  const s = ctx.services[name];
  if (!s) throw new Error(`center service "${String(name)}" is not registered (check the order in centers/index.ts)`);
  return s as Services[K];
}
