import type { Executor } from '../../../platform/db/index.ts';
import type { Channel } from '../types.ts';

/** One rendered message on its way out through one channel. */
export interface OutgoingMessage {
  regionCode: string;
  deliveryId: string;
  messageId: string;
  typeCode: string;
  category: string;
  channel: Channel;
  /** person id (inbox), mobile (sms), e-mail address (email), openid (wechat) */
  address: string;
  addressMasked: string;
  title: string;
  body: string;
}

export interface SendResult {
  providerRef: string;
  /** 'delivered' when the provider confirms at once (inbox); 'sent' when a receipt may follow. */
  status: 'sent' | 'delivered';
}

export interface ChannelProvider {
  readonly channel: Channel;
  /** Sandbox providers record what would be sent; labelled 沙箱 in the console and the logs. */
  readonly sandbox: boolean;
  readonly label: string;
  send(msg: OutgoingMessage, opts: { db: Executor; failOnDemand: boolean }): Promise<SendResult>;
  close?(): Promise<void>;
}

/** A failure that retrying cannot fix (bad address, content refused): the delivery fails at once, with this reason. */
export class PermanentDeliveryError extends Error {}
