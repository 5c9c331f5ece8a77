/** The platform's side of the sandbox provider protocol (port.ts), over HTTP to the sandbox service. */

import { type HttpAnswer, sendHttp } from '../../../../platform/http-client.ts';
import {
  type PaymentProvider,
  type PrepayRequest,
  type PrepayResult,
  type ProviderNotification,
  type ProviderOrder,
  type ProviderRefund,
  ProviderRejectedError,
  ProviderSignatureError,
  ProviderUnavailableError,
  type StatementLine,
  signedHeaders,
  verifySigned,
} from '../port.ts';

export interface SandboxClientOptions {
  baseUrl: string;
  secret: string;
  /** ms before a call counts as unanswered (outcome unknown) */
  timeoutMs?: number;
  /** path of our notification endpoint, covered by the notification signature */
  notifyPath?: string;
}

export class SandboxPaymentProvider implements PaymentProvider {
  readonly name = 'sandbox';
  readonly label = '沙箱支付';
  readonly sandbox = true;
  private readonly opts: SandboxClientOptions;

  constructor(opts: SandboxClientOptions) {
    this.opts = opts;
  }

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, input?: unknown): Promise<T> {
    const body = input === undefined ? '' : JSON.stringify(input);
    let res: HttpAnswer;
    try {
      res = await sendHttp(`${this.opts.baseUrl}${path}`, {
        method,
        headers: {
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...signedHeaders(this.opts.secret, method, path, body),
        },
        body,
        timeoutMs: this.opts.timeoutMs ?? 5000,
      });
    } catch (err) {
      throw new ProviderUnavailableError(`沙箱支付无应答: ${method} ${path}: ${(err as Error).message}`);
    }
    const text = res.text;
    const data = text ? JSON.parse(text) : {};
    if (res.status >= 500) throw new ProviderUnavailableError(`沙箱支付 ${res.status}: ${data.message ?? ''}`);
    if (!res.ok) throw new ProviderRejectedError(String(data.code ?? `HTTP_${res.status}`), String(data.message ?? ''));
    return data as T;
  }

  createPrepay(req: PrepayRequest): Promise<PrepayResult> {
    return this.call('POST', '/v1/prepay', { ...req, expiresAt: req.expiresAt.toISOString() });
  }

  queryOrder(outTradeNo: string): Promise<ProviderOrder> {
    return this.call('GET', `/v1/orders/${encodeURIComponent(outTradeNo)}`);
  }

  closeOrder(outTradeNo: string): Promise<{ result: 'CLOSED' | 'ORDERPAID' | 'NOTFOUND' }> {
    return this.call('POST', `/v1/orders/${encodeURIComponent(outTradeNo)}/close`, {});
  }

  refund(req: Parameters<PaymentProvider['refund']>[0]): Promise<ProviderRefund> {
    return this.call('POST', '/v1/refunds', req);
  }

  queryRefund(outRefundNo: string): Promise<ProviderRefund> {
    return this.call('GET', `/v1/refunds/${encodeURIComponent(outRefundNo)}`);
  }

  async statement(date: string): Promise<StatementLine[]> {
    const r = await this.call<{ lines: StatementLine[] }>('GET', `/v1/statements/${date}`);
    return r.lines;
  }

  verifyNotification(headers: Record<string, string | string[] | undefined>, rawBody: string): ProviderNotification {
    const path = this.opts.notifyPath ?? '/api/payment/notify/sandbox';
    if (!verifySigned(this.opts.secret, headers, 'POST', path, rawBody)) {
      throw new ProviderSignatureError('通知签名验证失败');
    }
    return JSON.parse(rawBody) as ProviderNotification;
  }
}

/** Admin controls of the sandbox service (tests and the console's demo tools). */
export async function sandboxAdmin<T = unknown>(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await sendHttp(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (res.text ? JSON.parse(res.text) : undefined) as T;
}
