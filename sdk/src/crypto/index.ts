export { fromBase64, toBase64 } from './bytes.ts';
export {
  type ChannelEnvelope,
  deriveEnvelopeKey,
  ENVELOPE_VERSION,
  EnvelopeError,
  type EnvelopeErrorCode,
  type SignEnvelopeInput,
  signEnvelope,
  type VerifiedEnvelope,
  type VerifyEnvelopeOptions,
  verifyEnvelope,
  verifyEnvelopeDetailed,
} from './envelope.ts';
export { buildSignString, canonicalJson } from './sign-string.ts';
export {
  SM2_DEFAULT_USER_ID,
  type Sm2KeyPair,
  type Sm2SignatureFormat,
  type Sm2SignOptions,
  type Sm2VerifyOptions,
  sm2ComputeZ,
  sm2GenerateKeyPair,
  sm2GetPublicKey,
  sm2PrecomputePublicKey,
  sm2Sign,
  sm2SignatureFromDer,
  sm2SignatureToDer,
  sm2Verify,
  sm2VerifyOwn,
} from './sm2.ts';
export { hmacSm3, sm3, sm3Hex } from './sm3.ts';
export { SM4_KEY_BYTES, type Sm4Mode, type Sm4Options, sm4Decrypt, sm4Encrypt } from './sm4.ts';
