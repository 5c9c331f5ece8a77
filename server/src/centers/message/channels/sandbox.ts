import { type Executor, sql } from '../../../platform/db/index.ts';
import type { Channel } from '../types.ts';
import { SandboxGatewayServer } from './gateway.ts';
import { type ChannelProvider, type OutgoingMessage, PermanentDeliveryError, type SendResult } from './port.ts';

/**
 * In-process sandbox outbox (沙箱): accepts the message like a real gateway would (validating the address format),
 * records what would have been sent in message_sandbox_outbox and answers with a message id; a delivery receipt
 * follows asynchronously (the center's receipt job). Used for e-mail when no SMTP_URL is configured.
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

/** SMS through the sandbox gateway's HTTP API (signed requests, OutId idempotency). */
export class SandboxSmsProvider implements ChannelProvider {
  readonly channel = 'sms' as const;
  readonly sandbox = true;
  readonly label = '短信网关（沙箱）';
  /** Fault injection for tests: the next n answers are lost after the gateway accepted the message. */
  loseResponses = 0;
  readonly gateway: SandboxGatewayServer;

  constructor(gateway: SandboxGatewayServer) {
    this.gateway = gateway;
  }

  async send(msg: OutgoingMessage, opts: { failOnDemand: boolean }): Promise<SendResult> {
    const body = JSON.stringify({
      PhoneNumbers: msg.address,
      SignName: '医保服务',
      Content: msg.body,
      OutId: msg.deliveryId,
      Region: msg.regionCode,
    });
    const timestamp = String(Date.now());
    const res = await fetch(`${await this.gateway.url()}/sms/send`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-sms-key': this.gateway.smsKey,
        'x-sms-timestamp': timestamp,
        'x-sms-signature': SandboxGatewayServer.smsSignature(this.gateway.smsSecret, timestamp, body),
        ...(opts.failOnDemand ? { 'x-sandbox-fault': '1' } : {}),
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status >= 500) throw new Error(`${this.label}: HTTP ${res.status}（网关暂时不可用）`);
    const answer = (await res.json()) as { Code: string; Message?: string; BizId?: string };
    if (answer.Code !== 'OK') {
      const reason = `${this.label}: ${answer.Code} ${answer.Message ?? ''}`.trim();
      if (answer.Code === 'isv.MOBILE_NUMBER_ILLEGAL') throw new PermanentDeliveryError(reason);
      throw new Error(reason);
    }
    if (this.loseResponses > 0) {
      this.loseResponses--;
      throw new Error(`${this.label}: 网关已受理但响应丢失（测试故障）`);
    }
    return { providerRef: answer.BizId!, status: 'sent' };
  }
}

/** WeChat official-account template messages through the sandbox's API (access token, template send). */
export class SandboxWechatProvider implements ChannelProvider {
  readonly channel = 'wechat' as const;
  readonly sandbox = true;
  readonly label = '微信公众号模板消息（沙箱）';
  readonly gateway: SandboxGatewayServer;
  private token?: { value: string; until: number };

  constructor(gateway: SandboxGatewayServer) {
    this.gateway = gateway;
  }

  private async accessToken(base: string, fresh = false): Promise<string> {
    if (!fresh && this.token && this.token.until > Date.now()) return this.token.value;
    const q = new URLSearchParams({
      grant_type: 'client_credential',
      appid: this.gateway.wechatAppId,
      secret: this.gateway.wechatSecret,
    });
    const res = await fetch(`${base}/cgi-bin/token?${q}`, { signal: AbortSignal.timeout(10_000) });
    const answer = (await res.json()) as {
      access_token?: string;
      expires_in?: number;
      errcode?: number;
      errmsg?: string;
    };
    if (!answer.access_token)
      throw new Error(`${this.label}: 获取 access_token 失败 ${answer.errcode} ${answer.errmsg}`);
    this.token = { value: answer.access_token, until: Date.now() + ((answer.expires_in ?? 7200) - 300) * 1000 };
    return this.token.value;
  }

  async send(msg: OutgoingMessage, opts: { failOnDemand: boolean }): Promise<SendResult> {
    const base = await this.gateway.url();
    const body = JSON.stringify({
      touser: msg.address,
      template_id: `TPL-${msg.typeCode.replaceAll('.', '-').toUpperCase()}`,
      client_msg_id: msg.deliveryId,
      region: msg.regionCode,
      data: { first: { value: msg.title }, remark: { value: msg.body } },
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      const token = await this.accessToken(base, attempt > 0);
      const res = await fetch(`${base}/cgi-bin/message/template/send?access_token=${encodeURIComponent(token)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(opts.failOnDemand ? { 'x-sandbox-fault': '1' } : {}) },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      if (res.status >= 500) throw new Error(`${this.label}: HTTP ${res.status}（接口暂时不可用）`);
      const answer = (await res.json()) as { errcode: number; errmsg: string; msgid?: string };
      if (answer.errcode === 0) return { providerRef: `wx-${answer.msgid}`, status: 'sent' };
      if (answer.errcode === 40001 || answer.errcode === 42001) continue; // token expired elsewhere: refresh once
      const reason = `${this.label}: ${answer.errcode} ${answer.errmsg}`;
      if (answer.errcode === 40003 || answer.errcode === 43004) throw new PermanentDeliveryError(reason);
      throw new Error(reason);
    }
    throw new Error(`${this.label}: access_token 反复失效`);
  }

  /** Tests: forget the cached token's validity on the gateway side. */
  expireToken(): void {
    if (this.token) this.token = { value: 'expired-token', until: Date.now() + 60_000 };
  }
}

export class SandboxEmailProvider extends SandboxGateway {
  readonly channel = 'email' as const;
  readonly label = '邮件外发箱（沙箱，未配置 SMTP_URL）';
  protected validAddress(address: string): boolean {
    return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address);
  }
}
