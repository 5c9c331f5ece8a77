/**
 * Demo data: in each demo region the first hospital gets a workstation channel and a staff account that works for it
 * (documented in the README's demo accounts): username `his<region>`, password below. Demo only.
 */

import type { CoreZone } from '../../integration/core-zone/port.ts';
import type { Context } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';

export const DEMO_WORKSTATION_PASSWORD = 'Hospital@2026';
export const demoWorkstationUsername = (regionCode: string) => `his${regionCode}`;
const ROLE = 'institution_operator';

interface UserCenterSlice {
  defineRole(
    role: { code: string; name: string; permissions: string[] },
    actor: unknown,
    regionCode: string,
  ): Promise<unknown>;
  createStaff(input: {
    regionCode: string;
    username: string;
    password: string;
    displayName: string;
    roles?: string[];
  }): Promise<{ id: string }>;
}

export async function seedInstitution(ctx: Context): Promise<void> {
  const services = ctx.services as Record<string, unknown>;
  const core = services.coreZone as CoreZone | undefined;
  const users = services.user as UserCenterSlice | undefined;
  if (!core || !users || !ctx.services.auth || !ctx.services.institution) return;
  const svc = ctx.services.institution;
  for (const regionCode of ['990100', '980100']) {
    const [hospital] = await core.listInstitutions(regionCode, 'hospital');
    if (!hospital) continue;
    await svc.provision(regionCode, hospital.code);
    const username = demoWorkstationUsername(regionCode);
    const bound = await ctx.db.one(
      sql`select 1 from institution_staff where region_code = ${regionCode} and institution_code = ${hospital.code}`,
    );
    if (bound) continue;
    await users.defineRole(
      { code: ROLE, name: '定点医药机构操作员', permissions: ['institution:operate'] },
      { kind: 'system', id: 'institution' },
      regionCode,
    );
    const staff = await users.createStaff({
      regionCode,
      username,
      password: DEMO_WORKSTATION_PASSWORD,
      displayName: `${hospital.name}收费员`,
      roles: [ROLE],
    });
    await svc.assignStaff(regionCode, staff.id, hospital.code);
  }
}
