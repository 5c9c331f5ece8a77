/**
 * One small HTTP/1.1 client (the payment sandbox protocol, outbound calls to registered URLs): node:http with
 * keep-alive agents instead of fetch. Same semantics (a timeout aborts the request; any network error rejects), a
 * fraction of the per-request CPU of fetch's WHATWG streams, and connections are reused — except with a `lookup` of
 * the caller's, which gets a connection of its own resolved through it (a pooled one may have been resolved without).
 */

import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

export interface HttpAnswer {
  status: number;
  ok: boolean;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface HttpInit {
  method: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  lookup?: LookupFunction;
  /** read at most this many bytes of the answer (an unknown receiver's) */
  maxBytes?: number;
}

/**
 * A pooled connection the other side closed while idle (it restarted, or its keep-alive ran out) fails the request
 * sent on it before the other side read it; that request goes again once on a fresh connection, as node's docs
 * advise (`reusedSocket`).
 */
export async function sendHttp(url: string, init: HttpInit): Promise<HttpAnswer> {
  try {
    return await sendOnce(url, init);
  } catch (err) {
    if ((err as { staleSocket?: boolean }).staleSocket) return sendOnce(url, init);
    throw err;
  }
}

function sendOnce(url: string, init: HttpInit): Promise<HttpAnswer> {
  const target = new URL(url);
  const https = target.protocol === 'https:';
  const body = init.body ?? '';
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      target,
      {
        method: init.method,
        agent: init.lookup ? false : https ? agents.https : agents.http,
        lookup: init.lookup,
        headers: { ...init.headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
        signal: init.timeoutMs === undefined ? undefined : AbortSignal.timeout(init.timeoutMs),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (init.maxBytes === undefined || text.length < init.maxBytes) text += chunk;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve({ status, ok: status >= 200 && status < 300, headers: res.headers, text });
        });
        res.on('error', reject);
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (req.reusedSocket && err.code === 'ECONNRESET') Object.assign(err, { staleSocket: true });
      reject(err);
    });
    req.end(body || undefined);
  });
}
