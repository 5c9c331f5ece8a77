import { timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Context } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import { INBOX_CHANNEL } from './channels/inbox.ts';
import type { MessageService } from './service.ts';

const TICKET_DOMAIN = 'message-sse-ticket';
export const TICKET_TTL_SECONDS = 60;

/**
 * EventSource cannot send an Authorization header, so an authenticated POST issues a short-lived ticket
 * (payload + HMAC-SM3 under the platform's keyed index, valid in every process) for the stream's query string.
 */
export function issueTicket(ctx: Context, regionCode: string, personId: string, now = Date.now()): string {
  const payload = Buffer.from(
    JSON.stringify({ r: regionCode, s: personId, e: now + TICKET_TTL_SECONDS * 1000 }),
  ).toString('base64url');
  return `${payload}.${ctx.privacy.blindIndex(payload, TICKET_DOMAIN)}`;
}

export function verifyTicket(ctx: Context, ticket: string, now = Date.now()): { regionCode: string; personId: string } {
  const bad = () => new AppError(401, 'MESSAGE_STREAM_TICKET_INVALID', '实时消息凭证无效或已过期，请刷新页面');
  const [payload, mac] = ticket.split('.');
  if (!payload || !mac) throw bad();
  const expected = Buffer.from(ctx.privacy.blindIndex(payload, TICKET_DOMAIN));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw bad();
  let claims: { r: string; s: string; e: number };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (typeof claims.e !== 'number' || claims.e < now) throw bad();
  return { regionCode: claims.r, personId: claims.s };
}

/**
 * Server-Sent Events for inboxes. Each process LISTENs once on the inbox channel; a NOTIFY from any process
 * ("region:person", or "region:*" after a broadcast) pushes the fresh unread count to that person's open streams here.
 */
export class InboxHub {
  private readonly ctx: Context;
  private readonly service: MessageService;
  private readonly streams = new Map<string, Set<ServerResponse>>();
  private unlisten?: Promise<() => Promise<void>>;
  private heartbeat?: NodeJS.Timeout;

  constructor(ctx: Context, service: MessageService) {
    this.ctx = ctx;
    this.service = service;
  }

  get connections(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.size;
    return n;
  }

  private ensureListening(): Promise<unknown> {
    if (!this.unlisten) {
      this.unlisten = this.ctx.db.listen(INBOX_CHANNEL, (payload) => void this.onNotify(payload));
      this.heartbeat = setInterval(() => {
        for (const set of this.streams.values()) for (const res of set) res.write(': ping\n\n');
      }, 25_000);
      this.heartbeat.unref();
    }
    return this.unlisten;
  }

  async open(res: ServerResponse, regionCode: string, personId: string): Promise<void> {
    await this.ensureListening();
    const key = `${regionCode}:${personId}`;
    const set = this.streams.get(key) ?? new Set();
    set.add(res);
    this.streams.set(key, set);
    res.on('close', () => {
      set.delete(res);
      if (set.size === 0) this.streams.delete(key);
    });
    await this.push(key, [res]);
  }

  private async onNotify(payload: string): Promise<void> {
    const [region, person] = payload.split(':');
    if (person === '*') {
      for (const [key, set] of this.streams) if (key.startsWith(`${region}:`)) await this.push(key, [...set]);
    } else {
      const set = this.streams.get(payload);
      if (set) await this.push(payload, [...set]);
    }
  }

  private async push(key: string, targets: ServerResponse[]): Promise<void> {
    const [region, person] = key.split(':');
    try {
      const unread = await this.service.unreadCount(region, person);
      const latest = await this.service.inbox(region, person, { page: 1, size: 1 });
      const data = JSON.stringify({ unread, latest: latest.items[0] ?? null });
      for (const res of targets) res.write(`event: inbox\ndata: ${data}\n\n`);
    } catch (err) {
      this.ctx.log.warn({ err }, 'inbox stream push failed');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const set of this.streams.values()) for (const res of set) res.end();
    this.streams.clear();
    if (this.unlisten) await (await this.unlisten)();
    this.unlisten = undefined;
  }
}
