export {
  type ChannelCallOptions,
  type ChannelClient,
  type ChannelClientOptions,
  ChannelError,
  createChannelClient,
} from './channel-client.ts';
export * from './crypto/index.ts';
export * from './evoucher/index.ts';
