/**
 * The accounts the auth center logs in, reached through the user center's service at request time
 * (a port, so tests and other deployments can supply another directory).
 */
import type { Context } from '../../platform/context.ts';
import { maskMobile, maskName } from '../../platform/privacy/index.ts';

export type AccountKind = 'person' | 'staff';

export interface AccountRef {
  kind: AccountKind;
  id: string;
  regionCode: string;
  status: string;
  name: string;
  mobile?: string;
  username?: string;
  /** The password was set by someone else (e.g. a staff account created in the console): change it at login. */
  mustChangePassword?: boolean;
  /** …or it is older than the age limit (that many days), which the change page then says. */
  passwordExpiredAfterDays?: number;
  /** False for an account that has never had a password (it signs in by SMS code, passkey or QR). */
  passwordSet?: boolean;
}

export interface AccountDirectory {
  /** Login identifier (mobile | resident ID | username; staff: username) → account, or null. */
  findByLogin(kind: AccountKind, regionCode: string, loginId: string): Promise<AccountRef | null>;
  findByMobile(kind: AccountKind, regionCode: string, mobile: string): Promise<AccountRef | null>;
  get(kind: AccountKind, regionCode: string, id: string): Promise<AccountRef | null>;
  /** Checks a password; with `null` it burns the same time and fails (no account oracle). */
  verifyPassword(account: AccountRef | null, password: string): Promise<boolean>;
  /**
   * Replaces a temporary password (clears `mustChangePassword`); throws an AppError when the new one breaks the
   * password policy. Audited by the directory.
   */
  changePassword?(account: AccountRef, newPassword: string, meta: { ip?: string; userAgent?: string }): Promise<void>;
}

interface UserServiceLike {
  findPersonByLogin(regionCode: string, loginId: string): Promise<PersonLike | undefined>;
  findPersonByMobile(regionCode: string, mobile: string): Promise<PersonLike | undefined>;
  findPersonById(regionCode: string, id: string): Promise<PersonLike | undefined>;
  verifyPassword(account: { regionCode: string; id: string }, password: string): Promise<boolean>;
  findPersonForLogin?(
    regionCode: string,
    loginId: string,
  ): Promise<{ person: PersonLike; passwordHash: string | null } | undefined>;
  verifyPasswordHash?(
    account: { regionCode: string; id: string },
    storedHash: string | null,
    password: string,
  ): Promise<boolean>;
  findStaffByUsername(username: string): Promise<StaffLike | undefined>;
  getStaffWithContact(staffId: string): Promise<(StaffLike & { contact: { mobile?: string } }) | undefined>;
  getStaff(staffId: string): Promise<StaffLike>;
  verifyStaffPassword(staffId: string, password: string): Promise<boolean>;
  changeStaffPassword(
    staffId: string,
    newPassword: string,
    actor: { ip?: string; userAgent?: string },
  ): Promise<unknown>;
  changeTemporaryPassword(
    regionCode: string,
    personId: string,
    newPassword: string,
    actor: { ip?: string; userAgent?: string },
  ): Promise<unknown>;
}
interface PersonLike {
  id: string;
  regionCode: string;
  name: string;
  mobile: string;
  username?: string;
  status: string;
  mustChangePassword?: boolean;
  passwordSet?: boolean;
}
interface StaffLike {
  id: string;
  regionCode: string;
  username: string;
  displayName: string;
  status: string;
  mustChangePassword?: boolean;
  passwordExpiredAfterDays?: number;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const person = (p: PersonLike | undefined): AccountRef | null =>
  p
    ? {
        kind: 'person',
        id: p.id,
        regionCode: p.regionCode,
        status: p.status,
        name: p.name,
        mobile: p.mobile,
        username: p.username,
        ...(p.mustChangePassword ? { mustChangePassword: true } : {}),
        ...(p.passwordSet === false ? { passwordSet: false } : {}),
      }
    : null;
const staff = (s: StaffLike | undefined, mobile?: string): AccountRef | null =>
  s
    ? {
        kind: 'staff',
        id: s.id,
        regionCode: s.regionCode,
        status: s.status,
        name: s.displayName,
        username: s.username,
        ...(mobile ? { mobile } : {}),
        ...(s.mustChangePassword ? { mustChangePassword: true } : {}),
        ...(s.passwordExpiredAfterDays ? { passwordExpiredAfterDays: s.passwordExpiredAfterDays } : {}),
      }
    : null;

/** The user center as the account directory. */
export function userCenterDirectory(ctx: Context): AccountDirectory {
  const users = () => {
    const u = (ctx.services as Record<string, unknown>).user as UserServiceLike | undefined;
    if (!u) throw new Error('user center is not registered');
    return u;
  };
  // The password hash read with the account by a login look-up, for the check that follows in the same request
  // (saves reading the row again). Keyed by the AccountRef object that look-up returned, which lives for that request.
  const loginHashes = new WeakMap<AccountRef, string | null>();
  return {
    async findByLogin(kind, regionCode, loginId) {
      if (kind === 'staff') return staff(await users().findStaffByUsername(loginId));
      const u = users();
      if (!u.findPersonForLogin || !u.verifyPasswordHash) return person(await u.findPersonByLogin(regionCode, loginId));
      const found = await u.findPersonForLogin(regionCode, loginId);
      const account = person(found?.person);
      if (account) loginHashes.set(account, found!.passwordHash);
      return account;
    },
    async findByMobile(kind, regionCode, mobile) {
      if (kind === 'staff') return null;
      return person(await users().findPersonByMobile(regionCode, mobile));
    },
    async get(kind, regionCode, id) {
      if (!UUID_RE.test(id)) return null;
      if (kind === 'staff') {
        // with the alert mobile, where a staff member's step-up code goes (not read at login: no code is sent there)
        const found = await users().getStaffWithContact(id);
        return staff(found, found?.contact.mobile);
      }
      return person(await users().findPersonById(regionCode, id));
    },
    async verifyPassword(account, password) {
      if (account?.kind === 'staff') return users().verifyStaffPassword(account.id, password);
      const u = users();
      if (account && loginHashes.has(account) && u.verifyPasswordHash) {
        return u.verifyPasswordHash(account, loginHashes.get(account) ?? null, password);
      }
      // A non-UUID id makes the user center hash against its dummy: same cost, always false.
      return u.verifyPassword(account ?? { regionCode: '000000', id: 'no-such-account' }, password);
    },
    async changePassword(account, newPassword, meta) {
      if (account.kind === 'staff') await users().changeStaffPassword(account.id, newPassword, meta);
      else await users().changeTemporaryPassword(account.regionCode, account.id, newPassword, meta);
    },
  };
}

/** Claims for the ID token / userinfo (masked: the portals show them, full data stays behind the APIs). */
export function accountClaims(a: AccountRef): Record<string, unknown> {
  return {
    name: a.kind === 'person' ? maskName(a.name) : a.name,
    ...(a.username ? { preferred_username: a.username } : {}),
    ...(a.mobile ? { phone_number: maskMobile(a.mobile) } : {}),
    kind: a.kind,
    region: a.regionCode,
  };
}
