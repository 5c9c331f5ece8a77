import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  cancel6401,
  orderAnswer,
  orderToNational,
  place6202,
  query6301,
  query6301Answer,
  queryToNational,
  refund6203,
  refundAnswer,
  refundToNational,
  upload6201,
  upload6201Answer,
  uploadToNational,
} from '../../integration/national/payment-channel.ts';
import { authenticated, requireAcr, staffPermission } from '../../platform/auth.ts';
import type { Context } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import type { App } from '../../platform/http.ts';
import { calendarDate, paging } from '../../platform/schemas.ts';
import { channelEnvelopeFor, parseChannelData } from '../auth/index.ts';
import type { Reconciler } from './reconciliation.ts';
import type { Order, PaymentService, Refund } from './service.ts';
import { ORDER_STATUSES, STATUS_LABELS } from './state-machine.ts';

const TAG = 'payment';
const orderParams = z.strictObject({ id: z.string().min(10).max(40) });
const reasonBody = z.strictObject({ reason: z.string().trim().min(2, '请填写原因').max(200) });

/** What the person and staff pages see of an order. */
export function orderView(o: Order) {
  return {
    id: o.id,
    status: o.status,
    statusLabel: STATUS_LABELS[o.status],
    institutionCode: o.institutionCode,
    institutionName: o.institutionName,
    institutionOrderNo: o.institutionOrderNo,
    medicalType: o.medicalType,
    lines: o.lines,
    total: o.total,
    useAccount: o.useAccount,
    fundPayment: o.fundPayment,
    accountPayment: o.accountPayment,
    cashPayment: o.cashPayment,
    accountBalanceAfter: o.accountBalanceAfter,
    refundedFund: o.refundedFund,
    refundedAccount: o.refundedAccount,
    refundedCash: o.refundedCash,
    cashierUrl: o.status === 'awaiting_payment' ? o.cashierUrl : null,
    payExpiresAt: o.payExpiresAt,
    provider: o.provider,
    settlementId: o.settlementId,
    settledAt: o.settledAt,
    failureCode: o.failureCode,
    failureReason: o.failureReason,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
}

const refundView = (r: Refund) => ({
  id: r.id,
  kind: r.kind,
  reason: r.reason,
  status: r.status,
  fundAmount: r.fundAmount,
  accountAmount: r.accountAmount,
  cashAmount: r.cashAmount,
  insuranceStatus: r.insuranceStatus,
  cashStatus: r.cashStatus,
  createdAt: r.createdAt,
  finishedAt: r.finishedAt,
});

const actorOf = (req: FastifyRequest) => ({ kind: req.principal!.kind, id: req.principal!.subject });

export function paymentRoutes(app: App, ctx: Context, svc: () => PaymentService, recon: () => Reconciler): void {
  const perm = (p: string) => staffPermission(() => ctx.permissions, p);

  // ------------------------------------------------------------------------------ institution channel (signed)
  const channelGuard = () => {
    const auth = ctx.services.auth;
    if (!auth) throw new Error('payment channel routes need the auth center (channelAuth)');
    return auth.channelAuth({ scope: 'payment' });
  };
  const guard = channelGuard();
  const channelOrder = async (req: FastifyRequest, ref: { orderId: string; payToken?: string }) => {
    const order = await svc().getOrder(req.regionCode, ref.orderId);
    if (order.appId !== req.channel?.appId || (ref.payToken !== undefined && ref.payToken !== order.payToken)) {
      throw new AppError(404, 'PAYMENT_ORDER_NOT_FOUND', '未找到支付订单', `订单号 ${ref.orderId}`);
    }
    return order;
  };
  const channelRoute = (trans: string, summary: string, idempotent: boolean, data: z.ZodType, answer: z.ZodType) => ({
    preHandler: guard,
    config: { idempotent },
    schema: {
      tags: [TAG],
      summary: `${trans} ${summary}（渠道签名）`,
      body: channelEnvelopeFor(data),
      response: { 200: answer },
      security: [{ channelSignature: [] }],
    },
  });
  // The national message shapes and their translation live in integration/national/payment-channel.ts: from here on
  // everything has the glossary's names.
  const label = (o: Order) => STATUS_LABELS[o.status];

  app.post(
    '/api/payment/channel/6201',
    channelRoute('6201', '上传费用明细并预结算', true, upload6201, upload6201Answer),
    async (req) => {
      const upload = parseChannelData(upload6201, req.body);
      if (req.channel?.institutionCode && req.channel.institutionCode !== upload.institutionCode) {
        throw new AppError(
          403,
          'PAYMENT_INSTITUTION_MISMATCH',
          '渠道无权代表该医药机构',
          `渠道绑定机构 ${req.channel.institutionCode}`,
        );
      }
      const order = await svc().upload(
        { ...upload, regionCode: req.regionCode, appId: req.channel!.appId },
        actorOf(req),
      );
      return uploadToNational(order, label(order));
    },
  );

  app.post('/api/payment/channel/6202', channelRoute('6202', '支付下单', true, place6202, orderAnswer), async (req) => {
    const order = await channelOrder(req, parseChannelData(place6202, req.body));
    const placed = await svc().placeOrder(order, actorOf(req));
    return orderToNational(placed, label(placed));
  });

  app.post('/api/payment/channel/6203', channelRoute('6203', '退款', true, refund6203, refundAnswer), async (req) => {
    const request = parseChannelData(refund6203, req.body);
    const order = await channelOrder(req, request);
    const refund = await svc().requestRefund(
      req.regionCode,
      order.id,
      { appRefundSn: request.appRefundSn, kind: request.kind, cashAmount: request.cashAmount, reason: request.reason },
      actorOf(req),
      { ip: req.ip, userAgent: req.headers['user-agent'] },
    );
    return refundToNational(refund);
  });

  app.post(
    '/api/payment/channel/6301',
    channelRoute('6301', '查询结算结果', false, query6301, query6301Answer),
    async (req) => {
      const order = await channelOrder(req, parseChannelData(query6301, req.body));
      return queryToNational(order, label(order), await svc().refunds(order.regionCode, order.id));
    },
  );

  app.post(
    '/api/payment/channel/6401',
    channelRoute('6401', '撤销费用上传', true, cancel6401, orderAnswer),
    async (req) => {
      const request = parseChannelData(cancel6401, req.body);
      const order = await channelOrder(req, request);
      const cancelled = await svc().cancel(order, request.reason ?? '机构撤销费用上传 (6401)', actorOf(req));
      return orderToNational(cancelled, label(cancelled));
    },
  );

  // --------------------------------------------------------------------------------- provider notifications
  app.register(async (scope) => {
    scope.removeContentTypeParser('application/json'); // the signature covers the raw body
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.post(
      '/api/payment/notify/sandbox',
      { schema: { tags: [TAG], summary: '第三方支付异步通知（沙箱，签名 HMAC-SM3）', hide: false } },
      async (req) => {
        const effect = await svc().handleNotification(req.headers, String(req.body ?? ''));
        return { code: 'SUCCESS', effect };
      },
    );
  });

  // ------------------------------------------------------------------------------------------ the person
  const person = { preHandler: authenticated('person') };
  /** The order as its person sees it: with the time their turn runs out. */
  const personView = (o: Order) => ({ ...orderView(o), dueAt: svc().dueAt(o) });

  app.get(
    '/api/payment/my/orders',
    {
      ...person,
      schema: {
        tags: [TAG],
        summary: '我的医保移动支付订单（待支付账单 / 历史）',
        querystring: z.strictObject({ filter: z.enum(['pending', 'history', 'all']).default('all') }),
      },
    },
    async (req) => {
      const orders = await svc().ordersOfPerson(req.regionCode, req.principal!.subject, req.query.filter);
      return { items: orders.map(personView) };
    },
  );

  app.get(
    '/api/payment/my/orders/:id',
    { ...person, schema: { tags: [TAG], summary: '订单详情（费用明细、医保分割、余额、退款）', params: orderParams } },
    async (req) => {
      const order = await svc().orderOfPerson(req.regionCode, req.principal!.subject, req.params.id);
      const refunds = await svc().refunds(order.regionCode, order.id);
      return {
        ...personView(order),
        refunds: refunds.filter((r) => r.kind !== 'late_payment').map(refundView),
        providerLabel: svc().provider.label,
      };
    },
  );

  app.post(
    '/api/payment/my/orders/:id/account',
    {
      ...person,
      config: { idempotent: true },
      schema: {
        tags: [TAG],
        summary: '选择是否使用个人账户（重新预结算）',
        params: orderParams,
        body: z.strictObject({ useAccount: z.boolean() }),
      },
    },
    async (req) => {
      const order = await svc().orderOfPerson(req.regionCode, req.principal!.subject, req.params.id);
      return personView(await svc().choosePersonalAccount(order, req.body.useAccount, actorOf(req)));
    },
  );

  app.post(
    '/api/payment/my/orders/:id/pay',
    {
      ...person,
      config: { idempotent: true },
      schema: {
        tags: [TAG],
        summary: '确认并支付（创建第三方支付订单，返回收银台地址；个人账户支付的，需二次验证）',
        params: orderParams,
      },
    },
    async (req) => {
      const order = await svc().orderOfPerson(req.regionCode, req.principal!.subject, req.params.id);
      // The personal account is the person's own money and only this confirmation spends it, so it takes a second
      // factor; the cash leg is confirmed again at the provider's cashier, the fund's at the institution's scan.
      if ((order.accountPayment ?? 0) > 0) requireAcr(req, 'mfa');
      const placed = await svc().placeOrder(order, actorOf(req));
      return { ...personView(placed), cashierUrl: placed.cashierUrl, providerLabel: svc().provider.label };
    },
  );

  // -------------------------------------------------------------------------------------------- the console
  app.get(
    '/api/payment/admin/orders',
    {
      preHandler: perm('payment:read'),
      schema: {
        tags: [TAG],
        summary: '订单查询',
        querystring: z.strictObject({
          status: z.enum(ORDER_STATUSES).optional(),
          q: z.string().max(64).optional().describe('订单号、机构流水号或参保人身份证号'),
          purpose: z.string().trim().min(2).max(100).optional().describe('查询事由（按身份证号查询时必填，记入审计）'),
          institutionCode: z.string().max(12).optional(),
          from: calendarDate.optional(),
          to: calendarDate.optional(),
          ...paging,
        }),
      },
    },
    async (req) => {
      const { q, purpose, ...rest } = req.query;
      const r = await svc().searchOrders(
        req.regionCode,
        { ...rest, id: q },
        { ...actorOf(req), purpose, ip: req.ip, userAgent: req.headers['user-agent'] },
      );
      return { items: r.items.map(orderView), total: r.total, page: req.query.page, pageSize: req.query.pageSize };
    },
  );

  app.get(
    '/api/payment/admin/orders/:id',
    { preHandler: perm('payment:read'), schema: { tags: [TAG], summary: '订单详情与状态时间线', params: orderParams } },
    async (req) => {
      const order = await svc().getOrder(req.regionCode, req.params.id);
      const [transitions, refunds, notifications] = await Promise.all([
        svc().transitions(order.regionCode, order.id),
        svc().refunds(order.regionCode, order.id),
        svc().notifications(order.regionCode, order.id),
      ]);
      return {
        ...orderView(order),
        personNo: order.personNo,
        appId: order.appId,
        providerTxnId: order.providerTxnId,
        version: order.version,
        transitions,
        refunds: refunds.map((r) => ({
          ...refundView(r),
          requestedBy: r.requestedBy,
          lastError: r.lastError,
          appRefundSn: r.appRefundSn,
        })),
        notifications: notifications.map((n) => ({
          id: n.id,
          eventType: n.event_type,
          seq: n.seq,
          effect: n.effect,
          receivedAt: new Date(n.received_at as string).toISOString(),
        })),
        providerLabel: svc().provider.label,
      };
    },
  );

  app.post(
    '/api/payment/admin/orders/:id/reversal',
    {
      preHandler: perm('payment:refund'),
      config: { idempotent: true },
      schema: {
        tags: [TAG],
        summary: '人工冲正（全额退款，需填写原因，记入审计）',
        params: orderParams,
        body: reasonBody,
      },
    },
    async (req) => {
      const refund = await svc().requestRefund(
        req.regionCode,
        req.params.id,
        { appRefundSn: `STAFF-${req.headers['idempotency-key'] ?? Date.now()}`, kind: 'full', reason: req.body.reason },
        actorOf(req),
        { ip: req.ip, userAgent: req.headers['user-agent'] },
      );
      return refundView(refund);
    },
  );

  app.post(
    '/api/payment/admin/orders/:id/resolve',
    {
      preHandler: perm('payment:refund'),
      config: { idempotent: true },
      schema: {
        tags: [TAG],
        summary: '异常订单人工处理（重试结算或退回自费，记入审计）',
        params: orderParams,
        body: z.strictObject({ action: z.enum(['refund_cash', 'retry_settlement']), reason: reasonBody.shape.reason }),
      },
    },
    async (req) =>
      orderView(
        await svc().resolveAbnormal(
          req.regionCode,
          req.params.id,
          req.body.action,
          req.body.reason,
          req.principal!.subject,
        ),
      ),
  );

  app.post(
    '/api/payment/admin/recover',
    { preHandler: perm('payment:refund'), schema: { tags: [TAG], summary: '立即运行恢复任务（本统筹区）' } },
    async (req) => svc().recover({ regionCode: req.regionCode, idleMs: 0 }),
  );

  app.get(
    '/api/payment/admin/provider',
    { preHandler: perm('payment:read'), schema: { tags: [TAG], summary: '当前第三方支付通道' } },
    async () => ({ name: svc().provider.name, label: svc().provider.label, sandbox: svc().provider.sandbox }),
  );

  app.get(
    '/api/payment/admin/reconciliation',
    {
      preHandler: perm('payment:reconcile'),
      schema: {
        tags: [TAG],
        summary: '对账结果（某日合计与差异）',
        querystring: z.strictObject({ date: calendarDate.optional() }),
      },
    },
    async (req) => {
      const runs = await recon().recentRuns(req.regionCode);
      const date = req.query.date ?? runs[0]?.date;
      return { runs, report: date ? ((await recon().report(req.regionCode, date)) ?? null) : null };
    },
  );

  app.post(
    '/api/payment/admin/reconciliation/:date/run',
    {
      preHandler: perm('payment:reconcile'),
      schema: {
        tags: [TAG],
        summary: '执行对账（平台订单、核心区结算、第三方对账单）',
        params: z.strictObject({ date: calendarDate }),
      },
    },
    async (req) => recon().run(req.regionCode, req.params.date),
  );

  app.post(
    '/api/payment/admin/reconciliation/:date/items/:orderId/:kind/resolve',
    {
      preHandler: perm('payment:reconcile'),
      config: { idempotent: true },
      schema: {
        tags: [TAG],
        summary: '处理对账差异（记入审计）',
        params: z.strictObject({
          date: calendarDate,
          orderId: z.string().min(1).max(64),
          kind: z.enum([
            'missing_in_platform',
            'missing_in_core',
            'missing_in_provider',
            'amount_differs',
            'status_differs',
          ]),
        }),
        body: z.strictObject({
          action: z.enum(['recover', 'accept']),
          note: z.string().trim().min(2, '请填写处理说明').max(200),
        }),
      },
    },
    async (req) =>
      recon().resolve(req.regionCode, req.params.date, req.params.orderId, req.params.kind, req.body, {
        id: req.principal!.subject,
        ip: req.ip,
        userAgent: req.headers['user-agent'],
      }),
  );
}
