import { z } from 'zod';
import { authenticated, requirePrincipal } from '../../platform/auth.ts';
import type { Context } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import type { App } from '../../platform/http.ts';
import { calendarDate, paging } from '../../platform/schemas.ts';
import { LEDGER_KIND_LABELS, type PersonalService } from './service.ts';

const ledgerKinds = Object.keys(LEDGER_KIND_LABELS) as [keyof typeof LEDGER_KIND_LABELS, ...string[]];

const ledgerQuery = z.strictObject({
  from: calendarDate.optional(),
  to: calendarDate.optional(),
  kind: z.enum(ledgerKinds as [string, ...string[]]).optional(),
  ...paging,
});

export function personalRoutes(app: App, ctx: Context, personal: () => PersonalService): void {
  void ctx;
  const person = authenticated('person');

  app.get(
    '/api/personal/insurance',
    { preHandler: person, schema: { tags: ['personal'], summary: '我的参保信息（参保状态、险种、参保地、参保日期）' } },
    async (req) => personal().insurance(req.regionCode, requirePrincipal(req, 'person').subject),
  );

  app.get(
    '/api/personal/account',
    { preHandler: person, schema: { tags: ['personal'], summary: '我的个人账户余额' } },
    async (req) => personal().account(req.regionCode, requirePrincipal(req, 'person').subject),
  );

  app.get(
    '/api/personal/account/ledger',
    {
      preHandler: person,
      schema: { tags: ['personal'], summary: '我的个人账户明细（按日期、类型筛选，分页）', querystring: ledgerQuery },
    },
    async (req) => {
      const q = req.query;
      if (q.from && q.to && q.from > q.to)
        throw new AppError(400, 'PERSONAL_LEDGER_RANGE_INVALID', '开始日期不能晚于结束日期', undefined, {
          errors: [{ field: 'from', message: '开始日期不能晚于结束日期' }],
        });
      return personal().ledger(req.regionCode, requirePrincipal(req, 'person').subject, {
        from: q.from,
        to: q.to,
        kind: q.kind as keyof typeof LEDGER_KIND_LABELS | undefined,
        page: q.page,
        pageSize: q.pageSize,
      });
    },
  );
}
