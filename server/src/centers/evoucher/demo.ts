import { sql } from 'drizzle-orm';
import { DEMO_INSTITUTIONS, DEMO_PERSONS } from '../../integration/core-zone/index.ts';
import type { Context } from '../../platform/context.ts';
import { CHINA_OFFSET_MS } from '../../platform/time.ts';
import type { BusinessType, Device } from './schema.ts';
import type { Actor, EvoucherService } from './service.ts';
import { makePng } from './verification/images.ts';

const REGION = '990100';
const SEED: Actor = { kind: 'system', id: 'seed' };
const at = DEMO_INSTITUTIONS[REGION];

/**
 * Activates a person's voucher as the phone would: a liveness session, two camera frames to the sandbox counterpart,
 * its signed verdict to `activate` (the demo seed and the bench).
 */
export async function activateThroughSandbox(
  svc: EvoucherService,
  regionCode: string,
  personId: string,
  device: Device,
  actor: Actor,
) {
  const session = await svc.startLiveness(regionCode, personId);
  const evidence = await svc.sandbox.assess(regionCode, {
    sessionId: session.sessionId,
    challenge: session.challenge,
    mode: 'camera',
    frames: [makePng(96, 96, 1), makePng(96, 96, 2)],
  });
  return svc.activate(regionCode, personId, { evidence, device }, actor);
}

/** 张伟's last two weeks with the code: days ago, business type, where, and at which window. */
const DEMO_USES: Array<[daysAgo: number, type: BusinessType, institution: string, operator: string]> = [
  [13, '01101', at.level3, '门诊挂号 2 号窗'],
  [13, '01301', at.level3, '门诊收费 5 号窗'],
  [13, '01302', at.level3, '西药房'],
  [10, '02121', at.pharmacy1, '收银台'],
  [7, '03131', at.level3, '互联网医院'],
  [5, '01101', at.level2, '自助机 A3'],
  [5, '01301', at.level2, '门诊收费 1 号窗'],
  [2, '02121', at.pharmacy2, '收银台'],
  [0, '01101', at.level1, '挂号处'],
];

/** Clinic hours in China time: 09:00 plus 25 minutes per row on the day `daysAgo`; today's not in the future. */
function demoTime(daysAgo: number, i: number): number {
  const now = Date.now();
  const day = Math.floor((now + CHINA_OFFSET_MS) / 86_400_000) - daysAgo;
  const at = day * 86_400_000 - CHINA_OFFSET_MS + 9 * 3600_000 + i * 25 * 60_000;
  return Math.min(at, now - (DEMO_USES.length - i) * 60_000);
}

/**
 * Demo: 张伟's e-voucher in 东湖市, activated through the sandbox real-person check on a demo phone, authorised to the
 * demo partner, with two weeks of scans at the demo hospitals and pharmacies, so 渠道授权, 用码记录 and the console's
 * 用码统计 have something to show. Each scan is a real issue-and-verify; only its time is moved back. Skipped when the
 * person has no hall account or already has a voucher (李娜 and newly registered persons keep activation to try).
 */
export async function seedDemoVoucher(ctx: Context, svc: EvoucherService): Promise<void> {
  const person = await ctx.services.user?.findPersonByResidentId(REGION, DEMO_PERSONS.zhangWei.residentId);
  if (!person || (await svc.mine(REGION, person.id).catch(() => undefined))) return;
  await activateThroughSandbox(svc, REGION, person.id, { id: 'demo-phone', model: '演示手机' }, SEED);
  // a partner app the person lets read identity and insurance (渠道授权 is not empty); the auth code is left unused
  await svc.authorize(
    REGION,
    person.id,
    { appId: 'demo-partner', channelName: '示范合作方（演示）', scopes: ['identity', 'insurance'], days: 365 },
    SEED,
  );
  for (const [i, [daysAgo, businessType, institutionCode, operator]] of DEMO_USES.entries()) {
    const { token } = await svc.issueCode(REGION, person.id);
    const scan = { token, businessType, institutionCode, appId: 'demo-his', operator: `demo-op-${i + 1}` };
    const { useId } = await svc.verify(REGION, { ...scan, operatorName: operator }, SEED);
    const usedAt = new Date(demoTime(daysAgo, i));
    await ctx.db.q(sql`update evoucher_use set used_at = ${usedAt.toISOString()}
      where region_code = ${REGION} and id = ${useId}`);
    // today's scan is sent twice, as a scanner that resubmits would: 核验被拒 has a real replay to show
    if (daysAgo === 0) await svc.verify(REGION, scan, SEED).catch(() => undefined);
  }
}
