import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { canonicalJson } from './audit.ts';
import { type Database, sql } from './db/index.ts';
import { AppError } from './errors.ts';

export interface IdempotencyRef {
  regionCode: string;
  scope: string;
  key: string;
  hash: string;
}

export interface StoredResponse {
  status: number;
  body: unknown;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Mutating route honouring the Idempotency-Key header. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    idempotency?: IdempotencyRef;
  }
}

export function requestHash(method: string, url: string, body: unknown): string {
  return createHash('sm3')
    .update(`${method} ${url}\n${canonicalJson(body ?? null)}`)
    .digest('hex');
}

/** Claims the key; returns the stored response when the key was already used for the same request. */
export async function claim(db: Database, ref: IdempotencyRef): Promise<StoredResponse | undefined> {
  const claimed = await db.q(sql`insert into idempotency_record(region_code, scope, key, request_hash, state)
    values (${ref.regionCode}, ${ref.scope}, ${ref.key}, ${ref.hash}, 'pending')
    on conflict do nothing returning key`);
  return claimed.length === 1 ? undefined : replay(db, ref);
}

export async function complete(db: Database, ref: IdempotencyRef, response: StoredResponse): Promise<void> {
  await db.q(sql`update idempotency_record set state = 'done', response_status = ${response.status},
      response_body = ${JSON.stringify(response.body ?? null)}::jsonb
    where region_code = ${ref.regionCode} and scope = ${ref.scope} and key = ${ref.key} and state = 'pending'`);
}

/** Forgets a claim whose request failed without a final answer (5xx, crash), so the client may retry. */
export async function release(db: Database, ref: IdempotencyRef): Promise<void> {
  await db.q(sql`delete from idempotency_record where region_code = ${ref.regionCode}
    and scope = ${ref.scope} and key = ${ref.key} and state = 'pending'`);
}

async function replay(db: Database, ref: IdempotencyRef): Promise<StoredResponse> {
  const row = await db.one<{ request_hash: string; state: string; response_status: number; response_body: unknown }>(
    sql`select request_hash, state, response_status, response_body from idempotency_record
      where region_code = ${ref.regionCode} and scope = ${ref.scope} and key = ${ref.key}`,
  );
  if (row && row.request_hash !== ref.hash) {
    throw new AppError(
      422,
      'IDEMPOTENCY_KEY_REUSED',
      '幂等键已用于不同的请求',
      '同一个 Idempotency-Key 只能用于相同的请求',
    );
  }
  if (row?.state !== 'done') {
    throw new AppError(409, 'IDEMPOTENCY_IN_PROGRESS', '相同幂等键的请求正在处理，请稍后重试');
  }
  return { status: row.response_status, body: row.response_body };
}

/** Runs `fn` at most once per key (for use inside services, e.g. job handlers or non-HTTP callers). */
export async function idempotent(
  db: Database,
  ref: IdempotencyRef,
  fn: () => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  const previous = await claim(db, ref);
  if (previous) return { ...previous, replayed: true };
  try {
    const response = await fn();
    await complete(db, ref, response);
    return { ...response, replayed: false };
  } catch (err) {
    await release(db, ref);
    throw err;
  }
}

const KEY_PATTERN = /^[\w.:-]{8,128}$/;

/**
 * Whether an answer is the request's outcome, stored for its key. Not a server error, nor "authenticate further"
 * (401: a step-up, then the same request with the same key) or "wait" (429): after those the key is released.
 */
const isOutcome = (status: number) => status < 500 && status !== 401 && status !== 429;

/**
 * Route hooks: preHandler claims the key (after authentication, so the scope is the caller), onSend stores the
 * outcome (2xx–4xx but 401 and 429) or releases the key, onResponse releases a claim whose answer never got there.
 */
export function idempotencyHooks(db: Database) {
  return {
    async preHandler(req: FastifyRequest, reply: FastifyReply) {
      const key = req.headers['idempotency-key'];
      if (key === undefined) return;
      if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
        throw new AppError(
          400,
          'IDEMPOTENCY_KEY_INVALID',
          '幂等键格式无效',
          'Idempotency-Key 应为 8–128 位字母、数字或 ._:-',
          {
            errors: [{ field: 'Idempotency-Key', message: '格式不正确' }],
          },
        );
      }
      const ref: IdempotencyRef = {
        regionCode: req.regionCode,
        scope: req.principal ? `${req.principal.kind}:${req.principal.subject}` : `ip:${req.ip}`,
        key,
        hash: requestHash(req.method, req.routeOptions.url ?? req.url, { params: req.params, body: req.body }),
      };
      const previous = await claim(db, ref);
      if (previous) {
        reply.header('idempotent-replayed', 'true');
        const type = previous.status >= 400 ? 'application/problem+json' : 'application/json';
        return reply.status(previous.status).type(type).send(previous.body);
      }
      req.idempotency = ref;
    },
    async onSend(req: FastifyRequest, reply: FastifyReply, payload: unknown) {
      const ref = req.idempotency;
      if (!ref) return payload;
      // a key that got no outcome is released before the answer leaves, so a retry right after finds it free
      if (isOutcome(reply.statusCode)) {
        const body = typeof payload === 'string' ? safeJson(payload) : payload;
        await complete(db, ref, { status: reply.statusCode, body });
      } else await release(db, ref);
      req.idempotency = undefined;
      return payload;
    },
    async onResponse(req: FastifyRequest) {
      if (req.idempotency) await release(db, req.idempotency);
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
