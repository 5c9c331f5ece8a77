/**
 * The platform → core-zone caller signature: headers `x-core-timestamp`, `x-core-nonce`, `x-core-signature` =
 * HMAC-SM3 with the shared CORE_ZONE_SECRET over timestamp, nonce, method, path and body (platform/crypto/
 * signed-http.ts, accepted within ±5 minutes), the message's `signtype` SM3. A nonce is accepted once.
 */
import { verifySignedHttp } from '../../platform/crypto/index.ts';

export const CALLER_SIGNATURE = 'x-core';

/** Nonces seen within the signature window: two generations, each as long as the window (so ≥ one window kept). */
export class ReplayGuard {
  private current = new Set<string>();
  private previous = new Set<string>();
  private rotatedAt = Date.now();
  private readonly windowMs: number;

  constructor(windowMs = 300_000) {
    this.windowMs = windowMs;
  }

  /** True the first time a nonce is offered. */
  fresh(nonce: string, now = Date.now()): boolean {
    if (now - this.rotatedAt >= this.windowMs * 2) {
      this.previous = this.current;
      this.current = new Set();
      this.rotatedAt = now;
    }
    if (this.current.has(nonce) || this.previous.has(nonce)) return false;
    this.current.add(nonce);
    return true;
  }
}

/** Checks a call's signature and nonce; the reason it is refused, or undefined. */
export function callerRefusal(
  secret: string,
  replay: ReplayGuard,
  headers: Record<string, string | string[] | undefined>,
  path: string,
  body: string,
): string | undefined {
  if (!verifySignedHttp(CALLER_SIGNATURE, secret, headers, 'POST', path, body)) return '调用方签名无效或已过期';
  const nonce = headers[`${CALLER_SIGNATURE}-nonce`];
  if (!replay.fresh(String(nonce))) return '重复的调用（随机串已使用）';
  return undefined;
}
