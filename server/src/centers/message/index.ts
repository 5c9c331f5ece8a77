import { institutionLabel } from '../../integration/core-zone/institution-names.ts';
import type { Center } from '../../platform/center.ts';
import type { Context } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import { EventBus } from '../../platform/events.ts';
import type { PaymentEvent } from '../payment/index.ts';
import { builtinTypes } from './builtin.ts';
import { SmtpEmailProvider } from './channels/email.ts';
import { SandboxGatewayServer } from './channels/gateway.ts';
import { InboxProvider } from './channels/inbox.ts';
import type { ChannelProvider } from './channels/port.ts';
import { SandboxEmailProvider, SandboxSmsProvider, SandboxWechatProvider } from './channels/sandbox.ts';
import { messageRoutes } from './routes.ts';
import { MessageService } from './service.ts';
import { InboxHub } from './stream.ts';
import type { Channel } from './types.ts';

export type { ChannelProvider, OutgoingMessage } from './channels/port.ts';
export { PermanentDeliveryError } from './channels/port.ts';
export type { Audience, Recipient, Rule, SendInput, SendResult } from './service.ts';
export { MessageService } from './service.ts';
export type { Channel, MessageType, MessageTypeDeclaration, Priority, TemplateText } from './types.ts';
export { CATEGORIES, CHANNELS } from './types.ts';

declare module '../../platform/context.ts' {
  interface Services {
    message: MessageService;
  }
}

/** A payment message's payload: the event, with the institution as people know it. */
export function paymentMessagePayload(e: PaymentEvent): Record<string, unknown> {
  return { ...e, institution: institutionLabel(e.institutionName, e.institutionCode) };
}

/** The refund message's payload: the refund's legs (the order's, for a whole refund) and their sum. */
export function refundPayload(e: PaymentEvent): Record<string, unknown> {
  const fundRefund = e.fundRefund ?? e.fundPayment;
  const accountRefund = e.accountRefund ?? e.accountPayment;
  const cashRefund = e.cashRefund ?? e.cashPayment;
  return {
    ...paymentMessagePayload(e),
    refundKind: e.refundKind ?? 'full',
    fundRefund,
    accountRefund,
    cashRefund,
    refundAmount: fundRefund + accountRefund + cashRefund,
  };
}

export const MESSAGE_PERMISSIONS = [
  { code: 'message:read', name: '查看消息中心（类型、模板、投递记录）' },
  { code: 'message:manage', name: '管理消息中心（模板、规则、渠道、公告、重发）' },
];

export function defaultProviders(ctx: Context): Record<Channel, ChannelProvider> {
  // SMS and WeChat: the sandbox gateway (their HTTP protocols on a loopback port of this process), until real
  // gateways are configured.
  const gateway = new SandboxGatewayServer(ctx.db);
  const close = () => gateway.close();
  return {
    inbox: new InboxProvider(),
    sms: Object.assign(new SandboxSmsProvider(gateway), { close }),
    wechat: Object.assign(new SandboxWechatProvider(gateway), { close }),
    email: ctx.config.SMTP_URL
      ? new SmtpEmailProvider(ctx.config.SMTP_URL, ctx.config.MAIL_FROM)
      : new SandboxEmailProvider(),
  };
}

/**
 * A reminder to confirm a bill is worth sending only while the bill still waits: one the person confirmed, or that
 * was cancelled, before its event came round (a busy queue, a restart) would send them looking for nothing.
 */
async function stillWaiting(ctx: Context, regionCode: string, orderId: string): Promise<boolean> {
  const payment = (ctx.services as { payment?: { getOrder(r: string, id: string): Promise<{ status: string }> } })
    .payment;
  if (!payment) return true;
  const { status } = await payment.getOrder(regionCode, orderId);
  return status === 'pre_settled' || status === 'awaiting_payment';
}

const MESSAGE_EVENT_TITLES = {
  'payment.bill_ready': '待确认账单 → 提醒参保人',
  'payment.completed': '支付完成 → 通知参保人',
  'payment.refunded': '退款 → 通知参保人',
} as const;

export const messageCenter: Center = {
  name: 'message',
  description: '消息中心：消息类型、模板、推送规则，站内信、公告、邮件、短信、微信模板消息的投递与记录',
  async init(ctx) {
    const svc = new MessageService(ctx, defaultProviders(ctx));
    // 'announcement' is ours; the others belong to the auth, payment and e-bill centers, which may declare their own.
    for (const t of builtinTypes) svc.declareType(t, { provisional: t.code !== 'announcement' });
    svc.registerJobs();
    ctx.services.message = svc;
    for (const event of ['payment.bill_ready', 'payment.completed', 'payment.refunded'] as const) {
      ctx.events.subscribe(
        event,
        'message',
        async (job, db) => {
          // not parsed here: a payload that does not fit is recorded as a failed message below, for people to see
          const e = job.payload as PaymentEvent;
          if (!e.personId) return;
          const regionCode = e.regionCode ?? job.region_code!;
          if (event === 'payment.bill_ready' && !(await stillWaiting(ctx, regionCode, e.orderId))) return;
          const input = {
            type: event,
            regionCode,
            to: { personId: e.personId },
            payload: event === 'payment.refunded' ? refundPayload(e) : paymentMessagePayload(e),
            dedupeKey: `${event}:${e.orderId}:${e.refundId ?? ''}`,
            source: EventBus.queueName(event, 'message'),
          };
          try {
            await db.tx((tx) => svc.send(tx, input));
          } catch (err) {
            // An event that does not fit the message type will not fit on a retry either: record it as failed.
            if (!(err instanceof AppError) || err.status >= 500) throw err;
            await svc.recordRejected(db, input, `${err.title}：${err.detail ?? err.code}`);
          }
        },
        MESSAGE_EVENT_TITLES[event],
      );
    }
    const users = (ctx.services as Record<string, unknown>).user as
      | { declarePermissions?: (p: Array<{ code: string; name: string }>, center?: string) => Promise<void> }
      | undefined;
    await users?.declarePermissions?.(MESSAGE_PERMISSIONS, 'message');
  },
  async routes(app, ctx) {
    const svc = ctx.services.message!;
    const mine = new InboxHub(ctx, svc);
    svc.hub = mine;
    app.addHook('onClose', async () => {
      await mine.close();
      await Promise.all(Object.values(ctx.services.message!.providers).map((p) => p.close?.()));
    });
    await messageRoutes(app, ctx, mine);
  },
  async seed(ctx) {
    const svc = ctx.services.message!;
    const users = (ctx.services as Record<string, unknown>).user as
      | {
          searchPersons?: (
            r: string,
            o: { limit?: number; offset?: number },
          ) => Promise<{ items: Array<{ id: string }> }>;
        }
      | undefined;
    for (const region of ['990100', '980100']) {
      // Persons known to the user center become reachable by broadcasts to the region.
      for (let offset = 0; users?.searchPersons; offset += 500) {
        const page = await users.searchPersons(region, { limit: 500, offset });
        await svc.registerRecipients(
          ctx.db,
          region,
          page.items.map((p) => p.id),
        );
        if (page.items.length < 500) break;
      }
      if ((await svc.announcements(region)).length > 0) continue;
      await svc.createAnnouncement(
        region,
        {
          title: '关于开展城乡居民医保集中参保缴费的通知',
          body: '城乡居民基本医疗保险集中参保缴费期为每年9月1日至12月31日。请参保人通过个人网厅、医保App或银行渠道及时缴费，以免影响次年待遇享受。',
          hall: 'all',
          audience: { kind: 'public' },
          toInbox: false,
        },
        'system',
      );
      await svc.createAnnouncement(
        region,
        {
          title: '欢迎使用个人网厅消息中心',
          body: '支付结算、退款、电子票据等通知将发送到“我的消息”，您可以在“通知设置”中选择接收渠道。',
          hall: 'personal',
          audience: { kind: 'region_persons' },
          toInbox: true,
        },
        'system',
      );
    }
  },
};
