/** Test helpers: a seeded reference core zone on a test database, and a visit ready to settle. */
import type { Database } from '../../platform/db/index.ts';
import { createPrivacy } from '../../platform/privacy/index.ts';
import type { CoreZone, FeeLineInput, MedicalType, Visit } from './port.ts';
import { type FaultHook, ReferenceCoreZone } from './reference/core-zone.ts';
import { DEMO_INSTITUTIONS } from './reference/demo-persons.ts';
import { catalogue, seedReference } from './reference/seed.ts';

export const TEST_PRIVACY = createPrivacy(`k1:${'ab'.repeat(32)}`, '22'.repeat(32));

export async function seededReference(
  db: Database,
  opts: { persons?: number; faults?: FaultHook } = {},
): Promise<ReferenceCoreZone> {
  const core = new ReferenceCoreZone({ db, privacy: TEST_PRIVACY, faults: opts.faults });
  await seedReference(core, { persons: opts.persons ?? 40 });
  return core;
}

let seq = 0;
export const uid = (prefix = 'M') =>
  `${prefix}${Date.now().toString(36)}${(seq++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** Catalogue items of a class (deterministic seed), for building fee lines. */
export function items(regionCode: string, itemClass?: 'A' | 'B' | 'C', category?: string) {
  return catalogue(regionCode).filter(
    (c) =>
      (itemClass === undefined || c.itemClass === itemClass) && (category === undefined || c.category === category),
  );
}

/** Registers a visit, uploads fee lines; returns the visit and the uploaded lines. */
export async function openVisit(
  core: CoreZone,
  opts: {
    regionCode?: string;
    personNo: string;
    institutionCode?: string;
    medicalType?: MedicalType;
    lines: Omit<FeeLineInput, 'lineNo'>[];
  },
): Promise<Visit> {
  const regionCode = opts.regionCode ?? '990100';
  const medicalType = opts.medicalType ?? '11';
  const inst = DEMO_INSTITUTIONS[regionCode as keyof typeof DEMO_INSTITUTIONS];
  const visit = await core.registerVisit({
    regionCode,
    requestId: uid('V'),
    personNo: opts.personNo,
    institutionCode: opts.institutionCode ?? (medicalType === '41' ? inst.pharmacy1 : inst.level3),
    medicalType,
  });
  await core.uploadFees(
    regionCode,
    visit.visitId,
    opts.lines.map((l, i) => ({ ...l, lineNo: String(i + 1).padStart(4, '0') })),
  );
  return visit;
}
