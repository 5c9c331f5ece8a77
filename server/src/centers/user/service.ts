/** User center use cases: persons, units, agents, staff and RBAC. No HTTP types in here. */
import { type AuditEntry, appendAudit } from '../../platform/audit.ts';
import type { PermissionResolver } from '../../platform/auth.ts';
import type { Context } from '../../platform/context.ts';
import { type Database, type Executor, sql, textArray } from '../../platform/db/index.ts';
import { AppError, conflict, notFound } from '../../platform/errors.ts';
import {
  isValidMobile,
  isValidResidentId,
  isValidUscc,
  maskEmail,
  maskMobile,
  maskName,
  maskResidentId,
  type Privacy,
} from '../../platform/privacy/index.ts';
import { checkPasswordPolicy, type PasswordHasher } from './password.ts';

export type PersonStatus = 'active' | 'disabled' | 'deactivated';
export const UNIT_TYPES = [
  'insured_employer',
  'medical_institution',
  'retail_pharmacy',
  'pharma_company',
  'consumables_company',
  'distribution_company',
  'other',
] as const;
export type UnitType = (typeof UNIT_TYPES)[number];
export const UNIT_TYPE_LABELS: Record<UnitType, string> = {
  insured_employer: '参保企业',
  medical_institution: '医疗机构',
  retail_pharmacy: '零售药店',
  pharma_company: '医药企业',
  consumables_company: '耗材企业',
  distribution_company: '配送企业',
  other: '其他',
};
export const AGENT_ROLES = ['admin', 'handler', 'viewer'] as const;
export type AgentRole = (typeof AGENT_ROLES)[number];
const AGENT_ROLE_TEXT: Record<AgentRole, string> = { admin: '管理员', handler: '经办', viewer: '查看' };
/** Days before a grant's expiry that the agent and the unit's admins are told. */
export const AGENT_EXPIRY_NOTICE_DAYS = 7;
/** Staff hear this many days ahead that their password ages out (STAFF_PASSWORD_MAX_AGE_DAYS). */
export const STAFF_PASSWORD_NOTICE_DAYS = 7;
const REMINDER_BATCH = 500;

export interface PersonAccount {
  id: string;
  regionCode: string;
  name: string;
  residentId: string;
  mobile: string;
  username?: string;
  email?: string;
  status: PersonStatus;
  passwordSet: boolean;
  /** The password was set by a clerk: the login asks for a new one first. */
  mustChangePassword?: boolean;
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

export interface Agent {
  regionCode: string;
  unitId: string;
  personId: string;
  role: AgentRole;
  expiresAt?: string;
  grantedBy: string;
  grantedAt: string;
  /** false once expires_at has passed */
  active: boolean;
}

export interface UnitMembership {
  unit: Unit;
  role: AgentRole;
  expiresAt?: string;
}

export interface StaffAccount {
  id: string;
  regionCode: string;
  username: string;
  displayName: string;
  status: 'active' | 'disabled';
  /** The password was set by someone else (console), or is past its age: the next login asks for a new one. */
  mustChangePassword: boolean;
  /** Set when the password is older than the staff password age limit (that many days). */
  passwordExpiredAfterDays?: number;
  passwordChangedAt: string;
  /** When the password ages out (none when passwords never do). */
  passwordExpiresAt?: string;
  /** Where the account's security alerts go, masked; absent when none is set. */
  mobile?: string;
  email?: string;
  createdAt: string;
}

/** A staff account's alert addresses in clear, for the message center only. */
export interface StaffContact {
  mobile?: string;
  email?: string;
}

export interface Role {
  code: string;
  name: string;
  permissions: string[];
  builtin: boolean;
}

export interface PermissionDecl {
  code: string;
  name: string;
}

/** Who performs an action (for the audit trail). */
export interface Actor {
  kind: AuditEntry['actorKind'];
  id: string;
  ip?: string;
  userAgent?: string;
}

export const SYSTEM: Actor = { kind: 'system', id: 'user-center' };

/** How a person's password changed, as the security notice words it. */
const PASSWORD_CHANGE_TEXT = {
  changed: '由您本人修改',
  reset: '通过短信验证重置',
  temporary: '由医保经办人员重置为临时密码',
} as const;

/** Permissions the user center itself uses; platform permissions are declared here too (platform has no catalogue). */
export const USER_PERMISSIONS: PermissionDecl[] = [
  { code: 'user:read', name: '查询个人、单位、经办人（脱敏）' },
  { code: 'user:unmask', name: '查看个人信息明文（需说明用途，留痕）' },
  { code: 'user:manage', name: '停用、启用、解锁、重置个人账号' },
  { code: 'user:admin', name: '管理工作人员账号与角色' },
  { code: 'region:manage', name: '修改统筹区配置' },
  { code: 'ops:read', name: '查看任务队列' },
  { code: 'ops:manage', name: '重试死信任务' },
  { code: 'audit:read', name: '查看与校验审计日志' },
];

export const DEMO_ROLES: Array<Omit<Role, 'builtin'>> = [
  { code: 'superadmin', name: '超级管理员', permissions: ['*'] },
  { code: 'clerk', name: '经办员', permissions: ['user:read'] },
  { code: 'auditor', name: '审计员', permissions: ['user:read', 'audit:read'] },
  { code: 'user-admin', name: '用户管理员', permissions: ['user:read', 'user:unmask', 'user:manage', 'user:admin'] },
];

const RESIDENT_ID_RE = /^\d{17}[\dXx]$/;
const MOBILE_RE = /^1\d{10}$/;
const USERNAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{3,31}$/;
const NAME_RE = /^[\p{Script=Han}A-Za-z·•.\s]{2,30}$/u;
const PERMISSION_RE = /^(\*|[a-z][a-z0-9_-]*:[a-z][a-z0-9_.-]*)$/;
const ROLE_RE = /^[a-z][a-z0-9_-]{1,39}$/;
const PERMISSION_TTL_MS = 5_000;

const fieldError = (status: number, code: string, title: string, field: string, message: string) =>
  new AppError(status, code, title, message, { errors: [{ field, message }] });

interface PersonRow {
  region_code: string;
  id: string;
  name_enc: string;
  resident_id_enc: string;
  mobile_enc: string;
  username: string | null;
  email_enc: string | null;
  password_hash: string | null;
  must_change_password?: boolean;
  status: PersonStatus;
  created_at: Date | string;
}

interface UnitRow {
  region_code: string;
  id: string;
  uscc: string;
  name: string;
  unit_type: UnitType;
  legal_rep_name_enc: string;
  status: 'active' | 'disabled';
  uscc_override_by: string | null;
  created_at: Date | string;
}

interface StaffRow {
  region_code: string;
  id: string;
  username: string;
  display_name: string;
  password_hash: string;
  status: 'active' | 'disabled';
  must_change_password?: boolean;
  password_changed_at: Date | string;
  mobile_enc?: string | null;
  email_enc?: string | null;
  password_reminded_at?: Date | string | null;
  created_at: Date | string;
}

const iso = (v: Date | string | null | undefined) => (v == null ? undefined : new Date(v).toISOString());
const isUuid = (v: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);

function uniqueViolation(err: unknown): string | undefined {
  let e = err as { code?: string; constraint?: string; cause?: unknown; message?: string } | undefined;
  for (let i = 0; e && i < 4; i++) {
    if (e.code === '23505') return e.constraint ?? e.message ?? 'unique';
    e = e.cause as typeof e;
  }
  return undefined;
}

/** Masked view of a person for lists and default reads. */
export function maskPerson(p: PersonAccount): PersonAccount {
  return {
    ...p,
    name: maskName(p.name),
    residentId: maskResidentId(p.residentId),
    mobile: maskMobile(p.mobile),
    ...(p.email ? { email: maskEmail(p.email) } : {}),
  };
}

export function maskUnit(u: Unit): Unit {
  return { ...u, legalRepName: maskName(u.legalRepName) };
}

export class UserService implements PermissionResolver {
  private readonly db: Database;
  private readonly privacy: Privacy;
  readonly hasher: PasswordHasher;
  private readonly permissionCache = new Map<string, { at: number; value: Set<string> }>();
  private readonly declared = new Map<string, { code: string; name: string; center: string }>();
  private readonly log?: Context['log'];
  /** Other centers' services (looked up at call time; absent when the user center runs alone). */
  private readonly services?: Context['services'];

  /** Days a staff password lasts before the next login asks for a new one (等保: passwords change periodically). */
  private readonly staffPasswordMaxAgeDays: number;

  constructor(
    ctx: Pick<Context, 'db' | 'privacy'> & Partial<Pick<Context, 'log' | 'services'>>,
    hasher: PasswordHasher,
    policy: { staffPasswordMaxAgeDays?: number } = {},
  ) {
    this.staffPasswordMaxAgeDays = policy.staffPasswordMaxAgeDays ?? 0;
    this.db = ctx.db;
    this.log = ctx.log;
    this.services = ctx.services;
    this.privacy = ctx.privacy;
    this.hasher = hasher;
  }

  // ---------------------------------------------------------------- persons

  private personFromRow(r: PersonRow): PersonAccount {
    const d = (v: string) => this.privacy.cipher.decrypt(v);
    return {
      id: r.id,
      regionCode: r.region_code,
      name: d(r.name_enc),
      residentId: d(r.resident_id_enc),
      mobile: d(r.mobile_enc),
      ...(r.username ? { username: r.username } : {}),
      ...(r.email_enc ? { email: d(r.email_enc) } : {}),
      status: r.status,
      passwordSet: r.password_hash != null,
      ...(r.must_change_password ? { mustChangePassword: true } : {}),
      createdAt: iso(r.created_at)!,
    };
  }

  private bidx(value: string, domain: 'resident_id' | 'mobile' | 'person_name') {
    return this.privacy.blindIndex(value, domain);
  }

  private namePrefixes(name: string): string[] {
    const chars = [...name.trim()];
    const out: string[] = [];
    for (let i = 1; i <= Math.min(chars.length, 6); i++) out.push(this.bidx(chars.slice(0, i).join(''), 'person_name'));
    return out;
  }

  /** Validates and normalises the identity fields; each failure is a 400 naming its field. */
  validatePersonInput(input: { name: string; residentId: string; mobile: string; username?: string; email?: string }) {
    const name = input.name.trim().replace(/\s+/g, ' ');
    if (!NAME_RE.test(name)) {
      throw fieldError(400, 'USER_NAME_INVALID', '姓名格式不正确', 'name', '姓名应为 2–30 个汉字或字母');
    }
    const residentId = input.residentId.trim().toUpperCase();
    if (!isValidResidentId(residentId)) {
      throw fieldError(
        400,
        'USER_RESIDENT_ID_INVALID',
        '身份证号码无效',
        'residentId',
        '身份证号码格式、出生日期或校验位不正确（GB 11643）',
      );
    }
    const mobile = input.mobile.trim();
    checkMobile(mobile);
    if (input.username !== undefined && !USERNAME_RE.test(input.username)) {
      throw fieldError(
        400,
        'USER_USERNAME_INVALID',
        '用户名格式不正确',
        'username',
        '用户名以字母开头，4–32 位字母、数字、下划线、点或短横线',
      );
    }
    if (input.email !== undefined) checkEmail(input.email);
    return { name, residentId, mobile, username: input.username, email: input.email };
  }

  /** Registers an individual. Password optional (accounts created by staff or other centers log in by SMS). */
  async createPerson(
    input: {
      regionCode: string;
      name: string;
      residentId: string;
      mobile: string;
      password?: string;
      username?: string;
      email?: string;
    },
    actor: Actor = SYSTEM,
  ): Promise<PersonAccount> {
    const v = this.validatePersonInput(input);
    if (input.password !== undefined) checkPasswordPolicy(input.password, v);
    const passwordHash = input.password !== undefined ? await this.hasher.hash(input.password) : null;
    const enc = (s: string) => this.privacy.cipher.encrypt(s);
    const residentBidx = this.bidx(v.residentId, 'resident_id');
    const mobileBidx = this.bidx(v.mobile, 'mobile');
    try {
      return await this.db.tx(async (tx) => {
        await this.assertPersonFree(tx, input.regionCode, { residentBidx, mobileBidx, username: v.username });
        const [row] = await tx.q<PersonRow>(sql`insert into person_account (region_code, name_enc, name_prefix_bidx,
            resident_id_enc, resident_id_bidx, mobile_enc, mobile_bidx, username, email_enc, password_hash,
            password_changed_at)
          values (${input.regionCode}, ${enc(v.name)}, ${textArray(this.namePrefixes(v.name))}, ${enc(v.residentId)},
            ${residentBidx}, ${enc(v.mobile)}, ${mobileBidx}, ${v.username ?? null}, ${v.email ? enc(v.email) : null},
            ${passwordHash}, ${passwordHash ? new Date().toISOString() : null})
          returning *`);
        const person = this.personFromRow(row);
        // Broadcasts to the region's persons reach whoever registers later too (message center's recipient
        // directory, in this transaction: the account and its reachability commit together).
        await this.services?.message?.registerRecipients(tx, input.regionCode, [row.id]);
        await this.audit(
          tx,
          input.regionCode,
          actor.kind === 'anonymous' ? { ...actor, kind: 'person', id: row.id } : actor,
          {
            action: 'user.person.register',
            targetType: 'person',
            targetId: row.id,
          },
        );
        return person;
      });
    } catch (err) {
      const c = uniqueViolation(err);
      if (c?.includes('resident_id')) throw this.residentTaken();
      if (c?.includes('mobile')) throw this.mobileTaken();
      if (c?.includes('username')) throw this.usernameTaken();
      throw err;
    }
  }

  private residentTaken() {
    return fieldError(
      409,
      'USER_RESIDENT_ID_TAKEN',
      '该身份证号已注册',
      'residentId',
      '该身份证号码已注册，请直接登录或找回密码',
    );
  }
  private mobileTaken() {
    return fieldError(409, 'USER_MOBILE_TAKEN', '该手机号已被使用', 'mobile', '该手机号码已绑定其他账号');
  }
  private usernameTaken() {
    return fieldError(409, 'USER_USERNAME_TAKEN', '用户名已被使用', 'username', '请换一个用户名');
  }

  private async assertPersonFree(
    tx: Executor,
    regionCode: string,
    k: { residentBidx?: string; mobileBidx?: string; username?: string; exceptId?: string },
  ): Promise<void> {
    const except = k.exceptId ?? '00000000-0000-0000-0000-000000000000';
    const live = sql`region_code = ${regionCode} and status <> 'deactivated' and id <> ${except}`;
    if (
      k.residentBidx &&
      (await tx.one(sql`select 1 from person_account where ${live} and resident_id_bidx = ${k.residentBidx}`))
    )
      throw this.residentTaken();
    if (
      k.mobileBidx &&
      (await tx.one(sql`select 1 from person_account where ${live} and mobile_bidx = ${k.mobileBidx}`))
    )
      throw this.mobileTaken();
    if (
      k.username &&
      (await tx.one(sql`select 1 from person_account where ${live} and lower(username) = lower(${k.username})`))
    )
      throw this.usernameTaken();
  }

  /** Decrypted account or undefined (internal use; audit unmasked reads you expose). */
  async findPersonById(regionCode: string, id: string, ex: Executor = this.db): Promise<PersonAccount | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await ex.one<PersonRow>(
      sql`select * from person_account where region_code = ${regionCode} and id = ${id}`,
    );
    return row ? this.personFromRow(row) : undefined;
  }

  /** The account's status without decrypting anything (guards of self-service routes). */
  async personStatus(regionCode: string, id: string): Promise<PersonStatus | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.db.one<{ status: PersonStatus }>(
      sql`select status from person_account where region_code = ${regionCode} and id = ${id}`,
    );
    return row?.status;
  }

  /**
   * The blind index of the account's resident ID, read without decrypting: other centers key records of insured
   * persons by it (`ctx.privacy.blindIndex(residentId, 'resident_id')`), so a person finds those made before they had
   * an account.
   */
  async residentIndexOf(regionCode: string, id: string): Promise<string | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.db.one<{ resident_id_bidx: string }>(
      sql`select resident_id_bidx from person_account where region_code = ${regionCode} and id = ${id}`,
    );
    return row?.resident_id_bidx;
  }

  /** Decrypted account; 404 USER_PERSON_NOT_FOUND when absent in the region. */
  async getPerson(regionCode: string, id: string, ex: Executor = this.db): Promise<PersonAccount> {
    const p = await this.findPersonById(regionCode, id, ex);
    if (!p) throw notFound('USER_PERSON_NOT_FOUND', '用户不存在');
    return p;
  }

  /** The live accounts of these resident IDs in the region, by resident ID (upper case); IDs without one are absent. */
  async findPersonIdsByResidentIds(regionCode: string, residentIds: readonly string[]): Promise<Map<string, string>> {
    const byIndex = new Map(residentIds.map((id) => [this.bidx(id.trim().toUpperCase(), 'resident_id'), id]));
    const rows = await this.db.q<{ id: string; resident_id_bidx: string }>(sql`select id, resident_id_bidx
      from person_account where region_code = ${regionCode} and status <> 'deactivated'
        and resident_id_bidx = any(${textArray([...byIndex.keys()])}::bpchar[])`);
    return new Map(rows.map((r) => [byIndex.get(r.resident_id_bidx)!.trim().toUpperCase(), r.id]));
  }

  /** The live (not deactivated) account with this resident ID in the region. */
  async findPersonByResidentId(regionCode: string, residentId: string): Promise<PersonAccount | undefined> {
    const row = await this.db.one<PersonRow>(sql`select * from person_account where region_code = ${regionCode}
      and resident_id_bidx = ${this.bidx(residentId.trim().toUpperCase(), 'resident_id')} and status <> 'deactivated'`);
    return row ? this.personFromRow(row) : undefined;
  }

  async findPersonByMobile(regionCode: string, mobile: string): Promise<PersonAccount | undefined> {
    const row = await this.db.one<PersonRow>(sql`select * from person_account where region_code = ${regionCode}
      and mobile_bidx = ${this.bidx(mobile.trim(), 'mobile')} and status <> 'deactivated'`);
    return row ? this.personFromRow(row) : undefined;
  }

  /** Login identifier → live account: an 18-char ID number, an 11-digit mobile, else a username. */
  async findPersonByLogin(regionCode: string, loginId: string): Promise<PersonAccount | undefined> {
    return (await this.findPersonForLogin(regionCode, loginId))?.person;
  }

  /**
   * The login look-up: the live account (as findPersonByLogin) and its stored password hash from the same read, so the
   * password check that follows (`verifyPasswordHash`) needs no second read of the row.
   */
  async findPersonForLogin(
    regionCode: string,
    loginId: string,
  ): Promise<{ person: PersonAccount; passwordHash: string | null } | undefined> {
    const id = loginId.trim();
    let row: PersonRow | undefined;
    if (RESIDENT_ID_RE.test(id)) {
      row = await this.db.one<PersonRow>(sql`select * from person_account where region_code = ${regionCode}
        and resident_id_bidx = ${this.bidx(id.toUpperCase(), 'resident_id')} and status <> 'deactivated'`);
    } else if (MOBILE_RE.test(id)) {
      row = await this.db.one<PersonRow>(sql`select * from person_account where region_code = ${regionCode}
        and mobile_bidx = ${this.bidx(id, 'mobile')} and status <> 'deactivated'`);
    } else if (USERNAME_RE.test(id)) {
      row = await this.db.one<PersonRow>(sql`select * from person_account where region_code = ${regionCode}
        and lower(username) = lower(${id}) and status <> 'deactivated'`);
    }
    return row ? { person: this.personFromRow(row), passwordHash: row.password_hash ?? null } : undefined;
  }

  /**
   * Checks the person's password (no lockout here — the auth center does that). Upgrades a weaker hash on success.
   * Says nothing about status: the caller decides what a disabled account may do.
   */
  async verifyPassword(account: { regionCode: string; id: string }, password: string): Promise<boolean> {
    const row = isUuid(account.id)
      ? await this.db.one<{ password_hash: string | null }>(sql`select password_hash from person_account
          where region_code = ${account.regionCode} and id = ${account.id}`)
      : undefined;
    return this.verifyPasswordHash(account, row?.password_hash, password);
  }

  /**
   * verifyPassword against the hash a look-up just read (findPersonForLogin); a missing hash burns the same time and
   * fails. Upgrades a weaker hash on success (only if it is still the stored one).
   */
  async verifyPasswordHash(
    account: { regionCode: string; id: string },
    storedHash: string | null | undefined,
    password: string,
  ): Promise<boolean> {
    const ok = await this.hasher.verify(storedHash, password);
    if (ok && storedHash && this.hasher.needsRehash(storedHash)) {
      const next = await this.hasher.hash(password);
      await this.db.q(sql`update person_account set password_hash = ${next}
        where region_code = ${account.regionCode} and id = ${account.id} and password_hash = ${storedHash}`);
    }
    return ok;
  }

  /** Login id + password → the active account, or undefined (same work whether or not the account exists). */
  async verifyLogin(regionCode: string, loginId: string, password: string): Promise<PersonAccount | undefined> {
    const found = await this.findPersonForLogin(regionCode, loginId);
    // no account: the same Argon2id work as a wrong password (verifyPasswordHash burns it for a missing hash)
    const ok = await this.verifyPasswordHash(found?.person ?? { regionCode, id: '' }, found?.passwordHash, password);
    return ok && found?.person.status === 'active' ? found.person : undefined;
  }

  /** The person's own change: the sign-in that asked (`keepSession`) stays; every other one ends. */
  async changePassword(
    regionCode: string,
    personId: string,
    oldPassword: string,
    newPassword: string,
    actor: Actor,
    keepSession?: string,
  ) {
    const person = await this.getPerson(regionCode, personId);
    if (person.passwordSet && !(await this.verifyPassword(person, oldPassword))) {
      throw fieldError(400, 'USER_PASSWORD_WRONG', '原密码不正确', 'oldPassword', '原密码不正确');
    }
    await this.setPassword(person, newPassword, actor, 'user.person.password_change', { keepSession });
  }

  /**
   * Sets a new password without the old one (SMS reset, or staff reset); audited. `temporary`: a clerk chose it, so
   * the person must replace it at the next login.
   */
  async resetPassword(
    regionCode: string,
    personId: string,
    newPassword: string,
    actor: Actor,
    opts: { temporary?: boolean } = {},
  ) {
    const person = await this.getPerson(regionCode, personId);
    await this.setPassword(person, newPassword, actor, 'user.person.password_reset', opts);
  }

  /** The person replaces a temporary password at login (the login page asks): policy applies, it must differ. */
  async changeTemporaryPassword(
    regionCode: string,
    personId: string,
    newPassword: string,
    actor: Pick<Actor, 'ip' | 'userAgent'> = {},
  ) {
    const person = await this.getPerson(regionCode, personId);
    if (await this.verifyPassword(person, newPassword)) {
      const message = '新密码不能与临时密码相同';
      throw new AppError(400, 'USER_PASSWORD_UNCHANGED', '新密码不能与原密码相同', message, {
        errors: [{ field: 'password', message }],
      });
    }
    await this.setPassword(
      person,
      newPassword,
      { kind: 'person', id: personId, ...actor },
      'user.person.password_change',
    );
  }

  private async setPassword(
    person: PersonAccount,
    password: string,
    actor: Actor,
    action: 'user.person.password_change' | 'user.person.password_reset',
    opts: { temporary?: boolean; keepSession?: string } = {},
  ) {
    checkPasswordPolicy(password, person);
    const h = await this.hasher.hash(password);
    const temporary = opts.temporary === true;
    await this.db.tx(async (tx) => {
      await tx.q(sql`update person_account set password_hash = ${h}, password_changed_at = now(),
        must_change_password = ${temporary}, updated_at = now()
        where region_code = ${person.regionCode} and id = ${person.id}`);
      await this.endSignIns(tx, { kind: 'person', id: person.id }, action, opts.keepSession);
      await this.services?.auth?.forgetLoginFailures(tx, { kind: 'person', id: person.id });
      await this.audit(tx, person.regionCode, actor, {
        action,
        targetType: 'person',
        targetId: person.id,
        ...(temporary ? { detail: { temporary: true } } : {}),
      });
      const how = temporary ? 'temporary' : action === 'user.person.password_reset' ? 'reset' : 'changed';
      await this.services?.message?.send(tx, {
        type: 'user.password_changed',
        regionCode: person.regionCode,
        to: { personId: person.id },
        payload: { how: PASSWORD_CHANGE_TEXT[how], at: new Date().toISOString() },
      });
    });
  }

  /**
   * A sign-in made with the old password, or by an account that may no longer sign in, does not outlive the change:
   * the auth center ends the account's sessions (but `keep`, the one that asked) in this transaction. Called before
   * the audit entry, as the sign-out routes do, so that concurrent ones take the session rows and then the audit
   * chain's head in the same order (no deadlock).
   */
  private async endSignIns(
    tx: Executor,
    account: { kind: 'person' | 'staff'; id: string },
    why: string,
    keep?: string,
  ) {
    await this.services?.auth?.endSessions(tx, account, why, keep);
  }

  /** Changes the mobile; the caller proves both SMS codes (old and new number) before calling. */
  async changeMobile(
    regionCode: string,
    personId: string,
    newMobile: string,
    proof: { oldCodeVerified: boolean; newCodeVerified: boolean },
    actor: Actor,
  ): Promise<PersonAccount> {
    if (!proof.oldCodeVerified || !proof.newCodeVerified) {
      throw new AppError(400, 'USER_SMS_CODE_REQUIRED', '需要原手机号和新手机号的验证码');
    }
    const mobile = newMobile.trim();
    if (!isValidMobile(mobile)) {
      throw fieldError(400, 'USER_MOBILE_INVALID', '手机号码无效', 'newMobile', '应为 1 开头的 11 位手机号码');
    }
    const bidx = this.bidx(mobile, 'mobile');
    try {
      return await this.db.tx(async (tx) => {
        const person = await this.getPerson(regionCode, personId, tx);
        if (person.mobile === mobile) {
          throw fieldError(400, 'USER_MOBILE_UNCHANGED', '新手机号与原手机号相同', 'newMobile', '请填写新的手机号码');
        }
        await this.assertPersonFree(tx, regionCode, { mobileBidx: bidx, exceptId: personId });
        const [row] =
          await tx.q<PersonRow>(sql`update person_account set mobile_enc = ${this.privacy.cipher.encrypt(mobile)},
            mobile_bidx = ${bidx}, updated_at = now()
          where region_code = ${regionCode} and id = ${personId} returning *`);
        await this.audit(tx, regionCode, actor, {
          action: 'user.person.mobile_change',
          targetType: 'person',
          targetId: personId,
          detail: { from: maskMobile(person.mobile), to: maskMobile(mobile) },
        });
        return this.personFromRow(row);
      });
    } catch (err) {
      if (uniqueViolation(err)) throw this.mobileTaken();
      throw err;
    }
  }

  /** Username and e-mail (null clears); the real name, ID number and mobile have their own procedures. */
  async updateProfile(
    regionCode: string,
    personId: string,
    patch: { username?: string | null; email?: string | null },
    actor: Actor,
  ): Promise<PersonAccount> {
    if (typeof patch.username === 'string' && !USERNAME_RE.test(patch.username)) {
      throw fieldError(400, 'USER_USERNAME_INVALID', '用户名格式不正确', 'username', '用户名以字母开头，4–32 位');
    }
    if (patch.email) checkEmail(patch.email);
    try {
      return await this.db.tx(async (tx) => {
        await this.getPerson(regionCode, personId, tx);
        if (patch.username)
          await this.assertPersonFree(tx, regionCode, { username: patch.username, exceptId: personId });
        const sets = [sql`updated_at = now()`];
        if (patch.username !== undefined) sets.push(sql`username = ${patch.username}`);
        if (patch.email !== undefined)
          sets.push(sql`email_enc = ${patch.email === null ? null : this.privacy.cipher.encrypt(patch.email)}`);
        const [row] = await tx.q<PersonRow>(sql`update person_account set ${sql.join(sets, sql`, `)}
          where region_code = ${regionCode} and id = ${personId} returning *`);
        await this.audit(tx, regionCode, actor, {
          action: 'user.person.profile_update',
          targetType: 'person',
          targetId: personId,
          detail: { fields: Object.keys(patch) },
        });
        return this.personFromRow(row);
      });
    } catch (err) {
      if (uniqueViolation(err)) throw this.usernameTaken();
      throw err;
    }
  }

  /**
   * Self-service deactivation: frees the ID number and mobile; agent rights end, and every sign-in but the one that
   * asked (`keepSession`, which the hall then signs out through the provider).
   */
  async deactivate(regionCode: string, personId: string, actor: Actor, keepSession?: string): Promise<void> {
    await this.db.tx(async (tx) => {
      const p = await this.getPerson(regionCode, personId, tx);
      if (p.status === 'deactivated') throw conflict('USER_PERSON_DEACTIVATED', '账号已注销');
      const admins = await tx.q<{
        unit_id: string;
      }>(sql`select a.unit_id from agent a where a.region_code = ${regionCode}
        and a.person_id = ${personId} and a.role = 'admin'
        and not exists (select 1 from agent b where b.region_code = a.region_code and b.unit_id = a.unit_id
          and b.role = 'admin' and b.person_id <> a.person_id and (b.expires_at is null or b.expires_at > now()))`);
      if (admins.length > 0) {
        throw conflict('USER_LAST_UNIT_ADMIN', '您是单位的唯一管理员', '请先为单位指定其他管理员，再注销账号');
      }
      await tx.q(sql`delete from agent where region_code = ${regionCode} and person_id = ${personId}`);
      await tx.q(sql`update person_account set status = 'deactivated', deactivated_at = now(), updated_at = now()
        where region_code = ${regionCode} and id = ${personId}`);
      await this.endSignIns(tx, { kind: 'person', id: personId }, 'user.person.deactivate', keepSession);
      await this.audit(tx, regionCode, actor, {
        action: 'user.person.deactivate',
        targetType: 'person',
        targetId: personId,
      });
    });
  }

  /** Staff: disable or enable an account (audited). */
  async setPersonStatus(
    regionCode: string,
    personId: string,
    status: 'active' | 'disabled',
    actor: Actor,
    reason?: string,
  ) {
    return this.db.tx(async (tx) => {
      const p = await this.getPerson(regionCode, personId, tx);
      if (p.status === 'deactivated') throw conflict('USER_PERSON_DEACTIVATED', '账号已注销，不能变更状态');
      await tx.q(sql`update person_account set status = ${status}, updated_at = now()
        where region_code = ${regionCode} and id = ${personId}`);
      if (status === 'disabled') await this.endSignIns(tx, { kind: 'person', id: personId }, 'user.person.disable');
      await this.audit(tx, regionCode, actor, {
        action: status === 'active' ? 'user.person.enable' : 'user.person.disable',
        targetType: 'person',
        targetId: personId,
        ...(reason ? { purpose: reason } : {}),
      });
      return { ...p, status };
    });
  }

  /** Search by exact ID number or mobile (blind index), username, or name prefix; newest first. */
  async searchPersons(
    regionCode: string,
    opts: { q?: string; status?: PersonStatus; limit?: number; offset?: number } = {},
  ): Promise<{ items: PersonAccount[]; total: number }> {
    const where = [sql`region_code = ${regionCode}`];
    const q = opts.q?.trim();
    if (q) {
      if (RESIDENT_ID_RE.test(q)) where.push(sql`resident_id_bidx = ${this.bidx(q.toUpperCase(), 'resident_id')}`);
      else if (MOBILE_RE.test(q)) where.push(sql`mobile_bidx = ${this.bidx(q, 'mobile')}`);
      else if (USERNAME_RE.test(q) && !NAME_RE.test(q)) where.push(sql`lower(username) = lower(${q})`);
      else if (USERNAME_RE.test(q))
        where.push(
          sql`(lower(username) = lower(${q}) or name_prefix_bidx @> ${textArray([this.bidx(q, 'person_name')])})`,
        );
      else if ([...q].length <= 6) where.push(sql`name_prefix_bidx @> ${textArray([this.bidx(q, 'person_name')])}`);
      else return { items: [], total: 0 };
    }
    if (opts.status) where.push(sql`status = ${opts.status}`);
    const cond = sql.join(where, sql` and `);
    const [{ n }] = await this.db.q<{ n: number }>(sql`select count(*)::int as n from person_account where ${cond}`);
    const rows = await this.db.q<PersonRow>(sql`select * from person_account where ${cond}
      order by created_at desc, id limit ${opts.limit ?? 20} offset ${opts.offset ?? 0}`);
    return { items: rows.map((r) => this.personFromRow(r)), total: Number(n) };
  }

  // ---------------------------------------------------------------- units and agents

  private unitFromRow(r: UnitRow): Unit {
    return {
      id: r.id,
      regionCode: r.region_code,
      uscc: r.uscc,
      name: r.name,
      unitType: r.unit_type,
      legalRepName: this.privacy.cipher.decrypt(r.legal_rep_name_enc),
      status: r.status,
      ...(r.uscc_override_by ? { usccOverrideBy: r.uscc_override_by } : {}),
      createdAt: iso(r.created_at)!,
    };
  }

  /**
   * Registers a unit; the registering person becomes its first admin agent. A USCC failing the GB 32100 check is
   * accepted only with `usccOverrideBy` (a staff id) — some early pilot codes do not validate.
   */
  async registerUnit(
    input: {
      regionCode: string;
      uscc: string;
      name: string;
      unitType: UnitType;
      legalRepName: string;
      adminPersonId: string;
      usccOverrideBy?: string;
    },
    actor: Actor,
  ): Promise<Unit> {
    const uscc = input.uscc.trim().toUpperCase();
    if (!/^[0-9A-Z]{18}$/.test(uscc) || (!isValidUscc(uscc) && !input.usccOverrideBy)) {
      throw fieldError(
        400,
        'USER_USCC_INVALID',
        '统一社会信用代码无效',
        'uscc',
        '统一社会信用代码格式或校验位不正确（GB 32100）；早期试点代码请到经办窗口由工作人员核验登记',
      );
    }
    const name = input.name.trim();
    if (name.length < 2 || name.length > 100) {
      throw fieldError(400, 'USER_UNIT_NAME_INVALID', '单位名称无效', 'name', '单位名称应为 2–100 个字符');
    }
    const legalRep = input.legalRepName.trim();
    if (!NAME_RE.test(legalRep)) {
      throw fieldError(400, 'USER_NAME_INVALID', '法定代表人姓名格式不正确', 'legalRepName', '应为 2–30 个汉字或字母');
    }
    if (!UNIT_TYPES.includes(input.unitType)) {
      throw fieldError(400, 'USER_UNIT_TYPE_INVALID', '单位类型无效', 'unitType', '单位类型不在允许范围内');
    }
    try {
      return await this.db.tx(async (tx) => {
        const admin = await this.getPerson(input.regionCode, input.adminPersonId, tx);
        if (admin.status !== 'active') throw conflict('USER_PERSON_NOT_ACTIVE', '管理员账号不可用');
        if (await tx.one(sql`select 1 from unit where region_code = ${input.regionCode} and uscc = ${uscc}`))
          throw this.usccTaken();
        const [row] = await tx.q<UnitRow>(sql`insert into unit (region_code, uscc, name, unit_type, legal_rep_name_enc,
            uscc_override_by, created_by)
          values (${input.regionCode}, ${uscc}, ${name}, ${input.unitType}, ${this.privacy.cipher.encrypt(legalRep)},
            ${input.usccOverrideBy ?? null}, ${actor.id})
          returning *`);
        await tx.q(sql`insert into agent (region_code, unit_id, person_id, role, granted_by)
          values (${input.regionCode}, ${row.id}, ${admin.id}, 'admin', ${actor.id})`);
        await this.audit(tx, input.regionCode, actor, {
          action: 'user.unit.register',
          targetType: 'unit',
          targetId: row.id,
          detail: { uscc, override: Boolean(input.usccOverrideBy) },
        });
        return this.unitFromRow(row);
      });
    } catch (err) {
      if (uniqueViolation(err)) throw this.usccTaken();
      throw err;
    }
  }

  private usccTaken() {
    return fieldError(409, 'USER_USCC_TAKEN', '该单位已注册', 'uscc', '该统一社会信用代码已注册');
  }

  async getUnit(regionCode: string, unitId: string, ex: Executor = this.db): Promise<Unit> {
    const row = isUuid(unitId)
      ? await ex.one<UnitRow>(sql`select * from unit where region_code = ${regionCode} and id = ${unitId}`)
      : undefined;
    if (!row) throw notFound('USER_UNIT_NOT_FOUND', '单位不存在');
    return this.unitFromRow(row);
  }

  async findUnitByUscc(regionCode: string, uscc: string): Promise<Unit | undefined> {
    const row = await this.db.one<UnitRow>(
      sql`select * from unit where region_code = ${regionCode} and uscc = ${uscc.trim().toUpperCase()}`,
    );
    return row ? this.unitFromRow(row) : undefined;
  }

  async searchUnits(
    regionCode: string,
    opts: { q?: string; unitType?: UnitType; limit?: number; offset?: number } = {},
  ): Promise<{ items: Unit[]; total: number }> {
    const where = [sql`region_code = ${regionCode}`];
    const q = opts.q?.trim();
    if (q) {
      if (/^[0-9A-Za-z]{18}$/.test(q)) where.push(sql`uscc = ${q.toUpperCase()}`);
      else where.push(sql`name ilike ${`%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`);
    }
    if (opts.unitType) where.push(sql`unit_type = ${opts.unitType}`);
    const cond = sql.join(where, sql` and `);
    const [{ n }] = await this.db.q<{ n: number }>(sql`select count(*)::int as n from unit where ${cond}`);
    const rows = await this.db.q<UnitRow>(sql`select * from unit where ${cond}
      order by created_at desc, id limit ${opts.limit ?? 20} offset ${opts.offset ?? 0}`);
    return { items: rows.map((r) => this.unitFromRow(r)), total: Number(n) };
  }

  async setUnitStatus(regionCode: string, unitId: string, status: 'active' | 'disabled', actor: Actor): Promise<Unit> {
    return this.db.tx(async (tx) => {
      const u = await this.getUnit(regionCode, unitId, tx);
      await tx.q(
        sql`update unit set status = ${status}, updated_at = now() where region_code = ${regionCode} and id = ${unitId}`,
      );
      await this.audit(tx, regionCode, actor, {
        action: status === 'active' ? 'user.unit.enable' : 'user.unit.disable',
        targetType: 'unit',
        targetId: unitId,
      });
      return { ...u, status };
    });
  }

  /** Grants (or changes) a person's role in a unit, with an optional expiry. */
  async grantAgent(
    input: { regionCode: string; unitId: string; personId: string; role: AgentRole; expiresAt?: Date | string | null },
    actor: Actor,
  ): Promise<Agent> {
    if (!AGENT_ROLES.includes(input.role)) {
      throw fieldError(400, 'USER_AGENT_ROLE_INVALID', '经办人角色无效', 'role', '角色应为 admin、handler 或 viewer');
    }
    const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
    if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())) {
      throw fieldError(400, 'USER_AGENT_EXPIRY_INVALID', '授权到期时间无效', 'expiresAt', '到期时间应晚于当前时间');
    }
    return this.db.tx(async (tx) => {
      const unit = await this.getUnit(input.regionCode, input.unitId, tx);
      const person = await this.getPerson(input.regionCode, input.personId, tx);
      if (person.status !== 'active') throw conflict('USER_PERSON_NOT_ACTIVE', '该用户账号不可用');
      await tx.q(sql`select 1 from unit where region_code = ${unit.regionCode} and id = ${unit.id} for update`);
      if (input.role !== 'admin' || expiresAt) await this.assertAnotherAdmin(tx, unit, person.id);
      const [row] =
        await tx.q<AgentRow>(sql`insert into agent (region_code, unit_id, person_id, role, expires_at, granted_by)
        values (${input.regionCode}, ${unit.id}, ${person.id}, ${input.role}, ${expiresAt?.toISOString() ?? null}, ${actor.id})
        on conflict (region_code, unit_id, person_id) do update
          set role = excluded.role, expires_at = excluded.expires_at, granted_by = excluded.granted_by, granted_at = now(),
            expiry_reminded_at = null
        returning *`);
      await this.audit(tx, input.regionCode, actor, {
        action: 'user.agent.grant',
        targetType: 'unit',
        targetId: unit.id,
        detail: { personId: person.id, role: input.role, expiresAt: expiresAt?.toISOString() ?? null },
      });
      return agentFromRow(row);
    });
  }

  /**
   * 经办授权到期提醒 (daily job): a grant that ends within `days` is announced once — to the agent, who will no longer
   * act for the unit, and to the unit's other admins, who can renew it in 经办人管理. A renewal clears the mark, so
   * the new expiry is announced in its turn. Answers how many grants were announced.
   */
  async remindExpiringAgents(days = AGENT_EXPIRY_NOTICE_DAYS): Promise<number> {
    let announced = 0;
    for (;;) {
      const batch = await this.remindBatch(days);
      announced += batch.announced;
      if (batch.seen < REMINDER_BATCH) return announced;
    }
  }

  /** Up to REMINDER_BATCH due grants (a province's day may hold more: the job goes on until a batch is short). */
  private async remindBatch(days: number): Promise<{ seen: number; announced: number }> {
    const due = await this.db.q<{ region_code: string; unit_id: string; person_id: string }>(sql`
      select region_code, unit_id, person_id from agent
      where expires_at is not null and expiry_reminded_at is null
        and expires_at > now() and expires_at <= now() + make_interval(days => ${days})
      order by expires_at limit ${REMINDER_BATCH}`);
    let announced = 0;
    for (const d of due) {
      const sent = await this.db.tx(async (tx) => {
        // claimed in the transaction that sends: two workers never announce one grant twice
        const [agent] = await tx.q<AgentRow>(sql`update agent set expiry_reminded_at = now()
          where region_code = ${d.region_code} and unit_id = ${d.unit_id} and person_id = ${d.person_id}
            and expiry_reminded_at is null returning *`);
        if (!agent?.expires_at) return false;
        await this.announceExpiry(tx, agent);
        return true;
      });
      if (sent) announced++;
    }
    return { seen: due.length, announced };
  }

  /**
   * 密码到期提醒 (daily): staff whose password ages out within `days`, and who have an alert address, are told once per
   * password. Claimed and sent in one transaction per batch, so a crash neither loses nor repeats a reminder.
   */
  async remindStaffPasswords(days = STAFF_PASSWORD_NOTICE_DAYS): Promise<number> {
    const maxAge = this.staffPasswordMaxAgeDays;
    const message = this.services?.message;
    if (maxAge <= 0 || !message) return 0;
    let announced = 0;
    for (;;) {
      const sent = await this.db.tx(async (tx) => {
        const due = await tx.q<StaffRow>(sql`update staff_account set password_reminded_at = now()
          where id in (select id from staff_account
            where status = 'active' and not must_change_password and (mobile_enc is not null or email_enc is not null)
              and password_changed_at <= now() - make_interval(days => ${maxAge - days})
              and password_changed_at > now() - make_interval(days => ${maxAge})
              and password_reminded_at is null
            order by password_changed_at limit ${REMINDER_BATCH} for update skip locked)
          returning *`);
        for (const r of due) {
          await message.send(tx, {
            type: 'user.staff_password_expiring',
            regionCode: r.region_code,
            to: { staffId: r.id },
            payload: { username: r.username, expiresAt: this.passwordExpiry(r)?.toISOString() },
          });
        }
        return due.length;
      });
      announced += sent;
      if (sent < REMINDER_BATCH) return announced;
    }
  }

  private async announceExpiry(tx: Executor, agent: AgentRow): Promise<void> {
    const message = this.services?.message;
    if (!message) return;
    const unit = await this.getUnit(agent.region_code, agent.unit_id, tx);
    const person = await this.getPerson(agent.region_code, agent.person_id, tx);
    const payload = {
      unitName: unit.name,
      role: AGENT_ROLE_TEXT[agent.role],
      expiresAt: iso(agent.expires_at)!,
    };
    await message.send(tx, {
      type: 'user.agent_expiring',
      regionCode: agent.region_code,
      to: { personId: agent.person_id },
      payload,
    });
    const admins = await tx.q<{ person_id: string }>(sql`select person_id from agent
      where region_code = ${agent.region_code} and unit_id = ${agent.unit_id} and role = 'admin'
        and person_id <> ${agent.person_id} and (expires_at is null or expires_at > now())`);
    for (const a of admins)
      await message.send(tx, {
        type: 'user.agent_expiring_unit',
        regionCode: agent.region_code,
        to: { personId: a.person_id },
        payload: { ...payload, agentName: maskName(person.name) },
      });
  }

  /** A unit must keep one unexpired admin other than `personId` (called before demoting or removing them). */
  private async assertAnotherAdmin(tx: Executor, unit: Unit, personId: string) {
    const current = await tx.one<{ role: string }>(sql`select role from agent where region_code = ${unit.regionCode}
      and unit_id = ${unit.id} and person_id = ${personId}`);
    if (current?.role !== 'admin') return;
    const other = await tx.one(sql`select 1 from agent where region_code = ${unit.regionCode} and unit_id = ${unit.id}
      and role = 'admin' and person_id <> ${personId} and (expires_at is null or expires_at > now())`);
    if (!other) throw conflict('USER_LAST_UNIT_ADMIN', '单位至少需要一名长期有效的管理员', '请先指定其他管理员');
  }

  async revokeAgent(regionCode: string, unitId: string, personId: string, actor: Actor): Promise<void> {
    await this.db.tx(async (tx) => {
      const unit = await this.getUnit(regionCode, unitId, tx);
      await tx.q(sql`select 1 from unit where region_code = ${regionCode} and id = ${unit.id} for update`);
      if (!isUuid(personId)) throw notFound('USER_AGENT_NOT_FOUND', '经办人不存在');
      await this.assertAnotherAdmin(tx, unit, personId);
      const gone = await tx.q(sql`delete from agent where region_code = ${regionCode} and unit_id = ${unit.id}
        and person_id = ${personId} returning person_id`);
      if (gone.length === 0) throw notFound('USER_AGENT_NOT_FOUND', '经办人不存在');
      await this.audit(tx, regionCode, actor, {
        action: 'user.agent.revoke',
        targetType: 'unit',
        targetId: unit.id,
        detail: { personId },
      });
    });
  }

  /** Agents of a unit, expired ones included (marked inactive), with the decrypted person. */
  async listAgents(regionCode: string, unitId: string): Promise<Array<Agent & { person: PersonAccount }>> {
    await this.getUnit(regionCode, unitId);
    const rows = await this.db.q<AgentRow & PersonRow & { person_created_at: string }>(sql`select a.*, p.name_enc,
        p.resident_id_enc, p.mobile_enc, p.username, p.email_enc, p.password_hash, p.status, p.created_at as person_created_at
      from agent a join person_account p on p.region_code = a.region_code and p.id = a.person_id
      where a.region_code = ${regionCode} and a.unit_id = ${unitId} order by a.role, a.granted_at`);
    return rows.map((r) => ({
      ...agentFromRow(r),
      person: this.personFromRow({ ...r, id: r.person_id, created_at: r.person_created_at }),
    }));
  }

  /** Staff search over agents: by unit, or by the agent's ID number / mobile. */
  async searchAgents(
    regionCode: string,
    opts: { unitId?: string; q?: string; limit?: number; offset?: number } = {},
  ): Promise<Array<Agent & { person: PersonAccount; unit: Unit }>> {
    const where = [sql`a.region_code = ${regionCode}`];
    if (opts.unitId) {
      if (!isUuid(opts.unitId)) return [];
      where.push(sql`a.unit_id = ${opts.unitId}`);
    }
    const q = opts.q?.trim();
    if (q) {
      if (RESIDENT_ID_RE.test(q)) where.push(sql`p.resident_id_bidx = ${this.bidx(q.toUpperCase(), 'resident_id')}`);
      else if (MOBILE_RE.test(q)) where.push(sql`p.mobile_bidx = ${this.bidx(q, 'mobile')}`);
      else if (/^[0-9A-Za-z]{18}$/.test(q)) where.push(sql`u.uscc = ${q.toUpperCase()}`);
      else where.push(sql`u.name ilike ${`%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`);
    }
    const rows = await this.db.q<Record<string, any>>(sql`select a.region_code, a.unit_id, a.person_id, a.role,
        a.expires_at, a.granted_by, a.granted_at,
        p.name_enc, p.resident_id_enc, p.mobile_enc, p.username, p.email_enc, p.password_hash, p.status,
        p.created_at as person_created_at,
        u.uscc, u.name as unit_name, u.unit_type, u.legal_rep_name_enc, u.status as unit_status,
        u.uscc_override_by, u.created_at as unit_created_at
      from agent a
      join person_account p on p.region_code = a.region_code and p.id = a.person_id
      join unit u on u.region_code = a.region_code and u.id = a.unit_id
      where ${sql.join(where, sql` and `)}
      order by a.granted_at desc limit ${opts.limit ?? 50} offset ${opts.offset ?? 0}`);
    return rows.map((r) => ({
      ...agentFromRow(r as AgentRow),
      person: this.personFromRow({ ...(r as PersonRow), id: r.person_id, created_at: r.person_created_at }),
      unit: this.unitFromRow({
        region_code: r.region_code,
        id: r.unit_id,
        uscc: r.uscc,
        name: r.unit_name,
        unit_type: r.unit_type,
        legal_rep_name_enc: r.legal_rep_name_enc,
        status: r.unit_status,
        uscc_override_by: r.uscc_override_by,
        created_at: r.unit_created_at,
      }),
    }));
  }

  /** The units a person may act for now (unexpired grants of active units), with the role in each. */
  async unitsOf(regionCode: string, personId: string): Promise<UnitMembership[]> {
    if (!isUuid(personId)) return [];
    const rows = await this.db.q<UnitRow & { role: AgentRole; expires_at: string | null }>(sql`select u.*, a.role,
        a.expires_at from agent a join unit u on u.region_code = a.region_code and u.id = a.unit_id
      where a.region_code = ${regionCode} and a.person_id = ${personId} and u.status = 'active'
        and (a.expires_at is null or a.expires_at > now())
      order by u.name`);
    return rows.map((r) => ({
      unit: this.unitFromRow(r),
      role: r.role,
      ...(r.expires_at ? { expiresAt: iso(r.expires_at) } : {}),
    }));
  }

  /** The person's current role in the unit, or undefined (no grant, expired, or unit disabled). */
  async agentRole(regionCode: string, unitId: string, personId: string): Promise<AgentRole | undefined> {
    if (!isUuid(unitId) || !isUuid(personId)) return undefined;
    const row = await this.db.one<{ role: AgentRole }>(sql`select a.role from agent a
      join unit u on u.region_code = a.region_code and u.id = a.unit_id
      where a.region_code = ${regionCode} and a.unit_id = ${unitId} and a.person_id = ${personId}
        and u.status = 'active' and (a.expires_at is null or a.expires_at > now())`);
    return row?.role;
  }

  // ---------------------------------------------------------------- staff and RBAC

  /** When a staff password ages out; undefined when passwords never do. */
  private passwordExpiry(r: Pick<StaffRow, 'password_changed_at'>): Date | undefined {
    const days = this.staffPasswordMaxAgeDays;
    return days > 0 ? new Date(new Date(r.password_changed_at).getTime() + days * 86_400_000) : undefined;
  }

  private staffFromRow(r: StaffRow): StaffAccount {
    const days = this.staffPasswordMaxAgeDays;
    const expiresAt = this.passwordExpiry(r);
    const expired = expiresAt !== undefined && expiresAt.getTime() < Date.now();
    return {
      id: r.id,
      regionCode: r.region_code,
      username: r.username,
      displayName: r.display_name,
      status: r.status,
      mustChangePassword: r.must_change_password === true || expired,
      ...(expired ? { passwordExpiredAfterDays: days } : {}),
      passwordChangedAt: iso(r.password_changed_at)!,
      ...(expiresAt ? { passwordExpiresAt: expiresAt.toISOString() } : {}),
      ...(r.mobile_enc ? { mobile: maskMobile(this.privacy.cipher.decrypt(r.mobile_enc)) } : {}),
      ...(r.email_enc ? { email: maskEmail(this.privacy.cipher.decrypt(r.email_enc)) } : {}),
      createdAt: iso(r.created_at)!,
    };
  }

  private encryptedOrNull(v: string | null | undefined): string | null {
    return v ? this.privacy.cipher.encrypt(v.trim()) : null;
  }

  private contactOf(r: Pick<StaffRow, 'mobile_enc' | 'email_enc'>): StaffContact {
    const d = (v: string | null | undefined) => (v ? this.privacy.cipher.decrypt(v) : undefined);
    return { mobile: d(r.mobile_enc), email: d(r.email_enc) };
  }

  /** The alert addresses of a staff account (message center); undefined when there is no such account. */
  async getStaffContact(staffId: string): Promise<StaffContact | undefined> {
    const row = isUuid(staffId)
      ? await this.db.one<Pick<StaffRow, 'mobile_enc' | 'email_enc'>>(sql`select mobile_enc, email_enc
          from staff_account where id = ${staffId}`)
      : undefined;
    return row ? this.contactOf(row) : undefined;
  }

  /** The account and its alert addresses in clear, in one read (the auth center: where a step-up code goes). */
  async getStaffWithContact(staffId: string): Promise<(StaffAccount & { contact: StaffContact }) | undefined> {
    const row = isUuid(staffId)
      ? await this.db.one<StaffRow>(sql`select * from staff_account where id = ${staffId}`)
      : undefined;
    return row ? { ...this.staffFromRow(row), contact: this.contactOf(row) } : undefined;
  }

  /**
   * Creates a staff account. `mustChangePassword`: the password was chosen by someone else (the console), so the
   * account must choose its own at the next login.
   */
  async createStaff(
    input: {
      regionCode: string;
      username: string;
      password: string;
      displayName: string;
      roles?: string[];
      mustChangePassword?: boolean;
      mobile?: string | null;
      email?: string | null;
    },
    actor: Actor = SYSTEM,
  ): Promise<StaffAccount> {
    if (!USERNAME_RE.test(input.username)) {
      throw fieldError(400, 'USER_USERNAME_INVALID', '用户名格式不正确', 'username', '用户名以字母开头，4–32 位');
    }
    const displayName = input.displayName.trim();
    if (displayName.length < 1 || displayName.length > 40) {
      throw fieldError(400, 'USER_DISPLAY_NAME_INVALID', '显示名称无效', 'displayName', '显示名称应为 1–40 个字符');
    }
    checkPasswordPolicy(input.password);
    if (input.mobile) checkMobile(input.mobile);
    if (input.email) checkEmail(input.email);
    const h = await this.hasher.hash(input.password);
    const staff = await this.db.tx(async (tx) => {
      await tx.q(sql`select pg_advisory_xact_lock(hashtext(${`staff:${input.username.toLowerCase()}`}))`);
      if (await tx.one(sql`select 1 from staff_account where lower(username) = lower(${input.username})`)) {
        throw fieldError(409, 'USER_STAFF_USERNAME_TAKEN', '用户名已被使用', 'username', '该工作人员用户名已存在');
      }
      const [row] =
        await tx.q<StaffRow>(sql`insert into staff_account (region_code, username, display_name, password_hash,
          must_change_password, mobile_enc, email_enc)
        values (${input.regionCode}, ${input.username}, ${displayName}, ${h}, ${input.mustChangePassword === true},
          ${this.encryptedOrNull(input.mobile)}, ${this.encryptedOrNull(input.email)})
        returning *`);
      for (const role of input.roles ?? []) await this.insertGrant(tx, row.id, input.regionCode, role, actor);
      await this.audit(tx, input.regionCode, actor, {
        action: 'user.staff.create',
        targetType: 'staff',
        targetId: row.id,
        detail: {
          username: input.username,
          roles: input.roles ?? [],
          mustChangePassword: input.mustChangePassword === true,
        },
      });
      return this.staffFromRow(row);
    });
    this.permissionCache.clear();
    return staff;
  }

  async getStaff(staffId: string, ex: Executor = this.db): Promise<StaffAccount> {
    const row = isUuid(staffId)
      ? await ex.one<StaffRow>(sql`select * from staff_account where id = ${staffId}`)
      : undefined;
    if (!row) throw notFound('USER_STAFF_NOT_FOUND', '工作人员不存在');
    return this.staffFromRow(row);
  }

  async findStaffByUsername(username: string): Promise<StaffAccount | undefined> {
    const row = await this.db.one<StaffRow>(
      sql`select * from staff_account where lower(username) = lower(${username.trim()})`,
    );
    return row ? this.staffFromRow(row) : undefined;
  }

  async verifyStaffPassword(staffId: string, password: string): Promise<boolean> {
    const row = isUuid(staffId)
      ? await this.db.one<{ password_hash: string }>(sql`select password_hash from staff_account where id = ${staffId}`)
      : undefined;
    return this.hasher.verify(row?.password_hash, password);
  }

  /** Username + password → the active staff account, or undefined (same work whether or not it exists). */
  async verifyStaffLogin(username: string, password: string): Promise<StaffAccount | undefined> {
    const row = await this.db.one<StaffRow>(
      sql`select * from staff_account where lower(username) = lower(${username.trim()})`,
    );
    const ok = await this.hasher.verify(row?.password_hash, password);
    return ok && row?.status === 'active' ? this.staffFromRow(row) : undefined;
  }

  /** Staff visible in a region: home region or holding a grant there. */
  async listStaff(
    regionCode: string,
  ): Promise<Array<StaffAccount & { grants: Array<{ regionCode: string; roleCode: string }> }>> {
    const rows = await this.db.q<StaffRow>(sql`select * from staff_account s where s.region_code = ${regionCode}
      or exists (select 1 from staff_role_grant g where g.staff_id = s.id and g.region_code = ${regionCode})
      order by s.created_at`);
    const grants = await this.db.q<{ staff_id: string; region_code: string; role_code: string }>(sql`select staff_id,
      region_code, role_code from staff_role_grant where staff_id in (select s.id from staff_account s
        where s.region_code = ${regionCode} or exists (select 1 from staff_role_grant g where g.staff_id = s.id
          and g.region_code = ${regionCode}))
      order by region_code, role_code`);
    return rows.map((r) => ({
      ...this.staffFromRow(r),
      grants: grants
        .filter((g) => g.staff_id === r.id)
        .map((g) => ({ regionCode: g.region_code, roleCode: g.role_code })),
    }));
  }

  async updateStaff(
    staffId: string,
    patch: {
      displayName?: string;
      status?: 'active' | 'disabled';
      password?: string;
      mobile?: string | null;
      email?: string | null;
    },
    regionCode: string,
    actor: Actor,
  ): Promise<StaffAccount> {
    if (patch.password !== undefined) checkPasswordPolicy(patch.password);
    if (patch.mobile) checkMobile(patch.mobile);
    if (patch.email) checkEmail(patch.email);
    const h = patch.password !== undefined ? await this.hasher.hash(patch.password) : undefined;
    const staff = await this.db.tx(async (tx) => {
      await this.getStaff(staffId, tx);
      const sets = [sql`updated_at = now()`];
      if (patch.displayName !== undefined) sets.push(sql`display_name = ${patch.displayName.trim()}`);
      if (patch.status !== undefined) sets.push(sql`status = ${patch.status}`);
      if (patch.mobile !== undefined) sets.push(sql`mobile_enc = ${this.encryptedOrNull(patch.mobile)}`);
      if (patch.email !== undefined) sets.push(sql`email_enc = ${this.encryptedOrNull(patch.email)}`);
      // a password set by someone else is temporary: the account chooses its own at the next login
      if (h)
        sets.push(
          sql`password_hash = ${h}`,
          sql`must_change_password = true`,
          sql`password_changed_at = now()`,
          sql`password_reminded_at = null`,
        );
      const [row] = await tx.q<StaffRow>(
        sql`update staff_account set ${sql.join(sets, sql`, `)} where id = ${staffId} returning *`,
      );
      if (h || patch.status === 'disabled')
        await this.endSignIns(tx, { kind: 'staff', id: staffId }, 'user.staff.update');
      if (h) await this.services?.auth?.forgetLoginFailures(tx, { kind: 'staff', id: staffId });
      await this.audit(tx, regionCode, actor, {
        action: 'user.staff.update',
        targetType: 'staff',
        targetId: staffId,
        detail: { fields: Object.keys(patch), ...(h ? { mustChangePassword: true } : {}) },
      });
      return this.staffFromRow(row);
    });
    this.permissionCache.clear();
    return staff;
  }

  /** The staff member sets their own alert addresses (我的账号), proving the password first. */
  async changeOwnStaffContact(
    staffId: string,
    password: string,
    contact: { mobile?: string | null; email?: string | null },
    regionCode: string,
    actor: Actor,
  ): Promise<StaffAccount> {
    if (!(await this.verifyStaffPassword(staffId, password)))
      throw fieldError(400, 'USER_PASSWORD_WRONG', '密码不正确', 'password', '密码不正确');
    return this.updateStaff(staffId, contact, regionCode, actor);
  }

  /**
   * The staff member replaces their password: a temporary or outworn one at the login page (`mustChangePassword`), or
   * at will in the console (我的账号: with the current one, keeping the sign-in that asks). The policy applies, the
   * new one must differ, the flag clears, other sign-ins end. Audited as the staff member.
   */
  async changeStaffPassword(
    staffId: string,
    newPassword: string,
    actor: Pick<Actor, 'ip' | 'userAgent'> = {},
    opts: { oldPassword?: string; keepSession?: string } = {},
  ): Promise<StaffAccount> {
    checkPasswordPolicy(newPassword);
    const row = isUuid(staffId)
      ? await this.db.one<StaffRow>(sql`select * from staff_account where id = ${staffId}`)
      : undefined;
    if (!row) throw notFound('USER_STAFF_NOT_FOUND', '工作人员不存在');
    if (opts.oldPassword !== undefined && !(await this.hasher.verify(row.password_hash, opts.oldPassword))) {
      throw fieldError(400, 'USER_PASSWORD_WRONG', '原密码不正确', 'oldPassword', '原密码不正确');
    }
    if (await this.hasher.verify(row.password_hash, newPassword)) {
      const message = row.must_change_password ? '新密码不能与临时密码相同' : '新密码不能与当前密码相同';
      throw new AppError(400, 'USER_PASSWORD_UNCHANGED', '新密码不能与原密码相同', message, {
        errors: [{ field: 'password', message }],
      });
    }
    const h = await this.hasher.hash(newPassword);
    return this.db.tx(async (tx) => {
      const [updated] = await tx.q<StaffRow>(sql`update staff_account set password_hash = ${h},
        must_change_password = false, password_changed_at = now(), password_reminded_at = null, updated_at = now()
        where id = ${staffId} returning *`);
      await this.endSignIns(tx, { kind: 'staff', id: staffId }, 'user.staff.password_change', opts.keepSession);
      await this.services?.auth?.forgetLoginFailures(tx, { kind: 'staff', id: staffId });
      await this.audit(
        tx,
        row.region_code,
        { kind: 'staff', id: staffId, ...actor },
        {
          action: 'user.staff.password_change',
          targetType: 'staff',
          targetId: staffId,
          detail: { forced: row.must_change_password === true },
        },
      );
      return this.staffFromRow(updated);
    });
  }

  private async insertGrant(tx: Executor, staffId: string, regionCode: string, roleCode: string, actor: Actor) {
    if (!(await tx.one(sql`select 1 from role_catalog where code = ${roleCode}`))) {
      throw fieldError(400, 'USER_ROLE_UNKNOWN', '角色不存在', 'roleCode', `未定义的角色 ${roleCode}`);
    }
    if (!(await tx.one(sql`select 1 from region where code = ${regionCode}`))) {
      throw fieldError(400, 'REGION_UNKNOWN', '统筹区代码无效', 'regionCode', `未知的统筹区代码: ${regionCode}`);
    }
    await tx.q(sql`insert into staff_role_grant (region_code, staff_id, role_code, granted_by)
      values (${regionCode}, ${staffId}, ${roleCode}, ${actor.id}) on conflict do nothing`);
  }

  /** Grants a role to a staff member in one region (RBAC is per region). */
  async grantRole(staffId: string, regionCode: string, roleCode: string, actor: Actor = SYSTEM): Promise<void> {
    await this.db.tx(async (tx) => {
      await this.getStaff(staffId, tx);
      await this.insertGrant(tx, staffId, regionCode, roleCode, actor);
      await this.audit(tx, regionCode, actor, {
        action: 'user.staff.role_grant',
        targetType: 'staff',
        targetId: staffId,
        detail: { roleCode },
      });
    });
    this.permissionCache.clear();
  }

  async revokeRole(staffId: string, regionCode: string, roleCode: string, actor: Actor): Promise<void> {
    await this.db.tx(async (tx) => {
      const gone =
        await tx.q(sql`delete from staff_role_grant where region_code = ${regionCode} and staff_id = ${staffId}
        and role_code = ${roleCode} returning role_code`);
      if (gone.length === 0) throw notFound('USER_ROLE_GRANT_NOT_FOUND', '该授权不存在');
      await this.audit(tx, regionCode, actor, {
        action: 'user.staff.role_revoke',
        targetType: 'staff',
        targetId: staffId,
        detail: { roleCode },
      });
    });
    this.permissionCache.clear();
  }

  /** The staff member's permissions in a region (union of the roles granted there); cached for a few seconds. */
  async permissionsOf(staffId: string, regionCode: string): Promise<Set<string>> {
    const key = `${staffId}|${regionCode}`;
    const hit = this.permissionCache.get(key);
    if (hit && Date.now() - hit.at < PERMISSION_TTL_MS) return hit.value;
    const rows = isUuid(staffId)
      ? await this.db.q<{ permission: string }>(sql`select distinct unnest(r.permissions) as permission
          from staff_role_grant g join role_catalog r on r.code = g.role_code
          join staff_account s on s.id = g.staff_id and s.status = 'active'
          where g.region_code = ${regionCode} and g.staff_id = ${staffId}`)
      : [];
    const value = new Set(rows.map((r) => r.permission));
    if (this.permissionCache.size > 10_000) this.permissionCache.clear();
    this.permissionCache.set(key, { at: Date.now(), value });
    return value;
  }

  /** Other centers add their permission strings (call in init); persisted to the catalogue. */
  /**
   * Other centers add their permission strings (call in init). Validated synchronously (a bad code throws at once),
   * kept in memory, and persisted to the catalogue; a failed write is logged, never an unhandled rejection.
   */
  declarePermissions(perms: PermissionDecl[], center?: string): Promise<void> {
    const list = perms.map((p) => {
      if (typeof p?.code !== 'string' || !PERMISSION_RE.test(p.code) || p.code === '*') {
        throw new Error(`bad permission code ${String(p?.code)}`);
      }
      const entry = { code: p.code, name: p.name, center: center ?? p.code.split(':')[0] };
      this.declared.set(p.code, entry);
      return entry;
    });
    list.sort((a, b) => (a.code < b.code ? -1 : 1));
    return this.db
      .tx(async (tx) => {
        for (const d of list) {
          await tx.q(sql`insert into permission_catalog (code, name, center) values (${d.code}, ${d.name}, ${d.center})
            on conflict (code) do update set name = excluded.name, center = excluded.center, updated_at = now()
            where permission_catalog.name <> excluded.name or permission_catalog.center <> excluded.center`);
        }
      })
      .catch((err: unknown) => this.log?.warn({ err }, '权限目录写入失败（内存中已登记）'));
  }

  /** The catalogue: persisted declarations plus those declared in this process. */
  async listPermissions(): Promise<Array<PermissionDecl & { center: string }>> {
    const rows = await this.db.q<PermissionDecl & { center: string }>(
      sql`select code, name, center from permission_catalog`,
    );
    const all = new Map(rows.map((r) => [r.code, r]));
    for (const d of this.declared.values()) all.set(d.code, d);
    return [...all.values()].sort((a, b) => a.center.localeCompare(b.center) || a.code.localeCompare(b.code));
  }

  async listRoles(): Promise<Role[]> {
    return this.db.q<Role>(sql`select code, name, permissions, builtin from role_catalog order by builtin desc, code`);
  }

  /** Creates or replaces a role; built-in roles (superadmin) cannot be changed. */
  async defineRole(role: { code: string; name: string; permissions: string[] }, actor: Actor, regionCode: string) {
    if (!ROLE_RE.test(role.code)) {
      throw fieldError(
        400,
        'USER_ROLE_CODE_INVALID',
        '角色代码无效',
        'code',
        '小写字母开头，2–40 位字母、数字、- 或 _',
      );
    }
    const bad = role.permissions.find((p) => !PERMISSION_RE.test(p));
    if (bad) throw fieldError(400, 'USER_PERMISSION_INVALID', '权限代码无效', 'permissions', `无效的权限代码 ${bad}`);
    if (role.permissions.includes('*')) {
      throw fieldError(
        400,
        'USER_PERMISSION_INVALID',
        '不能创建全部权限的角色',
        'permissions',
        '“*” 仅限内置超级管理员',
      );
    }
    await this.db.tx(async (tx) => {
      const existing = await tx.one<{ builtin: boolean }>(
        sql`select builtin from role_catalog where code = ${role.code}`,
      );
      if (existing?.builtin) throw conflict('USER_ROLE_BUILTIN', '内置角色不能修改');
      await tx.q(sql`insert into role_catalog (code, name, permissions) values (${role.code}, ${role.name},
          ${textArray(role.permissions)})
        on conflict (code) do update set name = excluded.name, permissions = excluded.permissions, updated_at = now()`);
      await this.audit(tx, regionCode, actor, {
        action: 'user.role.define',
        targetType: 'role',
        targetId: role.code,
        detail: { permissions: role.permissions },
      });
    });
    this.permissionCache.clear();
  }

  async deleteRole(code: string, actor: Actor, regionCode: string): Promise<void> {
    await this.db.tx(async (tx) => {
      const existing = await tx.one<{ builtin: boolean }>(sql`select builtin from role_catalog where code = ${code}`);
      if (!existing) throw notFound('USER_ROLE_NOT_FOUND', '角色不存在');
      if (existing.builtin) throw conflict('USER_ROLE_BUILTIN', '内置角色不能删除');
      if (await tx.one(sql`select 1 from staff_role_grant where role_code = ${code}`)) {
        throw conflict('USER_ROLE_IN_USE', '角色仍有授权', '请先撤销该角色的全部授权');
      }
      await tx.q(sql`delete from role_catalog where code = ${code}`);
      await this.audit(tx, regionCode, actor, { action: 'user.role.delete', targetType: 'role', targetId: code });
    });
  }

  // ---------------------------------------------------------------- seed

  /** Roles, the permission catalogue and the super-admin (granted in every demo city); idempotent. */
  async seedBase(opts: {
    superadminUsername: string;
    superadminPassword: string;
    homeRegion?: string;
  }): Promise<StaffAccount> {
    await this.declarePermissions(USER_PERMISSIONS, 'user');
    await this.db.tx(async (tx) => {
      for (const r of DEMO_ROLES) {
        await tx.q(sql`insert into role_catalog (code, name, permissions, builtin)
          values (${r.code}, ${r.name}, ${textArray(r.permissions)}, ${r.code === 'superadmin'})
          on conflict (code) do nothing`);
      }
    });
    const regions = await this.db.q<{ code: string }>(
      sql`select code from region where demo and level = 2 order by code`,
    );
    let admin = await this.findStaffByUsername(opts.superadminUsername);
    if (!admin) {
      admin = await this.createStaff({
        regionCode: opts.homeRegion ?? regions[0]?.code ?? '990100',
        username: opts.superadminUsername,
        password: opts.superadminPassword,
        displayName: '超级管理员',
      });
    }
    for (const r of regions) {
      await this.db.q(sql`insert into staff_role_grant (region_code, staff_id, role_code, granted_by)
        values (${r.code}, ${admin.id}, 'superadmin', 'seed') on conflict do nothing`);
    }
    this.permissionCache.clear();
    return admin;
  }

  // ---------------------------------------------------------------- audit

  async audit(
    tx: Executor,
    regionCode: string,
    actor: Actor,
    e: Pick<AuditEntry, 'action' | 'targetType' | 'targetId' | 'purpose' | 'detail'> & {
      result?: AuditEntry['result'];
    },
  ): Promise<void> {
    await appendAudit(tx, {
      regionCode,
      actorKind: actor.kind,
      actorId: actor.id,
      ip: actor.ip,
      userAgent: actor.userAgent,
      result: e.result ?? 'success',
      action: e.action,
      targetType: e.targetType,
      targetId: e.targetId,
      purpose: e.purpose,
      detail: e.detail,
    });
  }

  /** Runs fn and appends the audit entry of an unmasked read in the same transaction. */
  async unmaskPerson(regionCode: string, personId: string, purpose: string, actor: Actor): Promise<PersonAccount> {
    return this.db.tx(async (tx) => {
      const p = await this.getPerson(regionCode, personId, tx);
      await this.audit(tx, regionCode, actor, {
        action: 'user.person.unmask',
        targetType: 'person',
        targetId: personId,
        purpose,
        detail: { fields: ['name', 'residentId', 'mobile', 'email'] },
      });
      return p;
    });
  }
}

interface AgentRow {
  region_code: string;
  unit_id: string;
  person_id: string;
  role: AgentRole;
  expires_at: Date | string | null;
  granted_by: string;
  granted_at: Date | string;
}

function agentFromRow(r: AgentRow): Agent {
  const expiresAt = iso(r.expires_at);
  return {
    regionCode: r.region_code,
    unitId: r.unit_id,
    personId: r.person_id,
    role: r.role,
    ...(expiresAt ? { expiresAt } : {}),
    grantedBy: r.granted_by,
    grantedAt: iso(r.granted_at)!,
    active: !expiresAt || new Date(expiresAt).getTime() > Date.now(),
  };
}

function checkMobile(mobile: string): void {
  if (!isValidMobile(mobile.trim())) {
    throw fieldError(400, 'USER_MOBILE_INVALID', '手机号码无效', 'mobile', '应为 1 开头的 11 位手机号码');
  }
}

function checkEmail(email: string): void {
  if (!/^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,}$/.test(email)) {
    throw fieldError(400, 'USER_EMAIL_INVALID', '邮箱格式不正确', 'email', '请填写有效的电子邮箱');
  }
}
