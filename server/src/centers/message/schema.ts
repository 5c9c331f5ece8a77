import { z } from 'zod';
import { isValidUscc } from '../../platform/privacy/index.ts';
import { instant, residentId } from '../../platform/schemas.ts';
import { CHANNELS, PRIORITIES } from './types.ts';

/** Request and response shapes of the message center's HTTP API (the tables are in migrations/0500_message_core.sql). */

export const channelSchema = z.enum(CHANNELS);
export const prioritySchema = z.enum(PRIORITIES);
export const typeCodeParams = z.strictObject({ code: z.string().min(1).max(80) });
export const idParams = z.strictObject({ id: z.uuid('应为 UUID') });

export const templateBody = z.strictObject({
  channel: channelSchema,
  title: z.string().max(200).optional(),
  body: z.string().min(1, '模板正文不能为空').max(100_000),
});

export const previewBody = z.strictObject({
  channel: channelSchema,
  title: z.string().max(200).optional(),
  body: z.string().min(1).max(100_000).optional(),
  payload: z.record(z.string(), z.unknown()).optional(),
});

export const ruleBody = z.strictObject({
  always: z.array(channelSchema).max(4),
  fallback: z.array(channelSchema).max(4),
  respectQuietHours: z.boolean(),
  dedupeSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86400),
  userLimitPerHour: z.number().int().min(1).max(10_000),
  enabled: z.boolean(),
});

export const channelPatch = z.strictObject({
  enabled: z.boolean().optional(),
  ratePerMinute: z.number().int().min(1).max(1_000_000).optional(),
  sandboxFail: z.boolean().optional(),
});

export const settingsBody = z.strictObject({
  quietStart: z.number().int().min(0).max(23),
  quietEnd: z.number().int().min(0).max(23),
});

export const recipientSchema = z.strictObject({
  personId: z.string().min(1).max(64).optional(),
  staffId: z.string().min(1).max(64).optional(),
  mobile: z.string().max(20).optional(),
  email: z.string().max(200).optional(),
});

/** data of a channel's delivery-status query */
export const statusBody = z.strictObject({ messageId: z.uuid('应为 UUID') });

export const sendBody = z.strictObject({
  type: z.string().min(1).max(80),
  to: recipientSchema,
  payload: z.record(z.string(), z.unknown()),
  dedupeKey: z.string().min(1).max(128).optional(),
});

const upper = z.string().trim().toUpperCase();

/**
 * Who an announcement is for, as staff name them: a unit by its id or its Unified Social Credit Code; a list of hall
 * accounts or of resident ID numbers (reaching those with an account). Stored as `Audience`, with ids only.
 */
export const audienceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('public') }),
  z.strictObject({ kind: z.literal('region_persons') }),
  z.strictObject({
    kind: z.literal('unit_staff'),
    unitId: z.string().min(1).max(64).optional(),
    uscc: upper.refine(isValidUscc, '统一社会信用代码无效').optional(),
  }),
  z.strictObject({
    kind: z.literal('list'),
    personIds: z.array(z.string().min(1).max(64)).min(1).max(100_000).optional(),
    residentIds: z.array(residentId).min(1).max(100_000).optional(),
  }),
]);

export const announcementBody = z.strictObject({
  title: z.string().min(1, '标题不能为空').max(100),
  body: z.string().min(1, '正文不能为空').max(5000),
  hall: z.enum(['all', 'personal', 'unit']),
  audience: audienceSchema,
  toInbox: z.boolean(),
  publishAt: instant.optional(),
  expiresAt: instant.optional(),
});

export const deliveryQuery = z.strictObject({
  status: z.enum(['queued', 'sent', 'delivered', 'failed', 'dead', 'skipped']).optional(),
  channel: channelSchema.optional(),
  type: z.string().max(80).optional(),
  from: instant.optional(),
  to: instant.optional(),
  page: z.coerce.number().int().min(1).default(1),
  size: z.coerce.number().int().min(1).max(200).default(20),
});

export const inboxQuery = z.strictObject({
  page: z.coerce.number().int().min(1).default(1),
  size: z.coerce.number().int().min(1).max(100).default(20),
  unread: z.enum(['true', 'false']).optional(),
});

export const preferencesBody = z.strictObject({
  items: z
    .array(z.strictObject({ category: z.string().max(40), channel: channelSchema, enabled: z.boolean() }))
    .min(1)
    .max(100),
});

// ------------------------------------------------------------------ answers (documented in /docs)

export const sendAnswer = z.object({
  messageId: z.string().describe('消息号（查询投递状态用）'),
  deduplicated: z.boolean().describe('同一去重键的消息已存在：未重复发送'),
});

/** A message and each delivery attempt of it (addresses masked). */
export const messageStatusAnswer = z.object({
  id: z.string(),
  type: z.string().describe('消息类型'),
  status: z.string().describe('消息状态'),
  reason: z.string().nullable().describe('未送达的原因'),
  createdAt: z.string(),
  deliveries: z.array(
    z.object({
      id: z.string(),
      channel: z.string().describe('渠道 inbox sms email wechat'),
      chainIndex: z.number().int().nullable().describe('在回退链中的位置（null：必发渠道）'),
      status: z.string().describe('投递状态'),
      reason: z.string().nullable(),
      attempts: z.number().int(),
      address: z.string().nullable().describe('收件地址（脱敏）'),
      sandbox: z.boolean().describe('沙箱渠道'),
      sentAt: z.string().nullable(),
      updatedAt: z.string(),
    }),
  ),
});
