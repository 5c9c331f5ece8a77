/** HTTP surface of the user center: self-service (persons, units, agents) and the console (staff, roles). */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authenticated, requireAcr, requirePrincipal, staffPermission } from '../../platform/auth.ts';
import type { Context } from '../../platform/context.ts';
import { AppError, forbidden } from '../../platform/errors.ts';
import type { App } from '../../platform/http.ts';
import { passwordChecks } from '../../platform/rate-limit.ts';
import { instant } from '../../platform/schemas.ts';
import { checkPasswordPolicy, temporaryPassword } from './password.ts';
import {
  type Actor,
  AGENT_ROLES,
  maskPerson,
  maskUnit,
  type PersonAccount,
  UNIT_TYPES,
  type UserService,
} from './service.ts';

/** SMS purposes the user center asks the auth center to verify (the pages send the same to POST /api/auth/otp). */
export const OTP_PURPOSES = {
  register: 'register',
  resetPassword: 'reset-password',
  changeMobile: 'change-mobile',
  deactivate: 'deactivate',
} as const;

/** The slice of the auth center the user center calls at request time (looked up, never imported). */
interface AuthLike {
  verifyOtp?(input: { regionCode: string; mobile: string; purpose: string; code: string }): Promise<unknown>;
  unlockAccount?(input: {
    regionCode: string;
    kind: 'person' | 'staff';
    subjectId: string;
    actor?: string;
  }): Promise<unknown>;
}

const authOf = (ctx: Context) => (ctx.services as unknown as Record<string, AuthLike | undefined>).auth;

const authUnavailable = () =>
  new AppError(503, 'AUTH_UNAVAILABLE', '统一认证服务暂不可用', '短信验证码暂时无法校验，请稍后再试');

/** Verifies an SMS code through the auth center; never skipped. */
export async function verifySmsCode(
  ctx: Context,
  input: { regionCode: string; mobile: string; purpose: string; code: string },
  field: string,
): Promise<void> {
  const auth = authOf(ctx);
  if (typeof auth?.verifyOtp !== 'function') throw authUnavailable();
  const r = await auth.verifyOtp(input);
  const ok =
    r === true || r === undefined || (typeof r === 'object' && r !== null && (r as { ok?: unknown }).ok !== false);
  if (!ok) {
    throw new AppError(400, 'USER_SMS_CODE_INVALID', '短信验证码不正确或已过期', '请重新获取验证码', {
      errors: [{ field, message: '验证码不正确或已过期' }],
    });
  }
}

const uuid = z.uuid('应为 UUID');
const str = (max: number) => z.string().max(max);
const page = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
};
const passwordField = str(256);

function actorOf(req: FastifyRequest): Actor {
  const p = req.principal;
  const ua = req.headers['user-agent'];
  return {
    kind: p ? p.kind : 'anonymous',
    id: p ? p.subject : 'anonymous',
    ip: req.ip,
    ...(typeof ua === 'string' ? { userAgent: ua.slice(0, 300) } : {}),
  };
}

const personId = (req: FastifyRequest) => requirePrincipal(req, 'person').subject;

export function userRoutes(app: App, ctx: Context, users: UserService): void {
  const perm = (p: string) => staffPermission(() => ctx.permissions, p);
  const passwordChecked = passwordChecks(ctx.db);
  const bearer = [{ bearer: [] }];
  const tags = ['user'];
  const viewSelf = authenticated('person');
  /** A signed-in person whose account is still active (a disabled or deactivated account changes nothing). */
  const self = async (req: FastifyRequest) => {
    const status = await users.personStatus(req.regionCode, personId(req));
    if (status !== 'active') {
      throw forbidden('USER_ACCOUNT_NOT_ACTIVE', '账号已停用或注销', '如有疑问请联系医保经办机构');
    }
  };

  // ------------------------------------------------------------ persons: self-service

  app.post(
    '/api/user/persons',
    {
      schema: {
        tags,
        summary: '个人注册（姓名、身份证号、手机号、短信验证码、密码）',
        body: z.strictObject({
          name: str(60),
          residentId: str(40),
          mobile: str(20),
          smsCode: str(12),
          password: passwordField,
          username: str(40).optional(),
        }),
      },
      config: { idempotent: true },
    },
    async (req, reply) => {
      const b = req.body;
      const v = users.validatePersonInput(b);
      checkPasswordPolicy(b.password, v);
      await verifySmsCode(
        ctx,
        { regionCode: req.regionCode, mobile: v.mobile, purpose: OTP_PURPOSES.register, code: b.smsCode },
        'smsCode',
      );
      const person = await users.createPerson({ ...b, regionCode: req.regionCode }, actorOf(req));
      return reply.status(201).send(maskPerson(person));
    },
  );

  app.get(
    '/api/user/me',
    {
      schema: {
        tags,
        summary: '我的资料（默认脱敏；reveal=true 显示本人明文）',
        querystring: z.strictObject({ reveal: z.enum(['true', 'false']).optional() }),
        security: bearer,
      },
      preHandler: viewSelf,
    },
    async (req) => {
      const p = await users.getPerson(req.regionCode, personId(req));
      return req.query.reveal === 'true' ? p : maskPerson(p);
    },
  );

  app.patch(
    '/api/user/me',
    {
      schema: {
        tags,
        summary: '修改我的资料（用户名、邮箱）',
        body: z.strictObject({ username: str(40).nullable().optional(), email: str(254).nullable().optional() }),
        security: bearer,
      },
      preHandler: self,
    },
    async (req) => maskPerson(await users.updateProfile(req.regionCode, personId(req), req.body, actorOf(req))),
  );

  app.post(
    '/api/user/me/password',
    {
      schema: {
        tags,
        summary: '修改密码',
        body: z.strictObject({ oldPassword: passwordField, newPassword: passwordField }),
        security: bearer,
      },
      preHandler: [self, passwordChecked],
    },
    async (req, reply) => {
      await users.changePassword(
        req.regionCode,
        personId(req),
        req.body.oldPassword,
        req.body.newPassword,
        actorOf(req),
        req.principal?.sessionId,
      );
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/user/password-reset',
    {
      schema: {
        tags,
        summary: '短信找回密码',
        body: z.strictObject({ mobile: str(20), residentId: str(40), smsCode: str(12), newPassword: passwordField }),
      },
    },
    async (req, reply) => {
      const b = req.body;
      await verifySmsCode(
        ctx,
        { regionCode: req.regionCode, mobile: b.mobile.trim(), purpose: OTP_PURPOSES.resetPassword, code: b.smsCode },
        'smsCode',
      );
      const person = await users.findPersonByMobile(req.regionCode, b.mobile);
      if (!person || person.residentId !== b.residentId.trim().toUpperCase()) {
        throw new AppError(400, 'USER_RESET_MISMATCH', '手机号与身份证号不匹配', '请核对后重试', {
          errors: [{ field: 'residentId', message: '与该手机号登记的身份证号不一致' }],
        });
      }
      await users.resetPassword(req.regionCode, person.id, b.newPassword, {
        ...actorOf(req),
        kind: 'person',
        id: person.id,
      });
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/user/me/mobile',
    {
      schema: {
        tags,
        summary: '更换手机号（需原手机号和新手机号的短信验证码）',
        body: z.strictObject({ newMobile: str(20), oldCode: str(12), newCode: str(12) }),
        security: bearer,
      },
      preHandler: self,
    },
    async (req) => {
      const me = await users.getPerson(req.regionCode, personId(req));
      const b = req.body;
      await verifySmsCode(
        ctx,
        { regionCode: req.regionCode, mobile: me.mobile, purpose: OTP_PURPOSES.changeMobile, code: b.oldCode },
        'oldCode',
      );
      await verifySmsCode(
        ctx,
        { regionCode: req.regionCode, mobile: b.newMobile.trim(), purpose: OTP_PURPOSES.changeMobile, code: b.newCode },
        'newCode',
      );
      const p = await users.changeMobile(
        req.regionCode,
        me.id,
        b.newMobile,
        { oldCodeVerified: true, newCodeVerified: true },
        actorOf(req),
      );
      return maskPerson(p);
    },
  );

  app.post(
    '/api/user/me/deactivate',
    {
      schema: {
        tags,
        summary: '注销账号（需密码和短信验证码）',
        body: z.strictObject({ password: passwordField.optional(), smsCode: str(12) }),
        security: bearer,
      },
      preHandler: [self, passwordChecked],
    },
    async (req, reply) => {
      const me = await users.getPerson(req.regionCode, personId(req));
      if (me.passwordSet && !(await users.verifyPassword(me, req.body.password ?? ''))) {
        throw new AppError(400, 'USER_PASSWORD_WRONG', '密码不正确', undefined, {
          errors: [{ field: 'password', message: '密码不正确' }],
        });
      }
      await verifySmsCode(
        ctx,
        { regionCode: req.regionCode, mobile: me.mobile, purpose: OTP_PURPOSES.deactivate, code: req.body.smsCode },
        'smsCode',
      );
      await users.deactivate(req.regionCode, me.id, actorOf(req), req.principal?.sessionId);
      return reply.status(204).send();
    },
  );

  // ------------------------------------------------------------ units and agents (unit hall)

  const unitBody = {
    uscc: str(30),
    name: str(120),
    unitType: z.enum(UNIT_TYPES),
    legalRepName: str(60),
  };

  app.post(
    '/api/user/units',
    {
      schema: { tags, summary: '单位注册（注册人成为首位管理员）', body: z.strictObject(unitBody), security: bearer },
      preHandler: self,
      config: { idempotent: true },
    },
    async (req, reply) => {
      const unit = await users.registerUnit(
        { ...req.body, regionCode: req.regionCode, adminPersonId: personId(req) },
        actorOf(req),
      );
      return reply.status(201).send(unit);
    },
  );

  app.get(
    '/api/user/me/units',
    { schema: { tags, summary: '我可代办的单位及角色', security: bearer }, preHandler: self },
    async (req) => users.unitsOf(req.regionCode, personId(req)),
  );

  app.post(
    '/api/user/me/acting-unit',
    {
      schema: {
        tags,
        summary: '切换代办单位（换发带单位声明的访问令牌；unitId 为 null 回到个人身份）',
        body: z.strictObject({ unitId: uuid.nullable() }),
        security: bearer,
      },
      preHandler: self,
    },
    async (req) => {
      const p = requirePrincipal(req, 'person');
      const unitId = req.body.unitId;
      const role = unitId ? await users.agentRole(req.regionCode, unitId, p.subject) : undefined;
      if (unitId && !role)
        throw forbidden('USER_NOT_AGENT', '您不是该单位的有效经办人', '授权不存在、已过期或单位已停用');
      const expiresIn = 900;
      const accessToken = await ctx.tokens.issue(
        {
          sub: p.subject,
          kind: 'person',
          region: req.regionCode,
          acr: p.acr ?? 'pwd',
          amr: p.amr ?? ['pwd'],
          ...(p.sessionId ? { sid: p.sessionId } : {}),
          ...(p.scopes ? { scope: p.scopes.join(' ') } : {}),
          ...(unitId ? { unit: unitId } : {}),
        },
        expiresIn,
      );
      await ctx.db.tx((tx) =>
        users.audit(tx, req.regionCode, actorOf(req), {
          action: 'user.agent.switch',
          targetType: 'unit',
          targetId: unitId ?? undefined,
          detail: { role: role ?? null },
        }),
      );
      return { accessToken, tokenType: 'Bearer', expiresIn, unitId, role: role ?? null };
    },
  );

  const requireUnitAdmin = async (req: FastifyRequest, unitId: string) => {
    await users.getUnit(req.regionCode, unitId);
    const role = await users.agentRole(req.regionCode, unitId, personId(req));
    if (role !== 'admin') throw forbidden('USER_UNIT_ADMIN_REQUIRED', '仅单位管理员可管理经办人');
  };

  const maskAgent = <T extends { person: PersonAccount }>(a: T) => ({ ...a, person: maskPerson(a.person) });

  app.get(
    '/api/user/units/:unitId/agents',
    {
      schema: {
        tags,
        summary: '单位经办人列表（单位管理员）',
        params: z.strictObject({ unitId: uuid }),
        security: bearer,
      },
      preHandler: self,
    },
    async (req) => {
      await requireUnitAdmin(req, req.params.unitId);
      return (await users.listAgents(req.regionCode, req.params.unitId)).map(maskAgent);
    },
  );

  app.post(
    '/api/user/units/:unitId/agents',
    {
      schema: {
        tags,
        summary: '授权经办人（按身份证号和姓名找到已注册的个人）',
        params: z.strictObject({ unitId: uuid }),
        body: z.strictObject({
          residentId: str(40),
          name: str(60),
          role: z.enum(AGENT_ROLES),
          expiresAt: instant.nullable().optional(),
        }),
        security: bearer,
      },
      preHandler: self,
      config: { idempotent: true },
    },
    async (req, reply) => {
      await requireUnitAdmin(req, req.params.unitId);
      const b = req.body;
      const person = await users.findPersonByResidentId(req.regionCode, b.residentId);
      if (!person || person.name !== b.name.trim() || person.status !== 'active') {
        throw new AppError(
          404,
          'USER_AGENT_PERSON_NOT_FOUND',
          '未找到该个人用户',
          '请确认对方已注册且姓名、身份证号一致',
          {
            errors: [{ field: 'residentId', message: '未找到姓名与身份证号一致的已注册用户' }],
          },
        );
      }
      const agent = await users.grantAgent(
        {
          regionCode: req.regionCode,
          unitId: req.params.unitId,
          personId: person.id,
          role: b.role,
          expiresAt: b.expiresAt,
        },
        actorOf(req),
      );
      return reply.status(201).send({ ...agent, person: maskPerson(person) });
    },
  );

  app.patch(
    '/api/user/units/:unitId/agents/:personId',
    {
      schema: {
        tags,
        summary: '调整经办人的角色或授权期限（续期），无须再填身份证号',
        params: z.strictObject({ unitId: uuid, personId: uuid }),
        body: z.strictObject({ role: z.enum(AGENT_ROLES), expiresAt: instant.nullable() }),
        security: bearer,
      },
      preHandler: self,
      config: { idempotent: true },
    },
    async (req) => {
      await requireUnitAdmin(req, req.params.unitId);
      const current = (await users.listAgents(req.regionCode, req.params.unitId)).find(
        (a) => a.personId === req.params.personId,
      );
      if (!current) throw new AppError(404, 'USER_AGENT_NOT_FOUND', '该人员不是本单位的经办人', '请先授权经办人');
      const agent = await users.grantAgent(
        { ...req.params, regionCode: req.regionCode, role: req.body.role, expiresAt: req.body.expiresAt },
        actorOf(req),
      );
      return { ...agent, person: maskPerson(current.person) };
    },
  );

  app.delete(
    '/api/user/units/:unitId/agents/:personId',
    {
      schema: {
        tags,
        summary: '撤销经办人授权',
        params: z.strictObject({ unitId: uuid, personId: uuid }),
        security: bearer,
      },
      preHandler: self,
    },
    async (req, reply) => {
      await requireUnitAdmin(req, req.params.unitId);
      await users.revokeAgent(req.regionCode, req.params.unitId, req.params.personId, actorOf(req));
      return reply.status(204).send();
    },
  );

  // ------------------------------------------------------------ console: persons, units, agents

  app.get(
    '/api/user/admin/persons',
    {
      schema: {
        tags,
        summary: '查询个人用户（脱敏；按身份证号/手机号精确、用户名或姓名前缀）',
        querystring: z.strictObject({
          q: str(60).optional(),
          status: z.enum(['active', 'disabled', 'deactivated']).optional(),
          ...page,
        }),
        security: bearer,
      },
      preHandler: perm('user:read'),
    },
    async (req) => {
      const r = await users.searchPersons(req.regionCode, req.query);
      return { total: r.total, items: r.items.map(maskPerson) };
    },
  );

  app.get(
    '/api/user/admin/persons/:id',
    {
      schema: { tags, summary: '个人用户详情（脱敏）', params: z.strictObject({ id: uuid }), security: bearer },
      preHandler: perm('user:read'),
    },
    async (req) => {
      const p = await users.getPerson(req.regionCode, req.params.id);
      return { ...maskPerson(p), units: await users.unitsOf(req.regionCode, p.id) };
    },
  );

  app.post(
    '/api/user/admin/persons/:id/unmask',
    {
      schema: {
        tags,
        summary: '查看个人信息明文（需 user:unmask 权限、二次认证并说明用途；留痕审计）',
        params: z.strictObject({ id: uuid }),
        body: z.strictObject({ purpose: z.string().trim().min(4, '用途至少 4 个字').max(200) }),
        security: bearer,
      },
      preHandler: perm('user:unmask'),
    },
    async (req) => {
      requireAcr(req, 'mfa');
      return users.unmaskPerson(req.regionCode, req.params.id, req.body.purpose, actorOf(req));
    },
  );

  const statusRoute = (action: 'disable' | 'enable') =>
    app.post(
      `/api/user/admin/persons/:id/${action}`,
      {
        schema: {
          tags,
          summary: action === 'disable' ? '停用个人账号' : '启用个人账号',
          params: z.strictObject({ id: uuid }),
          body: z.strictObject({ reason: str(200).optional() }).nullish(),
          security: bearer,
        },
        preHandler: perm('user:manage'),
      },
      async (req) =>
        maskPerson(
          await users.setPersonStatus(
            req.regionCode,
            req.params.id,
            action === 'disable' ? 'disabled' : 'active',
            actorOf(req),
            req.body?.reason,
          ),
        ),
    );
  statusRoute('disable');
  statusRoute('enable');

  app.post(
    '/api/user/admin/persons/:id/reset-password',
    {
      schema: {
        tags,
        summary: '重置个人密码（生成临时密码，仅显示一次；留痕审计）',
        params: z.strictObject({ id: uuid }),
        security: bearer,
      },
      preHandler: perm('user:manage'),
    },
    async (req) => {
      const temp = temporaryPassword();
      await users.resetPassword(req.regionCode, req.params.id, temp, actorOf(req), { temporary: true });
      return { temporaryPassword: temp };
    },
  );

  app.post(
    '/api/user/admin/persons/:id/unlock',
    {
      schema: {
        tags,
        summary: '解除登录锁定（由统一认证中心执行）',
        params: z.strictObject({ id: uuid }),
        security: bearer,
      },
      preHandler: perm('user:manage'),
    },
    async (req) => {
      const p = await users.getPerson(req.regionCode, req.params.id);
      const auth = authOf(ctx);
      if (typeof auth?.unlockAccount !== 'function') throw authUnavailable();
      const unlocked = Boolean(
        await auth.unlockAccount({
          regionCode: req.regionCode,
          kind: 'person',
          subjectId: p.id,
          actor: actorOf(req).id,
        }),
      );
      await ctx.db.tx((tx) =>
        users.audit(tx, req.regionCode, actorOf(req), {
          action: 'user.person.unlock',
          targetType: 'person',
          targetId: p.id,
          detail: { wasLocked: unlocked },
        }),
      );
      return { unlocked };
    },
  );

  app.get(
    '/api/user/admin/units',
    {
      schema: {
        tags,
        summary: '查询单位（按统一社会信用代码或名称）',
        querystring: z.strictObject({ q: str(100).optional(), unitType: z.enum(UNIT_TYPES).optional(), ...page }),
        security: bearer,
      },
      preHandler: perm('user:read'),
    },
    async (req) => {
      const r = await users.searchUnits(req.regionCode, req.query);
      return { total: r.total, items: r.items.map(maskUnit) };
    },
  );

  app.post(
    '/api/user/admin/units',
    {
      schema: {
        tags,
        summary: '经办窗口登记单位（可核验放行未通过校验的早期试点代码）',
        body: z.strictObject({ ...unitBody, adminResidentId: str(40), usccOverride: z.boolean().default(false) }),
        security: bearer,
      },
      preHandler: perm('user:manage'),
      config: { idempotent: true },
    },
    async (req, reply) => {
      const b = req.body;
      const admin = await users.findPersonByResidentId(req.regionCode, b.adminResidentId);
      if (!admin) {
        throw new AppError(404, 'USER_AGENT_PERSON_NOT_FOUND', '未找到该个人用户', '首位管理员须先注册个人账号', {
          errors: [{ field: 'adminResidentId', message: '该身份证号未注册' }],
        });
      }
      const actor = actorOf(req);
      const unit = await users.registerUnit(
        {
          regionCode: req.regionCode,
          uscc: b.uscc,
          name: b.name,
          unitType: b.unitType,
          legalRepName: b.legalRepName,
          adminPersonId: admin.id,
          ...(b.usccOverride ? { usccOverrideBy: actor.id } : {}),
        },
        actor,
      );
      return reply.status(201).send(maskUnit(unit));
    },
  );

  app.post(
    '/api/user/admin/units/:id/:action',
    {
      schema: {
        tags,
        summary: '停用/启用单位',
        params: z.strictObject({ id: uuid, action: z.enum(['disable', 'enable']) }),
        security: bearer,
      },
      preHandler: perm('user:manage'),
    },
    async (req) =>
      maskUnit(
        await users.setUnitStatus(
          req.regionCode,
          req.params.id,
          req.params.action === 'disable' ? 'disabled' : 'active',
          actorOf(req),
        ),
      ),
  );

  app.get(
    '/api/user/admin/agents',
    {
      schema: {
        tags,
        summary: '查询经办人（按单位，或经办人身份证号/手机号，或单位代码/名称）',
        querystring: z.strictObject({ unitId: uuid.optional(), q: str(100).optional(), ...page }),
        security: bearer,
      },
      preHandler: perm('user:read'),
    },
    async (req) =>
      (await users.searchAgents(req.regionCode, req.query)).map((a) => ({
        ...a,
        person: maskPerson(a.person),
        unit: maskUnit(a.unit),
      })),
  );

  // ------------------------------------------------------------ console: staff and roles

  const admin = perm('user:admin');
  /** Where the account's security alerts go (account locked, new device); null clears one. */
  const staffContact = {
    mobile: str(20).nullable().optional().describe('接收安全提醒的手机号'),
    email: str(254).nullable().optional().describe('接收安全提醒的电子邮箱'),
  };
  const staffBody = z.strictObject({
    username: str(40),
    displayName: str(40),
    password: passwordField,
    roles: z.array(str(40)).max(20).default([]),
    ...staffContact,
  });

  app.get(
    '/api/user/admin/staff',
    { schema: { tags, summary: '工作人员列表（本统筹区）', security: bearer }, preHandler: admin },
    async (req) => users.listStaff(req.regionCode),
  );

  app.post(
    '/api/user/admin/staff',
    {
      schema: { tags, summary: '新建工作人员（角色授予本统筹区）', body: staffBody, security: bearer },
      preHandler: admin,
    },
    // the initial password is chosen by the administrator: the account must choose its own at the first login
    async (req, reply) =>
      reply
        .status(201)
        .send(
          await users.createStaff({ ...req.body, regionCode: req.regionCode, mustChangePassword: true }, actorOf(req)),
        ),
  );

  app.post(
    '/api/user/admin/staff/:id/reset-password',
    {
      schema: {
        tags,
        summary: '重置工作人员密码（生成临时密码，仅显示一次；下次登录须修改；留痕审计）',
        params: z.strictObject({ id: uuid }),
        security: bearer,
      },
      preHandler: admin,
    },
    async (req) => {
      const temp = temporaryPassword();
      await users.updateStaff(req.params.id, { password: temp }, req.regionCode, actorOf(req));
      return { temporaryPassword: temp };
    },
  );

  app.patch(
    '/api/user/admin/staff/:id',
    {
      schema: {
        tags,
        summary: '修改工作人员（名称、状态、密码、接收安全提醒的手机号和邮箱）',
        params: z.strictObject({ id: uuid }),
        body: z.strictObject({
          displayName: str(40).optional(),
          status: z.enum(['active', 'disabled']).optional(),
          password: passwordField.optional(),
          ...staffContact,
        }),
        security: bearer,
      },
      preHandler: admin,
    },
    async (req) => {
      if (req.params.id === req.principal?.subject && req.body.status === 'disabled') {
        throw new AppError(409, 'USER_STAFF_SELF_DISABLE', '不能停用自己的账号');
      }
      return users.updateStaff(req.params.id, req.body, req.regionCode, actorOf(req));
    },
  );

  app.post(
    '/api/user/admin/staff/:id/roles',
    {
      schema: {
        tags,
        summary: '在本统筹区授予角色',
        params: z.strictObject({ id: uuid }),
        body: z.strictObject({ roleCode: str(40) }),
        security: bearer,
      },
      preHandler: admin,
    },
    async (req, reply) => {
      await users.grantRole(req.params.id, req.regionCode, req.body.roleCode, actorOf(req));
      return reply.status(204).send();
    },
  );

  app.delete(
    '/api/user/admin/staff/:id/roles/:roleCode',
    {
      schema: {
        tags,
        summary: '撤销本统筹区的角色',
        params: z.strictObject({ id: uuid, roleCode: str(40) }),
        security: bearer,
      },
      preHandler: admin,
    },
    async (req, reply) => {
      await users.revokeRole(req.params.id, req.regionCode, req.params.roleCode, actorOf(req));
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/user/admin/roles',
    { schema: { tags, summary: '角色列表', security: bearer }, preHandler: admin },
    async () => users.listRoles(),
  );

  app.get(
    '/api/user/admin/permissions',
    { schema: { tags, summary: '权限目录（各中心声明）', security: bearer }, preHandler: admin },
    async () => users.listPermissions(),
  );

  app.put(
    '/api/user/admin/roles/:code',
    {
      schema: {
        tags,
        summary: '新建或修改角色',
        params: z.strictObject({ code: str(40) }),
        body: z.strictObject({ name: z.string().trim().min(1).max(40), permissions: z.array(str(80)).max(200) }),
        security: bearer,
      },
      preHandler: admin,
    },
    async (req) => {
      await users.defineRole({ code: req.params.code, ...req.body }, actorOf(req), req.regionCode);
      return (await users.listRoles()).find((r) => r.code === req.params.code);
    },
  );

  app.delete(
    '/api/user/admin/roles/:code',
    {
      schema: { tags, summary: '删除角色', params: z.strictObject({ code: str(40) }), security: bearer },
      preHandler: admin,
    },
    async (req, reply) => {
      await users.deleteRole(req.params.code, actorOf(req), req.regionCode);
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/user/admin/me',
    {
      schema: { tags, summary: '当前工作人员及其在本统筹区的权限', security: bearer },
      preHandler: authenticated('staff'),
    },
    async (req) => {
      const staff = await users.getStaff(requirePrincipal(req, 'staff').subject);
      return { ...staff, permissions: [...(await users.permissionsOf(staff.id, req.regionCode))] };
    },
  );

  const staffSelf = { security: bearer, tags };
  app.post(
    '/api/user/admin/me/password',
    {
      schema: {
        ...staffSelf,
        summary: '工作人员修改自己的密码（需原密码；保留本次登录，其他登录退出）',
        body: z.strictObject({ oldPassword: passwordField, newPassword: passwordField }),
      },
      preHandler: [authenticated('staff'), passwordChecked],
    },
    async (req, reply) => {
      const p = requirePrincipal(req, 'staff');
      await users.changeStaffPassword(p.subject, req.body.newPassword, actorOf(req), {
        oldPassword: req.body.oldPassword,
        keepSession: p.sessionId,
      });
      return reply.status(204).send();
    },
  );

  app.patch(
    '/api/user/admin/me/contact',
    {
      schema: {
        ...staffSelf,
        summary: '工作人员设置自己接收安全提醒的手机号和邮箱（需当前密码）',
        // the password: a borrowed session must not be able to send the alerts elsewhere
        body: z.strictObject({ password: passwordField, ...staffContact }),
      },
      preHandler: [authenticated('staff'), passwordChecked],
    },
    async (req) => {
      const { password, ...contact } = req.body;
      const staffId = requirePrincipal(req, 'staff').subject;
      return users.changeOwnStaffContact(staffId, password, contact, req.regionCode, actorOf(req));
    },
  );
}
