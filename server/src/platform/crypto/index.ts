/** National crypto (SM2/SM3/SM4, the channel envelope): the one implementation lives in @yibao/sdk. */
export * from '@yibao/sdk/crypto';
// On the server, envelope verification failures are AppErrors (problem+json); these shadow the SDK's.
export { verifyEnvelope, verifyEnvelopeDetailed } from './envelope.ts';
export { signedHttpHeaders, verifySignedHttp } from './signed-http.ts';
