import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authenticated, requirePrincipal, staffPermission } from '../../platform/auth.ts';
import type { Context } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import type { App } from '../../platform/http.ts';
import { envelopeData, paging } from '../../platform/schemas.ts';
import { renderBillPdf } from './pdf.ts';
import {
  type ChannelApi,
  channelApisBody,
  channelBillAnswer,
  channelBillListAnswer,
  channelByOrderData,
  channelCreateBody,
  channelDetailData,
  channelQueryData,
  channelUpdateBody,
  channelVerifyAnswer,
  channelVerifyData,
  staffSearchQuery,
  verifyBody,
  verifyQrBody,
} from './schema.ts';
import type { BillView, Caller, EbillService } from './service.ts';

/** The signed channel envelope (DOMAIN §4); `data` is parsed per API after the signature is verified. */
const channelEnvelope = z.strictObject({
  appId: z.string().max(64),
  version: z.string().max(8),
  timestamp: z.string().max(20),
  nonce: z.string().max(64),
  transType: z.string().max(40),
  encType: z.literal('SM4').optional(),
  encData: z.string().max(200_000).optional(),
  data: z.unknown().optional(),
  signType: z.literal('SM2'),
  signData: z.string().max(400),
});

const idParams = z.strictObject({ id: z.string().uuid('票据编号格式错误') });
const appIdParams = z.strictObject({ appId: z.string().regex(/^[\w-]{4,64}$/, 'appId 格式错误') });
const pageQuery = z.strictObject(paging);

function parseData<T extends z.ZodType>(schema: T, data: unknown): z.infer<T> {
  const r = schema.safeParse(data);
  if (!r.success) {
    throw new AppError(400, 'EBILL_CHANNEL_DATA_INVALID', '业务数据格式错误', undefined, {
      errors: r.error.issues.map((i) => ({ field: `data.${i.path.join('.')}`, message: i.message })),
    });
  }
  return r.data;
}

const caller = (req: FastifyRequest): Caller => ({ ip: req.ip, userAgent: req.headers['user-agent'] });

export function ebillRoutes(app: App, ctx: Context): void {
  const svc = (): EbillService => ctx.services.ebill!;
  const perm = (p: string) => staffPermission(() => ctx.permissions, p);
  const tags = ['ebill'];

  const regionTitle = async (code: string) => (await ctx.regions.get(code))?.name ?? '';

  const sendPdf = async (bill: BillView, regionCode: string, reply: import('fastify').FastifyReply) => {
    const qr = await svc().qrText(bill, regionCode);
    const pdf = await renderBillPdf(bill, qr, await regionTitle(regionCode));
    return reply
      .type('application/pdf')
      .header('content-disposition', `attachment; filename="ebill-${bill.billCode}-${bill.billNumber}.pdf"`)
      .header('cache-control', 'private, no-store')
      .send(pdf);
  };

  // ------------------------------------------------------------ personal hall
  app.get(
    '/api/ebill/my/bills',
    { schema: { tags, summary: '我的电子票据', querystring: pageQuery }, preHandler: authenticated('person') },
    async (req) => {
      const p = requirePrincipal(req, 'person');
      const { total, items } = await svc().listForPerson(req.regionCode, p.subject, req.query.page, req.query.pageSize);
      return { total, items: items.map(({ signature, ...b }) => b) };
    },
  );

  app.get(
    '/api/ebill/my/bills/:id',
    { schema: { tags, summary: '我的电子票据详情', params: idParams }, preHandler: authenticated('person') },
    async (req) => {
      const p = requirePrincipal(req, 'person');
      const bill = await svc().getForPerson(req.regionCode, p.subject, req.params.id);
      return { ...bill, qr: await svc().qrText(bill, req.regionCode) };
    },
  );

  app.get(
    '/api/ebill/my/bills/:id/pdf',
    { schema: { tags, summary: '下载电子票据 (PDF)', params: idParams }, preHandler: authenticated('person') },
    async (req, reply) => {
      const p = requirePrincipal(req, 'person');
      const bill = await svc().getForPerson(req.regionCode, p.subject, req.params.id);
      return sendPdf(bill, req.regionCode, reply);
    },
  );

  app.get(
    '/api/ebill/my/bills/:id/json',
    { schema: { tags, summary: '电子票据结构化数据 (JSON)', params: idParams }, preHandler: authenticated('person') },
    async (req) => {
      const p = requirePrincipal(req, 'person');
      const bill = await svc().getForPerson(req.regionCode, p.subject, req.params.id);
      return svc().toJson(bill, await svc().qrText(bill, req.regionCode));
    },
  );

  // ------------------------------------------------------------ public verification (查验)
  app.get('/api/ebill/verify/captcha', { schema: { tags, summary: '查验图形验证码 (算术题 SVG)' } }, async (req) =>
    svc().newCaptcha(req.regionCode, req.ip),
  );

  app.post(
    '/api/ebill/verify',
    { schema: { tags, summary: '票据查验: 代码 + 号码 + 校验码 + 金额(分)', body: verifyBody } },
    async (req) => svc().verifyPublic(req.regionCode, req.body, caller(req)),
  );

  app.post(
    '/api/ebill/verify/qr',
    { schema: { tags, summary: '票据查验: 扫描票据二维码', body: verifyQrBody } },
    async (req) => svc().verifyQr(req.regionCode, req.body.qr, caller(req), req.body),
  );

  // ------------------------------------------------------------ channel API (signed envelopes, quotas)
  const channelRoute = <D extends z.ZodType, A extends z.ZodType>(
    path: string,
    api: ChannelApi,
    summary: string,
    data: D,
    answer: A,
    handler: (ch: Awaited<ReturnType<EbillService['authenticateChannel']>>, data: z.infer<D>) => Promise<z.input<A>>,
  ) =>
    app.post(
      path,
      {
        schema: {
          tags,
          summary,
          body: channelEnvelope.extend({ data: envelopeData(data) }),
          // widened for fastify, which cannot resolve a generic answer; each route's handler is checked against it
          response: { 200: answer as z.ZodType },
          security: [{ channelSignature: [] }],
        },
      },
      async (req) => {
        const ch = await svc().authenticateChannel(req.body, api);
        req.principal = { kind: 'channel', subject: ch.appId, regionCode: ch.regionCode };
        return handler(ch, parseData(data, ch.data));
      },
    );

  const requireInstitution = (ch: { institutionCode: string | null }) => {
    if (!ch.institutionCode)
      throw new AppError(403, 'EBILL_CHANNEL_NO_INSTITUTION', '该渠道未绑定定点医药机构，不能查询机构票据');
    return ch.institutionCode;
  };

  channelRoute(
    '/api/ebill/channel/bills/query',
    'bill.query',
    '渠道: 按机构查询票据',
    channelQueryData,
    channelBillListAnswer,
    async (ch, q) => {
      const { total, items } = await svc().billsForInstitution(ch.regionCode, requireInstitution(ch), q);
      return { total, items: items.map((b) => ({ ...b, payerName: b.payerName ? `${b.payerName[0]}*` : '' })) };
    },
  );

  channelRoute(
    '/api/ebill/channel/bills/detail',
    'bill.detail',
    '渠道: 票据结构化数据',
    channelDetailData,
    channelBillAnswer,
    async (ch, q) => {
      const bill = await svc().byNumber(ctx.db, ch.regionCode, q.billCode, q.billNumber);
      if (!bill || bill.institutionCode !== requireInstitution(ch))
        throw new AppError(404, 'EBILL_NOT_FOUND', '票据不存在');
      return svc().toJson(bill, await svc().qrText(bill, ch.regionCode));
    },
  );

  channelRoute(
    '/api/ebill/channel/bills/by-order',
    'bill.byOrder',
    '渠道: 按订单获取票据',
    channelByOrderData,
    channelBillAnswer,
    async (ch, q) => {
      const bill = await svc().billOfOrder(ch.regionCode, q.orderId);
      if (bill.institutionCode !== requireInstitution(ch)) throw new AppError(404, 'EBILL_NOT_FOUND', '票据不存在');
      return svc().toJson(bill, await svc().qrText(bill, ch.regionCode));
    },
  );

  channelRoute(
    '/api/ebill/channel/verify',
    'bill.verify',
    '渠道: 票据查验',
    channelVerifyData,
    channelVerifyAnswer,
    async (ch, q) => svc().verifyForChannel(ch.regionCode, q),
  );

  // ------------------------------------------------------------ console
  app.get(
    '/api/ebill/admin/bills',
    { schema: { tags, summary: '票据检索 (审计留痕)', querystring: staffSearchQuery }, preHandler: perm('ebill:read') },
    async (req) => svc().staffSearch(req.regionCode, requirePrincipal(req, 'staff').subject, req.query, caller(req)),
  );

  app.get(
    '/api/ebill/admin/channels',
    { schema: { tags, summary: '接入渠道列表' }, preHandler: perm('ebill:read') },
    async (req) => svc().channels(req.regionCode),
  );

  app.post(
    '/api/ebill/admin/channels',
    {
      schema: { tags, summary: '登记接入渠道 (返回一次性密钥)', body: channelCreateBody },
      preHandler: perm('ebill:manage'),
      config: { idempotent: true },
    },
    async (req, reply) => {
      const created = await svc().registerChannel(
        req.regionCode,
        requirePrincipal(req, 'staff').subject,
        req.body,
        caller(req),
      );
      return reply.status(201).send(created);
    },
  );

  app.patch(
    '/api/ebill/admin/channels/:appId',
    {
      schema: {
        tags,
        summary: '修改接入渠道 (启用/停用、联系人、回调地址)',
        params: appIdParams,
        body: channelUpdateBody,
      },
      preHandler: perm('ebill:manage'),
    },
    async (req) =>
      svc().updateChannel(
        req.regionCode,
        requirePrincipal(req, 'staff').subject,
        req.params.appId,
        req.body,
        caller(req),
      ),
  );

  app.post(
    '/api/ebill/admin/channels/:appId/keys',
    {
      schema: { tags, summary: '重置渠道密钥 (SM2 密钥对与 appSecret，仅显示一次)', params: appIdParams },
      preHandler: perm('ebill:manage'),
      config: { idempotent: true },
    },
    async (req) =>
      svc().rotateChannelKeys(req.regionCode, requirePrincipal(req, 'staff').subject, req.params.appId, caller(req)),
  );

  app.get(
    '/api/ebill/admin/channels/:appId/callbacks',
    {
      schema: { tags, summary: '渠道回调通知记录（开具、冲红通知的投递状态）', params: appIdParams },
      preHandler: perm('ebill:read'),
    },
    async (req) => svc().callbacks.list(req.regionCode, req.params.appId),
  );

  app.post(
    '/api/ebill/admin/channels/:appId/callbacks/:id/retry',
    {
      schema: {
        tags,
        summary: '重发失败的回调通知',
        params: z.strictObject({ appId: appIdParams.shape.appId, id: z.uuid('通知编号格式错误') }),
      },
      preHandler: perm('ebill:manage'),
    },
    async (req) => {
      await svc().callbacks.retry(
        req.regionCode,
        req.params.appId,
        req.params.id,
        requirePrincipal(req, 'staff').subject,
        req.ip,
      );
      return { status: 'pending' };
    },
  );

  app.put(
    '/api/ebill/admin/channels/:appId/apis',
    {
      schema: { tags, summary: '设置渠道可调用的票据接口与每日配额', params: appIdParams, body: channelApisBody },
      preHandler: perm('ebill:manage'),
    },
    async (req) =>
      svc().setChannelApis(
        req.regionCode,
        requirePrincipal(req, 'staff').subject,
        req.params.appId,
        req.body.apis,
        caller(req),
      ),
  );

  app.get(
    '/api/ebill/admin/usage',
    {
      schema: {
        tags,
        summary: '各渠道每日接口调用量',
        querystring: z.strictObject({ days: z.coerce.number().int().min(1).max(90).default(14) }),
      },
      preHandler: perm('ebill:read'),
    },
    async (req) => svc().usage(req.regionCode, req.query.days),
  );

  app.get(
    '/api/ebill/admin/national',
    { schema: { tags, summary: '国家平台上报状态' }, preHandler: perm('ebill:read') },
    async (req) => svc().nationalStatus(req.regionCode),
  );
}
