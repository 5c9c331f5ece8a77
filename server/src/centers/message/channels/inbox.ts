import { type Executor, notify, sql } from '../../../platform/db/index.ts';
import type { ChannelProvider, OutgoingMessage, SendResult } from './port.ts';

/** Postgres channel carrying "region:personId" whenever a person's inbox changes; every process LISTENs. */
export const INBOX_CHANNEL = 'yibao_message_inbox';

/** In-site inbox (站内信): a row in message_inbox plus a NOTIFY that reaches SSE connections in any process. */
export class InboxProvider implements ChannelProvider {
  readonly channel = 'inbox' as const;
  readonly sandbox = false;
  readonly label = '站内信';

  async send(msg: OutgoingMessage, { db }: { db: Executor }): Promise<SendResult> {
    const [row] = await db.q<{ id: string }>(sql`insert into message_inbox
        (region_code, person_id, message_id, type_code, category, title, body)
      values (${msg.regionCode}, ${msg.address}, ${msg.messageId}, ${msg.typeCode}, ${msg.category}, ${msg.title}, ${msg.body})
      returning id`);
    await notify(db, INBOX_CHANNEL, `${msg.regionCode}:${msg.address}`);
    return { providerRef: row.id, status: 'delivered' };
  }
}
