import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, forbidden, unauthorized } from './errors.ts';

export type PrincipalKind = 'person' | 'staff' | 'channel';

/** Who is calling. Persons and staff come from access tokens; channels from signed envelopes. */
export interface Principal {
  kind: PrincipalKind;
  /** person/staff: account id; channel: appId */
  subject: string;
  /** The principal's home region (persons, channels) or the region the staff member is acting in. */
  regionCode: string;
  /** Authentication context class: 'pwd' (one factor) < 'mfa' (second factor or passkey). */
  acr?: string;
  amr?: string[];
  sessionId?: string;
  scopes?: string[];
  /** For persons acting for a unit (agent) — the unit they switched to. */
  unitId?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route authenticates its callers itself (e.g. the OIDC provider's own opaque tokens at /oidc/me): the
     * platform does not read its Authorization header as a platform access token.
     */
    ownAuthentication?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
    /** The request's region: from the principal, or (staff, public pages) the X-Region-Code header. */
    regionCode: string;
  }
}

/** Path prefixes whose routes authenticate their callers themselves (the OIDC provider). */
export const OWN_AUTHENTICATION_PREFIXES = ['/oidc/'];

/** True when the platform's bearer-token authentication must leave this request alone (see ownAuthentication). */
export function ownsAuthentication(req: FastifyRequest): boolean {
  if (req.routeOptions?.config?.ownAuthentication) return true;
  const url = req.url;
  return OWN_AUTHENTICATION_PREFIXES.some((p) => url.startsWith(p));
}

/** Resolves staff permissions in a region; the user center provides the real one (RBAC). */
export interface PermissionResolver {
  permissionsOf(staffId: string, regionCode: string): Promise<Set<string>>;
}

export const ACR_LEVELS: Record<string, number> = { pwd: 1, sms: 1, mfa: 2, passkey: 2, cert: 2 };

export function acrLevel(acr?: string): number {
  return acr ? (ACR_LEVELS[acr] ?? 0) : 0;
}

export function requirePrincipal(req: FastifyRequest, ...kinds: PrincipalKind[]): Principal {
  const p = req.principal;
  if (!p) throw unauthorized();
  if (kinds.length > 0 && !kinds.includes(p.kind))
    throw forbidden('PRINCIPAL_KIND_FORBIDDEN', '当前身份无权访问此接口');
  return p;
}

/** Step-up (RFC 9470): the session must have been authenticated at least at `acr`. */
export function requireAcr(req: FastifyRequest, acr: 'mfa'): void {
  const p = requirePrincipal(req);
  if (acrLevel(p.acr) < acrLevel(acr)) {
    throw new AppError(401, 'STEP_UP_REQUIRED', '此操作需要更高等级的身份认证', '请使用短信验证码或通行密钥再次验证', {
      extra: { acr_values: acr },
    });
  }
}

type Guard = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** preHandler: the caller must be one of these kinds. */
export const authenticated =
  (...kinds: PrincipalKind[]): Guard =>
  async (req) => {
    requirePrincipal(req, ...kinds);
  };

/** preHandler: staff with `permission` in the request's region (RBAC is per region). */
export const staffPermission =
  (resolver: () => PermissionResolver, permission: string): Guard =>
  async (req) => {
    const p = requirePrincipal(req, 'staff');
    const perms = await resolver().permissionsOf(p.subject, req.regionCode);
    if (!perms.has(permission) && !perms.has('*')) {
      throw forbidden('PERMISSION_DENIED', '无权执行此操作', `需要权限 ${permission}（统筹区 ${req.regionCode}）`);
    }
  };

export const denyAllPermissions: PermissionResolver = { permissionsOf: async () => new Set() };
