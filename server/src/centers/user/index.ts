/** User center (用户中心): persons, units, agents, staff accounts and per-region RBAC. */
import type { FastifyRequest } from 'fastify';
import { DEMO_PERSONS } from '../../integration/core-zone/index.ts';
import { requirePrincipal } from '../../platform/auth.ts';
import type { Center } from '../../platform/center.ts';
import { type Context, service } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { forbidden } from '../../platform/errors.ts';
import { usccCheckChar } from '../../platform/privacy/index.ts';
import { argon2ParamsFor, PasswordHasher } from './password.ts';
import { userRoutes } from './routes.ts';
import { type AgentRole, UserService } from './service.ts';

export { argon2ParamsFor, checkPasswordPolicy, OWASP_ARGON2, TEST_ARGON2 } from './password.ts';
export { OTP_PURPOSES } from './routes.ts';
export type {
  Actor,
  Agent,
  AgentRole,
  PermissionDecl,
  PersonAccount,
  PersonStatus,
  Role,
  StaffAccount,
  Unit,
  UnitMembership,
  UnitType,
} from './service.ts';
export { AGENT_ROLES, maskPerson, maskUnit, UNIT_TYPE_LABELS, UNIT_TYPES, UserService } from './service.ts';

/**
 * For other centers' unit-hall routes: the caller must be a person acting for a unit (token claim `unit`, set by
 * POST /api/user/me/acting-unit) with a current grant in one of `roles`. Checked against the database on every call,
 * so a revoked or expired grant stops working at once.
 */
export async function requireAgent(
  ctx: Context,
  req: FastifyRequest,
  roles: AgentRole[] = ['admin', 'handler'],
): Promise<{ unitId: string; personId: string; role: AgentRole }> {
  const p = requirePrincipal(req, 'person');
  if (!p.unitId) throw forbidden('USER_UNIT_NOT_SELECTED', '请先选择代办单位');
  const role = await service(ctx, 'user').agentRole(req.regionCode, p.unitId, p.subject);
  if (!role) throw forbidden('USER_NOT_AGENT', '您不是该单位的有效经办人', '授权不存在、已过期或单位已停用');
  if (!roles.includes(role)) throw forbidden('USER_AGENT_ROLE_FORBIDDEN', '您在该单位的角色无权办理此业务');
  return { unitId: p.unitId, personId: p.subject, role };
}

declare module '../../platform/context.ts' {
  interface Services {
    user: UserService;
  }
}

/** Encrypted personal-data columns (for key rotation). */
const ENCRYPTED_COLUMNS: Array<[string, string]> = [
  ['person_account', 'name_enc'],
  ['person_account', 'resident_id_enc'],
  ['person_account', 'mobile_enc'],
  ['person_account', 'email_enc'],
  ['unit', 'legal_rep_name_enc'],
];

export const userCenter: Center = {
  name: 'user',
  description: '用户中心: 个人、单位、经办人账号，工作人员与按统筹区授权的角色',
  init(ctx: Context) {
    const users = new UserService(ctx, new PasswordHasher(argon2ParamsFor(ctx.config.NODE_ENV)), {
      staffPasswordMaxAgeDays: ctx.config.STAFF_PASSWORD_MAX_AGE_DAYS,
    });
    ctx.services.user = users;
    ctx.permissions = users;
    for (const [table, column] of ENCRYPTED_COLUMNS) {
      ctx.privacy.registerEncryptedColumn({ table, column, key: ['region_code', 'id'] });
    }
  },
  async routes(app, ctx) {
    const users = ctx.services.user!;
    userRoutes(app, ctx, users);
    await ctx.jobs.registerDaily(
      'user.agents.remind',
      '经办授权到期提醒（每日）',
      () => users.remindExpiringAgents(),
      60_000,
    );
    await ctx.jobs.registerDaily(
      'user.staff.password_remind',
      '工作人员密码到期提醒（每日）',
      () => users.remindStaffPasswords(),
      90_000,
    );
  },
  async seed(ctx) {
    const users = ctx.services.user!;
    await users.seedBase({
      superadminUsername: ctx.config.SUPERADMIN_USERNAME,
      superadminPassword: ctx.config.SUPERADMIN_PASSWORD,
      homeRegion: ctx.config.DEFAULT_REGION,
    });
    await seedDemo(ctx, users);
  },
  demoAccounts: (ctx) => [
    {
      who: '超级管理员（全部演示统筹区；二次验证的短信验证码见控制台「消息渠道与沙箱」）',
      where: `${ctx.publicUrl}/console`,
      login: `${ctx.config.SUPERADMIN_USERNAME} / ${ctx.config.NODE_ENV === 'production' ? '（SUPERADMIN_PASSWORD）' : ctx.config.SUPERADMIN_PASSWORD}`,
    },
    { who: '东湖市经办员', where: `${ctx.publicUrl}/console`, login: `clerk01 / ${DEMO_CLERK_PASSWORD}` },
    {
      who: '参保人 张伟（单位管理员）/ 李娜（单位经办人）',
      where: `${ctx.publicUrl}/personal  ${ctx.publicUrl}/unit`,
      login: `zhangwei / lina，密码 ${DEMO_PERSON_PASSWORD}`,
    },
  ],
};

export const DEMO_PERSON_PASSWORD = 'Demo@2024pw';
const DEMO_CLERK_PASSWORD = 'Clerk@2024pw';
const DEMO_ADMIN_MOBILE = '13800000000';

/**
 * Hall accounts for two of the core zone's demo persons, a unit and a clerk in 东湖市 (990100), so a demo login can
 * activate its e-voucher and pay; skipped when already present. Passwords are in the README.
 */
async function seedDemo(ctx: Context, users: UserService): Promise<void> {
  const region = '990100';
  if (!(await ctx.db.one(sql`select 1 from region where code = ${region}`))) return;
  const seedActor = { kind: 'system' as const, id: 'seed' };
  const demo = [
    { ...DEMO_PERSONS.zhangWei, mobile: '13800000001', username: 'zhangwei' },
    { ...DEMO_PERSONS.liNa, mobile: '13800000002', username: 'lina' },
  ];
  const people = [];
  for (const d of demo) {
    const residentId = d.residentId;
    const found = await users.findPersonByResidentId(region, residentId);
    people.push(
      found ??
        (await users.createPerson(
          {
            regionCode: region,
            name: d.name,
            residentId,
            mobile: d.mobile,
            username: d.username,
            password: DEMO_PERSON_PASSWORD,
          },
          seedActor,
        )),
    );
  }
  const first17 = '91990100MA0000001';
  const uscc = first17 + usccCheckChar(first17);
  if (!(await users.findUnitByUscc(region, uscc))) {
    const unit = await users.registerUnit(
      {
        regionCode: region,
        uscc,
        name: '东湖示范科技有限公司',
        unitType: 'insured_employer',
        legalRepName: '王五',
        adminPersonId: people[0].id,
      },
      seedActor,
    );
    await users.grantAgent({ regionCode: region, unitId: unit.id, personId: people[1].id, role: 'handler' }, seedActor);
  }
  // the demo's super-admin gets a (sandbox) mobile, so 查看明文 can ask for a second factor and get one: the code
  // shows in the console's 消息渠道与沙箱
  const admin = await users.findStaffByUsername(ctx.config.SUPERADMIN_USERNAME);
  if (admin && !admin.mobile) await users.updateStaff(admin.id, { mobile: DEMO_ADMIN_MOBILE }, region, seedActor);
  if (!(await users.findStaffByUsername('clerk01'))) {
    await users.createStaff(
      {
        regionCode: region,
        username: 'clerk01',
        password: DEMO_CLERK_PASSWORD,
        displayName: '东湖经办员',
        roles: ['clerk'],
      },
      seedActor,
    );
  }
}
