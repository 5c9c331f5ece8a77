import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { requirePrincipal, staffPermission } from '../../platform/auth.ts';
import type { Context } from '../../platform/context.ts';
import type { App } from '../../platform/http.ts';
import type { InstitutionService } from './service.ts';

export const INSTITUTION_PERMISSIONS = [{ code: 'institution:operate', name: '医药机构工作台：扫码、上传费用、退款' }];

const orderParams = z.strictObject({ id: z.string().min(10).max(40) });
const verifyBody = z.strictObject({
  qrCode: z.string().trim().min(8, '请扫描或粘贴电子凭证码').max(512),
  businessType: z.enum(['01101', '01301', '01302', '02121']).default('01301'),
});
const orderBody = z.strictObject({
  credential: z.strictObject({
    type: z.enum(['01', '02']).describe('01 电子凭证令牌 ecToken, 02 身份证号'),
    value: z.string().min(8).max(64),
  }),
  personName: z.string().min(1).max(40),
  medicalType: z.enum(['11', '14', '21', '41']).default('11'),
  lines: z
    .array(
      z.strictObject({
        code: z.string().min(1).max(30),
        quantity: z.number().int().min(1).max(10_000),
        unitPrice: z.number().int().min(1).max(100_000_000),
      }),
    )
    .min(1, '请至少选择一项费用')
    .max(100),
});
const refundBody = z.strictObject({ reason: z.string().trim().min(2, '请填写退款原因').max(200) });
const cancelBody = z.strictObject({ reason: z.string().trim().max(200).optional() });
const catalogueQuery = z.strictObject({
  q: z.string().trim().max(40).optional(),
  page: z.coerce.number().int().min(1).max(1000).default(1),
});

export function institutionRoutes(app: App, ctx: Context, svc: () => InstitutionService): void {
  const guard = staffPermission(() => ctx.permissions, 'institution:operate');
  const tags = ['institution'];
  const ws = (req: FastifyRequest) => svc().workstation(req.regionCode, requirePrincipal(req, 'staff').subject);
  const staffId = (req: FastifyRequest) => requirePrincipal(req, 'staff').subject;

  app.get('/api/institution/me', { preHandler: guard, schema: { tags, summary: '我的机构与渠道' } }, async (req) => {
    const w = await ws(req);
    return { institution: w.institution, appId: w.appId, regionCode: w.regionCode };
  });
  app.get(
    '/api/institution/catalogue',
    { preHandler: guard, schema: { tags, summary: '医保目录检索（选择收费项目）', querystring: catalogueQuery } },
    async (req) => svc().catalogue(req.regionCode, req.query.q, req.query.page),
  );
  app.post(
    '/api/institution/verify',
    { preHandler: guard, schema: { tags, summary: '扫码/粘贴电子凭证码，核验并识别参保人', body: verifyBody } },
    async (req) => svc().verify(await ws(req), staffId(req), req.body.qrCode, req.body.businessType),
  );
  app.post(
    '/api/institution/orders',
    {
      preHandler: guard,
      config: { idempotent: true },
      schema: { tags, summary: '上传费用明细并预结算（6201），待参保人确认支付', body: orderBody },
    },
    async (req) => svc().createOrder(await ws(req), staffId(req), req.body),
  );
  app.get('/api/institution/orders', { preHandler: guard, schema: { tags, summary: '本机构最近订单' } }, async (req) =>
    svc().recent(await ws(req)),
  );
  app.get(
    '/api/institution/orders/today',
    { preHandler: guard, schema: { tags, summary: '本机构今日订单（按状态的笔数与费用总额，北京时间）' } },
    async (req) => svc().today(await ws(req)),
  );
  app.get(
    '/api/institution/orders/:id',
    { preHandler: guard, schema: { tags, summary: '查询订单结算结果（6301）', params: orderParams } },
    async (req) => svc().order(await ws(req), req.params.id),
  );
  app.post(
    '/api/institution/orders/:id/refund',
    {
      preHandler: guard,
      config: { idempotent: true },
      schema: { tags, summary: '全额退款（6203）', params: orderParams, body: refundBody },
    },
    async (req) => {
      const key = req.headers['idempotency-key'];
      const requestId = typeof key === 'string' && key ? key.slice(0, 60) : `R${req.params.id}`;
      return svc().refund(await ws(req), staffId(req), req.params.id, req.body.reason, requestId);
    },
  );
  app.post(
    '/api/institution/orders/:id/cancel',
    { preHandler: guard, schema: { tags, summary: '撤销费用上传（6401）', params: orderParams, body: cancelBody } },
    async (req) => svc().cancel(await ws(req), req.params.id, req.body.reason ?? '机构撤销'),
  );
}
