/**
 * Deterministic demo data of the reference core zone (seeded PRNG): policies, institutions, a ~200-item catalogue,
 * units and insured persons with accounts (opening balance + monthly contributions, all through the ledger).
 * Used by the module's seed (empty database → demo data) and by `npm run seed -- --persons N`.
 */
import { sql } from '../../../platform/db/index.ts';
import { usccCheckChar } from '../../../platform/privacy/index.ts';
import type { CatalogueCategory, InsuranceType, ItemClass, PersonType } from '../port.ts';
import { personAccount, type ReferenceCoreZone, SYSTEM_ACCOUNTS } from './core-zone.ts';
import { DEMO_INSTITUTIONS, DEMO_PERSONS, residentId, seededPersonNo } from './demo-persons.ts';
import { DEMO_POLICIES } from './settlement/index.ts';

/** mulberry32: a small deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REGION_SEEDS: Record<string, { seed: number; city: string; persons: number }> = {
  '990100': { seed: 990100, city: '东湖市', persons: 1000 },
  '980100': { seed: 980100, city: '北原市', persons: 200 },
};

export const DEMO_REGIONS = Object.keys(REGION_SEEDS);

const SURNAMES =
  '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤';
const GIVEN =
  '伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红鹏飞建国文辉宇浩然欣怡子涵梓萱一诺思远嘉豪俊杰晓东海燕春梅';

function pick<T>(r: () => number, list: readonly T[] | string): T {
  return list[Math.floor(r() * list.length)] as T;
}

function digits(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 10);
  return s;
}

// ------------------------------------------------------------------------------------------------ catalogue

export interface SeedItem {
  code: string;
  category: CatalogueCategory;
  name: string;
  spec: string | null;
  unit: string;
  itemClass: ItemClass;
  selfPayRatioBp: number | null;
  priceCap: number | null;
  /** a typical unit price (fen) used by demos and benchmarks */
  typicalPrice: number;
}

const DRUGS = [
  ['阿莫西林胶囊', 'J01CA', '0.25g*24粒', '盒'],
  ['布洛芬缓释胶囊', 'M01AE', '0.3g*20粒', '盒'],
  ['二甲双胍片', 'A10BA', '0.5g*48片', '盒'],
  ['硝苯地平控释片', 'C08CA', '30mg*7片', '盒'],
  ['阿托伐他汀钙片', 'C10AA', '20mg*7片', '盒'],
  ['奥美拉唑肠溶胶囊', 'A02BC', '20mg*14粒', '盒'],
  ['头孢克肟分散片', 'J01DD', '0.1g*6片', '盒'],
  ['氯雷他定片', 'R06AX', '10mg*6片', '盒'],
  ['缬沙坦胶囊', 'C09CA', '80mg*7粒', '盒'],
  ['甲钴胺片', 'B03BA', '0.5mg*20片', '盒'],
  ['左氧氟沙星片', 'J01MA', '0.5g*4片', '盒'],
  ['蒙脱石散', 'A07BC', '3g*10袋', '盒'],
  ['氨氯地平片', 'C08CA', '5mg*14片', '盒'],
  ['胰岛素注射液', 'A10AB', '3ml:300单位', '支'],
  ['利伐沙班片', 'B01AF', '10mg*5片', '盒'],
  ['瑞舒伐他汀钙片', 'C10AA', '10mg*7片', '盒'],
  ['丙泊酚注射液', 'N01AX', '20ml:0.2g', '支'],
  ['对乙酰氨基酚片', 'N02BE', '0.5g*12片', '盒'],
  ['孟鲁司特钠片', 'R03DC', '10mg*5片', '盒'],
  ['恩替卡韦分散片', 'J05AF', '0.5mg*7片', '盒'],
] as const;
const PATENT = [
  ['连花清瘟胶囊', '0.35g*24粒', '盒'],
  ['复方丹参滴丸', '27mg*180丸', '瓶'],
  ['板蓝根颗粒', '10g*20袋', '包'],
  ['六味地黄丸', '200丸', '瓶'],
  ['藿香正气水', '10ml*10支', '盒'],
  ['速效救心丸', '40mg*60丸', '瓶'],
  ['感冒灵颗粒', '10g*9袋', '盒'],
  ['血塞通软胶囊', '0.33g*24粒', '盒'],
] as const;
const SERVICES = [
  ['普通门诊诊查费', '次', 1_000],
  ['副主任医师门诊诊查费', '次', 2_500],
  ['血常规检查', '次', 2_000],
  ['尿常规检查', '次', 1_000],
  ['肝功能检测', '次', 6_000],
  ['心电图检查', '次', 2_500],
  ['彩色多普勒超声检查', '部位', 12_000],
  ['CT平扫', '部位', 25_000],
  ['磁共振成像', '部位', 60_000],
  ['静脉输液', '次', 1_500],
  ['床位费（三人间）', '日', 3_500],
  ['一级护理', '日', 4_000],
  ['换药（中）', '次', 2_800],
  ['针灸', '次', 3_000],
  ['推拿治疗', '次', 4_500],
  ['胃镜检查', '次', 28_000],
  ['血糖监测', '次', 800],
  ['核酸检测', '次', 1_600],
  ['康复评定', '次', 5_000],
  ['体检套餐（自费）', '次', 30_000],
] as const;
const CONSUMABLES = [
  ['一次性使用输液器', '套', 500],
  ['医用外科口罩', '个', 80],
  ['一次性无菌注射器', '支', 60],
  ['心脏支架', '个', 80_000],
  ['人工晶体', '个', 150_000],
  ['骨科接骨板', '块', 300_000],
  ['医用纱布敷料', '包', 300],
  ['留置针', '支', 1_200],
  ['导尿包', '套', 2_500],
  ['血糖试纸', '盒', 6_000],
] as const;

/** ~200 catalogue items with national-format codes, the same codes in every region; prices and classes vary. */
export function catalogue(regionCode: string): SeedItem[] {
  const r = prng(REGION_SEEDS[regionCode]?.seed ?? Number(regionCode));
  const items: SeedItem[] = [];
  const classOf = (x: number): ItemClass => (x < 0.5 ? 'A' : x < 0.85 ? 'B' : 'C');
  // 100 western drugs: X + ATC level 4 (5) + A + 3 + B + 3 + 9 = 23 chars
  for (let i = 0; i < 100; i++) {
    const [name, atc, spec, unit] = DRUGS[i % DRUGS.length];
    const code = `X${atc}A${String(i).padStart(3, '0')}B${String((i * 7) % 1000).padStart(3, '0')}${digits(prng(i + 1), 9)}`;
    const itemClass = i < 3 ? (['A', 'B', 'C'] as const)[i] : classOf(r());
    const price = 500 + Math.floor(r() * 15_000);
    items.push({
      code,
      category: 'western_drug',
      name: i < DRUGS.length ? name : `${name}（${Math.floor(i / DRUGS.length) + 1}号厂家）`,
      spec,
      unit,
      itemClass,
      selfPayRatioBp: itemClass === 'B' && r() < 0.3 ? 2000 : null,
      priceCap: i % 9 === 4 && itemClass !== 'C' ? Math.round(price * 0.8) : null,
      typicalPrice: price,
    });
  }
  // 40 Chinese patent medicines: Z + 19 = 20 chars
  for (let i = 0; i < 40; i++) {
    const [name, spec, unit] = PATENT[i % PATENT.length];
    const itemClass = classOf(r());
    items.push({
      code: `ZA${String(i).padStart(2, '0')}BA${digits(prng(1000 + i), 14)}`,
      category: 'patent_drug',
      name: i < PATENT.length ? name : `${name}（${Math.floor(i / PATENT.length) + 1}号厂家）`,
      spec,
      unit,
      itemClass,
      selfPayRatioBp: null,
      priceCap: null,
      typicalPrice: 1_000 + Math.floor(r() * 6_000),
    });
  }
  // 40 service items: 15 digits
  for (let i = 0; i < 40; i++) {
    const [name, unit, base] = SERVICES[i % SERVICES.length];
    const itemClass: ItemClass = name.includes('自费') ? 'C' : i % 20 < 12 ? 'A' : 'B';
    const price = Math.round(base * (1 + (i >= SERVICES.length ? 0.2 : 0)));
    items.push({
      code: `00${String(3101 + i).padStart(4, '0')}${digits(prng(2000 + i), 9)}`,
      category: 'service',
      name: i < SERVICES.length ? name : `${name}（加收）`,
      spec: null,
      unit,
      itemClass,
      selfPayRatioBp: null,
      priceCap: i % 5 === 2 && itemClass !== 'C' ? Math.round(price * 0.9) : null,
      typicalPrice: price,
    });
  }
  // 20 consumables: C + 6 classification + 3 generic + 5 features + 5 company = 20 chars
  for (let i = 0; i < 20; i++) {
    const [name, unit, base] = CONSUMABLES[i % CONSUMABLES.length];
    const itemClass: ItemClass = i % 10 < 5 ? 'A' : i % 10 < 8 ? 'B' : 'C';
    items.push({
      code: `C${String(10101 + i * 13).padStart(6, '0')}${digits(prng(3000 + i), 13)}`,
      category: 'consumable',
      name: i < CONSUMABLES.length ? name : `${name}（进口）`,
      spec: null,
      unit,
      itemClass,
      selfPayRatioBp: itemClass === 'B' ? 3000 : null,
      priceCap: base >= 80_000 && itemClass !== 'C' ? Math.round(base * 0.75) : null,
      typicalPrice: base * (i >= CONSUMABLES.length ? 2 : 1),
    });
  }
  return items;
}

// --------------------------------------------------------------------------------------------- institutions

function institutions(regionCode: string, city: string) {
  const codes = DEMO_INSTITUTIONS[regionCode as keyof typeof DEMO_INSTITUTIONS];
  return [
    { code: codes.level3, kind: 'hospital', name: `${city}第一人民医院`, level: 3 },
    { code: codes.level2, kind: 'hospital', name: `${city}中医院`, level: 2 },
    { code: codes.level1, kind: 'hospital', name: `${city}城关社区卫生服务中心`, level: 1 },
    { code: codes.pharmacy1, kind: 'pharmacy', name: `${city}老百姓大药房（中山店）`, level: 1 },
    { code: codes.pharmacy2, kind: 'pharmacy', name: `${city}益丰大药房（人民路店）`, level: 1 },
  ] as const;
}

// ------------------------------------------------------------------------------------------------- persons

export interface SeedPerson {
  personNo: string;
  name: string;
  residentId: string;
  insuranceType: InsuranceType;
  personType: PersonType;
  status: 'active' | 'paused';
  unitNo: string | null;
  base: number;
  openingBalance: number | null;
  startDate: string;
}

const unitNoOf = (regionCode: string, i: number) => `U${regionCode}9${String(i).padStart(7, '0')}`;

function units(regionCode: string, city: string, count: number) {
  const r = prng(REGION_SEEDS[regionCode].seed + 7);
  const kinds = [
    '科技有限公司',
    '商贸有限公司',
    '建设集团有限公司',
    '食品有限公司',
    '物流有限公司',
    '医药连锁有限公司',
  ];
  return Array.from({ length: count }, (_, i) => {
    const first17 = `91${regionCode}${digits(r, 8)}M`.slice(0, 17);
    return {
      unitNo: unitNoOf(regionCode, i + 1),
      uscc: `${first17}${usccCheckChar(first17)}`,
      name: `${city}${pick(r, ['华信', '东方', '瑞丰', '金桥', '新元', '博远', '恒达', '明德'])}${kinds[i % kinds.length]}`,
    };
  });
}

/** The i-th generated person of a region (1-based; the first ones are DEMO_PERSONS). */
export function seedPerson(regionCode: string, i: number, unitCount: number): SeedPerson {
  const demo = Object.values(DEMO_PERSONS).find(
    (p) => p.regionCode === regionCode && p.personNo === seededPersonNo(regionCode, i),
  );
  if (demo) {
    const employee = demo.insuranceType === '310';
    return {
      personNo: demo.personNo,
      name: demo.name,
      residentId: demo.residentId,
      insuranceType: demo.insuranceType,
      personType: demo.personType,
      status: demo.status,
      unitNo: demo.personType === 'employee' ? unitNoOf(regionCode, 1) : null,
      base: employee ? 800_000 : 0,
      openingBalance: demo.openingBalance,
      startDate: '2015-01-01',
    };
  }
  const r = prng(REGION_SEEDS[regionCode].seed * 1_000_003 + i);
  const employee = r() < 0.55;
  const year = employee ? 1960 + Math.floor(r() * 42) : 1945 + Math.floor(r() * 78);
  const month = 1 + Math.floor(r() * 12);
  const day = 1 + Math.floor(r() * 28);
  const birth = `${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}`;
  const address = `${regionCode.slice(0, 4)}0${1 + Math.floor(r() * 5)}`;
  const seq = Math.floor(r() * 999) + 1;
  const name = pick<string>(r, SURNAMES) + pick<string>(r, GIVEN) + (r() < 0.6 ? pick<string>(r, GIVEN) : '');
  const age = 2025 - year;
  const personType: PersonType = employee
    ? age >= 60
      ? 'retiree'
      : r() < 0.15
        ? 'flexible'
        : 'employee'
    : age < 22
      ? 'student'
      : 'resident';
  const base = employee ? 400_000 + Math.floor(r() * 20) * 50_000 : 0;
  return {
    personNo: seededPersonNo(regionCode, i),
    name,
    residentId: residentId(address, birth, seq),
    insuranceType: employee ? '310' : '390',
    personType,
    status: r() < 0.03 ? 'paused' : 'active',
    unitNo: personType === 'employee' ? unitNoOf(regionCode, 1 + Math.floor(r() * unitCount)) : null,
    base,
    openingBalance: employee ? Math.floor(r() * 500_000) : null,
    startDate: `${Math.max(2000, year + 18)}-01-01`,
  };
}

// --------------------------------------------------------------------------------------------------- writer

export interface SeedOptions {
  regions?: string[];
  /** persons per region (default: 1000 for 990100, 200 for 980100) */
  persons?: number;
  /** months of contributions per employee (default 6) */
  months?: number;
  batch?: number;
  onProgress?: (done: number, total: number, regionCode: string) => void;
}

/** Contribution rates of the demo regions: employee 2 % personal + 8 % unit; 30 % of the unit part to the account. */
function contributionParts(base: number) {
  const personalPart = Math.round(base * 0.02);
  const unitPart = Math.round(base * 0.08);
  return { personalPart, unitPart, accountCredit: personalPart + Math.round(unitPart * 0.3) };
}

/** Periods (YYYY-MM) of the `months` months before `today`. */
function periods(today: Date, months: number): string[] {
  const out: string[] = [];
  for (let m = months; m >= 1; m--) {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - m, 1));
    out.push(d.toISOString().slice(0, 7));
  }
  return out;
}

export async function isSeeded(core: ReferenceCoreZone, regionCode = '990100'): Promise<boolean> {
  const row = await core.database.one(sql`select 1 as x from core_policy where region_code = ${regionCode} limit 1`);
  return row !== undefined;
}

/** Loads the demo data of each region that has none yet. Deterministic: same options → same rows. */
export async function seedReference(core: ReferenceCoreZone, opts: SeedOptions = {}): Promise<void> {
  const db = core.database;
  const today = new Date();
  for (const regionCode of opts.regions ?? DEMO_REGIONS) {
    const conf = REGION_SEEDS[regionCode];
    if (!conf) throw new Error(`no demo seed for region ${regionCode}`);
    if (await isSeeded(core, regionCode)) continue;
    const total = opts.persons ?? conf.persons;
    const unitCount = Math.max(3, Math.min(200, Math.ceil(total / 50)));
    await db.tx(async (tx) => {
      for (const p of DEMO_POLICIES.filter((x) => x.regionCode === regionCode)) await core.insertPolicy(tx, p);
      const inst = institutions(regionCode, conf.city).map(
        (x) => sql`(${regionCode}, ${x.code}, ${x.kind}, ${x.name}, ${x.level})`,
      );
      await tx.q(
        sql`insert into core_institution(region_code, code, kind, name, level) values ${sql.join(inst, sql`, `)}`,
      );
      const items = catalogue(regionCode).map(
        (c) =>
          sql`(${regionCode}, ${c.code}, ${c.category}, ${c.name}, ${c.spec}, ${c.unit}, ${c.itemClass},
            ${c.selfPayRatioBp}, ${c.priceCap})`,
      );
      await tx.q(sql`insert into core_catalogue(region_code, code, category, name, spec, unit, item_class,
        self_pay_ratio_bp, price_cap) values ${sql.join(items, sql`, `)}`);
      const us = units(regionCode, conf.city, unitCount).map(
        (u) => sql`(${regionCode}, ${u.unitNo}, ${u.uscc}, ${u.name}, ${`${conf.city}示范路${u.unitNo.slice(-3)}号`})`,
      );
      await tx.q(sql`insert into core_unit(region_code, unit_no, uscc, name, address) values ${sql.join(us, sql`, `)}`);
    });
    const months = periods(today, opts.months ?? 6);
    const batch = opts.batch ?? 500;
    const seen = new Set<string>();
    for (let start = 1; start <= total; start += batch) {
      const people: SeedPerson[] = [];
      for (let i = start; i < Math.min(total + 1, start + batch); i++) {
        const p = seedPerson(regionCode, i, unitCount);
        if (seen.has(p.residentId)) continue; // a rare generated duplicate ID: skip
        seen.add(p.residentId);
        people.push(p);
      }
      await db.tx(async (tx) => {
        const cipher = core.cipher;
        await tx.q(sql`insert into core_person(region_code, person_no, resident_id_idx, resident_id_enc, name_enc, sex,
            birth_date, person_type) values ${sql.join(
              people.map((p) => {
                const b = p.residentId.slice(6, 14);
                return sql`(${regionCode}, ${p.personNo}, ${core.residentIdIndex(p.residentId)},
                  ${cipher.encrypt(p.residentId)}, ${cipher.encrypt(p.name)},
                  ${Number(p.residentId[16]) % 2 === 1 ? '1' : '2'},
                  ${`${b.slice(0, 4)}-${b.slice(4, 6)}-${b.slice(6, 8)}`}, ${p.personType})`;
              }),
              sql`, `,
            )}`);
        await tx.q(sql`insert into core_insurance(region_code, person_no, insurance_type, status, start_date, pause_date,
            unit_no, base) values ${sql.join(
              people.map(
                (p) => sql`(${regionCode}, ${p.personNo}, ${p.insuranceType}, ${p.status}, ${p.startDate},
                  ${p.status === 'paused' ? `${today.getUTCFullYear()}-01-01` : null}, ${p.unitNo}, ${p.base})`,
              ),
              sql`, `,
            )}`);
        const withAccount = people.filter((p) => p.openingBalance !== null);
        if (withAccount.length === 0) return;
        const contrib: ReturnType<typeof sql>[] = [];
        const ledger: ReturnType<typeof sql>[] = [];
        const accounts: ReturnType<typeof sql>[] = [];
        for (const p of withAccount) {
          let balance = p.openingBalance as number;
          const acct = personAccount(p.personNo);
          const opening = `O${p.personNo}`;
          ledger.push(sql`(${regionCode}, ${opening}, ${acct}, ${balance}, 'opening', null, '期初余额')`);
          ledger.push(
            sql`(${regionCode}, ${opening}, ${SYSTEM_ACCOUNTS.opening}, ${-balance}, 'opening', null, '期初余额')`,
          );
          if (p.status === 'active') {
            for (const period of months) {
              const parts = contributionParts(p.base);
              const txn = `C${p.personNo}${period}`;
              contrib.push(sql`(${regionCode}, ${p.personNo}, ${p.insuranceType}, ${period}, ${p.base}, ${parts.unitPart},
                ${parts.personalPart}, ${parts.accountCredit}, ${p.unitNo}, ${`${period}-15T02:00:00Z`})`);
              ledger.push(
                sql`(${regionCode}, ${txn}, ${acct}, ${parts.accountCredit}, 'contribution', ${period}, '医保个人账户划入')`,
              );
              ledger.push(
                sql`(${regionCode}, ${txn}, ${SYSTEM_ACCOUNTS.contributionIncome}, ${-parts.accountCredit}, 'contribution', ${period}, '医保个人账户划入')`,
              );
              balance += parts.accountCredit;
            }
          }
          accounts.push(sql`(${regionCode}, ${p.personNo}, ${balance})`);
        }
        await tx.q(
          sql`insert into core_account(region_code, person_no, balance) values ${sql.join(accounts, sql`, `)}`,
        );
        for (let i = 0; i < ledger.length; i += 2000) {
          await tx.q(sql`insert into core_ledger_entry(region_code, txn_id, account, amount, kind, reference, memo)
            values ${sql.join(ledger.slice(i, i + 2000), sql`, `)}`);
        }
        for (let i = 0; i < contrib.length; i += 2000) {
          await tx.q(sql`insert into core_contribution(region_code, person_no, insurance_type, period, base, unit_part,
            personal_part, account_credit, unit_no, paid_at) values ${sql.join(contrib.slice(i, i + 2000), sql`, `)}`);
        }
      });
      opts.onProgress?.(Math.min(total, start + batch - 1), total, regionCode);
    }
    if (regionCode === '990100' && total >= 3) {
      await core.authoriseMutualAid('990100', DEMO_PERSONS.zhangWei.personNo, DEMO_PERSONS.wangFang.personNo);
    }
  }
}
