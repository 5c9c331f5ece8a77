/** SM4 (GB/T 32907), ECB/CBC with PKCS#7. The one implementation lives in @yibao/sdk. */
export { SM4_KEY_BYTES, type Sm4Mode, type Sm4Options, sm4Decrypt, sm4Encrypt } from '@yibao/sdk';
