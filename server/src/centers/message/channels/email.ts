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

  constructor(smtpUrl: string, from: string, opts: { maxConnections?: number } = {}) {
    const url = new URL(smtpUrl);
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
    try {
      const info = await this.transport.sendMail({
        from: this.from,
        to: msg.address,
        subject: msg.title,
        text: msg.body,
        headers: { 'X-Yibao-Delivery': msg.deliveryId, 'X-Yibao-Type': msg.typeCode },
      });
      return { providerRef: info.messageId, status: 'sent' };
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
