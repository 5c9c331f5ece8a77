import { createHash, randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { appendAudit, canonicalJson } from '../../platform/audit.ts';
import type { Context } from '../../platform/context.ts';
import { type Database, type Executor, notify, sql, textArray } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { enqueue, type JobRow } from '../../platform/jobs.ts';
import { maskEmail, maskMobile } from '../../platform/privacy/index.ts';
import { INBOX_CHANNEL } from './channels/inbox.ts';
import { type ChannelProvider, PermanentDeliveryError } from './channels/port.ts';
import type { InboxHub } from './stream.ts';
import {
  CATEGORIES,
  CHANNEL_LIMITS,
  CHANNEL_NAMES,
  CHANNELS,
  type Channel,
  checkTemplate,
  declare,
  MAX_PAYLOAD_BYTES,
  type MessageType,
  type MessageTypeDeclaration,
  render,
  type TemplateText,
} from './types.ts';

export interface Recipient {
  personId?: string;
  staffId?: string;
  mobile?: string;
  email?: string;
}

export interface SendInput {
  type: string;
  regionCode: string;
  to: Recipient;
  payload: Record<string, unknown>;
  /** Same key (per type and recipient) within the de-duplication window → sent once. Default: a hash of the payload. */
  dedupeKey?: string;
  source?: string;
}

export interface SendResult {
  messageId: string;
  deduplicated: boolean;
}

export interface Rule {
  typeCode: string;
  always: Channel[];
  fallback: Channel[];
  respectQuietHours: boolean;
  dedupeSeconds: number;
  userLimitPerHour: number;
  enabled: boolean;
  customized: boolean;
}

export interface ChannelConfig {
  channel: Channel;
  name: string;
  enabled: boolean;
  ratePerMinute: number;
  sandboxFail: boolean;
  provider: string;
  sandbox: boolean;
}

export type Audience =
  | { kind: 'public' }
  | { kind: 'region_persons' }
  | { kind: 'unit_staff'; unitId: string; unitName?: string }
  | { kind: 'list'; personIds: string[] };

/** Who staff address (`audienceSchema`): a unit by its id or USCC, a list by hall accounts or resident ID numbers. */
export type AudienceInput =
  | { kind: 'public' }
  | { kind: 'region_persons' }
  | { kind: 'unit_staff'; unitId?: string; uscc?: string }
  | { kind: 'list'; personIds?: string[]; residentIds?: string[] };

export interface AnnouncementInput {
  title: string;
  body: string;
  hall: 'all' | 'personal' | 'unit';
  audience: AudienceInput;
  toInbox: boolean;
  publishAt?: string;
  expiresAt?: string;
}

/** What the message center needs from the user center (centers/user/index.ts → UserService). */
interface UserLookup {
  getPerson(
    regionCode: string,
    id: string,
  ): Promise<{ id: string; mobile?: string | null; email?: string | null } | undefined>;
  /** A staff account's alert addresses; undefined when there is no such account. */
  getStaffContact(staffId: string): Promise<{ mobile?: string; email?: string } | undefined>;
  findUnitByUscc(regionCode: string, uscc: string): Promise<{ id: string; name: string } | undefined>;
  findPersonIdsByResidentIds(regionCode: string, residentIds: string[]): Promise<Map<string, string>>;
}

const DELIVERY_ATTEMPTS = 5;
const TERMINAL = new Set(['sent', 'delivered', 'failed', 'dead', 'skipped']);
const PUSH_CHANNELS = new Set<Channel>(['sms', 'wechat']);

export const QUEUES = {
  dispatch: 'message.dispatch',
  deliver: 'message.deliver',
  receipt: 'message.receipt',
  announce: 'message.announce',
} as const;

interface MessageRow {
  region_code: string;
  id: string;
  type_code: string;
  category: string;
  priority: string;
  mandatory: boolean;
  to_person_id: string | null;
  to_staff_id: string | null;
  to_mobile_enc: string | null;
  to_email_enc: string | null;
  recipient_key: string;
  payload: Record<string, unknown>;
  chain: Channel[];
  status: string;
}

interface DeliveryRow {
  region_code: string;
  id: string;
  message_id: string;
  type_code: string;
  channel: Channel;
  chain_index: number | null;
  status: string;
  attempts: number;
  address_enc: string | null;
  address_masked: string | null;
}

const sm3 = (s: string) => createHash('sm3').update(s).digest('hex');
const audienceInvalid = (detail: string) => new AppError(400, 'MESSAGE_AUDIENCE_INVALID', '公告受众不完整', detail);

/** The message center (消息中心): every notice the platform sends goes through here, by rules, on the right channels. */
export class MessageService {
  private readonly ctx: Context;
  private readonly registry = new Map<string, MessageType>();
  private readonly provisional = new Set<string>();
  readonly providers: Record<Channel, ChannelProvider>;
  /** This process's SSE hub (set when routes are built). */
  hub?: InboxHub;
  /** Clock (tests move it to check quiet hours). */
  now: () => Date = () => new Date();

  constructor(ctx: Context, providers: Record<Channel, ChannelProvider>) {
    this.ctx = ctx;
    this.providers = providers;
  }

  // ───────────────────────────── types ─────────────────────────────

  /** Declares a message type; centers call it in their init. */
  declareType<S extends z.ZodType>(decl: MessageTypeDeclaration<S>, opts: { provisional?: boolean } = {}): void {
    // The message center declares a few types of other centers provisionally (so they work before those centers
    // exist); the owning center's own declaration replaces them. Two real declarations of one code are a bug.
    if (this.registry.has(decl.code) && !this.provisional.has(decl.code))
      throw new Error(`message type ${decl.code} declared twice`);
    this.registry.set(decl.code, declare(decl as MessageTypeDeclaration));
    if (opts.provisional) this.provisional.add(decl.code);
    else this.provisional.delete(decl.code);
  }

  types(): MessageType[] {
    return [...this.registry.values()].sort((a, b) => a.code.localeCompare(b.code));
  }

  type(code: string): MessageType {
    const t = this.registry.get(code);
    if (!t) throw new AppError(404, 'MESSAGE_TYPE_UNKNOWN', '消息类型不存在', `未声明的消息类型: ${code}`);
    return t;
  }

  // ───────────────────────────── send ─────────────────────────────

  /**
   * Enqueues a message in the caller's transaction: it exists (and will be delivered) iff the caller commits.
   * Validates the type, recipient and payload synchronously (400s); resolves the recipient and delivers in jobs.
   */
  async send(tx: Executor, input: SendInput): Promise<SendResult> {
    const type = this.registry.get(input.type);
    if (!type) throw new AppError(400, 'MESSAGE_TYPE_UNKNOWN', '消息类型不存在', `未声明的消息类型: ${input.type}`);
    if (!/^\d{6}$/.test(input.regionCode)) throw new AppError(400, 'REGION_UNKNOWN', '统筹区代码无效');
    const to = input.to ?? {};
    if (!to.personId && !to.staffId && !to.mobile && !to.email) {
      throw new AppError(
        400,
        'MESSAGE_RECIPIENT_REQUIRED',
        '未指定收件人',
        '至少需要 personId、staffId、mobile 或 email 之一',
      );
    }
    if (to.mobile && !/^1\d{10}$/.test(to.mobile))
      throw new AppError(400, 'MESSAGE_RECIPIENT_INVALID', '手机号格式不正确', undefined, {
        errors: [{ field: 'to.mobile', message: '应为 11 位手机号' }],
      });
    if (to.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(to.email))
      throw new AppError(400, 'MESSAGE_RECIPIENT_INVALID', '电子邮件地址格式不正确', undefined, {
        errors: [{ field: 'to.email', message: '格式不正确' }],
      });
    const size = Buffer.byteLength(JSON.stringify(input.payload ?? {}));
    if (size > MAX_PAYLOAD_BYTES) {
      throw new AppError(
        413,
        'MESSAGE_TOO_LARGE',
        '消息内容过大',
        `消息数据 ${size} 字节，上限 ${MAX_PAYLOAD_BYTES} 字节`,
      );
    }
    const parsed = type.payloadSchema.safeParse(input.payload);
    if (!parsed.success) {
      throw new AppError(
        400,
        'MESSAGE_PAYLOAD_INVALID',
        '消息数据与消息类型不符',
        `消息类型 ${type.code} 的数据校验失败`,
        {
          errors: parsed.error.issues.map((i) => ({ field: ['payload', ...i.path].join('.'), message: i.message })),
        },
      );
    }
    const payload = parsed.data as Record<string, unknown>;
    const recipientKey = this.recipientKey(to);
    const dedupeKey = input.dedupeKey ?? sm3(canonicalJson(payload));
    const rule = await this.rule(tx, input.regionCode, type.code);
    if (rule.dedupeSeconds > 0) {
      // Serialise concurrent sends of the same message so the window check cannot race.
      await tx.q(
        sql`select pg_advisory_xact_lock(hashtextextended(${`${input.regionCode}|${type.code}|${recipientKey}|${dedupeKey}`}, 0))`,
      );
      const since = new Date(this.now().getTime() - rule.dedupeSeconds * 1000).toISOString();
      const existing = await tx.one<{ id: string }>(sql`select id from message
        where region_code = ${input.regionCode} and type_code = ${type.code} and recipient_key = ${recipientKey}
          and dedupe_key = ${dedupeKey} and status <> 'deduplicated' and created_at > ${since}
        order by created_at desc limit 1`);
      if (existing) return { messageId: existing.id, deduplicated: true };
    }
    const cipher = this.ctx.privacy.cipher;
    const [row] = await tx.q<{ id: string }>(sql`insert into message
        (region_code, type_code, category, priority, mandatory, to_person_id, to_staff_id, to_mobile_enc, to_email_enc,
         recipient_key, payload, dedupe_key, source, created_at)
      values (${input.regionCode}, ${type.code}, ${type.category}, ${type.priority}, ${type.mandatory},
        ${to.personId ?? null}, ${to.staffId ?? null}, ${to.mobile ? cipher.encrypt(to.mobile) : null},
        ${to.email ? cipher.encrypt(to.email) : null}, ${recipientKey}, ${JSON.stringify(payload)}::jsonb, ${dedupeKey},
        ${input.source ?? 'service'}, ${this.now().toISOString()})
      returning id`);
    await enqueue(
      tx,
      QUEUES.dispatch,
      { regionCode: input.regionCode, messageId: row.id },
      {
        regionCode: input.regionCode,
        dedupeKey: `dispatch:${row.id}`,
      },
    );
    return { messageId: row.id, deduplicated: false };
  }

  /** A message that could not be accepted (from an event): kept as a failed message with one failed delivery. */
  async recordRejected(db: Database, input: SendInput, reason: string): Promise<string> {
    const type = this.registry.get(input.type);
    const to = input.to ?? {};
    return db.tx(async (tx) => {
      const [row] = await tx.q<MessageRow>(sql`insert into message
          (region_code, type_code, category, priority, mandatory, to_person_id, recipient_key, payload, dedupe_key,
           source, status, reason)
        values (${input.regionCode}, ${input.type}, ${type?.category ?? 'service'}, ${type?.priority ?? 'normal'},
          ${type?.mandatory ?? false}, ${to.personId ?? null}, ${to.personId ? `p:${to.personId}` : 'unknown'},
          ${JSON.stringify(input.payload ?? {})}::jsonb, ${input.dedupeKey ?? ''}, ${input.source ?? 'service'},
          'failed', ${reason})
        returning *`);
      await this.insertDelivery(tx, row, 'inbox', null, { status: 'failed', reason: `消息被拒绝：${reason}` });
      return row.id;
    });
  }

  private recipientKey(to: Recipient): string {
    if (to.personId) return `p:${to.personId}`;
    if (to.staffId) return `s:${to.staffId}`;
    if (to.mobile) return `m:${this.ctx.privacy.blindIndex(to.mobile, 'mobile')}`;
    return `e:${this.ctx.privacy.blindIndex(to.email!.toLowerCase(), 'email')}`;
  }

  // ───────────────────────────── rules & settings ─────────────────────────────

  async rule(ex: Executor, regionCode: string, typeCode: string): Promise<Rule> {
    const type = this.type(typeCode);
    const row = await ex.one<{
      always: Channel[];
      fallback: Channel[];
      respect_quiet_hours: boolean;
      dedupe_seconds: number;
      user_limit_per_hour: number;
      enabled: boolean;
    }>(sql`select * from message_rule where region_code = ${regionCode} and type_code = ${typeCode}`);
    if (!row) {
      return {
        typeCode,
        always: type.channels.always,
        fallback: type.channels.fallback,
        respectQuietHours: true,
        dedupeSeconds: type.dedupeSeconds,
        userLimitPerHour: 20,
        enabled: true,
        customized: false,
      };
    }
    return {
      typeCode,
      always: row.always,
      fallback: row.fallback,
      respectQuietHours: row.respect_quiet_hours,
      dedupeSeconds: row.dedupe_seconds,
      userLimitPerHour: row.user_limit_per_hour,
      enabled: row.enabled,
      customized: true,
    };
  }

  async saveRule(regionCode: string, rule: Omit<Rule, 'customized'>, staffId: string): Promise<Rule> {
    const type = this.type(rule.typeCode);
    if (type.mandatory && !rule.enabled)
      throw new AppError(400, 'MESSAGE_RULE_MANDATORY', '强制类消息不能停用', `${type.name} 为强制消息`);
    const used = [...rule.always, ...rule.fallback];
    if (new Set(used).size !== used.length)
      throw new AppError(400, 'MESSAGE_RULE_DUPLICATE_CHANNEL', '同一渠道不能重复出现在规则中');
    if (used.length === 0) throw new AppError(400, 'MESSAGE_RULE_EMPTY', '至少选择一个渠道');
    await this.ctx.db.tx(async (tx) => {
      await tx.q(sql`insert into message_rule(region_code, type_code, always, fallback, respect_quiet_hours,
          dedupe_seconds, user_limit_per_hour, enabled, updated_by)
        values (${regionCode}, ${rule.typeCode}, ${textArray(rule.always)}, ${textArray(rule.fallback)},
          ${rule.respectQuietHours}, ${rule.dedupeSeconds}, ${rule.userLimitPerHour}, ${rule.enabled}, ${staffId})
        on conflict (region_code, type_code) do update set always = excluded.always, fallback = excluded.fallback,
          respect_quiet_hours = excluded.respect_quiet_hours, dedupe_seconds = excluded.dedupe_seconds,
          user_limit_per_hour = excluded.user_limit_per_hour, enabled = excluded.enabled,
          updated_by = excluded.updated_by, updated_at = now()`);
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'message.rule.save',
        targetType: 'message_type',
        targetId: rule.typeCode,
        result: 'success',
        detail: { always: rule.always, fallback: rule.fallback, enabled: rule.enabled },
      });
    });
    return this.rule(this.ctx.db, regionCode, rule.typeCode);
  }

  async channelConfigs(ex: Executor, regionCode: string): Promise<ChannelConfig[]> {
    const rows = await ex.q<{ channel: Channel; enabled: boolean; rate_per_minute: number; sandbox_fail: boolean }>(
      sql`select channel, enabled, rate_per_minute, sandbox_fail from message_channel where region_code = ${regionCode}`,
    );
    return CHANNELS.map((channel) => {
      const r = rows.find((x) => x.channel === channel);
      const p = this.providers[channel];
      return {
        channel,
        name: CHANNEL_NAMES[channel],
        enabled: r?.enabled ?? true,
        ratePerMinute: r?.rate_per_minute ?? 600,
        sandboxFail: r?.sandbox_fail ?? false,
        provider: p.label,
        sandbox: p.sandbox,
      };
    });
  }

  async setChannel(
    regionCode: string,
    channel: Channel,
    patch: { enabled?: boolean; ratePerMinute?: number; sandboxFail?: boolean },
    staffId: string,
  ): Promise<ChannelConfig> {
    if (patch.sandboxFail && !this.providers[channel].sandbox)
      throw new AppError(400, 'MESSAGE_CHANNEL_NOT_SANDBOX', '只有沙箱渠道可以注入故障');
    const current = (await this.channelConfigs(this.ctx.db, regionCode)).find((c) => c.channel === channel)!;
    const next = { ...current, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
    await this.ctx.db.tx(async (tx) => {
      await tx.q(sql`insert into message_channel(region_code, channel, enabled, rate_per_minute, sandbox_fail)
        values (${regionCode}, ${channel}, ${next.enabled}, ${next.ratePerMinute}, ${next.sandboxFail})
        on conflict (region_code, channel) do update set enabled = excluded.enabled,
          rate_per_minute = excluded.rate_per_minute, sandbox_fail = excluded.sandbox_fail, updated_at = now()`);
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'message.channel.update',
        targetType: 'message_channel',
        targetId: channel,
        result: 'success',
        detail: patch,
      });
    });
    return (await this.channelConfigs(this.ctx.db, regionCode)).find((c) => c.channel === channel)!;
  }

  async settings(ex: Executor, regionCode: string): Promise<{ quietStart: number; quietEnd: number }> {
    const row = await ex.one<{ quiet_start: number; quiet_end: number }>(
      sql`select quiet_start, quiet_end from message_settings where region_code = ${regionCode}`,
    );
    return { quietStart: row?.quiet_start ?? 22, quietEnd: row?.quiet_end ?? 8 };
  }

  async saveSettings(regionCode: string, s: { quietStart: number; quietEnd: number }, staffId: string) {
    await this.ctx.db.tx(async (tx) => {
      await tx.q(sql`insert into message_settings(region_code, quiet_start, quiet_end)
        values (${regionCode}, ${s.quietStart}, ${s.quietEnd})
        on conflict (region_code) do update set quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,
          updated_at = now()`);
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'message.settings.update',
        result: 'success',
        detail: s,
      });
    });
    return this.settings(this.ctx.db, regionCode);
  }

  /** When quiet hours (Asia/Shanghai) are in force at `at`, the moment they end; otherwise undefined. */
  static quietUntil(at: Date, quietStart: number, quietEnd: number): Date | undefined {
    if (quietStart === quietEnd) return undefined;
    const local = new Date(at.getTime() + 8 * 3600_000);
    const h = local.getUTCHours();
    const quiet = quietStart < quietEnd ? h >= quietStart && h < quietEnd : h >= quietStart || h < quietEnd;
    if (!quiet) return undefined;
    const end = new Date(local);
    end.setUTCHours(quietEnd, 0, 0, 0);
    if (end.getTime() <= local.getTime()) end.setUTCDate(end.getUTCDate() + 1);
    return new Date(end.getTime() - 8 * 3600_000);
  }

  // ───────────────────────────── templates ─────────────────────────────

  async template(
    ex: Executor,
    regionCode: string,
    typeCode: string,
    channel: Channel,
  ): Promise<(TemplateText & { version: number }) | undefined> {
    const row = await ex.one<{ version: number; title: string; body: string }>(sql`select version, title, body
      from message_template where region_code = ${regionCode} and type_code = ${typeCode} and channel = ${channel}
      order by version desc limit 1`);
    if (row) return row;
    const d = this.type(typeCode).defaultTemplates[channel];
    return d ? { version: 0, title: d.title ?? '', body: d.body } : undefined;
  }

  async templateVersions(regionCode: string, typeCode: string) {
    const type = this.type(typeCode);
    const rows = await this.ctx.db.q<{
      channel: Channel;
      version: number;
      title: string;
      body: string;
      created_by: string;
      created_at: string;
    }>(sql`select channel, version, title, body, created_by, created_at from message_template
      where region_code = ${regionCode} and type_code = ${typeCode} order by channel, version desc`);
    return CHANNELS.map((channel) => ({
      channel,
      default: type.defaultTemplates[channel] ?? null,
      versions: rows
        .filter((r) => r.channel === channel)
        .map((r) => ({
          version: r.version,
          title: r.title,
          body: r.body,
          createdBy: r.created_by,
          createdAt: r.created_at,
        })),
    }));
  }

  async saveTemplate(regionCode: string, typeCode: string, channel: Channel, text: TemplateText, staffId: string) {
    const type = this.type(typeCode);
    checkTemplate(type, text);
    this.checkLength(channel, render(text.title ?? '', type.sample), render(text.body, type.sample));
    return this.ctx.db.tx(async (tx) => {
      const [row] = await tx.q<{ version: number }>(sql`insert into message_template
          (region_code, type_code, channel, version, title, body, created_by)
        select ${regionCode}, ${typeCode}, ${channel}, coalesce(max(version), 0) + 1, ${text.title ?? ''}, ${text.body}, ${staffId}
          from message_template where region_code = ${regionCode} and type_code = ${typeCode} and channel = ${channel}
        returning version`);
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'message.template.save',
        targetType: 'message_template',
        targetId: `${typeCode}/${channel}/v${row.version}`,
        result: 'success',
      });
      return { channel, version: row.version };
    });
  }

  /** Renders a (draft or current) template with the type's sample data or a given payload. */
  async preview(
    regionCode: string,
    typeCode: string,
    channel: Channel,
    draft?: TemplateText,
    payload?: Record<string, unknown>,
  ) {
    const type = this.type(typeCode);
    const text = draft ?? (await this.template(this.ctx.db, regionCode, typeCode, channel));
    if (!text) throw new AppError(404, 'MESSAGE_TEMPLATE_NOT_FOUND', '该渠道没有模板');
    checkTemplate(type, text);
    const data = payload ?? type.sample;
    const parsed = type.payloadSchema.safeParse(data);
    if (!parsed.success)
      throw new AppError(400, 'MESSAGE_PAYLOAD_INVALID', '示例数据与消息类型不符', parsed.error.issues[0]?.message);
    const title = render(text.title ?? '', data);
    const body = render(text.body, data);
    const limit = CHANNEL_LIMITS[channel];
    return { channel, title, body, length: [...body].length, limit: limit.body, sample: data };
  }

  private checkLength(channel: Channel, title: string, body: string): void {
    const limit = CHANNEL_LIMITS[channel];
    const n = [...body].length;
    const t = [...title].length;
    if (n > limit.body || (limit.title > 0 && t > limit.title)) {
      throw new AppError(
        400,
        'MESSAGE_TOO_LARGE',
        '消息内容超过渠道长度上限',
        `${CHANNEL_NAMES[channel]}正文 ${n} 字（上限 ${limit.body}）${limit.title > 0 ? `，标题 ${t} 字（上限 ${limit.title}）` : ''}`,
      );
    }
  }

  // ───────────────────────────── preferences ─────────────────────────────

  async preferences(regionCode: string, personId: string) {
    const rows = await this.ctx.db.q<{ category: string; channel: Channel; enabled: boolean }>(sql`select category,
        channel, enabled from message_preference where region_code = ${regionCode} and person_id = ${personId}`);
    const mandatoryCategories = new Set(
      this.types()
        .filter((t) => t.mandatory)
        .map((t) => t.category),
    );
    return {
      channels: CHANNELS.map((c) => ({ code: c, name: CHANNEL_NAMES[c] })),
      categories: Object.entries(CATEGORIES).map(([code, name]) => ({
        code,
        name,
        note: mandatoryCategories.has(code) ? '验证码、安全提醒等强制消息不受此设置影响' : undefined,
        channels: Object.fromEntries(
          CHANNELS.map((c) => [c, rows.find((r) => r.category === code && r.channel === c)?.enabled ?? true]),
        ),
      })),
    };
  }

  async setPreferences(
    regionCode: string,
    personId: string,
    items: Array<{ category: string; channel: Channel; enabled: boolean }>,
  ) {
    for (const i of items)
      if (!(i.category in CATEGORIES))
        throw new AppError(400, 'MESSAGE_CATEGORY_UNKNOWN', '消息分类不存在', `未知分类: ${i.category}`);
    await this.ctx.db.tx(async (tx) => {
      for (const i of items) {
        await tx.q(sql`insert into message_preference(region_code, person_id, category, channel, enabled)
          values (${regionCode}, ${personId}, ${i.category}, ${i.channel}, ${i.enabled})
          on conflict (region_code, person_id, category, channel) do update set enabled = excluded.enabled, updated_at = now()`);
      }
    });
    return this.preferences(regionCode, personId);
  }

  /** Binds a WeChat official-account openid to a person (the sandbox issues the openid). */
  async bindWechat(regionCode: string, personId: string, openid?: string): Promise<{ openid: string }> {
    const id = openid ?? `sandbox-o${randomBytes(9).toString('base64url')}`;
    await this.ctx.db.q(sql`insert into message_wechat_binding(region_code, person_id, openid)
      values (${regionCode}, ${personId}, ${id})
      on conflict (region_code, person_id) do update set openid = excluded.openid`);
    return { openid: id };
  }

  async wechatBinding(regionCode: string, personId: string): Promise<string | undefined> {
    return (
      await this.ctx.db.one<{ openid: string }>(sql`select openid from message_wechat_binding
        where region_code = ${regionCode} and person_id = ${personId}`)
    )?.openid;
  }

  // ───────────────────────────── recipients directory ─────────────────────────────

  /** Makes persons reachable by broadcasts (region audience; with unitId, a unit's staff). Set-based. */
  async registerRecipients(ex: Executor, regionCode: string, personIds: string[], unitId = ''): Promise<void> {
    if (personIds.length === 0) return;
    await ex.q(sql`insert into message_recipient(region_code, kind, subject_id, unit_id)
      select ${regionCode}, 'person', x, ${unitId} from unnest(${textArray(personIds)}) as x
      on conflict do nothing`);
  }

  // ───────────────────────────── jobs ─────────────────────────────

  registerJobs(): void {
    this.ctx.jobs.register(QUEUES.dispatch, (job, db) => this.dispatch(job, db), '消息分发：确定收件人与渠道');
    this.ctx.jobs.register(QUEUES.deliver, (job, db) => this.deliver(job, db), '消息投递（站内信、短信、微信、邮件）');
    this.ctx.jobs.register(QUEUES.receipt, (job, db) => this.receipt(job, db), '查询短信等渠道的送达回执');
    this.ctx.jobs.register(QUEUES.announce, (job, db) => this.announce(job, db), '公告群发');
  }

  private users(): UserLookup | undefined {
    return (this.ctx.services as Record<string, unknown>).user as UserLookup | undefined;
  }

  /** Resolves the recipient and plans one delivery per channel (the "always" channels plus the head of the chain). */
  private async dispatch(job: JobRow, db: Database): Promise<void> {
    const { regionCode, messageId } = job.payload as { regionCode: string; messageId: string };
    const msg = await db.one<MessageRow>(
      sql`select * from message where region_code = ${regionCode} and id = ${messageId}`,
    );
    if (msg?.status !== 'queued') return;
    try {
      await this.dispatchMessage(db, msg);
    } catch (err) {
      // The last attempt leaves a visible failure on the message instead of a silent dead job.
      if (job.attempts < job.max_attempts) throw err;
      const reason = `分发失败（已重试 ${job.attempts} 次）：${String((err as Error)?.message ?? err).slice(0, 300)}`;
      await db.tx(async (tx) => {
        const claimed = await tx.q(sql`update message set status = 'failed', reason = ${reason}
          where region_code = ${regionCode} and id = ${messageId} and status = 'queued' returning id`);
        if (claimed.length > 0) await this.insertDelivery(tx, msg, 'inbox', null, { status: 'dead', reason });
      });
    }
  }

  private async dispatchMessage(db: Database, msg: MessageRow): Promise<void> {
    const regionCode = msg.region_code;
    const messageId = msg.id;
    const type = this.type(msg.type_code);
    const rule = await this.rule(db, regionCode, msg.type_code);
    const cipher = this.ctx.privacy.cipher;
    const addresses: Partial<Record<Channel, string>> = {};
    let unknown: string | undefined;
    if (msg.to_mobile_enc) addresses.sms = cipher.decrypt(msg.to_mobile_enc);
    if (msg.to_email_enc) addresses.email = cipher.decrypt(msg.to_email_enc);
    if (msg.to_person_id) {
      const users = this.users();
      if (users) {
        let person: Awaited<ReturnType<UserLookup['getPerson']>>;
        try {
          person = await users.getPerson(regionCode, msg.to_person_id);
        } catch (err) {
          if (!(err instanceof AppError && err.status === 404)) throw err;
        }
        if (!person) unknown = `收件人不存在：统筹区 ${regionCode} 中没有个人 ${msg.to_person_id}`;
        else {
          addresses.sms ??= person.mobile ?? undefined;
          addresses.email ??= person.email ?? undefined;
        }
      }
      if (!unknown) {
        addresses.inbox = msg.to_person_id;
        const openid = await this.wechatBinding(regionCode, msg.to_person_id);
        if (openid) addresses.wechat = openid;
      }
    } else if (msg.to_staff_id) {
      const staff = await this.users()?.getStaffContact(msg.to_staff_id);
      if (!staff) unknown = `收件人不存在：没有工作人员 ${msg.to_staff_id}`;
      else {
        addresses.sms ??= staff.mobile;
        addresses.email ??= staff.email;
      }
    }
    const prefs = msg.to_person_id
      ? await db.q<{ channel: Channel }>(sql`select channel from message_preference where region_code = ${regionCode}
          and person_id = ${msg.to_person_id} and category = ${msg.category} and enabled = false`)
      : [];
    const optedOut = new Set(type.mandatory ? [] : prefs.map((p) => p.channel));

    let failAll: string | undefined = unknown;
    if (!failAll && !rule.enabled) failAll = '该消息类型的推送规则已停用';
    if (!failAll && !type.mandatory) {
      const since = new Date(this.now().getTime() - 3600_000).toISOString();
      const [{ n }] = await db.q<{ n: number }>(sql`select count(*)::int as n from message
        where region_code = ${regionCode} and recipient_key = ${msg.recipient_key} and status = 'dispatched'
          and mandatory = false and created_at > ${since}`);
      if (n >= rule.userLimitPerHour) failAll = `超过每人每小时 ${rule.userLimitPerHour} 条的频率限制`;
    }

    await db.tx(async (tx) => {
      const claimed = await tx.q(sql`update message set status = ${failAll ? 'failed' : 'dispatched'},
          reason = ${failAll ?? null}, chain = ${textArray(rule.fallback)},
          to_mobile_enc = ${addresses.sms ? cipher.encrypt(addresses.sms) : null},
          to_email_enc = ${addresses.email ? cipher.encrypt(addresses.email) : null}
        where region_code = ${regionCode} and id = ${messageId} and status = 'queued' returning id`);
      if (claimed.length === 0) return;
      if (msg.to_person_id && !unknown) await this.registerRecipients(tx, regionCode, [msg.to_person_id]);
      if (failAll) {
        for (const channel of [...rule.always, ...rule.fallback.slice(0, 1)]) {
          await this.insertDelivery(tx, msg, channel, null, { status: 'failed', reason: failAll });
        }
        if (rule.always.length + rule.fallback.length === 0)
          await this.insertDelivery(tx, msg, 'inbox', null, { status: 'failed', reason: failAll });
        return;
      }
      const settings = await this.settings(tx, regionCode);
      const ctx = { msg, type, rule, addresses, optedOut, settings };
      for (const channel of rule.always) await this.planDelivery(tx, ctx, channel, null);
      if (rule.fallback.length > 0) await this.planChain(tx, ctx, 0, undefined);
    });
  }

  private async planChain(
    tx: Executor,
    c: PlanContext,
    from: number,
    previousFailure: string | undefined,
  ): Promise<void> {
    for (let i = from; i < c.rule.fallback.length; i++) {
      if (await this.planDelivery(tx, c, c.rule.fallback[i], i, previousFailure)) return;
    }
  }

  /** Creates a queued delivery (and its job), or a skipped one; returns whether it was queued. */
  private async planDelivery(
    tx: Executor,
    c: PlanContext,
    channel: Channel,
    chainIndex: number | null,
    previousFailure?: string,
  ): Promise<boolean> {
    const address = c.addresses[channel];
    const note = previousFailure ? `（上一渠道失败后转发：${previousFailure}）` : '';
    if (c.optedOut.has(channel)) {
      await this.insertDelivery(tx, c.msg, channel, chainIndex, {
        status: 'skipped',
        reason: `用户已关闭此渠道${note}`,
      });
      return false;
    }
    if (!address) {
      const why =
        channel === 'wechat' ? '未绑定微信公众号' : channel === 'inbox' ? '收件人不是平台用户' : '缺少接收地址';
      await this.insertDelivery(tx, c.msg, channel, chainIndex, { status: 'skipped', reason: `${why}${note}` });
      return false;
    }
    let notBefore: Date | undefined;
    if (c.type.priority !== 'urgent' && c.rule.respectQuietHours && PUSH_CHANNELS.has(channel)) {
      notBefore = MessageService.quietUntil(this.now(), c.settings.quietStart, c.settings.quietEnd);
    }
    const masked =
      channel === 'sms'
        ? maskMobile(address)
        : channel === 'email'
          ? maskEmail(address)
          : channel === 'inbox'
            ? `个人 ${address.slice(0, 8)}…`
            : `openid ${address.slice(0, 10)}…`;
    const id = await this.insertDelivery(tx, c.msg, channel, chainIndex, {
      status: 'queued',
      reason: notBefore ? `免打扰时段，将于 ${notBefore.toISOString()} 后发送${note}` : note || null,
      addressEnc: this.ctx.privacy.cipher.encrypt(address),
      addressMasked: masked,
      notBefore,
    });
    await enqueue(
      tx,
      QUEUES.deliver,
      { regionCode: c.msg.region_code, deliveryId: id },
      {
        regionCode: c.msg.region_code,
        runAt: notBefore,
        maxAttempts: DELIVERY_ATTEMPTS,
      },
    );
    return true;
  }

  private async insertDelivery(
    tx: Executor,
    msg: MessageRow,
    channel: Channel,
    chainIndex: number | null,
    d: { status: string; reason: string | null; addressEnc?: string; addressMasked?: string; notBefore?: Date },
  ): Promise<string> {
    const [row] = await tx.q<{ id: string }>(sql`insert into message_delivery
        (region_code, message_id, type_code, channel, chain_index, status, reason, address_enc, address_masked,
         sandbox, not_before, created_at, updated_at)
      values (${msg.region_code}, ${msg.id}, ${msg.type_code}, ${channel}, ${chainIndex}, ${d.status}, ${d.reason},
        ${d.addressEnc ?? null}, ${d.addressMasked ?? null}, ${this.providers[channel].sandbox},
        ${d.notBefore?.toISOString() ?? null}, ${this.now().toISOString()}, ${this.now().toISOString()})
      returning id`);
    return row.id;
  }

  /** Sends one delivery through its channel's provider; retries with backoff, then dead + fallback. */
  private async deliver(job: JobRow, db: Database): Promise<void> {
    const { regionCode, deliveryId } = job.payload as { regionCode: string; deliveryId: string };
    const d = await db.one<DeliveryRow>(
      sql`select * from message_delivery where region_code = ${regionCode} and id = ${deliveryId}`,
    );
    if (!d || TERMINAL.has(d.status)) return;
    const msg = (await db.one<MessageRow>(
      sql`select * from message where region_code = ${regionCode} and id = ${d.message_id}`,
    ))!;
    const type = this.type(msg.type_code);
    const channel = d.channel;
    const config = (await this.channelConfigs(db, regionCode)).find((c) => c.channel === channel)!;
    if (!config.enabled) return this.finishFailed(db, msg, d, 'failed', `${CHANNEL_NAMES[channel]}渠道已停用`);

    // Per-channel rate limit: take a slot of the minute under a lock shared by every worker; none left → wait
    // (not an attempt).
    const gotSlot = await db.tx(async (tx) => {
      await tx.q(sql`select pg_advisory_xact_lock(hashtextextended(${`message-rate|${regionCode}|${channel}`}, 0))`);
      const since = new Date(Date.now() - 60_000).toISOString();
      const [{ n }] = await tx.q<{ n: number }>(sql`select count(*)::int as n from message_delivery
        where region_code = ${regionCode} and channel = ${channel} and slot_at > ${since}`);
      if (n >= config.ratePerMinute) return false;
      await tx.q(
        sql`update message_delivery set slot_at = now() where region_code = ${regionCode} and id = ${deliveryId}`,
      );
      return true;
    });
    if (!gotSlot) {
      await db.tx(async (tx) => {
        await tx.q(sql`update message_delivery set reason = ${`渠道限流（每分钟 ${config.ratePerMinute} 条），稍后发送`},
            updated_at = now() where region_code = ${regionCode} and id = ${deliveryId}`);
        await enqueue(tx, QUEUES.deliver, job.payload, {
          regionCode,
          runAt: new Date(Date.now() + 15_000),
          maxAttempts: DELIVERY_ATTEMPTS,
        });
      });
      return;
    }

    const template = await this.template(db, regionCode, msg.type_code, channel);
    if (!template)
      return this.finishFailed(db, msg, d, 'failed', `消息类型 ${type.code} 没有${CHANNEL_NAMES[channel]}模板`);
    const title = render(template.title ?? '', msg.payload);
    const body = render(template.body, msg.payload);
    try {
      this.checkLength(channel, title, body);
    } catch (err) {
      return this.finishFailed(db, msg, d, 'failed', `内容超长：${(err as AppError).detail}`, { title, body });
    }
    await db.q(sql`update message_delivery set attempts = attempts + 1, template_version = ${template.version},
        title = ${title}, body = ${body}, updated_at = now()
      where region_code = ${regionCode} and id = ${deliveryId}`);

    const provider = this.providers[channel];
    const out = {
      regionCode,
      deliveryId,
      messageId: msg.id,
      typeCode: msg.type_code,
      category: msg.category,
      channel,
      address: this.ctx.privacy.cipher.decrypt(d.address_enc!),
      addressMasked: d.address_masked ?? '',
      title,
      body,
    };
    try {
      // The inbox row commits with the delivery's status; external providers are called first, then recorded.
      if (channel === 'inbox') {
        await db.tx(async (tx) => {
          const r = await provider.send(out, { db: tx, failOnDemand: false });
          await this.markSent(tx, regionCode, deliveryId, r.status, r.providerRef);
        });
      } else {
        const r = await provider.send(out, { db, failOnDemand: config.sandboxFail });
        await db.tx(async (tx) => {
          await this.markSent(tx, regionCode, deliveryId, r.status, r.providerRef);
          if (provider.sandbox && r.status === 'sent') {
            await enqueue(
              tx,
              QUEUES.receipt,
              { regionCode, deliveryId },
              { regionCode, runAt: new Date(Date.now() + 1000) },
            );
          }
        });
      }
      if (provider.sandbox) this.ctx.log.info({ deliveryId, channel }, `[沙箱] ${provider.label} 已记录一条消息`);
    } catch (err) {
      const reason = String((err as Error)?.message ?? err).slice(0, 500);
      if (err instanceof PermanentDeliveryError) return this.finishFailed(db, msg, d, 'failed', reason);
      if (job.attempts >= job.max_attempts) {
        return this.finishFailed(db, msg, d, 'dead', `已重试 ${job.attempts} 次仍失败：${reason}`);
      }
      await db.q(sql`update message_delivery set reason = ${`第 ${job.attempts} 次发送失败，将重试：${reason}`},
          updated_at = now() where region_code = ${regionCode} and id = ${deliveryId}`);
      throw err;
    }
  }

  private async markSent(tx: Executor, regionCode: string, id: string, status: 'sent' | 'delivered', ref: string) {
    await tx.q(sql`update message_delivery set status = ${status}, provider_ref = ${ref}, reason = null,
        sent_at = now(), updated_at = now()
      where region_code = ${regionCode} and id = ${id}`);
  }

  /** Records a terminal failure and moves down the fallback chain. */
  private async finishFailed(
    db: Database,
    msg: MessageRow,
    d: DeliveryRow,
    status: 'failed' | 'dead',
    reason: string,
    content?: { title: string; body: string },
  ): Promise<void> {
    await db.tx(async (tx) => {
      const done = await tx.q(sql`update message_delivery set status = ${status}, reason = ${reason},
          title = coalesce(${content?.title ?? null}, title), body = coalesce(${content?.body ?? null}, body),
          updated_at = now()
        where region_code = ${d.region_code} and id = ${d.id} and status = 'queued' returning id`);
      if (done.length === 0 || d.chain_index === null) return;
      const chain = msg.chain;
      if (d.chain_index + 1 >= chain.length) return;
      const c = await this.planContext(tx, msg);
      await this.planChain(tx, c, d.chain_index + 1, `${CHANNEL_NAMES[d.channel]}：${reason}`);
    });
    this.ctx.log.warn({ deliveryId: d.id, channel: d.channel, status, reason }, 'message delivery failed');
  }

  /** Rebuilds what planning needs for a message (addresses from its other deliveries and the recipient). */
  private async planContext(tx: Executor, msg: MessageRow): Promise<PlanContext> {
    const type = this.type(msg.type_code);
    const rule = { ...(await this.rule(tx, msg.region_code, msg.type_code)), fallback: msg.chain };
    const addresses: Partial<Record<Channel, string>> = {};
    const cipher = this.ctx.privacy.cipher;
    if (msg.to_mobile_enc) addresses.sms = cipher.decrypt(msg.to_mobile_enc);
    if (msg.to_email_enc) addresses.email = cipher.decrypt(msg.to_email_enc);
    if (msg.to_person_id) {
      addresses.inbox = msg.to_person_id;
      const b = await tx.one<{ openid: string }>(sql`select openid from message_wechat_binding
        where region_code = ${msg.region_code} and person_id = ${msg.to_person_id}`);
      if (b) addresses.wechat = b.openid;
    }
    // (Addresses resolved from the user center at dispatch were stored, encrypted, on the message; no look-up here:
    // this runs inside a transaction.)
    const prefs = msg.to_person_id
      ? await tx.q<{
          channel: Channel;
        }>(sql`select channel from message_preference where region_code = ${msg.region_code}
          and person_id = ${msg.to_person_id} and category = ${msg.category} and enabled = false`)
      : [];
    return {
      msg,
      type,
      rule,
      addresses,
      optedOut: new Set(type.mandatory ? [] : prefs.map((p) => p.channel)),
      settings: await this.settings(tx, msg.region_code),
    };
  }

  /** Sandbox gateways' asynchronous delivery receipt. */
  private async receipt(job: JobRow, db: Database): Promise<void> {
    const { regionCode, deliveryId } = job.payload as { regionCode: string; deliveryId: string };
    await db.tx(async (tx) => {
      await tx.q(sql`update message_delivery set status = 'delivered', updated_at = now()
        where region_code = ${regionCode} and id = ${deliveryId} and status = 'sent'`);
      await tx.q(sql`update message_sandbox_outbox set status = 'delivered', receipt_at = now()
        where region_code = ${regionCode} and delivery_id = ${deliveryId} and status = 'accepted'`);
    });
  }

  /** Staff: send a failed or dead delivery again (a new delivery record; the old one stays as history). */
  async resend(regionCode: string, deliveryId: string, staffId: string): Promise<{ deliveryId: string }> {
    return this.ctx.db.tx(async (tx) => {
      const d = await tx.one<DeliveryRow>(
        sql`select * from message_delivery where region_code = ${regionCode} and id = ${deliveryId}`,
      );
      if (!d) throw new AppError(404, 'MESSAGE_DELIVERY_NOT_FOUND', '投递记录不存在');
      if (d.status !== 'failed' && d.status !== 'dead')
        throw new AppError(409, 'MESSAGE_DELIVERY_NOT_FAILED', '只能重发失败或死信的投递', `当前状态: ${d.status}`);
      if (!d.address_enc)
        throw new AppError(
          409,
          'MESSAGE_DELIVERY_NO_ADDRESS',
          '该投递没有接收地址，无法重发',
          '收件人不存在或无可用地址',
        );
      const [row] = await tx.q<{ id: string }>(sql`insert into message_delivery
          (region_code, message_id, type_code, channel, chain_index, status, reason, address_enc, address_masked, sandbox)
        values (${regionCode}, ${d.message_id}, ${d.type_code}, ${d.channel}, null, 'queued',
          ${`控制台重发（原投递 ${d.id}）`}, ${d.address_enc}, ${d.address_masked}, ${this.providers[d.channel].sandbox})
        returning id`);
      await enqueue(
        tx,
        QUEUES.deliver,
        { regionCode, deliveryId: row.id },
        { regionCode, maxAttempts: DELIVERY_ATTEMPTS },
      );
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'message.delivery.resend',
        targetType: 'message_delivery',
        targetId: d.id,
        result: 'success',
        detail: { newDeliveryId: row.id },
      });
      return { deliveryId: row.id };
    });
  }

  // ───────────────────────────── status & log ─────────────────────────────

  async messageStatus(regionCode: string, messageId: string, opts: { source?: string } = {}) {
    const msg = await this.ctx.db.one<{
      id: string;
      type_code: string;
      status: string;
      reason: string | null;
      created_at: string;
      source: string;
    }>(sql`select id, type_code, status, reason, created_at, source from message
      where region_code = ${regionCode} and id = ${messageId}`);
    if (!msg || (opts.source && msg.source !== opts.source)) throw new AppError(404, 'MESSAGE_NOT_FOUND', '消息不存在');
    const deliveries = await this.ctx.db.q<{
      id: string;
      channel: string;
      chainIndex: number | null;
      status: string;
      reason: string | null;
      attempts: number;
      address: string | null;
      sandbox: boolean;
      sentAt: Date | string | null;
      updatedAt: Date | string;
    }>(sql`select id, channel, chain_index as "chainIndex",
        status, reason, attempts, address_masked as "address", sandbox, sent_at as "sentAt", updated_at as "updatedAt"
      from message_delivery where region_code = ${regionCode} and message_id = ${messageId} order by created_at, id`);
    const iso = (v: Date | string) => new Date(v).toISOString();
    return {
      id: msg.id,
      type: msg.type_code,
      status: msg.status,
      reason: msg.reason,
      createdAt: iso(msg.created_at),
      deliveries: deliveries.map((d) => ({ ...d, sentAt: d.sentAt && iso(d.sentAt), updatedAt: iso(d.updatedAt) })),
    };
  }

  async deliveryLog(
    regionCode: string,
    f: { status?: string; channel?: string; type?: string; from?: string; to?: string; page: number; size: number },
  ) {
    const where = sql.join(
      [
        sql`d.region_code = ${regionCode}`,
        f.status ? sql`d.status = ${f.status}` : undefined,
        f.channel ? sql`d.channel = ${f.channel}` : undefined,
        f.type ? sql`d.type_code = ${f.type}` : undefined,
        f.from ? sql`d.created_at >= ${f.from}` : undefined,
        f.to ? sql`d.created_at < ${f.to}` : undefined,
      ].filter(Boolean) as ReturnType<typeof sql>[],
      sql` and `,
    );
    const [{ total }] = await this.ctx.db.q<{ total: number }>(
      sql`select count(*)::int as total from message_delivery d where ${where}`,
    );
    const items = await this.ctx.db.q(sql`select d.id, d.message_id as "messageId", d.type_code as "type", d.channel,
        d.chain_index as "chainIndex", d.status, d.reason, d.attempts, d.address_masked as "address", d.sandbox,
        d.template_version as "templateVersion", d.title, d.body, d.created_at as "createdAt",
        d.updated_at as "updatedAt", d.sent_at as "sentAt", m.to_person_id as "personId", m.source
      from message_delivery d join message m on m.region_code = d.region_code and m.id = d.message_id
      where ${where} order by d.created_at desc, d.id limit ${f.size} offset ${(f.page - 1) * f.size}`);
    return { total, items };
  }

  /** Volume and failure rate per channel per day (Asia/Shanghai); skipped deliveries (opt-out, no address) are not sends. */
  async stats(regionCode: string, days: number) {
    const since = new Date(Date.now() - days * 86400_000).toISOString();
    const rows = await this.ctx.db.q<{ day: string; channel: Channel; total: number; failed: number; sent: number }>(
      sql`select to_char(created_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD') as day, channel,
          count(*)::int as total,
          count(*) filter (where status in ('failed', 'dead'))::int as failed,
          count(*) filter (where status in ('sent', 'delivered'))::int as sent
        from message_delivery where region_code = ${regionCode} and created_at >= ${since}
          and status <> 'skipped'
        group by 1, 2 order by 1, 2`,
    );
    return rows.map((r) => ({ ...r, failureRate: r.total ? r.failed / r.total : 0 }));
  }

  async sandboxOutbox(regionCode: string, channel: string | undefined, limit: number) {
    return this.ctx.db.q(sql`select id, channel, delivery_id as "deliveryId", address, template_id as "templateId",
        title, content, status, created_at as "createdAt", receipt_at as "receiptAt"
      from message_sandbox_outbox where region_code = ${regionCode}
        ${channel ? sql`and channel = ${channel}` : sql``}
      order by created_at desc limit ${limit}`);
  }

  // ───────────────────────────── inbox ─────────────────────────────

  async inbox(regionCode: string, personId: string, opts: { page: number; size: number; unreadOnly?: boolean }) {
    const filter = opts.unreadOnly ? sql`and read_at is null` : sql``;
    const [{ total }] = await this.ctx.db.q<{ total: number }>(sql`select count(*)::int as total from message_inbox
      where region_code = ${regionCode} and person_id = ${personId} and deleted_at is null ${filter}`);
    const items = await this.ctx.db.q(sql`select id, type_code as "type", category, title, body,
        read_at as "readAt", created_at as "createdAt"
      from message_inbox where region_code = ${regionCode} and person_id = ${personId} and deleted_at is null ${filter}
      order by created_at desc, id limit ${opts.size} offset ${(opts.page - 1) * opts.size}`);
    return { total, unread: await this.unreadCount(regionCode, personId), items };
  }

  async unreadCount(regionCode: string, personId: string): Promise<number> {
    const [{ n }] = await this.ctx.db.q<{ n: number }>(sql`select count(*)::int as n from message_inbox
      where region_code = ${regionCode} and person_id = ${personId} and deleted_at is null and read_at is null`);
    return n;
  }

  async markRead(regionCode: string, personId: string, id?: string): Promise<number> {
    const rows = await this.ctx.db.tx(async (tx) => {
      const r = await tx.q(sql`update message_inbox set read_at = now()
        where region_code = ${regionCode} and person_id = ${personId} and deleted_at is null and read_at is null
          ${id ? sql`and id = ${id}` : sql``}
        returning id`);
      if (id && r.length === 0) {
        const exists = await tx.one(sql`select 1 from message_inbox where region_code = ${regionCode}
          and person_id = ${personId} and id = ${id} and deleted_at is null`);
        if (!exists) throw new AppError(404, 'MESSAGE_INBOX_NOT_FOUND', '消息不存在');
      }
      await notify(tx, INBOX_CHANNEL, `${regionCode}:${personId}`);
      return r;
    });
    return rows.length;
  }

  async deleteInbox(regionCode: string, personId: string, id: string): Promise<void> {
    await this.ctx.db.tx(async (tx) => {
      const r = await tx.q(sql`update message_inbox set deleted_at = now()
        where region_code = ${regionCode} and person_id = ${personId} and id = ${id} and deleted_at is null returning id`);
      if (r.length === 0) throw new AppError(404, 'MESSAGE_INBOX_NOT_FOUND', '消息不存在');
      await notify(tx, INBOX_CHANNEL, `${regionCode}:${personId}`);
    });
  }

  // ───────────────────────────── announcements ─────────────────────────────

  async createAnnouncement(regionCode: string, input: AnnouncementInput, staffId: string) {
    const publishAt = input.publishAt ? new Date(input.publishAt) : this.now();
    if (input.expiresAt && new Date(input.expiresAt) <= publishAt)
      throw new AppError(400, 'MESSAGE_ANNOUNCEMENT_WINDOW', '下线时间必须晚于发布时间');
    if (input.toInbox && input.audience.kind === 'public')
      throw new AppError(
        400,
        'MESSAGE_AUDIENCE_INVALID',
        '公开公告不能推送到站内信',
        '请选择“本统筹区参保人”、单位或名单',
      );
    checkTemplate(this.type('announcement'), { title: '', body: '' });
    this.checkLength('inbox', input.title, input.body);
    const { audience, unmatched } = await this.resolveAudience(regionCode, input.audience);
    return this.ctx.db.tx(async (tx) => {
      const [row] = await tx.q<{ id: string }>(sql`insert into message_announcement
          (region_code, title, body, hall, audience, to_inbox, publish_at, expires_at, status, created_by)
        values (${regionCode}, ${input.title}, ${input.body}, ${input.hall}, ${JSON.stringify(audience)}::jsonb,
          ${input.toInbox}, ${publishAt.toISOString()}, ${input.expiresAt ?? null}, 'scheduled', ${staffId})
        returning id`);
      await enqueue(
        tx,
        QUEUES.announce,
        { regionCode, announcementId: row.id },
        {
          regionCode,
          runAt: publishAt,
          dedupeKey: `announce:${regionCode}:${row.id}`,
        },
      );
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'message.announcement.create',
        targetType: 'message_announcement',
        targetId: row.id,
        result: 'success',
        detail: { title: input.title, audience: audience.kind, toInbox: input.toInbox, unmatched },
      });
      return { id: row.id, publishAt: publishAt.toISOString(), unmatched };
    });
  }

  /** The audience as stored (ids only), and how many of the given resident IDs have no hall account to reach. */
  private async resolveAudience(
    regionCode: string,
    a: AudienceInput,
  ): Promise<{ audience: Audience; unmatched: number }> {
    if (a.kind === 'unit_staff') {
      if (!a.unitId === !a.uscc) throw audienceInvalid('请填写单位编号或统一社会信用代码（二选一）');
      if (a.unitId) return { audience: { kind: 'unit_staff', unitId: a.unitId }, unmatched: 0 };
      const unit = await this.requiredUsers().findUnitByUscc(regionCode, a.uscc!);
      if (!unit) throw new AppError(404, 'MESSAGE_UNIT_NOT_FOUND', '本统筹区没有这个统一社会信用代码的单位', a.uscc);
      return { audience: { kind: 'unit_staff', unitId: unit.id, unitName: unit.name }, unmatched: 0 };
    }
    if (a.kind !== 'list') return { audience: a, unmatched: 0 };
    if (!a.personIds && !a.residentIds) throw audienceInvalid('请填写名单：网厅账户编号或身份证号码');
    const residentIds = new Set(a.residentIds);
    const found = residentIds.size
      ? await this.requiredUsers().findPersonIdsByResidentIds(regionCode, [...residentIds])
      : new Map();
    const personIds = [...new Set([...(a.personIds ?? []), ...found.values()])];
    if (personIds.length === 0)
      throw new AppError(400, 'MESSAGE_AUDIENCE_EMPTY', '名单中的身份证号码都没有开通网厅账户，无人可推送');
    return { audience: { kind: 'list', personIds }, unmatched: residentIds.size - found.size };
  }

  private requiredUsers(): UserLookup {
    const users = this.users();
    if (!users) throw new AppError(503, 'MESSAGE_USER_CENTER_UNAVAILABLE', '用户中心暂不可用');
    return users;
  }

  /** Publishes a scheduled announcement; with toInbox, fans it out to the audience's inboxes in one statement. */
  private async announce(job: JobRow, db: Database): Promise<void> {
    const { regionCode, announcementId } = job.payload as { regionCode: string; announcementId: string };
    await this.publishAnnouncement(db, regionCode, announcementId);
  }

  async publishAnnouncement(db: Database, regionCode: string, id: string): Promise<number> {
    // A unit's staff are its current agents, asked of the user center (outside the transaction) when it is present.
    const pending = await db.one<{ audience: Audience }>(sql`select audience from message_announcement
      where region_code = ${regionCode} and id = ${id} and status = 'scheduled'`);
    let resolved: Audience | undefined;
    const users = (this.ctx.services as Record<string, unknown>).user as
      | { listAgents?: (r: string, unitId: string) => Promise<Array<{ personId: string; active: boolean }>> }
      | undefined;
    if (pending?.audience.kind === 'unit_staff' && users?.listAgents) {
      const agents = await users.listAgents(regionCode, pending.audience.unitId).catch((err) => {
        if (err instanceof AppError && err.status === 404) return [];
        throw err;
      });
      resolved = { kind: 'list', personIds: agents.filter((a) => a.active).map((a) => a.personId) };
    }
    return db.tx(async (tx) => {
      const a = await tx.one<{ title: string; body: string; audience: Audience; to_inbox: boolean }>(sql`update
          message_announcement set status = 'published'
        where region_code = ${regionCode} and id = ${id} and status = 'scheduled'
        returning title, body, audience, to_inbox`);
      if (!a) return 0;
      let n = 0;
      if (a.to_inbox) {
        const audience = a.audience.kind === 'unit_staff' && resolved ? resolved : a.audience;
        n =
          audience.kind === 'list' && audience.personIds.length === 0
            ? 0
            : await this.fanOut(tx, regionCode, id, a.title, a.body, audience);
        await tx.q(
          sql`update message_announcement set fanout_count = ${n} where region_code = ${regionCode} and id = ${id}`,
        );
        await notify(tx, INBOX_CHANNEL, `${regionCode}:*`);
      }
      return n;
    });
  }

  /** One INSERT … SELECT per announcement: set-based, honours inbox opt-outs of the 'announcement' category. */
  async fanOut(tx: Executor, regionCode: string, id: string, title: string, body: string, audience: Audience) {
    const source =
      audience.kind === 'list'
        ? sql`select distinct x as person_id from unnest(${textArray(audience.personIds)}) as x`
        : audience.kind === 'unit_staff'
          ? sql`select distinct subject_id as person_id from message_recipient
              where region_code = ${regionCode} and kind = 'person' and unit_id = ${audience.unitId}`
          : sql`select subject_id as person_id from message_recipient
              where region_code = ${regionCode} and kind = 'person' and unit_id = ''`;
    const rows = await tx.q<{ n: number }>(sql`with ins as (
        insert into message_inbox (region_code, person_id, announcement_id, type_code, category, title, body)
        select ${regionCode}, s.person_id, ${id}::uuid, 'announcement', 'announcement', ${title}, ${body}
        from (${source}) s
        where not exists (select 1 from message_preference p where p.region_code = ${regionCode}
          and p.person_id = s.person_id and p.category = 'announcement' and p.channel = 'inbox' and p.enabled = false)
        on conflict (region_code, person_id, announcement_id) where announcement_id is not null do nothing
        returning 1)
      select count(*)::int as n from ins`);
    return rows[0].n;
  }

  async withdrawAnnouncement(regionCode: string, id: string, staffId: string) {
    await this.ctx.db.tx(async (tx) => {
      const r = await tx.q(sql`update message_announcement set status = 'withdrawn'
        where region_code = ${regionCode} and id = ${id} and status <> 'withdrawn' returning id`);
      if (r.length === 0) throw new AppError(404, 'MESSAGE_ANNOUNCEMENT_NOT_FOUND', '公告不存在或已撤回');
      await tx.q(sql`update message_inbox set deleted_at = now()
        where region_code = ${regionCode} and announcement_id = ${id} and deleted_at is null`);
      await notify(tx, INBOX_CHANNEL, `${regionCode}:*`);
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'message.announcement.withdraw',
        targetType: 'message_announcement',
        targetId: id,
        result: 'success',
      });
    });
  }

  async announcements(regionCode: string) {
    return this.ctx.db.q(sql`select id, title, body, hall, audience, to_inbox as "toInbox", publish_at as "publishAt",
        expires_at as "expiresAt", status, fanout_count as "fanoutCount", created_by as "createdBy", created_at as "createdAt"
      from message_announcement where region_code = ${regionCode} order by publish_at desc limit 200`);
  }

  /**
   * Announcements shown in a hall now: public ones and those for the region's insured persons; in the unit hall also
   * those addressed to the unit the viewer acts for (only while the viewer is one of its current agents).
   */
  async liveAnnouncements(
    regionCode: string,
    hall: 'personal' | 'unit',
    viewer?: { personId: string; unitId?: string },
  ) {
    const unitId =
      hall === 'unit' && viewer?.unitId && (await this.isAgent(regionCode, viewer.unitId, viewer.personId))
        ? viewer.unitId
        : undefined;
    const forUnit = unitId ? sql` or (audience->>'kind' = 'unit_staff' and audience->>'unitId' = ${unitId})` : sql``;
    return this.ctx.db.q(sql`select id, title, body, publish_at as "publishAt", expires_at as "expiresAt"
      from message_announcement
      where region_code = ${regionCode} and status in ('scheduled', 'published') and publish_at <= now()
        and (expires_at is null or expires_at > now()) and hall in ('all', ${hall})
        and (audience->>'kind' in ('public', 'region_persons')${forUnit})
      order by publish_at desc limit 20`);
  }

  /** Whether a person is a current agent of a unit (asked of the user center; false without one). */
  private async isAgent(regionCode: string, unitId: string, personId: string): Promise<boolean> {
    const users = (this.ctx.services as Record<string, unknown>).user as
      | {
          agentRole?: (r: string, unitId: string, personId: string) => Promise<string | undefined>;
          listAgents?: (r: string, unitId: string) => Promise<Array<{ personId: string; active: boolean }>>;
        }
      | undefined;
    try {
      if (users?.agentRole) return (await users.agentRole(regionCode, unitId, personId)) !== undefined;
      if (users?.listAgents)
        return (await users.listAgents(regionCode, unitId)).some((a) => a.active && a.personId === personId);
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return false;
      throw err;
    }
    return false;
  }
}

interface PlanContext {
  msg: MessageRow;
  type: MessageType;
  rule: Rule;
  addresses: Partial<Record<Channel, string>>;
  optedOut: Set<Channel>;
  settings: { quietStart: number; quietEnd: number };
}
