/** Institution workstation (医药机构工作台): a server-side relay that signs channel calls for signed-in staff. */

import type { Center } from '../../platform/center.ts';
import { service } from '../../platform/context.ts';
import { injectFetch } from '../../platform/http.ts';
import { INSTITUTION_PERMISSIONS, institutionRoutes } from './routes.ts';
import { DEMO_WORKSTATION_PASSWORD, demoWorkstationUsername, seedInstitution } from './seed.ts';
import { InstitutionService } from './service.ts';

export { DEMO_WORKSTATION_PASSWORD, demoWorkstationUsername } from './seed.ts';
export { InstitutionService } from './service.ts';

declare module '../../platform/context.ts' {
  interface Services {
    institution: InstitutionService;
  }
}

export const institutionCenter: Center = {
  name: 'institution',
  description: '医药机构工作台: 扫码识别参保人、选择收费项目、上传费用、跟踪支付与退款（服务端按机构渠道签名）',
  init(ctx) {
    ctx.privacy.registerEncryptedColumn({
      table: 'institution_channel',
      column: 'app_secret_enc',
      key: ['region_code', 'institution_code'],
    });
    ctx.privacy.registerEncryptedColumn({
      table: 'institution_channel',
      column: 'private_key_enc',
      key: ['region_code', 'institution_code'],
    });
    ctx.privacy.registerEncryptedColumn({
      table: 'institution_order',
      column: 'pay_token_enc',
      key: ['region_code', 'id'],
    });
    ctx.services.institution = new InstitutionService(ctx);
    const user = (ctx.services as { user?: { declarePermissions?: (p: unknown, c: string) => Promise<void> } }).user;
    void user?.declarePermissions?.(INSTITUTION_PERMISSIONS, 'institution');
  },
  routes(app, ctx) {
    const svc = service(ctx, 'institution');
    // The relay calls the channel API over real HTTP on this server's own loopback address once it listens;
    // before that (tests driving the app with inject) it goes through Fastify's full request pipeline in memory.
    svc.channelFetch = () => {
      const address = app.server.address();
      if (address && typeof address === 'object') {
        const host =
          address.family === 'IPv6'
            ? `[${address.address === '::' ? '::1' : address.address}]`
            : address.address === '0.0.0.0'
              ? '127.0.0.1'
              : address.address;
        return { baseUrl: `http://${host}:${address.port}`, fetch: globalThis.fetch };
      }
      return { baseUrl: 'http://inject.local', fetch: injectFetch(app) };
    };
    institutionRoutes(app, ctx, () => svc);
  },
  seed: seedInstitution,
  demoAccounts: (ctx) => [
    {
      who: '医药机构工作台（东湖市第一人民医院 / 北原市）',
      where: `${ctx.publicUrl}/institution`,
      login: `${demoWorkstationUsername('990100')} / ${demoWorkstationUsername('980100')}，密码 ${DEMO_WORKSTATION_PASSWORD}`,
    },
  ],
};
