/**
 * Callback notifications to e-bill channels (接入渠道回调): when a bill is issued or reversed for an institution, each
 * enabled channel of that institution with a callback URL gets a signed POST, queued in the issuing transaction and
 * sent by the job queue (retries with exponential backoff; every attempt is recorded on the delivery).
 *
 * Signature (the same scheme as the payment center's sandbox provider notifications): headers `x-ebill-timestamp`
 * (ms), `x-ebill-nonce` and `x-ebill-signature` = hex HMAC-SM3(the channel's appSecret,
 * `${timestamp}\n${nonce}\nPOST ${path}\n${body}`), where `path` is the callback URL's path and query. A receiver
 * checks it with `verifyCallbackSignature` (and a ±5 min window), and answers 2xx once it has the notification;
 * anything else is retried. `x-ebill-delivery-id` stays the same across retries (receivers de-duplicate on it).
 */
import { randomBytes } from 'node:crypto';
import { appendAudit } from '../../platform/audit.ts';
import type { Context } from '../../platform/context.ts';
import { signedHttpHeaders, verifySignedHttp } from '../../platform/crypto/index.ts';
import { type Executor, sql } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { enqueue, type JobRow } from '../../platform/jobs.ts';
import { outboundPolicy, postOutbound } from '../../platform/outbound.ts';

export const CALLBACK_QUEUE = 'ebill.channel-callback';
export const CALLBACK_ATTEMPTS = 8;
const TIMEOUT_MS = 10_000;

export type CallbackEvent = 'bill.issued' | 'bill.reversed';
export type CallbackStatus = 'pending' | 'delivered' | 'failed';

export const CALLBACK_EVENT_NAMES: Record<CallbackEvent, string> = {
  'bill.issued': '票据开具',
  'bill.reversed': '票据冲红',
};

export interface CallbackDelivery {
  id: string;
  appId: string;
  billId: string;
  billCode: string | null;
  billNumber: string | null;
  event: CallbackEvent;
  url: string;
  status: CallbackStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
}

/** For receivers (and tests): checks the `x-ebill-` signature and a ±5 min timestamp window. */
export const verifyCallbackSignature = (
  appSecret: string,
  headers: Record<string, string | string[] | undefined>,
  method: string,
  path: string,
  body: string,
  now = Date.now(),
) => verifySignedHttp('x-ebill', appSecret, headers, method, path, body, now);

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

interface DeliveryRow {
  id: string;
  app_id: string;
  bill_id: string;
  event: CallbackEvent;
  url: string;
  status: CallbackStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date | string;
  updated_at: Date | string;
  delivered_at: Date | string | null;
  bill_code: string | null;
  bill_number: string | null;
}

export class ChannelCallbacks {
  private readonly ctx: Context;

  constructor(ctx: Context) {
    this.ctx = ctx;
  }

  /**
   * In the issuing transaction: one delivery per enabled channel of the institution that has a callback URL, and its
   * job. Returns how many were queued.
   */
  async queue(
    tx: Executor,
    regionCode: string,
    billId: string,
    event: CallbackEvent,
    institutionCode: string,
  ): Promise<number> {
    const rows = await tx.q<{
      id: string;
    }>(sql`insert into ebill_callback_delivery(region_code, app_id, bill_id, event, url)
      select region_code, app_id, ${billId}::uuid, ${event}, callback_url from ebill_channel
      where region_code = ${regionCode} and institution_code = ${institutionCode} and status = 'enabled'
        and callback_url is not null and callback_url <> ''
      on conflict do nothing returning id`);
    for (const r of rows) await this.enqueue(tx, regionCode, r.id, r.id);
    return rows.length;
  }

  private async enqueue(tx: Executor, regionCode: string, deliveryId: string, key: string): Promise<void> {
    await enqueue(
      tx,
      CALLBACK_QUEUE,
      { deliveryId },
      { regionCode, dedupeKey: `${regionCode}:${key}`, maxAttempts: CALLBACK_ATTEMPTS },
    );
  }

  /** Job: one attempt. A failure is recorded and thrown, so the queue retries it with backoff. */
  async deliver(job: JobRow): Promise<void> {
    const regionCode = job.region_code!;
    const deliveryId = String((job.payload as { deliveryId: string }).deliveryId);
    const d = await this.ctx.db.one<{
      id: string;
      app_id: string;
      bill_id: string;
      event: CallbackEvent;
      status: CallbackStatus;
      callback_url: string | null;
      channel_status: string;
      app_secret_enc: string;
    }>(sql`select d.id, d.app_id, d.bill_id, d.event, d.status, c.callback_url, c.status as channel_status,
        c.app_secret_enc
      from ebill_callback_delivery d join ebill_channel c on c.region_code = d.region_code and c.app_id = d.app_id
      where d.region_code = ${regionCode} and d.id = ${deliveryId}`);
    if (d?.status !== 'pending') return;
    if (d.channel_status !== 'enabled' || !d.callback_url) {
      await this.record(regionCode, deliveryId, {
        status: 'failed',
        error: d.channel_status !== 'enabled' ? '渠道已停用，不再通知' : '渠道已删除回调地址，不再通知',
      });
      return;
    }
    const url = d.callback_url;
    const body = JSON.stringify(await this.notification(regionCode, d.id, d.app_id, d.bill_id, d.event));
    const target = new URL(url);
    const signed = signedHttpHeaders(
      'x-ebill',
      this.ctx.privacy.cipher.decrypt(d.app_secret_enc),
      'POST',
      target.pathname + target.search,
      body,
    );
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const res = await postOutbound(
        target,
        {
          timeoutMs: TIMEOUT_MS,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'x-ebill-app-id': d.app_id,
            'x-ebill-delivery-id': d.id,
            'x-ebill-event': d.event,
            ...signed,
          },
          body,
        },
        outboundPolicy(this.ctx.config),
      );
      statusCode = res.status;
      if (!res.ok) error = `HTTP ${res.status}${res.text ? `: ${res.text.slice(0, 200)}` : ''}`;
    } catch (err) {
      error = `连接失败：${(err as Error).message}`.slice(0, 500);
    }
    if (error === null) {
      await this.record(regionCode, deliveryId, { status: 'delivered', statusCode, url });
      this.ctx.log.info({ deliveryId, appId: d.app_id, event: d.event }, 'ebill callback delivered');
      return;
    }
    const last = job.attempts >= job.max_attempts;
    await this.record(regionCode, deliveryId, { status: last ? 'failed' : 'pending', statusCode, error, url });
    throw new Error(`ebill callback ${deliveryId} to ${target.origin}: ${error}`);
  }

  private async record(
    regionCode: string,
    id: string,
    r: { status: CallbackStatus; statusCode?: number | null; error?: string | null; url?: string },
  ): Promise<void> {
    const attempted = r.url !== undefined;
    await this.ctx.db.q(sql`update ebill_callback_delivery set status = ${r.status},
        attempts = attempts + ${attempted ? 1 : 0}, last_status_code = ${r.statusCode ?? null},
        last_error = ${r.error ?? null}, url = coalesce(${r.url ?? null}, url), updated_at = now(),
        delivered_at = ${r.status === 'delivered' ? sql`now()` : sql`null`}
      where region_code = ${regionCode} and id = ${id}`);
  }

  /** The notification body: the bill (no personal data) and, for a red bill, the bill it reverses. */
  private async notification(regionCode: string, id: string, appId: string, billId: string, event: CallbackEvent) {
    const b = await this.ctx.db.one<{
      bill_code: string;
      bill_number: string;
      check_code: string;
      kind: 'blue' | 'red';
      status: string;
      order_id: string;
      refund_id: string;
      institution_code: string;
      payee_name: string;
      total: number;
      fund_payment: number;
      account_payment: number;
      cash_payment: number;
      issued_at: Date | string;
      original_code: string | null;
      original_number: string | null;
      original_status: string | null;
    }>(sql`select b.bill_code, b.bill_number, b.check_code, b.kind, b.status, b.order_id, b.refund_id,
        b.institution_code, b.payee_name, b.total, b.fund_payment, b.account_payment, b.cash_payment, b.issued_at,
        o.bill_code as original_code, o.bill_number as original_number, o.status as original_status
      from ebill_bill b left join ebill_bill o on o.region_code = b.region_code and o.id = b.original_bill_id
      where b.region_code = ${regionCode} and b.id = ${billId}`);
    if (!b) throw new Error(`ebill callback ${id}: bill ${billId} not found`);
    return {
      event,
      deliveryId: id,
      appId,
      regionCode,
      bill: {
        id: billId,
        billCode: b.bill_code,
        billNumber: b.bill_number,
        checkCode: b.check_code,
        kind: b.kind,
        status: b.status,
        orderId: b.order_id,
        refundId: b.refund_id || null,
        institutionCode: b.institution_code,
        payeeName: b.payee_name,
        total: Number(b.total),
        fundPayment: Number(b.fund_payment),
        accountPayment: Number(b.account_payment),
        cashPayment: Number(b.cash_payment),
        issuedAt: iso(b.issued_at),
        original: b.original_code
          ? { billCode: b.original_code, billNumber: b.original_number, status: b.original_status }
          : null,
      },
      sentAt: new Date().toISOString(),
    };
  }

  /** A channel's deliveries, newest first, with counts per status (console). */
  async list(regionCode: string, appId: string, limit = 50) {
    const rows = await this.ctx.db.q<DeliveryRow>(sql`select d.*, b.bill_code, b.bill_number
      from ebill_callback_delivery d
        left join ebill_bill b on b.region_code = d.region_code and b.id = d.bill_id
      where d.region_code = ${regionCode} and d.app_id = ${appId}
      order by d.created_at desc, d.id limit ${limit}`);
    const counts = await this.ctx.db.q<{ status: CallbackStatus; n: number }>(sql`select status, count(*)::int as n
      from ebill_callback_delivery where region_code = ${regionCode} and app_id = ${appId} group by status`);
    return {
      counts: {
        pending: 0,
        delivered: 0,
        failed: 0,
        ...Object.fromEntries(counts.map((c) => [c.status, Number(c.n)])),
      },
      items: rows.map(
        (r): CallbackDelivery => ({
          id: r.id,
          appId: r.app_id,
          billId: r.bill_id,
          billCode: r.bill_code,
          billNumber: r.bill_number,
          event: r.event,
          url: r.url,
          status: r.status,
          attempts: Number(r.attempts),
          lastStatusCode: r.last_status_code === null ? null : Number(r.last_status_code),
          lastError: r.last_error,
          createdAt: iso(r.created_at)!,
          updatedAt: iso(r.updated_at)!,
          deliveredAt: iso(r.delivered_at),
        }),
      ),
    };
  }

  /** Staff: send a failed delivery again (a fresh series of attempts). */
  async retry(regionCode: string, appId: string, id: string, staffId: string, ip: string): Promise<void> {
    await this.ctx.db.tx(async (tx) => {
      const rows = await tx.q(sql`update ebill_callback_delivery set status = 'pending', last_error = null,
          updated_at = now()
        where region_code = ${regionCode} and app_id = ${appId} and id = ${id} and status = 'failed' returning id`);
      if (rows.length !== 1)
        throw new AppError(409, 'EBILL_CALLBACK_NOT_FAILED', '只能重发失败的回调通知', '通知不存在或仍在投递中');
      await this.enqueue(tx, regionCode, id, `${id}:retry:${randomBytes(6).toString('hex')}`);
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'ebill.channel.callback-retry',
        targetType: 'ebill_callback_delivery',
        targetId: id,
        ip,
        result: 'success',
        detail: { appId },
      });
    });
  }
}
