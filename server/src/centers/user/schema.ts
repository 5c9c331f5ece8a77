/**
 * The user center's tables (Drizzle), mirroring migrations/0200_user_accounts.sql. Only this center touches them;
 * other centers go through UserService. `*_enc` columns hold AES-256-GCM ciphertext (platform privacy), `*_bidx`
 * HMAC-SM3 blind indexes for equality look-ups.
 */
import { boolean, char, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true });

export const personAccount = pgTable(
  'person_account',
  {
    regionCode: char('region_code', { length: 6 }).notNull(),
    id: uuid('id').notNull().defaultRandom(),
    nameEnc: text('name_enc').notNull(),
    namePrefixBidx: text('name_prefix_bidx').array().notNull(),
    residentIdEnc: text('resident_id_enc').notNull(),
    residentIdBidx: char('resident_id_bidx', { length: 64 }).notNull(),
    mobileEnc: text('mobile_enc').notNull(),
    mobileBidx: char('mobile_bidx', { length: 64 }).notNull(),
    username: text('username'),
    emailEnc: text('email_enc'),
    passwordHash: text('password_hash'),
    mustChangePassword: boolean('must_change_password').notNull().default(false),
    status: text('status', { enum: ['active', 'disabled', 'deactivated'] }).notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    passwordChangedAt: ts('password_changed_at'),
    deactivatedAt: ts('deactivated_at'),
  },
  (t) => [primaryKey({ columns: [t.regionCode, t.id] })],
);

export const unit = pgTable(
  'unit',
  {
    regionCode: char('region_code', { length: 6 }).notNull(),
    id: uuid('id').notNull().defaultRandom(),
    uscc: char('uscc', { length: 18 }).notNull(),
    name: text('name').notNull(),
    unitType: text('unit_type').notNull(),
    legalRepNameEnc: text('legal_rep_name_enc').notNull(),
    status: text('status', { enum: ['active', 'disabled'] }).notNull(),
    usccOverrideBy: text('uscc_override_by'),
    createdBy: text('created_by').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.regionCode, t.id] })],
);

export const agent = pgTable(
  'agent',
  {
    regionCode: char('region_code', { length: 6 }).notNull(),
    unitId: uuid('unit_id').notNull(),
    personId: uuid('person_id').notNull(),
    role: text('role', { enum: ['admin', 'handler', 'viewer'] }).notNull(),
    expiresAt: ts('expires_at'),
    grantedBy: text('granted_by').notNull(),
    grantedAt: ts('granted_at').notNull().defaultNow(),
    /** When the agent and the unit's admins were told the grant expires soon (cleared by a renewal). */
    expiryRemindedAt: ts('expiry_reminded_at'),
  },
  (t) => [primaryKey({ columns: [t.regionCode, t.unitId, t.personId] })],
);

export const staffAccount = pgTable(
  'staff_account',
  {
    regionCode: char('region_code', { length: 6 }).notNull(),
    id: uuid('id').notNull().defaultRandom(),
    username: text('username').notNull(),
    displayName: text('display_name').notNull(),
    passwordHash: text('password_hash').notNull(),
    status: text('status', { enum: ['active', 'disabled'] }).notNull(),
    /** Set by the console (created / reset with a password chosen by someone else); cleared by the login page. */
    mustChangePassword: boolean('must_change_password').notNull().default(false),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    /** Older than STAFF_PASSWORD_MAX_AGE_DAYS: the next login asks for a new password. */
    passwordChangedAt: ts('password_changed_at').notNull().defaultNow(),
    /** Where the account's security alerts go (encrypted; both optional). */
    mobileEnc: text('mobile_enc'),
    emailEnc: text('email_enc'),
    /** 密码到期提醒 sent for the current password (once per password). */
    passwordRemindedAt: ts('password_reminded_at'),
  },
  (t) => [primaryKey({ columns: [t.regionCode, t.id] })],
);

/** Reference table: permissions declared by the centers. */
export const permissionCatalog = pgTable('permission_catalog', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  center: text('center').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** Reference table: roles (province-wide definitions; granted per region in staff_role_grant). */
export const roleCatalog = pgTable('role_catalog', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  permissions: text('permissions').array().notNull(),
  builtin: boolean('builtin').notNull().default(false),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const staffRoleGrant = pgTable(
  'staff_role_grant',
  {
    regionCode: char('region_code', { length: 6 }).notNull(),
    staffId: uuid('staff_id').notNull(),
    roleCode: text('role_code').notNull(),
    grantedBy: text('granted_by').notNull(),
    grantedAt: ts('granted_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.regionCode, t.staffId, t.roleCode] })],
);
