/**
 * What the e-voucher center needs from the centers and ports it depends on, as narrow structural types, so the
 * center builds and tests while those are written in parallel. Looked up at request time (never in init).
 */

import type { CoreZone } from '../../integration/core-zone/port.ts';
import type { Context } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';

/** The slice of the user center (`UserService`) we use. */
export interface PersonDirectory {
  getPerson(
    regionCode: string,
    id: string,
  ): Promise<{ id: string; regionCode: string; name: string; residentId: string; status?: string } | undefined | null>;
}

/** The slice of the core-zone port we use. */
export type CoreZoneSlice = Pick<CoreZone, 'findPerson' | 'insuranceStatus' | 'useEcTokenResolver' | 'getInstitution'>;

/** A login method as the auth center's registerLoginMethod slot takes it. */
export interface LoginMethodSlot {
  amr: string;
  label: string;
  acr: 'pwd' | 'mfa';
  renderPanel(input: { uid: string; csrf: string; regionCode: string }): string;
  complete(input: {
    regionCode: string;
    form: Record<string, string>;
    ip: string;
  }): Promise<{ accountId: string; kind: 'person' | 'staff'; regionCode: string } | null>;
}

/** The slice of the auth center (`AuthService`) we use. */
export interface AuthSlice {
  channelAuth(opts?: { scope?: string; types?: string[] }): (req: any, reply: any) => Promise<unknown>;
  registerLoginMethod?(method: LoginMethodSlot): void;
  listChannels?(regionCode: string): Promise<Array<{ appId: string; name: string; type: string; status: string }>>;
  /** Refuses a one-factor session that does not show the password again (a grant that outlives the session). */
  confirmOwner?(req: any, reply: any, password: string | undefined): Promise<unknown>;
}

const services = (ctx: Context) => ctx.services as Record<string, unknown>;

export function personDirectory(ctx: Context): PersonDirectory {
  const s = services(ctx).user as PersonDirectory | undefined;
  if (!s) throw new AppError(503, 'EVOUCHER_USER_CENTER_UNAVAILABLE', '用户中心暂不可用');
  return s;
}

export function coreZone(ctx: Context): CoreZoneSlice {
  const s = services(ctx).coreZone as CoreZoneSlice | undefined;
  if (!s) throw new AppError(503, 'EVOUCHER_CORE_ZONE_UNAVAILABLE', '核心区服务暂不可用');
  return s;
}

export const authSlice = (ctx: Context) => services(ctx).auth as AuthSlice | undefined;
