/** SM2 signatures with SM3 and the Z value (GM/T 0003.2). The one implementation lives in @yibao/sdk. */
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
} from '@yibao/sdk';
