import { coreZoneModule } from '../integration/core-zone/index.ts';
import type { Center } from '../platform/center.ts';
import { authCenter } from './auth/index.ts';
import { ebillCenter } from './ebill/index.ts';
import { evoucherCenter } from './evoucher/index.ts';
import { institutionCenter } from './institution/index.ts';
import { messageCenter } from './message/index.ts';
import { paymentCenter } from './payment/index.ts';
import { personalCenter } from './personal/index.ts';
import { userCenter } from './user/index.ts';

/** Every center, in dependency order (a center may use the services of those before it). */
export const centers: Center[] = [
  coreZoneModule,
  userCenter,
  authCenter,
  messageCenter,
  evoucherCenter,
  paymentCenter,
  ebillCenter,
  personalCenter,
  institutionCenter,
];
