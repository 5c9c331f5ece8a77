/**
 * Signed HTTP between the platform and a party that shares a secret (payment-provider notifications, e-bill channel
 * callbacks): headers `<prefix>-timestamp` (ms), `<prefix>-nonce` and `<prefix>-signature` = hex HMAC-SM3(secret,
 * `${timestamp}\n${nonce}\n${METHOD} ${path}\n${body}`), where `path` includes the query; accepted within ±5 minutes.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const WINDOW_MS = 300_000;

type Headers = Record<string, string | string[] | undefined>;

function signature(secret: string, timestamp: string, nonce: string, method: string, path: string, body: string) {
  return createHmac('sm3', secret)
    .update(`${timestamp}\n${nonce}\n${method.toUpperCase()} ${path}\n${body}`)
    .digest('hex');
}

export function signedHttpHeaders(
  prefix: string,
  secret: string,
  method: string,
  path: string,
  body: string,
  now = Date.now(),
): Record<string, string> {
  const timestamp = String(now);
  const nonce = randomBytes(12).toString('hex');
  return {
    [`${prefix}-timestamp`]: timestamp,
    [`${prefix}-nonce`]: nonce,
    [`${prefix}-signature`]: signature(secret, timestamp, nonce, method, path, body),
  };
}

export function verifySignedHttp(
  prefix: string,
  secret: string,
  headers: Headers,
  method: string,
  path: string,
  body: string,
  now = Date.now(),
): boolean {
  const header = (name: string) => {
    const v = headers[`${prefix}-${name}`];
    return Array.isArray(v) ? v[0] : v;
  };
  const timestamp = header('timestamp');
  const nonce = header('nonce');
  const given = header('signature');
  if (!timestamp || !nonce || !given || !/^\d{1,16}$/.test(timestamp) || !/^[0-9a-f]{64}$/.test(given)) return false;
  if (Math.abs(now - Number(timestamp)) > WINDOW_MS) return false;
  const expected = Buffer.from(signature(secret, timestamp, nonce, method, path, body), 'hex');
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}
