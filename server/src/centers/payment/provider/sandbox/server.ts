/**
 * 沙箱支付服务 (SANDBOX payment provider): a stand-alone HTTP service that behaves like a third-party payment
 * provider — prepay orders, a cashier page, signed asynchronous notifications (retried; on demand duplicated, out of
 * order, delayed or dropped), refunds, order queries, close, and a daily statement file. It is a sandbox: no real
 * money moves, and every page and log line says 沙箱.
 *
 *   node server/src/centers/payment/provider/sandbox/server.ts [--port N] [--secret S] [--merchant M]
 *
 *   node server/src/centers/payment/provider/sandbox/server.ts --state data/sandbox-pay.json
 *
 * prints `SANDBOX_PAY_LISTENING <url>` once listening. Behaviour controls: POST /admin/behaviour (loopback only).
 * With a state file it keeps its orders, refunds and address across restarts, as a real provider does: a payment
 * made before a restart can still be queried, refunded and found in the statement, and a cashier link still opens.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendHttp } from '../../../../platform/http-client.ts';
import {
  businessDate,
  type ProviderNotification,
  type ProviderOrderStatus,
  type StatementLine,
  signedHeaders,
  verifySigned,
} from '../port.ts';

export interface Behaviour {
  /** prepay / refund / query / close answers: ok, a definite failure, a 503, or a hang (the effect still applies). */
  prepay: 'ok' | 'fail' | 'unavailable' | 'timeout';
  refund: 'ok' | 'fail' | 'unavailable' | 'timeout';
  query: 'ok' | 'unavailable' | 'timeout';
  /** What happens when the person pays at the cashier. */
  payment: 'success' | 'fail';
  /** extra copies of each notification */
  duplicates: number;
  /**
   * also notify the USERPAYING progress notice before the final one. Off by default: like WeChat Pay, a payment is
   * notified once it is final (SUCCESS / FAIL); the state in between is seen by querying.
   */
  progressNotices: boolean;
  /** deliver the USERPAYING notice after SUCCESS (stale, lower seq); implies the notice is sent */
  outOfOrder: boolean;
  /** delay before the first delivery */
  notifyDelayMs: number;
  /** never deliver notifications (the platform must query) */
  dropNotifications: boolean;
  /** how long a "timeout" hangs */
  hangMs: number;
}

const DEFAULT_BEHAVIOUR: Behaviour = {
  prepay: 'ok',
  refund: 'ok',
  query: 'ok',
  payment: 'success',
  duplicates: 0,
  progressNotices: false,
  outOfOrder: false,
  notifyDelayMs: 0,
  dropNotifications: false,
  hangMs: 3000,
};

interface Delivery {
  id: string;
  eventType: string;
  outTradeNo: string;
  attempts: number;
  ok: boolean;
}

interface SandboxOrder {
  outTradeNo: string;
  prepayId: string;
  amount: number;
  description: string;
  notifyUrl: string;
  expiresAt: number;
  status: ProviderOrderStatus;
  transactionId?: string;
  paidAt?: string;
  refunded: number;
  seq: number;
  createdAt: string;
}

interface SandboxRefund {
  outRefundNo: string;
  outTradeNo: string;
  refundId: string;
  amount: number;
  status: 'SUCCESS' | 'FAILED';
  at: string;
}

export interface SandboxOptions {
  port?: number;
  host?: string;
  secret: string;
  merchantId?: string;
  log?: (line: string) => void;
  /** where the orders, refunds and port are kept (JSON, rewritten after every change); none: memory only */
  stateFile?: string;
}

/** a notification copy not yet acknowledged by the merchant: delivered again after a restart, as providers do */
interface Outgoing {
  key: string;
  notification: ProviderNotification;
  attempt: number;
}

interface SandboxState {
  port: number;
  counter: number;
  orders: SandboxOrder[];
  refunds: SandboxRefund[];
  outgoing?: Outgoing[];
}

function loadState(file: string | undefined): SandboxState | undefined {
  if (!file || !existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as SandboxState;
}

/** written whole and renamed into place, before the answer that reports the change */
function saveState(file: string, state: SandboxState): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(state));
  renameSync(`${file}.tmp`, file);
}

export interface SandboxHandle {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startSandbox(opts: SandboxOptions): Promise<SandboxHandle> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[沙箱支付] ${line}\n`));
  const saved = loadState(opts.stateFile);
  const orders = new Map((saved?.orders ?? []).map((o) => [o.outTradeNo, o]));
  const byPrepay = new Map((saved?.orders ?? []).map((o) => [o.prepayId, o.outTradeNo]));
  const refunds = new Map((saved?.refunds ?? []).map((r) => [r.outRefundNo, r]));
  const outgoing = new Map((saved?.outgoing ?? []).map((o) => [o.key, o]));
  let outgoingSeq = 0;
  const delivered: Delivery[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let behaviour: Behaviour = { ...DEFAULT_BEHAVIOUR };
  let counter = saved?.counter ?? 0;
  let notifyCounter = 0;
  let baseUrl = '';
  let port = 0;
  /** stopped: a delivery still on its way changes nothing (it stays outgoing in the state file) */
  let closed = false;
  const persist = () => {
    if (opts.stateFile) {
      saveState(opts.stateFile, {
        port,
        counter,
        orders: [...orders.values()],
        refunds: [...refunds.values()],
        outgoing: [...outgoing.values()],
      });
    }
  };

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const sleep = (ms: number) => new Promise<void>((r) => later(ms, r));

  async function deliver(order: SandboxOrder, out: Outgoing, record?: Delivery): Promise<void> {
    const { notification: n, attempt } = out;
    const body = JSON.stringify(n);
    const path = new URL(order.notifyUrl).pathname;
    let ok = false;
    try {
      const res = await sendHttp(order.notifyUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signedHeaders(opts.secret, 'POST', path, body) },
        body,
        timeoutMs: 5000,
      });
      ok = res.ok;
    } catch {
      ok = false;
    }
    if (closed) return;
    // one record per delivered copy, updated by its retries
    if (record) {
      record.attempts = attempt;
      record.ok = ok;
    } else {
      record = { id: n.id, eventType: n.eventType, outTradeNo: n.outTradeNo, attempts: attempt, ok };
      delivered.push(record);
    }
    const copy = record;
    if (!ok && attempt < 8) {
      out.attempt = attempt + 1;
      later(Math.min(2000, 25 * 2 ** attempt), () => void deliver(order, out, copy));
    } else outgoing.delete(out.key);
    persist();
  }

  /** Notifications that were on their way when the sandbox stopped go out again (their attempts count on). */
  function resumeOutgoing(): void {
    if (outgoing.size === 0) return;
    log(`继续投递重启前未确认的通知 ${outgoing.size} 条`);
    for (const out of outgoing.values()) {
      const order = orders.get(out.notification.outTradeNo);
      if (order) later(0, () => void deliver(order, out));
      else outgoing.delete(out.key);
    }
  }

  /** Sends one copy of a notification after `delay`, kept as outgoing until the merchant acknowledges it. */
  function sendNotice(order: SandboxOrder, n: ProviderNotification, delay: number): void {
    const out: Outgoing = { key: `${n.id}#${++outgoingSeq}`, notification: n, attempt: 1 };
    outgoing.set(out.key, out);
    later(delay, () => void deliver(order, out));
  }

  function notify(order: SandboxOrder, notes: ProviderNotification[]): void {
    if (behaviour.dropNotifications) {
      log(`通知已丢弃 (按设置) ${order.outTradeNo}`);
      return;
    }
    const progress = behaviour.progressNotices || behaviour.outOfOrder;
    const sent = progress ? notes : notes.filter((n) => n.eventType !== 'TRANSACTION.USERPAYING');
    const sequence = behaviour.outOfOrder ? [...sent].reverse() : sent;
    let delay = behaviour.notifyDelayMs;
    for (const n of sequence) {
      for (let copy = 0; copy <= behaviour.duplicates; copy++) {
        sendNotice(order, n, delay);
        delay += 5;
      }
    }
  }

  function note(
    order: SandboxOrder,
    eventType: ProviderNotification['eventType'],
    extra: Partial<ProviderNotification> = {},
  ): ProviderNotification {
    order.seq += 1;
    return {
      id: `SBN${Date.now()}${String(++notifyCounter).padStart(6, '0')}`,
      eventType,
      outTradeNo: order.outTradeNo,
      seq: order.seq,
      amount: order.amount,
      transactionId: order.transactionId,
      at: new Date().toISOString(),
      ...extra,
    };
  }

  /** The person pays (cashier page or admin). `force` pays even a closed/expired order: a provider that pays late. */
  function pay(order: SandboxOrder, force: boolean): { ok: boolean; status: ProviderOrderStatus; message: string } {
    if (order.status === 'SUCCESS') return { ok: true, status: order.status, message: '已支付' };
    if (!force && (order.status === 'CLOSED' || Date.now() > order.expiresAt)) {
      return { ok: false, status: order.status, message: '订单已关闭或已过期' };
    }
    const paying = note(order, 'TRANSACTION.USERPAYING');
    if (behaviour.payment === 'fail') {
      order.status = 'PAYERROR';
      notify(order, [paying, note(order, 'TRANSACTION.FAIL')]);
      persist();
      log(`支付失败 (按设置) ${order.outTradeNo}`);
      return { ok: false, status: order.status, message: '支付失败' };
    }
    order.status = 'SUCCESS';
    order.transactionId = `SBT${Date.now()}${String(++counter).padStart(6, '0')}`;
    order.paidAt = new Date().toISOString();
    notify(order, [paying, note(order, 'TRANSACTION.SUCCESS', { transactionId: order.transactionId })]);
    persist(); // after the notices took their sequence numbers
    log(`已支付 ${order.outTradeNo} ${order.amount} 分`);
    return { ok: true, status: order.status, message: '支付成功' };
  }

  const view = (o: SandboxOrder) => ({
    outTradeNo: o.outTradeNo,
    status: o.status,
    amount: o.amount,
    transactionId: o.transactionId,
    paidAt: o.paidAt,
    refunded: o.refunded,
    seq: o.seq,
  });

  /** ok: effect, answer; timeout: effect, hang, then answer (the caller gave up: outcome unknown to it). */
  async function mode(
    kind: 'ok' | 'fail' | 'unavailable' | 'timeout',
    res: ServerResponse,
    effect: () => [number, unknown],
  ) {
    if (kind === 'unavailable') return send(res, 503, { code: 'SYSTEM_ERROR', message: '沙箱: 系统繁忙 (按设置)' });
    if (kind === 'fail') return send(res, 400, { code: 'REJECTED', message: '沙箱: 请求被拒绝 (按设置)' });
    const [status, body] = effect();
    if (kind === 'timeout') await sleep(behaviour.hangMs);
    return send(res, status, body);
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL, body: string): Promise<unknown> {
    if (!verifySigned(opts.secret, req.headers, req.method ?? 'GET', url.pathname, body)) {
      return send(res, 401, { code: 'SIGN_ERROR', message: '签名错误' });
    }
    const input = body ? JSON.parse(body) : {};
    const p = url.pathname;
    let m: RegExpMatchArray | null;
    if (req.method === 'POST' && p === '/v1/prepay') {
      const amount = input.amount;
      if (!Number.isSafeInteger(amount) || amount <= 0 || typeof input.outTradeNo !== 'string') {
        return send(res, 400, { code: 'PARAM_ERROR', message: '参数错误' });
      }
      const existing = orders.get(input.outTradeNo);
      if (existing && existing.amount !== amount) {
        return send(res, 400, { code: 'OUT_TRADE_NO_USED', message: '商户订单号重复' });
      }
      return mode(behaviour.prepay, res, () => {
        const order =
          existing ??
          ({
            outTradeNo: input.outTradeNo,
            prepayId: `sbp_${Date.now().toString(36)}${String(++counter).padStart(6, '0')}`,
            amount,
            description: String(input.description ?? ''),
            notifyUrl: String(input.notifyUrl),
            expiresAt: Date.parse(input.expiresAt) || Date.now() + 900_000,
            status: 'NOTPAY',
            refunded: 0,
            seq: 0,
            createdAt: new Date().toISOString(),
          } satisfies SandboxOrder);
        if (!existing) {
          orders.set(order.outTradeNo, order);
          byPrepay.set(order.prepayId, order.outTradeNo);
          persist();
          log(`预下单 ${order.outTradeNo} ${amount} 分`);
        }
        return [200, { prepayId: order.prepayId, cashierUrl: `${baseUrl}/cashier/${order.prepayId}` }];
      });
    }
    m = req.method === 'GET' ? p.match(/^\/v1\/orders\/([\w.-]+)$/) : null;
    if (m) {
      const order = orders.get(m[1]);
      return mode(behaviour.query, res, () => [
        200,
        order ? view(order) : { outTradeNo: m![1], status: 'NOTFOUND', amount: 0, refunded: 0, seq: 0 },
      ]);
    }
    m = req.method === 'POST' ? p.match(/^\/v1\/orders\/([\w.-]+)\/close$/) : null;
    if (m) {
      const order = orders.get(m[1]);
      return mode(behaviour.query, res, () => {
        if (!order) return [200, { result: 'NOTFOUND' }];
        if (order.status === 'SUCCESS') return [200, { result: 'ORDERPAID' }];
        order.status = 'CLOSED';
        persist();
        return [200, { result: 'CLOSED' }];
      });
    }
    if (req.method === 'POST' && p === '/v1/refunds') {
      const order = orders.get(input.outTradeNo);
      const existing = refunds.get(input.outRefundNo);
      if (existing) return send(res, 200, existing);
      if (order?.status !== 'SUCCESS') return send(res, 400, { code: 'TRADE_NOT_PAID', message: '订单未支付' });
      const amount = input.amount;
      if (!Number.isSafeInteger(amount) || amount <= 0 || order.refunded + amount > order.amount) {
        return send(res, 400, { code: 'REFUND_AMOUNT_EXCEEDED', message: '退款金额超过可退金额' });
      }
      return mode(behaviour.refund, res, () => {
        order.refunded += amount;
        const refund: SandboxRefund = {
          outRefundNo: input.outRefundNo,
          outTradeNo: order.outTradeNo,
          refundId: `SBR${Date.now()}${String(++counter).padStart(6, '0')}`,
          amount,
          status: 'SUCCESS',
          at: new Date().toISOString(),
        };
        refunds.set(refund.outRefundNo, refund);
        notify(order, [note(order, 'REFUND.SUCCESS', { amount, outRefundNo: refund.outRefundNo })]);
        persist();
        log(`退款 ${order.outTradeNo} ${amount} 分`);
        return [200, refund];
      });
    }
    m = req.method === 'GET' ? p.match(/^\/v1\/refunds\/([\w.-]+)$/) : null;
    if (m) {
      const refund = refunds.get(m[1]);
      return mode(behaviour.query, res, () => [200, refund ?? { outRefundNo: m![1], status: 'NOTFOUND', amount: 0 }]);
    }
    m = req.method === 'GET' ? p.match(/^\/v1\/statements\/(\d{4}-\d{2}-\d{2})$/) : null;
    if (m) {
      const date = m[1];
      const lines: StatementLine[] = [];
      for (const o of orders.values()) {
        if (o.status === 'SUCCESS' || o.refunded > 0) {
          if (o.paidAt && businessDate(o.paidAt) === date) {
            lines.push({
              type: 'PAY',
              outTradeNo: o.outTradeNo,
              transactionId: o.transactionId!,
              amount: o.amount,
              at: o.paidAt,
            });
          }
        }
      }
      for (const r of refunds.values()) {
        if (r.status === 'SUCCESS' && businessDate(r.at) === date) {
          const o = orders.get(r.outTradeNo)!;
          lines.push({
            type: 'REFUND',
            outTradeNo: r.outTradeNo,
            outRefundNo: r.outRefundNo,
            transactionId: o.transactionId!,
            amount: r.amount,
            at: r.at,
          });
        }
      }
      return send(res, 200, { merchantId: opts.merchantId ?? 'sandbox-merchant', date, sandbox: true, lines });
    }
    return send(res, 404, { code: 'NOT_FOUND', message: '接口不存在' });
  }

  function admin(req: IncomingMessage, res: ServerResponse, url: URL, body: string): unknown {
    const remote = req.socket.remoteAddress ?? '';
    if (!['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(remote)) return send(res, 403, { code: 'FORBIDDEN' });
    const input = body ? JSON.parse(body) : {};
    const p = url.pathname;
    let m: RegExpMatchArray | null;
    if (req.method === 'POST' && p === '/admin/behaviour') {
      behaviour = { ...behaviour, ...input };
      log(`行为设置 ${JSON.stringify(input)}`);
      return send(res, 200, behaviour);
    }
    if (req.method === 'POST' && p === '/admin/reset') {
      behaviour = { ...DEFAULT_BEHAVIOUR };
      return send(res, 200, behaviour);
    }
    if (req.method === 'GET' && p === '/admin/orders') {
      return send(res, 200, [...orders.values()].map(view));
    }
    m = req.method === 'POST' ? p.match(/^\/admin\/orders\/([\w.-]+)\/pay$/) : null;
    if (m) {
      const order = orders.get(m[1]);
      if (!order) return send(res, 404, { code: 'NOT_FOUND' });
      const r = pay(order, input.force === true);
      return send(res, r.ok ? 200 : 409, r);
    }
    if (req.method === 'GET' && p === '/admin/notifications') return send(res, 200, delivered);
    return send(res, 404, { code: 'NOT_FOUND' });
  }

  function cashier(req: IncomingMessage, res: ServerResponse, url: URL): unknown {
    const m = url.pathname.match(/^\/cashier\/([\w.-]+)(\/pay)?$/);
    const outTradeNo = m ? byPrepay.get(m[1]) : undefined;
    const order = outTradeNo ? orders.get(outTradeNo) : undefined;
    if (!order) return html(res, 404, '<p>收银台订单不存在</p>');
    let message = '';
    if (req.method === 'POST' && m?.[2]) message = pay(order, false).message;
    const back = url.searchParams.get('return') ?? '';
    const yuan = (order.amount / 100).toFixed(2);
    return html(
      res,
      200,
      `<h1>沙箱收银台</h1><p class="tag">沙箱环境 · 不产生真实扣款</p>
      <p>${escapeHtml(order.description)}</p><p class="amount">¥${yuan}</p>
      <p>状态：${order.status === 'SUCCESS' ? '已支付' : order.status === 'NOTPAY' ? '待支付' : escapeHtml(order.status)}</p>
      ${message ? `<p class="msg">${escapeHtml(message)}</p>` : ''}
      ${order.status === 'NOTPAY' ? `<form method="post" action="/cashier/${order.prepayId}/pay?return=${encodeURIComponent(back)}"><button type="submit">确认支付 ¥${yuan}</button></form>` : ''}
      ${back && /^https?:\/\//.test(back) ? `<p><a href="${escapeHtml(back)}">返回医保平台</a></p>` : ''}`,
    );
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://sandbox');
      try {
        if (url.pathname.startsWith('/v1/')) await api(req, res, url, body);
        else if (url.pathname.startsWith('/admin/')) admin(req, res, url, body);
        else if (url.pathname.startsWith('/cashier/')) cashier(req, res, url);
        else if (url.pathname === '/healthz') send(res, 200, { status: 'ok', sandbox: true });
        else send(res, 404, { code: 'NOT_FOUND' });
      } catch (err) {
        if (!res.headersSent) send(res, 400, { code: 'BAD_REQUEST', message: String((err as Error).message) });
      }
    });
  });

  const host = opts.host ?? '127.0.0.1';
  const listen = (at: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  // the address it had, so that cashier links handed out before a restart still open
  const wanted = opts.port || saved?.port || 0;
  await listen(wanted).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EADDRINUSE' || opts.port) throw err;
    log(`端口 ${wanted} 已被占用，改用其他端口（重启前的收银台链接将失效）`);
    return listen(0);
  });
  port = (server.address() as AddressInfo).port;
  baseUrl = `http://${host}:${port}`;
  persist();
  log(`沙箱支付服务已启动 ${baseUrl}${opts.stateFile ? `（状态文件 ${opts.stateFile}，订单 ${orders.size} 笔）` : ''}`);
  resumeOutgoing();
  return {
    url: baseUrl,
    server,
    close: async () => {
      closed = true;
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function html(res: ServerResponse, status: number, content: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>沙箱收银台</title><style>body{font-family:system-ui,sans-serif;max-width:480px;margin:0 auto;padding:24px;text-align:center}
.tag{display:inline-block;background:#fff7e6;color:#d46b08;border:1px solid #ffd591;border-radius:4px;padding:2px 8px}
.amount{font-size:40px;font-weight:600}button{width:100%;height:48px;font-size:18px;background:#0958d9;color:#fff;border:0;border-radius:8px}
.msg{color:#389e0d}</style></head><body>${content}</body></html>`);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('sandbox/server.ts')) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const handle = await startSandbox({
    port: Number(arg('port') ?? process.env.SANDBOX_PAY_PORT ?? 0),
    secret: arg('secret') ?? process.env.SANDBOX_PAY_SECRET ?? 'sandbox-merchant-secret',
    merchantId: arg('merchant') ?? 'sandbox-merchant',
    stateFile: arg('state') ?? process.env.SANDBOX_PAY_STATE,
  });
  process.stdout.write(`SANDBOX_PAY_LISTENING ${handle.url}\n`);
  const stop = () => void handle.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
