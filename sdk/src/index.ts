export {
  type ChannelCallOptions,
  type ChannelClient,
  type ChannelClientOptions,
  ChannelError,
  createChannelClient,
} from './channel-client.ts';
export * from './crypto/index.ts';
export * from './evoucher/index.ts';
export {
  createPaymentClient,
  type FeeDetail,
  type OrderRef,
  type OrderResult,
  type OrderStatus,
  type PaymentClient,
  type PricedFeeDetail,
  type Refund6203,
  type RefundResult,
  type Upload6201,
  type Upload6201Result,
} from './payment/index.ts';
