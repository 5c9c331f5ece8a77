/** Console API of the core-zone module: region policy versions (view, validate, create) and a masked person look-up. */
import { z } from 'zod';
import { staffPermission } from '../../platform/auth.ts';
import { type Context, service } from '../../platform/context.ts';
import { AppError, type FieldError } from '../../platform/errors.ts';
import type { App } from '../../platform/http.ts';
import { maskName, maskResidentId } from '../../platform/privacy/index.ts';
import { coreError } from './errors.ts';
import { parsePolicy, SettlementError } from './reference/settlement/index.ts';

const TRANSLATIONS: [RegExp, (...m: string[]) => string][] = [
  [/^minAge > maxAge$/, () => '最小年龄大于最大年龄'],
  [/^duplicate age band (.+)$/, (b) => `年龄段 ${b} 重复`],
  [/^age bands have a gap at age (\d+)$/, (a) => `年龄段在 ${a} 岁处有缺口`],
  [/^age bands have a overlap at age (\d+)$/, (a) => `年龄段在 ${a} 岁处重叠`],
  [/^age bands must end at (\d+)$/, (a) => `年龄段必须连续覆盖到 ${a} 岁`],
  [/^unknown age band (.+)$/, (b) => `未知年龄段 ${b}`],
  [/^(.+) also covered by rules\[(\d+)\]$/, (k, i) => `${k} 与第 ${Number(i) + 1} 条规则重复覆盖`],
  [/^must be a 6-digit region code$/, () => '应为 6 位统筹区编码'],
  [/^must be 1-32 letters, digits, _ or -$/, () => '应为 1–32 位字母、数字、下划线或连字符'],
  [/expected number, received (\w+)/, (t) => `应为数字，实际为 ${t}`],
  [/expected string, received (\w+)/, (t) => `应为字符串，实际为 ${t}`],
  [/expected boolean, received (\w+)/, (t) => `应为布尔值，实际为 ${t}`],
  [/expected array, received (\w+)/, (t) => `应为数组，实际为 ${t}`],
  [/expected int/, () => '应为整数'],
  [/Too big: expected .* to be <=\s*(\d+)/, (n) => `不能大于 ${n}`],
  [/Too small: expected array to have >=\s*(\d+)/, (n) => `至少需要 ${n} 项`],
  [/Too small: expected .* to be >=\s*(\d+)/, (n) => `不能小于 ${n}`],
  [/Too small: expected string to have >=\s*(\d+)/, (n) => `至少 ${n} 个字符`],
  [/Invalid option: expected one of (.+)$/, (o) => `应为以下之一：${o}`],
  [/Invalid input: expected (.+)$/, (o) => `取值无效，应为 ${o}`],
  [/Unrecognized key/, () => '不认识的字段'],
  [/Invalid ISO date|Invalid date/, () => '应为 YYYY-MM-DD 格式的日期'],
];

/** Chinese text for the policy validator's (English) issue messages. */
export function chineseIssue(message: string): string {
  for (const [re, f] of TRANSLATIONS) {
    const m = message.match(re);
    if (m) return f(...m.slice(1));
  }
  return `取值无效（${message}）`;
}

/** Bounds of ratio fields (basis points) read as percent, of money fields (fen) as yuan. */
function inUnits(field: string, message: string): string {
  const bound = /(不能[大小]于) (\d+)/;
  if (/Bp$/.test(field)) return message.replace(bound, (_m, w: string, n: string) => `${w} ${Number(n) / 100}%`);
  if (/Fen$/.test(field)) {
    return message.replace(bound, (_m, w: string, n: string) => {
      const fen = Number(n);
      return `${w} ${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')} 元`;
    });
  }
  return message;
}

/** Validates a policy document; field errors in Chinese. */
export function policyIssues(document: unknown): FieldError[] {
  try {
    parsePolicy(document);
    return [];
  } catch (err) {
    if (err instanceof SettlementError && 'issues' in err) {
      return (err as unknown as { issues: string[] }).issues.map((i) => {
        const at = i.indexOf(': ');
        if (at < 0) return { field: '(root)', message: chineseIssue(i) };
        const field = i.slice(0, at);
        return { field, message: inUnits(field, chineseIssue(i.slice(at + 2))) };
      });
    }
    throw err;
  }
}

const personQuery = z
  .strictObject({
    residentId: z
      .string()
      .regex(/^\d{17}[\dXx]$/, '应为 18 位身份证号码')
      .optional(),
    personNo: z.string().min(1).max(30).optional(),
  })
  .refine((q) => (q.residentId === undefined) !== (q.personNo === undefined), '请提供身份证号码或个人编号之一');

export function coreZoneRoutes(app: App, ctx: Context): void {
  const perm = (p: string) => staffPermission(() => ctx.permissions, p);
  const core = () => service(ctx, 'coreZone');

  app.get(
    '/api/corezone/policies',
    {
      schema: { tags: ['corezone'], summary: '本统筹区待遇政策版本列表', security: [{ bearer: [] }] },
      preHandler: perm('corezone:policy.read'),
    },
    async (req) => ({ kind: core().kind, items: await core().listPolicies(req.regionCode) }),
  );

  app.post(
    '/api/corezone/policies/validate',
    {
      schema: {
        tags: ['corezone'],
        summary: '校验待遇政策（不保存）',
        body: z.strictObject({ policy: z.unknown() }),
        security: [{ bearer: [] }],
      },
      preHandler: perm('corezone:policy.read'),
    },
    async (req) => {
      const errors = policyIssues(req.body.policy);
      return { valid: errors.length === 0, errors };
    },
  );

  app.post(
    '/api/corezone/policies',
    {
      schema: {
        tags: ['corezone'],
        summary: '新建待遇政策版本',
        body: z.strictObject({ policy: z.unknown() }),
        security: [{ bearer: [] }],
      },
      preHandler: perm('corezone:policy.write'),
      config: { idempotent: true },
    },
    async (req, reply) => {
      const errors = policyIssues(req.body.policy);
      if (errors.length > 0) {
        throw new AppError(422, 'CORE_INVALID_POLICY', '待遇政策无效', `共 ${errors.length} 处错误`, { errors });
      }
      const created = await core().createPolicy(req.regionCode, req.body.policy);
      return reply.status(201).send(created);
    },
  );

  app.get(
    '/api/corezone/persons',
    {
      schema: {
        tags: ['corezone'],
        summary: '参保人查询（脱敏）',
        querystring: personQuery,
        security: [{ bearer: [] }],
      },
      preHandler: perm('corezone:person.read'),
    },
    async (req) => {
      const q = req.query;
      const key = q.residentId ? { residentId: q.residentId.toUpperCase() } : { personNo: q.personNo as string };
      const person = await core().findPerson(req.regionCode, key);
      const [status, balance] = await Promise.all([
        core().insuranceStatus(req.regionCode, person.personNo),
        core().accountBalance(req.regionCode, person.personNo),
      ]);
      return {
        person: {
          ...person,
          name: maskName(person.name),
          residentId: maskResidentId(person.residentId),
        },
        insurances: status.insurances,
        account: balance,
      };
    },
  );

  app.get(
    '/api/corezone/ledger-check',
    {
      schema: { tags: ['corezone'], summary: '个人账户台账核对（立即执行）', security: [{ bearer: [] }] },
      preHandler: perm('corezone:policy.read'),
    },
    async () => {
      const ref = ctx.services.coreZoneReference;
      if (!ref) throw coreError('CORE_UNAVAILABLE', '外部核心区不提供台账核对');
      return ref.checkLedger();
    },
  );
}
