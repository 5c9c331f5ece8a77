/**
 * The one verification hook every channel route uses (DOMAIN §4): SM2/SM3 signature over the sorted sign
 * string + app secret, timestamp window, nonce replay window in the database, optional SM4 body.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Batcher, type BatchMetrics } from '../../../platform/batch.ts';
import type { Context } from '../../../platform/context.ts';
import { verifyEnvelopeDetailed } from '../../../platform/crypto/index.ts';
import { type Executor, prepared, sql, textArray } from '../../../platform/db/index.ts';
import { AppError, type FieldError } from '../../../platform/errors.ts';
import { claim, type IdempotencyRef, release, requestHash } from '../../../platform/idempotency.ts';
import { envelopeData } from '../../../platform/schemas.ts';
import type { ChannelRegistry, ChannelType } from './channels.ts';

export const CHANNEL_WINDOW_SECONDS = 300;

/** What a verified channel request knows about its caller. */
export interface ChannelInfo {
  appId: string;
  regionCode: string;
  name: string;
  type: ChannelType;
  institutionCode?: string;
  scopes: string[];
  transType: string;
  nonce: string;
  timestamp: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    channel?: ChannelInfo;
  }
}

/** The signed envelope as a route body schema (Zod strictObject). `data` is checked later by parseChannelData. */
const NONCE = /^[\w-]{8,64}$/;

export const channelEnvelopeSchema = z
  .strictObject({
    appId: z.string().min(1).max(64).describe('渠道编号'),
    version: z.string().min(1).max(16).describe('报文版本，当前 1.0'),
    timestamp: z
      .string()
      .regex(/^\d{1,16}$/)
      .describe('毫秒时间戳（十进制字符串）'),
    nonce: z.string().regex(NONCE).describe('随机串，8–64 位'),
    transType: z.string().min(1).max(64).describe('交易类型'),
    encType: z.literal('SM4').optional().describe('加密方式'),
    encData: z.string().min(1).max(4_000_000).optional().describe('SM4 加密的业务数据 (base64)'),
    data: z.unknown().optional().describe('业务数据（未加密时）'),
    signType: z.literal('SM2'),
    signData: z.string().min(1).max(512).describe('SM3withSM2 签名 (base64)'),
  })
  .describe('渠道签名信封 (DOMAIN §4)');

export type ChannelEnvelopeBody = z.infer<typeof channelEnvelopeSchema>;

/** A channel route's body: the envelope, its `data` documented with the schema the route parses it with. */
export const channelEnvelopeFor = (data: z.ZodType) => channelEnvelopeSchema.extend({ data: envelopeData(data) });

/** Parses the decrypted business data with the route's own schema; failures name fields under `data.`. */
export function parseChannelData<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const errors: FieldError[] = parsed.error.issues.map((i) => ({
    field: ['data', ...i.path.map(String)].join('.'),
    message: i.message,
  }));
  throw new AppError(
    400,
    'VALIDATION_FAILED',
    '请求参数校验失败',
    errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    { errors },
  );
}

export interface ChannelAuthOptions {
  /** The channel must hold this scope (e.g. 'payment', 'settlement', 'evoucher'). */
  scope?: string;
  /** Restrict to these channel types. */
  types?: ChannelType[];
}

export interface ChannelVerifier {
  /** Verifies an envelope (signature, window, nonce) and returns the channel and the decrypted data. */
  verify(envelope: unknown, opts?: ChannelAuthOptions): Promise<{ channel: ChannelInfo; data: unknown }>;
  /** Fastify preHandler: verifies, sets req.principal / req.channel / req.regionCode, replaces req.body with the data. */
  preHandler(opts?: ChannelAuthOptions): (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** Removes expired nonces (job). */
  purgeNonces(): Promise<number>;
}

const unknownChannel = () => new AppError(401, 'CHANNEL_UNKNOWN', '渠道不存在或已停用');

interface NonceRow {
  regionCode: string;
  appId: string;
  nonce: string;
  expiresAt: string;
}

/**
 * Records nonces, many requests' in one statement under load; answers per nonce whether it is fresh. Two requests
 * with the same nonce in one batch: the first is fresh, the second a replay.
 */
export function nonceRecorder(db: Executor, metrics?: BatchMetrics): Batcher<NonceRow, boolean> {
  const key = (regionCode: string, appId: string, nonce: string) => `${regionCode}\u0000${appId}\u0000${nonce}`;
  return new Batcher(
    async (rows) => {
      const column = (pick: (r: NonceRow) => string) => textArray(rows.map(pick));
      const inserted = await db.q<{ region_code: string; app_id: string; nonce: string }>(
        prepared(sql`insert into
      auth_channel_nonce(region_code, app_id, nonce, expires_at)
      select * from unnest(${column((r) => r.regionCode)}, ${column((r) => r.appId)}, ${column((r) => r.nonce)},
        ${column((r) => r.expiresAt)}::timestamptz[])
      on conflict do nothing returning region_code, app_id, nonce`),
      );
      const fresh = new Set(inserted.map((r) => key(r.region_code, r.app_id, r.nonce)));
      return rows.map((r) => fresh.delete(key(r.regionCode, r.appId, r.nonce)));
    },
    { name: 'auth_channel_nonce', metrics },
  );
}

export function createChannelVerifier(ctx: Context, registry: ChannelRegistry): ChannelVerifier {
  const nonces = nonceRecorder(ctx.db, ctx.metrics);
  const verifier: ChannelVerifier = {
    async verify(envelope, opts = {}) {
      const appId =
        typeof envelope === 'object' && envelope !== null ? (envelope as { appId?: unknown }).appId : undefined;
      if (typeof appId !== 'string' || appId === '' || appId.length > 64) {
        throw new AppError(400, 'ENVELOPE_MALFORMED', '报文格式错误', 'appId must be a non-empty string');
      }
      const channel = await registry.find(appId);
      if (channel?.status !== 'active') throw unknownChannel();
      const now = Date.now();
      const verified = verifyEnvelopeDetailed(envelope, {
        publicKey: channel.publicKeyHex,
        appSecret: channel.appSecret,
        now,
        windowSeconds: CHANNEL_WINDOW_SECONDS,
      });
      if (opts.types && !opts.types.includes(channel.type)) {
        throw new AppError(403, 'CHANNEL_SCOPE_DENIED', '渠道无权调用此接口', `渠道类型 ${channel.type} 不可调用`);
      }
      if (opts.scope && !channel.scopes.includes(opts.scope)) {
        throw new AppError(403, 'CHANNEL_SCOPE_DENIED', '渠道无权调用此接口', `缺少权限范围 ${opts.scope}`);
      }
      // Checked here as well as in the route schema: nonces are recorded in batches, and one unstorable value must not
      // fail the other requests of its batch.
      if (!NONCE.test(verified.nonce)) {
        throw new AppError(400, 'ENVELOPE_MALFORMED', '报文格式错误', 'nonce must be 8–64 letters, digits, _ or -');
      }
      // The nonce stays recorded past the window on both sides of `now`, so no accepted timestamp can reuse it.
      const expires = new Date(Math.max(now, verified.timestamp) + CHANNEL_WINDOW_SECONDS * 1000 + 1000);
      const fresh = await nonces.load({
        regionCode: channel.regionCode,
        appId: channel.appId,
        nonce: verified.nonce,
        expiresAt: expires.toISOString(),
      });
      if (!fresh) {
        throw new AppError(401, 'CHANNEL_NONCE_REPLAYED', '请求重复（随机串已使用）', '请为每次请求生成新的 nonce');
      }
      return {
        channel: {
          appId: channel.appId,
          regionCode: channel.regionCode,
          name: channel.name,
          type: channel.type,
          ...(channel.institutionCode ? { institutionCode: channel.institutionCode } : {}),
          scopes: channel.scopes,
          transType: verified.transType,
          nonce: verified.nonce,
          timestamp: verified.timestamp,
        },
        data: verified.data,
      };
    },

    preHandler(opts = {}) {
      return async (req, reply) => {
        const { channel, data } = await verifier.verify(req.body, opts);
        req.channel = channel;
        req.principal = {
          kind: 'channel',
          subject: channel.appId,
          regionCode: channel.regionCode,
          scopes: channel.scopes,
        };
        req.regionCode = channel.regionCode;
        req.body = data;
        if (await rescopeIdempotency(ctx, req, reply)) return reply;
      };
    },

    async purgeNonces() {
      const rows = await ctx.db.q(sql`delete from auth_channel_nonce where expires_at < now() returning nonce`);
      return rows.length;
    },
  };
  return verifier;
}

/**
 * The platform's idempotency hook runs before route preHandlers, i.e. before we know the channel: it keyed the
 * claim by IP and hashed the envelope (whose nonce and signature change on every retry). Re-key it by the
 * channel and the decrypted business data, so a re-signed retry with the same Idempotency-Key replays the first
 * answer and a different body under the same key is refused (422).
 */
async function rescopeIdempotency(ctx: Context, req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  const early = req.idempotency;
  if (!early) return false;
  await release(ctx.db, early);
  const ref: IdempotencyRef = {
    regionCode: req.regionCode,
    scope: `channel:${req.principal?.subject}`,
    key: early.key,
    hash: requestHash(req.method, req.routeOptions.url ?? req.url, { params: req.params, body: req.body }),
  };
  req.idempotency = undefined;
  const previous = await claim(ctx.db, ref);
  if (previous) {
    reply.header('idempotent-replayed', 'true');
    const type = previous.status >= 400 ? 'application/problem+json' : 'application/json';
    reply.status(previous.status).type(type).send(previous.body);
    return true;
  }
  req.idempotency = ref;
  return false;
}
