import { type Executor, sql } from '../../../platform/db/index.ts';
import type { Channel } from '../types.ts';
import { type ChannelProvider, type OutgoingMessage, PermanentDeliveryError, type SendResult } from './port.ts';

/**
 * Sandbox gateway (沙箱): accepts the message like the real gateway would (validating the address format), records
 * what would have been sent in message_sandbox_outbox, and answers with a message id; a delivery receipt follows
 * asynchronously (the center's receipt job). Staff can make it fail on demand (message_channel.sandbox_fail).
 */
abstract class SandboxGateway implements ChannelProvider {
  abstract readonly channel: Exclude<Channel, 'inbox'>;
  readonly sandbox = true;
  abstract readonly label: string;
  /** Fault injection for tests: the next n sends are recorded by the gateway but their answer is lost. */
  loseResponses = 0;
  protected abstract validAddress(address: string): boolean;
  protected templateId(_msg: OutgoingMessage): string | null {
    return null;
  }

  async send(msg: OutgoingMessage, opts: { db: Executor; failOnDemand: boolean }): Promise<SendResult> {
    if (opts.failOnDemand) throw new Error(`${this.label}: 网关暂时不可用（控制台设置的故障注入）`);
    if (!this.validAddress(msg.address)) {
      throw new PermanentDeliveryError(`${this.label}: 接收地址无效`);
    }
    // Idempotent per delivery (the gateway's OutId): a retry after a lost response gets the first answer back.
    await opts.db.q(sql`insert into message_sandbox_outbox
        (region_code, channel, delivery_id, address, template_id, title, content)
      values (${msg.regionCode}, ${this.channel}, ${msg.deliveryId}, ${msg.addressMasked}, ${this.templateId(msg)},
        ${msg.title || null}, ${msg.body})
      on conflict (region_code, channel, delivery_id) do nothing`);
    const row = (await opts.db.one<{ id: string }>(sql`select id from message_sandbox_outbox
      where region_code = ${msg.regionCode} and channel = ${this.channel} and delivery_id = ${msg.deliveryId}`))!;
    if (this.loseResponses > 0) {
      this.loseResponses--;
      throw new Error(`${this.label}: 网关已受理但响应丢失（测试故障）`);
    }
    return { providerRef: `sandbox-${row.id}`, status: 'sent' };
  }
}

export class SandboxSmsProvider extends SandboxGateway {
  readonly channel = 'sms' as const;
  readonly label = '短信网关（沙箱）';
  protected validAddress(address: string): boolean {
    return /^1\d{10}$/.test(address);
  }
}

export class SandboxWechatProvider extends SandboxGateway {
  readonly channel = 'wechat' as const;
  readonly label = '微信公众号模板消息（沙箱）';
  protected validAddress(address: string): boolean {
    return /^[\w-]{6,64}$/.test(address);
  }
  protected override templateId(msg: OutgoingMessage): string {
    return `TPL-${msg.typeCode.replaceAll('.', '-').toUpperCase()}`;
  }
}

export class SandboxEmailProvider extends SandboxGateway {
  readonly channel = 'email' as const;
  readonly label = '邮件外发箱（沙箱，未配置 SMTP_URL）';
  protected validAddress(address: string): boolean {
    return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address);
  }
}
