import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { api } from '../../lib/api';
import { useSession } from '../../lib/session';

export type Channel = 'inbox' | 'sms' | 'email' | 'wechat';
export const CHANNEL_LABELS: Record<Channel, string> = {
  inbox: '站内信',
  sms: '短信',
  email: '电子邮件',
  wechat: '微信公众号',
};
export const CHANNEL_LIST: Channel[] = ['inbox', 'wechat', 'sms', 'email'];
export const STATUS_LABELS: Record<string, { text: string; color: string }> = {
  queued: { text: '排队中', color: '#0958d9' },
  sent: { text: '已发送', color: '#006d75' },
  delivered: { text: '已送达', color: '#237804' },
  failed: { text: '失败', color: '#a8071a' },
  dead: { text: '死信', color: '#ad2102' },
  skipped: { text: '已跳过', color: 'default' },
};
export const PRIORITY_LABELS: Record<string, string> = { urgent: '紧急', high: '高', normal: '普通', low: '低' };

export interface InboxItem {
  id: string;
  type: string;
  category: string;
  title: string;
  body: string;
  readAt: string | null;
  createdAt: string;
}

export interface InboxPage {
  total: number;
  unread: number;
  items: InboxItem[];
}

export interface Announcement {
  id: string;
  title: string;
  body: string;
  publishAt: string;
  expiresAt: string | null;
}

export interface Rule {
  typeCode: string;
  always: Channel[];
  fallback: Channel[];
  respectQuietHours: boolean;
  dedupeSeconds: number;
  userLimitPerHour: number;
  enabled: boolean;
  customized: boolean;
}

export interface MessageTypeInfo {
  code: string;
  name: string;
  category: string;
  categoryName: string;
  priority: string;
  mandatory: boolean;
  variables: Record<string, string>;
  sample: Record<string, unknown>;
  channels: Channel[];
  rule: Rule;
}

export interface Delivery {
  id: string;
  messageId: string;
  type: string;
  channel: Channel;
  chainIndex: number | null;
  status: string;
  reason: string | null;
  attempts: number;
  address: string | null;
  sandbox: boolean;
  templateVersion: number | null;
  title: string | null;
  body: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
  personId: string | null;
  source: string;
}

export { dateTime } from '../../lib/time';

/**
 * The signed-in person's unread count, kept live: EventSource cannot send an Authorization header, so a short-lived
 * ticket is fetched with the bearer token first and passed in the query string; the browser reconnects with a fresh
 * ticket when the stream drops.
 */
export function useUnreadCount(): number | undefined {
  const session = useSession();
  const isPerson = session?.kind === 'person';
  const qc = useQueryClient();
  const { data } = useQuery({
    queryKey: ['message', 'unread'],
    enabled: isPerson,
    queryFn: () => api<{ unread: number }>('/api/message/inbox/unread-count'),
    staleTime: 30_000,
  });
  useEffect(() => {
    if (!isPerson || typeof EventSource === 'undefined') return;
    let source: EventSource | undefined;
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const connect = async () => {
      try {
        const { ticket } = await api<{ ticket: string }>('/api/message/inbox/stream-ticket', { method: 'POST' });
        if (stopped) return;
        source = new EventSource(`/api/message/inbox/stream?ticket=${encodeURIComponent(ticket)}`);
        source.addEventListener('inbox', (e) => {
          const d = JSON.parse((e as MessageEvent).data) as { unread: number };
          qc.setQueryData(['message', 'unread'], { unread: d.unread });
          void qc.invalidateQueries({ queryKey: ['message', 'inbox'] });
        });
        source.onerror = () => {
          source?.close();
          if (!stopped) retry = setTimeout(connect, 5000);
        };
      } catch {
        if (!stopped) retry = setTimeout(connect, 15_000);
      }
    };
    void connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      source?.close();
    };
  }, [isPerson, qc]);
  return data?.unread;
}
