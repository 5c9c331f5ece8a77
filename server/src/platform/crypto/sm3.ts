/** SM3 (GB/T 32905). The one implementation lives in @yibao/sdk; the server re-exports it. */
export { hmacSm3, sm3, sm3Hex } from '@yibao/sdk';
