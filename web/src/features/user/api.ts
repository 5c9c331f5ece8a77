import { api } from '../../lib/api';

export interface Person {
  id: string;
  regionCode: string;
  name: string;
  residentId: string;
  mobile: string;
  username?: string;
  email?: string;
  status: 'active' | 'disabled' | 'deactivated';
  passwordSet: boolean;
  createdAt: string;
}

export interface Unit {
  id: string;
  regionCode: string;
  uscc: string;
  name: string;
  unitType: UnitType;
  legalRepName: string;
  status: 'active' | 'disabled';
  usccOverrideBy?: string;
  createdAt: string;
}

export interface Membership {
  unit: Unit;
  role: AgentRole;
  expiresAt?: string;
}

export interface Agent {
  unitId: string;
  personId: string;
  role: AgentRole;
  expiresAt?: string;
  grantedBy: string;
  grantedAt: string;
  active: boolean;
  person: Person;
  unit?: Unit;
}

export interface Staff {
  id: string;
  regionCode: string;
  username: string;
  displayName: string;
  status: 'active' | 'disabled';
  /** The password was set in the console, or is past its age: the next login asks for a new one. */
  mustChangePassword?: boolean;
  /** Set when the password is older than the staff password age limit (that many days). */
  passwordExpiredAfterDays?: number;
  passwordChangedAt: string;
  /** when the password ages out (none when passwords never do) */
  passwordExpiresAt?: string;
  /** where the account's security alerts go, masked */
  mobile?: string;
  email?: string;
  createdAt: string;
  grants: Array<{ regionCode: string; roleCode: string }>;
}

export interface Role {
  code: string;
  name: string;
  permissions: string[];
  builtin: boolean;
}

export type AgentRole = 'admin' | 'handler' | 'viewer';
export type UnitType =
  | 'insured_employer'
  | 'medical_institution'
  | 'retail_pharmacy'
  | 'pharma_company'
  | 'consumables_company'
  | 'distribution_company'
  | 'other';

export const UNIT_TYPE_LABELS: Record<UnitType, string> = {
  insured_employer: '参保企业',
  medical_institution: '医疗机构',
  retail_pharmacy: '零售药店',
  pharma_company: '医药企业',
  consumables_company: '耗材企业',
  distribution_company: '配送企业',
  other: '其他',
};

export const AGENT_ROLE_LABELS: Record<AgentRole, string> = { admin: '管理员', handler: '经办', viewer: '查看' };

export const PERSON_STATUS: Record<Person['status'], { label: string; color: string }> = {
  active: { label: '正常', color: 'green' },
  disabled: { label: '已停用', color: 'red' },
  deactivated: { label: '已注销', color: 'default' },
};

/** SMS purposes (same strings the user center verifies). */
export type OtpPurpose = 'register' | 'reset-password' | 'change-mobile' | 'deactivate';

/** Asks the unified authentication center to text a one-time code (POST /api/auth/otp). */
export async function sendOtp(mobile: string, purpose: OtpPurpose): Promise<void> {
  await api('/api/auth/otp', { body: { mobile, purpose } });
}

export { dateTime } from '../../lib/time';

/**
 * Idempotency keys per request body: resending the same body (a retry after a network error) reuses its key, while a
 * corrected body gets a new one (the platform stores 4xx answers too, and a reused key with a new body is a 422).
 */
export function idempotencyKeys(): (body: unknown) => string {
  const keys = new Map<string, string>();
  return (body) => {
    const k = JSON.stringify(body);
    let key = keys.get(k);
    if (!key) {
      key = crypto.randomUUID();
      keys.set(k, key);
    }
    return key;
  };
}
