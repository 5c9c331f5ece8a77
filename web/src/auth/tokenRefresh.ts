/**
 * What an API call does when the middle office says its access token is no longer good: refresh once with the
 * refresh token (the server rotates it) and send the request again; when the refresh fails, the session is gone and
 * the person goes to the login page. Kept free of imports so the logic can be exercised on its own.
 */

/** 401 codes that mean "this access token is expired or unusable" (refreshing can help). */
const REFRESHABLE = new Set(['TOKEN_INVALID', 'TOKEN_EXPIRED']);
/** 401 codes that mean the sign-in itself is over (refreshing cannot help). */
const SIGNED_OUT = new Set(['SESSION_REVOKED']);

export interface TokenRecovery {
  /** The current access token, if any. */
  token(): string | undefined;
  /** Exchanges the refresh token; false when there is none or the server refused it (rejects when unreachable). */
  refresh(): Promise<boolean>;
  /** Sends the browser to the login page (does not come back). */
  login(): void | Promise<void>;
}

async function codeOf(res: Response): Promise<string | undefined> {
  try {
    const body = (await res.clone().json()) as { code?: unknown };
    return typeof body.code === 'string' ? body.code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sends with the current token. On a 401 for an expired/invalid token: one refresh, one retry with the new token.
 * On a refused refresh or a revoked session: login. Any other answer (including a 401 asking for step-up) is
 * returned as it is.
 */
export async function sendWithRefresh(
  send: (token: string | undefined) => Promise<Response>,
  recovery: TokenRecovery,
): Promise<Response> {
  const token = recovery.token();
  const res = await send(token);
  if (res.status !== 401 || !token) return res;
  const code = await codeOf(res);
  if (code && SIGNED_OUT.has(code)) {
    await recovery.login();
    return res;
  }
  if (!code || !REFRESHABLE.has(code)) return res;
  // A call that set out before a refresh finished comes back refused: it retries with the new token, not a refresh.
  if (recovery.token() === token && !(await recovery.refresh())) {
    await recovery.login();
    return res;
  }
  const fresh = recovery.token();
  if (!fresh || fresh === token) return res;
  return send(fresh);
}
