/**
 * Requests to addresses that staff registered: e-bill channel callbacks, OIDC back-channel logout. A bureau's
 * receivers live on its intranet, so private addresses are reachable; never reached are link-local addresses (the
 * cloud metadata service at 169.254.169.254), unspecified, multicast and broadcast ones, and — in production, unless
 * OUTBOUND_ALLOW_LOOPBACK — loopback (this host's own services). A URL is checked when it is registered and again on
 * every request, after DNS resolution; the request connects to the address that was checked, so a name that
 * resolves elsewhere later (DNS rebinding) gains nothing.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { Config } from './config.ts';
import { AppError } from './errors.ts';
import { type HttpAnswer, sendHttp } from './http-client.ts';

const never = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['169.254.0.0', 16],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  never.addSubnet(net, bits, 'ipv4');
}
never.addAddress('::', 'ipv6');
never.addSubnet('fe80::', 10, 'ipv6');
never.addSubnet('ff00::', 8, 'ipv6');

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

export interface OutboundPolicy {
  allowLoopback: boolean;
}

export const outboundPolicy = (config: Pick<Config, 'NODE_ENV' | 'OUTBOUND_ALLOW_LOOPBACK'>): OutboundPolicy => ({
  allowLoopback: config.OUTBOUND_ALLOW_LOOPBACK ?? config.NODE_ENV !== 'production',
});

/** Why an address may not be reached, in Chinese; undefined when it may. */
export function addressRefusal(address: string, policy: OutboundPolicy): string | undefined {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (never.check(address, family)) return `不可访问链路本地、组播或未指定地址 ${address}`;
  if (!policy.allowLoopback && loopback.check(address, family)) return `不可访问本机回环地址 ${address}`;
  return undefined;
}

const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Checks a URL that is being registered: http(s), no credentials, and a literal address that may be reached (a host
 * name is resolved and checked on each request). Answers 400 `OUTBOUND_URL_REFUSED`.
 */
export function checkOutboundUrl(raw: string, policy: OutboundPolicy, field?: string): URL {
  const refuse = (detail: string) =>
    new AppError(400, 'OUTBOUND_URL_REFUSED', '回调地址不可用', detail, {
      ...(field ? { errors: [{ field, message: `回调地址不可用：${detail}` }] } : {}),
    });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('不是有效的网址');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('只支持 http 或 https 地址');
  if (url.username || url.password) throw refuse('地址中不能包含用户名或密码');
  const host = hostOf(url);
  const refusal = isIP(host) ? addressRefusal(host, policy) : undefined;
  if (refusal) throw refuse(refusal);
  return url;
}

/** A DNS look-up that fails when any address of the name may not be reached. */
function checkedLookup(policy: OutboundPolicy): LookupFunction {
  return ((
    hostname: string,
    options: { family?: number | string; all?: boolean },
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    dnsLookup(hostname, { family: Number(options.family) || 0, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const refused = addresses.map((a) => addressRefusal(a.address, policy)).find(Boolean);
      if (refused) return callback(new Error(`${hostname}: ${refused}`), []);
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      return callback(null, first.address, first.family);
    });
  }) as LookupFunction;
}

/**
 * POSTs to a registered URL under the policy: redirects are not followed, the answer body is read up to 64 KiB, and
 * the request fails after `timeoutMs`. Rejects when the address may not be reached.
 */
export async function postOutbound(
  url: URL,
  init: { headers: Record<string, string>; body: string; timeoutMs: number },
  policy: OutboundPolicy,
): Promise<HttpAnswer> {
  checkOutboundUrl(url.href, policy);
  try {
    return await sendHttp(url.href, { method: 'POST', ...init, lookup: checkedLookup(policy), maxBytes: 65_536 });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'AbortError' || name === 'TimeoutError') throw new Error(`超时（${init.timeoutMs} ms）`);
    throw err;
  }
}
