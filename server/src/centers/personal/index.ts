/** Personal hall (个人网厅) read model: my insurance, my account and ledger, read from the core zone. */
import type { Center } from '../../platform/center.ts';
import { personalRoutes } from './routes.ts';
import { PersonalService } from './service.ts';

export type { MyInsurance, MyLedgerEntry } from './service.ts';
export { INSURANCE_STATUS_LABELS, INSURANCE_TYPE_LABELS, LEDGER_KIND_LABELS, PersonalService } from './service.ts';

declare module '../../platform/context.ts' {
  interface Services {
    personal: PersonalService;
  }
}

export const personalCenter: Center = {
  name: 'personal',
  description: '个人网厅: 我的参保、我的个人账户与明细（读取核心区）',
  init(ctx) {
    ctx.services.personal = new PersonalService(ctx);
  },
  routes(app, ctx) {
    personalRoutes(app, ctx, () => ctx.services.personal!);
  },
};
