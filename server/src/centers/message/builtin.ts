import { z } from 'zod';
import type { MessageTypeDeclaration } from './types.ts';

const paymentPayload = z.object({
  orderId: z.string(),
  institutionCode: z.string(),
  /** the institution as people know it (its registry name, else "定点医药机构 <code>") */
  institution: z.string().max(100).default('定点医药机构'),
  total: z.number().int(),
  fundPayment: z.number().int(),
  accountPayment: z.number().int(),
  cashPayment: z.number().int(),
  settledAt: z.string(),
});

/** The order every payment message's sample describes. */
const PAYMENT_SAMPLE = {
  orderId: 'PO202601010001',
  institutionCode: 'H99010000001',
  institution: '东湖市第一人民医院',
  total: 12800,
  fundPayment: 8000,
  accountPayment: 3000,
  cashPayment: 1800,
};

const agentExpiryPayload = z.object({ unitName: z.string().max(100), role: z.string().max(10), expiresAt: z.string() });
const AGENT_EXPIRY_SAMPLE = { unitName: '东湖示范科技有限公司', role: '经办', expiresAt: '2026-01-08T15:59:59.000Z' };

/** Types the message center declares itself (the other centers declare theirs in their init). */
export const builtinTypes: MessageTypeDeclaration[] = [
  {
    code: 'auth.otp',
    category: 'security',
    name: '短信验证码',
    priority: 'urgent',
    mandatory: true,
    payloadSchema: z.object({
      code: z.string().regex(/^\d{4,8}$/),
      purpose: z.string().max(20),
      // the auth center sends the purpose in Chinese too (登录, 注册 …)
      purposeText: z.string().max(20).default('身份验证'),
      minutes: z.number().int().positive(),
    }),
    defaultTemplates: {
      sms: {
        body: '【医保服务】您的{{purposeText}}验证码为{{code}}，{{minutes}}分钟内有效。请勿告诉他人，如非本人操作请忽略。',
      },
    },
    channels: { always: [], fallback: ['sms'] },
    sample: { code: '204816', purpose: 'login', purposeText: '登录', minutes: 5 },
    dedupeSeconds: 0,
  },
  {
    code: 'auth.new_device_login',
    category: 'security',
    name: '新设备登录提醒',
    priority: 'high',
    mandatory: true,
    payloadSchema: z.object({ device: z.string(), ip: z.string(), at: z.string() }),
    defaultTemplates: {
      inbox: {
        title: '新设备登录提醒',
        body: '您的医保账户于 {{at|time}} 在新设备“{{device}}”（IP {{ip}}）上登录。如非本人操作，请立即修改密码。',
      },
      wechat: {
        title: '账户安全提醒',
        body: '新设备登录：{{device}}\n时间：{{at|time}}\n如非本人操作请立即修改密码。',
      },
      sms: { body: '【医保服务】您的账户于{{at|time}}在新设备{{device}}登录，如非本人操作请立即修改密码。' },
    },
    channels: { always: ['inbox'], fallback: ['wechat', 'sms'] },
    sample: { device: 'iPhone 16 · Safari', ip: '203.0.113.8', at: '2026-01-01T08:30:00.000Z' },
  },
  {
    code: 'auth.account_locked',
    category: 'security',
    name: '账号锁定提醒',
    priority: 'high',
    mandatory: true,
    payloadSchema: z.object({ failures: z.number().int().positive(), ip: z.string(), at: z.string() }),
    defaultTemplates: {
      inbox: {
        title: '账号已锁定',
        body: '您的医保账户因连续 {{failures}} 次登录失败，已于 {{at|time}} 锁定（最近一次来自 IP {{ip}}）。在登录页点击“忘记密码”，用短信验证码重置密码即可解除锁定。如非本人操作，说明有人在尝试登录您的账户，请尽快修改密码并联系医保经办机构。',
      },
      wechat: {
        title: '账户安全提醒',
        body: '账号已锁定：连续{{failures}}次登录失败\n时间：{{at|time}}\n在登录页点击“忘记密码”，用短信验证码重置密码即可解除锁定。',
      },
      sms: {
        body: '【医保服务】您的账户因连续{{failures}}次登录失败已于{{at|time}}锁定。在登录页点击“忘记密码”，用短信验证码重置密码即可解除锁定。',
      },
    },
    channels: { always: ['inbox'], fallback: ['wechat', 'sms'] },
    sample: { failures: 10, ip: '203.0.113.8', at: '2026-01-01T08:30:00.000Z' },
  },
  {
    code: 'auth.staff_new_device_login',
    category: 'security',
    name: '新设备登录提醒（工作人员）',
    priority: 'high',
    mandatory: true,
    payloadSchema: z.object({ username: z.string(), device: z.string(), ip: z.string(), at: z.string() }),
    defaultTemplates: {
      email: {
        title: '管理后台账号 {{username}} 在新设备登录',
        body: '您好：\n\n您的医保服务平台工作人员账号 {{username}} 于 {{at|time}} 在新设备“{{device}}”（IP {{ip}}）上登录。\n如非本人操作，请立即在管理后台“我的账号”中修改密码，并报告系统管理员。\n\n医保服务平台',
      },
      sms: {
        body: '【医保服务】工作人员账号{{username}}于{{at|time}}在新设备{{device}}登录，如非本人操作请立即在“我的账号”中修改密码并报告系统管理员。',
      },
    },
    channels: { always: [], fallback: ['email', 'sms'] },
    sample: { username: 'clerk01', device: 'Windows · Chrome', ip: '10.20.30.40', at: '2026-01-01T08:30:00.000Z' },
  },
  {
    code: 'auth.staff_account_locked',
    category: 'security',
    name: '账号锁定提醒（工作人员）',
    priority: 'high',
    mandatory: true,
    payloadSchema: z.object({
      username: z.string(),
      failures: z.number().int().positive(),
      ip: z.string(),
      at: z.string(),
    }),
    defaultTemplates: {
      email: {
        title: '管理后台账号 {{username}} 已锁定',
        body: '您好：\n\n您的医保服务平台工作人员账号 {{username}} 因连续 {{failures}} 次登录失败，已于 {{at|time}} 锁定（最近一次来自 IP {{ip}}）。\n请联系系统管理员在“登录监控”中核实并解锁。如非本人操作，说明有人在尝试登录您的账号，请一并报告。\n\n医保服务平台',
      },
      sms: {
        body: '【医保服务】工作人员账号{{username}}因连续{{failures}}次登录失败已于{{at|time}}锁定，请联系系统管理员解锁；如非本人操作请一并报告。',
      },
    },
    channels: { always: [], fallback: ['email', 'sms'] },
    sample: { username: 'clerk01', failures: 10, ip: '10.20.30.40', at: '2026-01-01T08:30:00.000Z' },
  },
  {
    code: 'user.agent_expiring',
    category: 'service',
    name: '经办授权到期提醒（经办人）',
    priority: 'normal',
    mandatory: false,
    payloadSchema: agentExpiryPayload,
    defaultTemplates: {
      inbox: {
        title: '经办授权即将到期',
        body: '您在{{unitName}}的经办授权（{{role}}）将于 {{expiresAt|time}} 到期，到期后将不能再代单位办理医保业务。如需继续，请联系单位管理员在单位网厅“经办人管理”中续期。',
      },
      sms: {
        body: '【医保服务】您在{{unitName}}的经办授权（{{role}}）将于{{expiresAt|time}}到期，如需继续请联系单位管理员续期。',
      },
    },
    channels: { always: ['inbox'], fallback: ['wechat', 'sms'] },
    sample: AGENT_EXPIRY_SAMPLE,
  },
  {
    code: 'user.agent_expiring_unit',
    category: 'service',
    name: '经办授权到期提醒（单位管理员）',
    priority: 'normal',
    mandatory: false,
    payloadSchema: agentExpiryPayload.extend({ agentName: z.string().max(40) }),
    defaultTemplates: {
      inbox: {
        title: '本单位经办人授权即将到期',
        body: '{{agentName}}在{{unitName}}的经办授权（{{role}}）将于 {{expiresAt|time}} 到期。如需其继续办理，请在单位网厅“经办人管理”中续期。',
      },
    },
    channels: { always: ['inbox'], fallback: ['wechat'] },
    sample: { ...AGENT_EXPIRY_SAMPLE, agentName: '李*' },
  },
  {
    code: 'user.staff_password_expiring',
    category: 'security',
    name: '密码到期提醒（工作人员）',
    priority: 'normal',
    mandatory: true,
    payloadSchema: z.object({ username: z.string(), expiresAt: z.string() }),
    defaultTemplates: {
      email: {
        title: '管理后台账号 {{username}} 的密码即将到期',
        body: '您好：\n\n您的医保服务平台工作人员账号 {{username}} 的密码将于 {{expiresAt|time}} 到期。请在管理后台“我的账号”中修改密码；到期后登录时须先设置新密码。\n\n医保服务平台',
      },
      sms: {
        body: '【医保服务】工作人员账号{{username}}的密码将于{{expiresAt|time}}到期，请在管理后台“我的账号”中修改。',
      },
    },
    channels: { always: [], fallback: ['email', 'sms'] },
    sample: { username: 'clerk01', expiresAt: '2026-01-08T08:30:00.000Z' },
  },
  {
    code: 'user.password_changed',
    category: 'security',
    name: '密码变更提醒',
    priority: 'high',
    mandatory: true,
    payloadSchema: z.object({ how: z.string().max(40), at: z.string() }),
    defaultTemplates: {
      inbox: {
        title: '登录密码已变更',
        body: '您的医保账户登录密码已于 {{at|time}} {{how}}，其他设备上的登录已全部退出。如非本人操作，请立即通过“忘记密码”重置密码，并联系医保经办机构。',
      },
      wechat: {
        title: '账户安全提醒',
        body: '登录密码已变更：{{how}}\n时间：{{at|time}}\n如非本人操作请立即重置密码。',
      },
      sms: { body: '【医保服务】您的账户登录密码已于{{at|time}}{{how}}，如非本人操作请立即通过“忘记密码”重置。' },
    },
    channels: { always: ['inbox'], fallback: ['wechat', 'sms'] },
    sample: { how: '由您本人修改', at: '2026-01-01T08:30:00.000Z' },
  },
  {
    code: 'payment.completed',
    category: 'payment',
    name: '医保支付成功',
    priority: 'normal',
    mandatory: false,
    payloadSchema: paymentPayload,
    defaultTemplates: {
      inbox: {
        title: '医保支付成功',
        body: '您于 {{settledAt|time}} 在{{institution}}完成医保结算，订单号 {{orderId}}。总金额 {{total|yuan}} 元，其中统筹基金支付 {{fundPayment|yuan}} 元，个人账户支付 {{accountPayment|yuan}} 元，个人现金支付 {{cashPayment|yuan}} 元。',
      },
      wechat: {
        title: '医保支付成功通知',
        body: '就医机构：{{institution}}\n订单号：{{orderId}}\n总金额：{{total|yuan}}元\n统筹支付：{{fundPayment|yuan}}元\n个账支付：{{accountPayment|yuan}}元\n现金支付：{{cashPayment|yuan}}元',
      },
      sms: {
        body: '【医保服务】您已完成医保支付{{total|yuan}}元（统筹{{fundPayment|yuan}}元，个账{{accountPayment|yuan}}元，现金{{cashPayment|yuan}}元），订单{{orderId}}。',
      },
      email: {
        title: '医保支付成功：{{total|yuan}} 元',
        body: '您好：\n\n您于 {{settledAt|time}} 在{{institution}}完成医保结算（订单号 {{orderId}}）。\n总金额：{{total|yuan}} 元\n统筹基金支付：{{fundPayment|yuan}} 元\n个人账户支付：{{accountPayment|yuan}} 元\n个人现金支付：{{cashPayment|yuan}} 元\n\n医保服务平台',
      },
    },
    channels: { always: ['inbox'], fallback: ['wechat', 'sms'] },
    sample: {
      ...PAYMENT_SAMPLE,
      settledAt: '2026-01-01T08:30:00.000Z',
    },
  },
  {
    code: 'payment.bill_ready',
    category: 'payment',
    name: '待确认账单提醒',
    priority: 'high',
    mandatory: false,
    payloadSchema: paymentPayload.extend({ dueAt: z.string() }),
    defaultTemplates: {
      inbox: {
        title: '您有一笔待确认的医疗费用账单',
        body: '{{institution}}已上传您的医疗费用，订单号 {{orderId}}。总金额 {{total|yuan}} 元，预计统筹基金支付 {{fundPayment|yuan}} 元，个人账户支付 {{accountPayment|yuan}} 元，您需支付 {{cashPayment|yuan}} 元。请于 {{dueAt|time}} 前在个人网厅「医保移动支付」中确认，逾期账单将自动取消。',
      },
      wechat: {
        title: '待支付医疗费用提醒',
        body: '就医机构：{{institution}}\n订单号：{{orderId}}\n总金额：{{total|yuan}}元\n需自付：{{cashPayment|yuan}}元\n请于 {{dueAt|time}} 前确认支付',
      },
    },
    channels: { always: ['inbox'], fallback: ['wechat'] },
    sample: {
      ...PAYMENT_SAMPLE,
      settledAt: '2026-01-01T08:00:00.000Z',
      dueAt: '2026-01-01T08:30:00.000Z',
    },
  },
  {
    code: 'payment.refunded',
    category: 'payment',
    name: '医保退款到账',
    priority: 'normal',
    mandatory: false,
    payloadSchema: paymentPayload.extend({
      refundKind: z.string(),
      refundAmount: z.number().int(),
      fundRefund: z.number().int(),
      accountRefund: z.number().int(),
      cashRefund: z.number().int(),
    }),
    defaultTemplates: {
      inbox: {
        title: '医保退款通知',
        body: '您在{{institution}}的订单 {{orderId}} 已退款 {{refundAmount|yuan}} 元：统筹基金退回 {{fundRefund|yuan}} 元，个人账户退回 {{accountRefund|yuan}} 元，现金 {{cashRefund|yuan}} 元将原路退回。',
      },
      wechat: {
        title: '医保退款通知',
        body: '订单号：{{orderId}}\n退款金额：{{refundAmount|yuan}}元\n现金退回：{{cashRefund|yuan}}元',
      },
      sms: {
        body: '【医保服务】您的订单{{orderId}}已退款{{refundAmount|yuan}}元，其中现金{{cashRefund|yuan}}元将原路退回。',
      },
    },
    channels: { always: ['inbox'], fallback: ['wechat', 'sms'] },
    sample: {
      ...PAYMENT_SAMPLE,
      settledAt: '2026-01-01T08:30:00.000Z',
      refundKind: 'partial',
      refundAmount: 2800,
      fundRefund: 2000,
      accountRefund: 500,
      cashRefund: 300,
    },
  },
  {
    code: 'ebill.issued',
    category: 'bill',
    name: '电子票据已开具',
    priority: 'low',
    mandatory: false,
    payloadSchema: z.object({
      billCode: z.string(),
      billNumber: z.string(),
      payee: z.string(),
      amount: z.number().int(),
      issuedAt: z.string(),
    }),
    defaultTemplates: {
      inbox: {
        title: '医疗收费电子票据已开具',
        body: '{{payee}} 已为您开具医疗收费电子票据：票据代码 {{billCode}}，票据号码 {{billNumber}}，金额 {{amount|yuan}} 元。可在“电子票据”中查看与下载。',
      },
      email: {
        title: '医疗收费电子票据 {{billNumber}}',
        body: '您好：\n\n{{payee}} 于 {{issuedAt|time}} 为您开具了医疗收费电子票据。\n票据代码：{{billCode}}\n票据号码：{{billNumber}}\n金额：{{amount|yuan}} 元\n\n医保服务平台',
      },
    },
    channels: { always: ['inbox'], fallback: ['email'] },
  },
  {
    code: 'announcement',
    category: 'announcement',
    name: '通知公告',
    priority: 'low',
    mandatory: false,
    payloadSchema: z.object({ title: z.string(), body: z.string() }),
    defaultTemplates: { inbox: { title: '{{title}}', body: '{{body}}' } },
    channels: { always: ['inbox'], fallback: [] },
  },
];
