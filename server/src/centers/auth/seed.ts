/** Demo data: the portals as public OIDC clients, and one demo partner (client credentials + signed envelopes). */
import type { Context } from '../../platform/context.ts';
import { service } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';

export const DEMO_PARTNER_APP_ID = 'demo-partner';
/** Demo only (documented in the README); production channels get random secrets. */
export const DEMO_PARTNER_SECRET = 'demo-partner-secret-change-me';

export const PORTAL_CLIENTS = [
  { appId: 'portal-personal', name: '个人网上服务大厅', path: '/personal', methods: ['pwd', 'sms', 'passkey', 'cert'] },
  { appId: 'portal-unit', name: '单位网上服务大厅', path: '/unit', methods: ['pwd', 'sms', 'passkey', 'cert'] },
  {
    appId: 'portal-console',
    name: '经办管理控制台',
    path: '/console',
    methods: ['pwd', 'passkey', 'cert'],
    staff: true,
  },
  {
    // the workstation's operators are staff accounts of the user center (bound to an institution by the
    // institution center), so its login page signs staff in
    appId: 'portal-institution',
    name: '定点医药机构工作台',
    path: '/institution',
    methods: ['pwd', 'passkey'],
    staff: true,
  },
] as const;

export async function seedAuth(ctx: Context): Promise<void> {
  const auth = service(ctx, 'auth');
  const regionCode = ctx.config.DEFAULT_REGION;
  for (const p of PORTAL_CLIENTS) {
    const staff = 'staff' in p && p.staff;
    const exists = await ctx.db.one<{ region_code: string; scopes: string[] }>(
      sql`select region_code, scopes from auth_channel where app_id = ${p.appId}`,
    );
    if (exists) {
      // a database seeded before the client became a staff client: make it one (its login page signs staff in)
      if (staff && !exists.scopes.includes('staff')) {
        await auth.channels.update(exists.region_code, p.appId, {
          scopes: [...exists.scopes, 'staff'],
          loginMethods: [...p.methods],
        });
      }
      continue;
    }
    await auth.registerChannel({
      regionCode,
      appId: p.appId,
      name: p.name,
      type: 'web',
      scopes: ['openid', 'profile', 'offline_access', ...(staff ? ['staff'] : [])],
      redirectUris: [`${ctx.publicUrl}/login/callback`],
      postLogoutRedirectUris: [`${ctx.publicUrl}${p.path}`, `${ctx.publicUrl}/`],
      loginMethods: [...p.methods],
      publicClient: true,
      grantTypes: ['authorization_code', 'refresh_token'],
    });
  }
  const partner = await ctx.db.one(sql`select 1 from auth_channel where app_id = ${DEMO_PARTNER_APP_ID}`);
  if (!partner) {
    const reg = await auth.registerChannel({
      regionCode,
      appId: DEMO_PARTNER_APP_ID,
      appSecret: DEMO_PARTNER_SECRET,
      name: '示范合作方（演示）',
      type: 'partner',
      scopes: ['api', 'payment', 'evoucher'],
      grantTypes: ['client_credentials'],
    });
    ctx.log.info(
      { appId: reg.appId, publicKey: reg.publicKeyHex },
      '演示合作方渠道已注册（私钥仅在注册时返回，演示数据不保存）',
    );
  }
}
