/**
 * The personal read model against the core-zone port and the user-center contract. The core zone and the user
 * center are provided here by small in-memory implementations of their contracts (the real ones are wired by their
 * owners); what is tested is this center: who may ask, which person and region are asked for, masking, labels,
 * filters and the Chinese problems.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CoreZone, LedgerEntry, LedgerQuery } from '../../integration/core-zone/port.ts';
import type { Center } from '../../platform/center.ts';
import { AppError } from '../../platform/errors.ts';
import { forEachPlatform } from '../../testing/platform.ts';
import { personalCenter } from './index.ts';

const RESIDENT_A = '110101199003077777';
const persons = new Map([
  ['990100:p-a', { id: 'p-a', name: '张三丰', residentId: RESIDENT_A }],
  ['980100:p-b', { id: 'p-b', name: '李四', residentId: '110101198001010013' }],
  ['990100:p-none', { id: 'p-none', name: '王五', residentId: '110101200001010018' }],
]);
const ledger: LedgerEntry[] = [
  {
    entryId: 'e1',
    kind: 'opening',
    amount: 50_000,
    balanceAfter: 50_000,
    at: '2026-01-01T00:00:00Z',
    reference: null,
    memo: '',
  },
  {
    entryId: 'e2',
    kind: 'contribution',
    amount: 12_345,
    balanceAfter: 62_345,
    at: '2026-02-01T00:00:00Z',
    reference: '2026-02',
    memo: '',
  },
  {
    entryId: 'e3',
    kind: 'settlement',
    amount: -2_345,
    balanceAfter: 60_000,
    at: '2026-03-05T00:00:00Z',
    reference: 'S1',
    memo: '',
  },
];
const asked: Array<{ method: string; regionCode: string; arg: unknown }> = [];

/** Core zone knowing A in 990100 (employee, account) and B in 980100 (resident, no account). */
const core: Partial<CoreZone> = {
  kind: 'reference',
  async findPerson(regionCode, key) {
    asked.push({ method: 'findPerson', regionCode, arg: key });
    const residentId = 'residentId' in key ? key.residentId : '';
    const known = [...persons.entries()].find(
      ([k, p]) => k.startsWith(`${regionCode}:`) && p.residentId === residentId && p.id !== 'p-none',
    );
    if (!known) throw new AppError(404, 'CORE_PERSON_NOT_FOUND', '未找到参保人');
    const p = known[1];
    return {
      personNo: `N-${p.id}`,
      regionCode,
      name: p.name,
      residentId,
      sex: '1',
      birthDate: '1990-03-07',
      personType: 'employee',
    };
  },
  async insuranceStatus(regionCode, personNo) {
    return {
      personNo,
      regionCode,
      personType: regionCode === '990100' ? 'employee' : 'resident',
      insurances: [
        {
          insuranceType: regionCode === '990100' ? '310' : '390',
          status: 'active',
          startDate: '2015-07-01',
          pauseDate: null,
          unitNo: null,
        },
      ],
    };
  },
  async accountBalance(regionCode, personNo) {
    return { personNo, regionCode, balance: regionCode === '990100' ? 60_000 : 0, hasAccount: regionCode === '990100' };
  },
  async accountLedger(regionCode, personNo, query: LedgerQuery = {}) {
    asked.push({ method: 'accountLedger', regionCode, arg: { personNo, ...query } });
    const items = ledger.filter(
      (e) =>
        (!query.kind || e.kind === query.kind) &&
        (!query.from || e.at.slice(0, 10) >= query.from) &&
        (!query.to || e.at.slice(0, 10) <= query.to),
    );
    const page = query.page ?? 1;
    const pageSize = query.pageSize ?? 20;
    return { items: items.slice((page - 1) * pageSize, page * pageSize), total: items.length, page, pageSize };
  },
};
const contracts: Center = {
  name: 'contracts',
  description: 'test doubles of the user center and the core zone',
  init(ctx) {
    const services = ctx.services as Record<string, unknown>;
    services.coreZone = core;
    services.user = { getPerson: async (regionCode: string, id: string) => persons.get(`${regionCode}:${id}`) };
  },
};

forEachPlatform(
  'personal read model',
  (get) => {
    const person = (subject: string, regionCode = '990100') => get().auth({ kind: 'person', subject, regionCode });
    const inject = async (url: string, headers?: Record<string, string>) => {
      const res = await get().app.inject({ method: 'GET', url, headers });
      return { status: res.statusCode, body: res.json(), type: res.headers['content-type'] };
    };

    test('only a signed-in person may ask', async () => {
      for (const url of ['/api/personal/insurance', '/api/personal/account', '/api/personal/account/ledger']) {
        assert.equal((await inject(url)).status, 401, url);
        const staff = await get().auth({ kind: 'staff', subject: 's1', regionCode: '990100' });
        assert.equal((await inject(url, staff)).status, 403, url);
      }
    });

    test('my insurance: masked identity, Chinese labels, asked in my region by my resident ID', async () => {
      asked.length = 0;
      const r = await inject('/api/personal/insurance', await person('p-a'));
      assert.equal(r.status, 200);
      assert.equal(r.body.residentId, '110101********7777');
      assert.equal(r.body.name, '张**');
      assert.equal(r.body.regionCode, '990100');
      assert.equal(r.body.personTypeLabel, '在职职工');
      assert.deepEqual(
        r.body.insurances.map((i: { insuranceTypeLabel: string; statusLabel: string; startDate: string }) => [
          i.insuranceTypeLabel,
          i.statusLabel,
          i.startDate,
        ]),
        [['职工基本医疗保险', '正常参保', '2015-07-01']],
      );
      assert.deepEqual(asked[0], { method: 'findPerson', regionCode: '990100', arg: { residentId: RESIDENT_A } });
      const b = await inject('/api/personal/insurance', await person('p-b', '980100'));
      assert.equal(b.body.insurances[0].insuranceTypeLabel, '城乡居民基本医疗保险');
      assert.equal(b.body.regionCode, '980100');
    });

    test('a person of another region is not found in mine', async () => {
      const r = await inject('/api/personal/insurance', await person('p-b', '990100'));
      assert.equal(r.status, 404);
      assert.equal(r.body.code, 'PERSONAL_ACCOUNT_NOT_FOUND');
    });

    test('a person the core zone does not know gets a Chinese 404', async () => {
      const r = await inject('/api/personal/account', await person('p-none'));
      assert.equal(r.status, 404);
      assert.equal(r.body.code, 'PERSONAL_NOT_INSURED');
      assert.equal(r.body.title, '未查询到您的参保信息');
      assert.match(r.type ?? '', /problem\+json/);
    });

    test('my account balance, and a resident without an account', async () => {
      const a = await inject('/api/personal/account', await person('p-a'));
      assert.deepEqual([a.status, a.body.balance, a.body.hasAccount], [200, 60_000, true]);
      const b = await inject('/api/personal/account', await person('p-b', '980100'));
      assert.deepEqual([b.body.balance, b.body.hasAccount], [0, false]);
    });

    test('ledger: filters by kind and dates, pages, labels each entry', async () => {
      const h = await person('p-a');
      const all = await inject('/api/personal/account/ledger', h);
      assert.equal(all.body.total, 3);
      assert.deepEqual(
        all.body.items.map((e: { kindLabel: string }) => e.kindLabel),
        ['期初余额', '缴费划入', '医保结算支付'],
      );
      const paid = await inject('/api/personal/account/ledger?kind=settlement', h);
      assert.deepEqual(
        paid.body.items.map((e: { entryId: string }) => e.entryId),
        ['e3'],
      );
      asked.length = 0;
      const range = await inject('/api/personal/account/ledger?from=2026-01-15&to=2026-02-28&page=1&pageSize=1', h);
      assert.deepEqual([range.body.total, range.body.items[0].entryId, range.body.pageSize], [1, 'e2', 1]);
      assert.deepEqual(asked.at(-1), {
        method: 'accountLedger',
        regionCode: '990100',
        arg: { personNo: 'N-p-a', from: '2026-01-15', to: '2026-02-28', kind: undefined, page: 1, pageSize: 1 },
      });
    });

    test('ledger: bad filters are 400 problems naming the field', async () => {
      const h = await person('p-a');
      const kind = await inject('/api/personal/account/ledger?kind=lottery', h);
      assert.equal(kind.status, 400);
      const range = await inject('/api/personal/account/ledger?from=2026-03-01&to=2026-01-01', h);
      assert.deepEqual([range.status, range.body.code], [400, 'PERSONAL_LEDGER_RANGE_INVALID']);
      assert.equal(range.body.errors[0].field, 'from');
      const size = await inject('/api/personal/account/ledger?pageSize=1000', h);
      assert.equal(size.status, 400);
      const date = await inject('/api/personal/account/ledger?from=2026-3-1', h);
      assert.equal(date.status, 400);
    });
  },
  { centers: [contracts, personalCenter] },
);
