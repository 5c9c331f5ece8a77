import { refreshSession, startLogin } from '../auth/oidc';
import { sendWithRefresh } from '../auth/tokenRefresh';
import { getSession } from './session';

export interface FieldError {
  field: string;
  message: string;
}

/** A problem+json answer from the server, with its stable code and Chinese title. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail?: string;
  readonly errors: FieldError[];

  constructor(status: number, body: { code?: string; title?: string; detail?: string; errors?: FieldError[] }) {
    super(body.detail ?? body.title ?? `HTTP ${status}`);
    this.status = status;
    this.code = body.code ?? 'HTTP_ERROR';
    this.title = body.title ?? '请求失败';
    this.detail = body.detail;
    this.errors = body.errors ?? [];
  }
}

let regionOverride: string | undefined;
export const setRegionHeader = (code: string | undefined) => {
  regionOverride = code;
};

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  idempotencyKey?: string;
}

/** The portal whose login a lost session goes back to (the session's own, else the first path segment). */
function portalOfPage(): string {
  return getSession()?.portal ?? location.pathname.split('/')[1] ?? 'personal';
}

/**
 * JSON request to the middle office with the portal's session token. An expired access token is refreshed once
 * (rotating refresh token) and the request sent again; when the refresh fails the person goes to the login page.
 */
export async function api<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (regionOverride) headers['x-region-code'] = regionOverride;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
  const portal = portalOfPage();
  let res: Response;
  try {
    res = await sendWithRefresh(
      (token) =>
        fetch(path, {
          method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
          headers: token ? { ...headers, authorization: `Bearer ${token}` } : headers,
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          credentials: 'same-origin',
        }),
      {
        token: () => getSession()?.accessToken,
        refresh: refreshSession,
        login: () => startLogin(portal, location.pathname + location.search),
      },
    );
  } catch {
    throw new ApiError(0, { code: 'NETWORK_ERROR', title: '网络连接失败，请检查网络后重试' });
  }
  const text = await res.text();
  const data = text ? safeParse(text) : undefined;
  if (!res.ok) throw new ApiError(res.status, (data as object) ?? {});
  return data as T;
}

/**
 * Fire-and-forget JSON POST without the session: a report (a page that failed) must neither wait for a token refresh
 * nor send anyone to the login page, and it survives the page being closed or reloaded right after.
 */
export function sendReport(path: string, body: unknown): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (regionOverride) headers['x-region-code'] = regionOverride;
  fetch(path, { method: 'POST', headers, body: JSON.stringify(body), keepalive: true }).catch(() => {});
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const newIdempotencyKey = () => crypto.randomUUID();

/**
 * Whether a failed read is worth one more try: a lost connection or a server error may pass, a refusal (4xx) will not
 * — retrying it only kept the page loading a second longer before it said why.
 */
export const retryTransient = (failures: number, err: unknown) =>
  failures < 1 && (!(err instanceof ApiError) || err.status === 0 || err.status >= 500);

/** Server field errors → antd Form field errors. */
export function fieldErrors(err: unknown): Array<{ name: string; errors: string[] }> {
  if (!(err instanceof ApiError)) return [];
  return err.errors.map((e) => ({ name: e.field, errors: [e.message] }));
}

/** Chinese text for an error shown to a person. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError)
    return err.detail && err.detail !== err.title ? `${err.title}：${err.detail}` : err.title;
  return '操作失败，请稍后重试';
}
