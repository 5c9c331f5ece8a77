import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';

export const CHANNELS = ['inbox', 'sms', 'email', 'wechat'] as const;
export type Channel = (typeof CHANNELS)[number];
export const CHANNEL_NAMES: Record<Channel, string> = {
  inbox: '站内信',
  sms: '短信',
  email: '电子邮件',
  wechat: '微信公众号',
};

export const PRIORITIES = ['urgent', 'high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const CATEGORIES: Record<string, string> = {
  security: '账户安全',
  payment: '支付结算',
  bill: '电子票据',
  service: '业务办理',
  consult: '咨询回复',
  announcement: '通知公告',
};

export interface TemplateText {
  /** Inbox / email subject / WeChat first line; unused by SMS. */
  title?: string;
  body: string;
}

export interface MessageTypeDeclaration<S extends z.ZodType = z.ZodType> {
  /** e.g. 'payment.completed' */
  code: string;
  category: keyof typeof CATEGORIES | string;
  name: string;
  priority: Priority;
  /** Mandatory messages ignore the person's opt-outs (e.g. verification codes). */
  mandatory: boolean;
  payloadSchema: S;
  defaultTemplates: Partial<Record<Channel, TemplateText>>;
  /** Default rule: channels always used, then a fallback chain (first that succeeds). */
  channels?: { always?: Channel[]; fallback?: Channel[] };
  /** Sample payload for previews; generated from the schema when absent. */
  sample?: z.infer<S>;
  dedupeSeconds?: number;
}

export interface MessageType extends MessageTypeDeclaration {
  channels: { always: Channel[]; fallback: Channel[] };
  sample: Record<string, unknown>;
  dedupeSeconds: number;
  /** Template variables the payload schema allows, with their JSON type (dotted paths for nested objects). */
  variables: Record<string, string>;
}

const VAR = /\{\{\s*([A-Za-z_][\w.]*)\s*(?:\|\s*(\w+)\s*)?\}\}/g;
export const FILTERS: Record<string, (v: unknown) => string> = {
  /** integer fen → "12.34" 元 */
  yuan: (v) => (typeof v === 'number' && Number.isSafeInteger(v) ? fenToYuan(v) : String(v ?? '')),
  /** ISO time → 2026-01-02 03:04 (Asia/Shanghai) */
  time: (v) => formatTime(v),
  mask: (v) => {
    const s = String(v ?? '');
    return s.length > 7 ? `${s.slice(0, 3)}****${s.slice(-4)}` : '****';
  },
};

export function fenToYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

function formatTime(v: unknown): string {
  const d = new Date(String(v ?? ''));
  if (Number.isNaN(d.getTime())) return String(v ?? '');
  const s = new Date(d.getTime() + 8 * 3600_000).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 16)}`;
}

/** Variable names (and filters) used by a template text. */
export function templateVariables(text: string): Array<{ name: string; filter?: string }> {
  return [...text.matchAll(VAR)].map((m) => ({ name: m[1], filter: m[2] }));
}

/** Flattens a JSON schema's properties to dotted paths → type. */
export function schemaVariables(schema: z.ZodType): Record<string, string> {
  const out: Record<string, string> = {};
  let json: any;
  try {
    json = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' });
  } catch {
    return out;
  }
  const walk = (node: any, prefix: string) => {
    for (const [k, v] of Object.entries<any>(node?.properties ?? {})) {
      const path = prefix ? `${prefix}.${k}` : k;
      const type = Array.isArray(v.type) ? v.type[0] : (v.type ?? (v.anyOf ? 'any' : 'string'));
      out[path] = type;
      if (type === 'object') walk(v, path);
    }
  };
  walk(json, '');
  return out;
}

/** Checks a template against a type's variables: unknown variable or filter → 400 MESSAGE_TEMPLATE_UNKNOWN_VARIABLE. */
export function checkTemplate(type: MessageType, text: TemplateText): void {
  const unknown: string[] = [];
  for (const part of [text.title ?? '', text.body]) {
    for (const v of templateVariables(part)) {
      if (!(v.name in type.variables)) unknown.push(`{{${v.name}}}`);
      else if (v.filter && !(v.filter in FILTERS)) unknown.push(`|${v.filter}`);
    }
  }
  if (unknown.length > 0) {
    throw new AppError(
      400,
      'MESSAGE_TEMPLATE_UNKNOWN_VARIABLE',
      '模板中含有未定义的变量',
      `消息类型 ${type.code} 没有这些变量: ${[...new Set(unknown)].join('、')}；可用变量: ${Object.keys(type.variables).join('、') || '(无)'}`,
      { errors: [...new Set(unknown)].map((u) => ({ field: 'body', message: `未定义的变量 ${u}` })) },
    );
  }
}

const lookup = (payload: Record<string, unknown>, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as any)[k] : undefined), payload);

export function render(text: string, payload: Record<string, unknown>): string {
  return text.replace(VAR, (_m, name: string, filter?: string) => {
    const v = lookup(payload, name);
    if (filter && FILTERS[filter]) return FILTERS[filter](v);
    if (v === undefined || v === null) return '';
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

function sampleFromJson(node: any, key = ''): unknown {
  const type = Array.isArray(node?.type) ? node.type[0] : node?.type;
  if (node?.enum) return node.enum[0];
  if (node?.const !== undefined) return node.const;
  if (node?.anyOf) return sampleFromJson(node.anyOf[0], key);
  switch (type) {
    case 'object':
      return Object.fromEntries(Object.entries<any>(node.properties ?? {}).map(([k, v]) => [k, sampleFromJson(v, k)]));
    case 'array':
      return [sampleFromJson(node.items, key)];
    case 'integer':
    case 'number':
      return 12345;
    case 'boolean':
      return true;
    default:
      if (node?.format === 'date-time' || /At$|time/i.test(key)) return '2026-01-01T08:30:00.000Z';
      return `示例${key}`;
  }
}

export function declare(decl: MessageTypeDeclaration): MessageType {
  if (!/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/.test(decl.code))
    throw new Error(`message type code "${decl.code}" must look like "center.event" (lower case)`);
  const variables = schemaVariables(decl.payloadSchema);
  const channels = {
    always: decl.channels?.always ?? (decl.defaultTemplates.inbox ? ['inbox' as Channel] : []),
    fallback:
      decl.channels?.fallback ?? (['wechat', 'sms', 'email'] as Channel[]).filter((c) => decl.defaultTemplates[c]),
  };
  let sample = decl.sample as Record<string, unknown> | undefined;
  if (!sample) {
    try {
      sample = sampleFromJson(z.toJSONSchema(decl.payloadSchema, { unrepresentable: 'any', io: 'input' })) as Record<
        string,
        unknown
      >;
    } catch {
      sample = {};
    }
  }
  const type: MessageType = {
    ...decl,
    channels,
    sample,
    dedupeSeconds: decl.dedupeSeconds ?? 300,
    variables,
  };
  for (const [channel, text] of Object.entries(decl.defaultTemplates)) {
    try {
      checkTemplate(type, text as TemplateText);
    } catch (err) {
      throw new Error(`default ${channel} template of ${decl.code}: ${(err as AppError).detail}`);
    }
  }
  return type;
}

/** Channel limits: a rendered message over these is refused (visible as a failed delivery). */
export const CHANNEL_LIMITS: Record<Channel, { title: number; body: number }> = {
  inbox: { title: 100, body: 5000 },
  sms: { title: 0, body: 500 },
  email: { title: 200, body: 100_000 },
  wechat: { title: 100, body: 1000 },
};

/** Largest accepted payload (bytes of JSON). */
export const MAX_PAYLOAD_BYTES = 16 * 1024;
