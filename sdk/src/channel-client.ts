/** A channel's signing client: signs each request as a DOMAIN §4 envelope and POSTs it as JSON. */
import { signEnvelope } from './crypto/envelope.ts';
import { sm2GetPublicKey } from './crypto/sm2.ts';

export interface ChannelClientOptions {
  /** e.g. "https://yibao.example/api/channel"; the call path is appended. */
  baseUrl: string;
  appId: string;
  /** The channel's SM2 private key, 64 hex digits. */
  privateKeyHex: string;
  appSecret: string;
  /** SM4-encrypt request bodies (key derived from appSecret unless encryptKey is given). */
  encrypt?: boolean;
  encryptKey?: string | Uint8Array;
  fetch?: typeof globalThis.fetch;
}

export interface ChannelCallOptions {
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface ChannelClient {
  call<T = unknown>(path: string, transType: string, data: unknown, options?: ChannelCallOptions): Promise<T>;
}

/** A non-2xx answer. `code` comes from the problem+json body, else `HTTP_<status>`. */
export class ChannelError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail?: string;
  readonly body: unknown;

  constructor(status: number, code: string, title: string, detail: string | undefined, body: unknown) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = 'ChannelError';
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
    this.body = body;
  }
}

function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  const type = response.headers.get('content-type') ?? '';
  if (!/json/i.test(type)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function toChannelError(status: number, statusText: string, body: unknown): ChannelError {
  const problem = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
  return new ChannelError(
    status,
    text(problem.code) ?? `HTTP_${status}`,
    text(problem.title) ?? (statusText || `HTTP ${status}`),
    text(problem.detail) ?? (typeof body === 'string' ? body : undefined),
    body,
  );
}

export function createChannelClient(options: ChannelClientOptions): ChannelClient {
  const doFetch = options.fetch ?? globalThis.fetch;
  sm2GetPublicKey(options.privateKeyHex); // fail fast on a bad key
  return {
    async call<T>(path: string, transType: string, data: unknown, callOptions: ChannelCallOptions = {}): Promise<T> {
      const envelope = signEnvelope({
        appId: options.appId,
        transType,
        data,
        privateKey: options.privateKeyHex,
        appSecret: options.appSecret,
        encrypt: options.encrypt,
        encryptKey: options.encryptKey,
      });
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
      if (callOptions.idempotencyKey !== undefined) headers['idempotency-key'] = callOptions.idempotencyKey;
      const response = await doFetch(joinUrl(options.baseUrl, path), {
        method: 'POST',
        headers,
        body: JSON.stringify(envelope),
        signal: callOptions.signal,
      });
      const body = await readBody(response);
      if (!response.ok) throw toChannelError(response.status, response.statusText, body);
      return body as T;
    },
  };
}

/** A channel client of one center's channel API (`<origin>/api/<center>/channel/<call>`); `baseUrl` is the origin. */
export function createCenterClient(center: string, options: ChannelClientOptions): ChannelClient {
  return createChannelClient({ ...options, baseUrl: joinUrl(options.baseUrl, `api/${center}/channel`) });
}
