import { randomUUID } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { ChannelProvider, OutgoingMessage, SendResult } from './port.ts';
import { PermanentDeliveryError } from './port.ts';

/** E-mail over SMTP with nodemailer's pooled transport (connections are reused across sends). */
export class SmtpEmailProvider implements ChannelProvider {
  readonly channel = 'email' as const;
  readonly sandbox = false;
  readonly label: string;
  private readonly transport: Transporter;
  private readonly from: string;
  private readonly fromAddress: string;
  private readonly domain: string;

  constructor(smtpUrl: string, from: string, opts: { maxConnections?: number } = {}) {
    const url = new URL(smtpUrl);
    this.fromAddress = /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
    this.domain = this.fromAddress.split('@')[1] ?? 'yibao.local';
    this.label = `SMTP ${url.hostname}:${url.port || (url.protocol === 'smtps:' ? 465 : 25)}`;
    this.from = from;
    this.transport = nodemailer.createTransport({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 25)),
      secure: url.protocol === 'smtps:',
      auth: url.username
        ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
        : undefined,
      pool: true,
      maxConnections: opts.maxConnections ?? Number(url.searchParams.get('maxConnections') ?? 5),
      maxMessages: Number.POSITIVE_INFINITY,
      connectionTimeout: 5000,
      greetingTimeout: 5000,
      socketTimeout: 15_000,
      tls: { rejectUnauthorized: url.searchParams.get('tlsVerify') !== 'false' },
    });
  }

  async send(msg: OutgoingMessage): Promise<SendResult> {
    const messageId = `<${msg.deliveryId || randomUUID()}@${this.domain}>`;
    try {
      // The MIME text is composed here (plain text, UTF-8, base64): nodemailer's general composer costs about 1 ms per
      // message, which alone would cap a process near 1,000 mails/s; the transport still does SMTP and dot-stuffing.
      await this.transport.sendMail({
        envelope: { from: this.fromAddress, to: [msg.address] },
        raw: composeMime({
          from: this.from,
          to: msg.address,
          subject: msg.title,
          text: msg.body,
          messageId,
          headers: { 'X-Yibao-Delivery': msg.deliveryId, 'X-Yibao-Type': msg.typeCode },
        }),
      });
      return { providerRef: messageId, status: 'sent' };
    } catch (err) {
      const e = err as { responseCode?: number; message?: string };
      // 5xx from the server (mailbox unknown, refused): retrying will not help.
      if (typeof e.responseCode === 'number' && e.responseCode >= 500) {
        throw new PermanentDeliveryError(`SMTP ${e.responseCode}: ${e.message}`);
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const needsEncoding = (s: string) => /[^\x20-\x7e]/.test(s);
/** RFC 2047 encoded-word, split so each stays within the 75-character limit. */
function encodeWord(s: string): string {
  if (!needsEncoding(s)) return s;
  const words: string[] = [];
  let chunk = '';
  for (const ch of s) {
    if (Buffer.byteLength(chunk + ch) > 42) {
      words.push(`=?UTF-8?B?${b64(chunk)}?=`);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(`=?UTF-8?B?${b64(chunk)}?=`);
  return words.join('\r\n ');
}

function encodeAddress(a: string): string {
  const m = /^(.*)<([^>]+)>\s*$/.exec(a);
  if (!m) return a.trim();
  const name = m[1].trim().replace(/^"|"$/g, '');
  return name ? `${encodeWord(name)} <${m[2]}>` : `<${m[2]}>`;
}

/** A plain-text UTF-8 message (RFC 5322 + MIME), body in base64 wrapped at 76 characters. */
export function composeMime(m: {
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId: string;
  date?: Date;
  headers?: Record<string, string>;
}): string {
  const clean = (v: string) => v.replace(/[\r\n]+/g, ' ');
  const lines = [
    `From: ${encodeAddress(clean(m.from))}`,
    `To: ${clean(m.to)}`,
    `Subject: ${encodeWord(clean(m.subject))}`,
    `Date: ${(m.date ?? new Date()).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${clean(m.messageId)}`,
    ...Object.entries(m.headers ?? {}).map(([k, v]) => `${k}: ${clean(v)}`),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
  ];
  const body = b64(m.text.replace(/\r?\n/g, '\r\n')).replace(/.{76}/g, '$&\r\n');
  return `${lines.join('\r\n')}\r\n\r\n${body}\r\n`;
}
