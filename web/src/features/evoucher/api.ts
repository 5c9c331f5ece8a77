export interface Voucher {
  id: string;
  regionCode: string;
  status: 'active' | 'suspended';
  name: string;
  residentId: string;
  device: { id?: string; model?: string; os?: string };
  activatedAt: string;
  updatedAt: string;
}

export interface IssuedCode {
  token: string;
  expiresAt: string;
  ttlSeconds: number;
  keyId: number;
  alg: 'SM2' | 'Ed25519';
  qrVersion: number;
}

export interface Use {
  id: string;
  businessType: string;
  businessTypeName: string;
  institutionCode: string;
  /** the core zone registry's name; null when it could not be asked */
  institutionName: string | null;
  operator: string | null;
  usedAt: string;
}

export interface Authorization {
  id: string;
  appId: string;
  channelName: string;
  scopes: string[];
  expiresAt: string;
  revokedAt: string | null;
  createdAt: string;
  state: 'active' | 'revoked' | 'expired';
}

export interface LivenessStart {
  sessionId: string;
  challenge: string;
  provider: string;
  sandbox: boolean;
  captureUrl: string;
  expiresAt: string;
}

export const SCOPE_LABELS: Record<string, string> = {
  identity: '身份信息（脱敏）',
  insurance: '参保信息',
  payment: '医保移动支付',
};

export const STATUS_LABELS = { active: '正常', suspended: '已挂失/暂停' } as const;

export { dateTime } from '../../lib/time';

/** A stable id for this browser, recorded as the device the voucher is bound to. */
export function deviceInfo(): { id: string; model?: string; os?: string } {
  let id = localStorage.getItem('yibao.deviceId');
  if (!id) {
    id = crypto.randomUUID();
    localStorage.setItem('yibao.deviceId', id);
  }
  const ua = navigator.userAgent;
  const os = /Android/i.test(ua)
    ? 'Android'
    : /iPhone|iPad/i.test(ua)
      ? 'iOS'
      : /Windows/i.test(ua)
        ? 'Windows'
        : undefined;
  return { id, model: ua.slice(0, 120), ...(os ? { os } : {}) };
}
