/**
 * The reference core zone (核心区示范实现): a real, database-backed implementation of the CoreZone port over its own
 * core_* tables. Settlement runs the pure engine (./settlement) and writes in ONE statement (or, when anything changed
 * under it, ONE transaction) that locks the visit, the personal account(s) and the accumulator row, so concurrent
 * settlements on one account never overdraw it and a crash between writes leaves nothing half-done. Settle reuses the
 * pre-settlement this process computed when nothing it was computed from changed (see settleFromPreSettlement).
 */
import { randomFillSync } from 'node:crypto';
import type { Database, Executor, SQL } from '../../../platform/db/index.ts';
import { prepared, sql } from '../../../platform/db/index.ts';
import { AppError } from '../../../platform/errors.ts';
import type { Privacy } from '../../../platform/privacy/index.ts';
import { isValidResidentId, isValidUscc, residentIdFacts } from '../../../platform/privacy/index.ts';
import { coreError } from '../errors.ts';
import type {
  AccountBalance,
  AccumulatorRow,
  CatalogueCategory,
  CatalogueItem,
  CatalogueQuery,
  Contribution,
  CorePerson,
  CoreZone,
  EcTokenResolver,
  Enrolment,
  EnrolmentInput,
  FeeLineInput,
  FeeLineResult,
  Institution,
  InstitutionKind,
  InsuranceStatus,
  InsuranceType,
  LedgerEntry,
  LedgerEntryKind,
  LedgerQuery,
  Page,
  PersonKey,
  PersonType,
  PolicyVersion,
  PreSettlement,
  Reversal,
  ReverseInput,
  SettleInput,
  Settlement,
  Split,
  StaffAddInput,
  StaffRemoveInput,
  Unit,
  UnitInput,
  UnitStaff,
  Visit,
  VisitInput,
} from '../port.ts';
import {
  type FeeLine,
  InvalidPolicyError,
  type Policy,
  parsePolicy,
  reverse as reverseSplit,
  SettlementError,
  type SettlementSplit,
  selectPolicy,
  settle as settleSplit,
} from './settlement/index.ts';

/** Fault-injection hook for tests: called between the writes of a settlement / reversal. */
export type FaultHook = (point: string) => void | Promise<void>;

export interface ReferenceOptions {
  db: Database;
  privacy: Pick<Privacy, 'cipher' | 'blindIndex'>;
  faults?: FaultHook;
  /**
   * Settle first without a transaction (default true): read, compute, then one statement that writes only if the visit,
   * the accounts and the accumulator row are still as read (it locks them to check) — else the locking transaction.
   * Tests of crashes between writes turn it off: that statement has no point between its writes.
   */
  optimisticSettle?: boolean;
  /** clock, for tests */
  now?: () => Date;
}

const MAX_PAGE_SIZE = 100;

/** `bytes` random bytes as hex, from a pool filled by the CSPRNG (one native call per 4 KiB, not one per id). */
const randomPool = Buffer.alloc(4096);
let randomAt = randomPool.length;
function randomHex(bytes: number): string {
  if (randomAt + bytes > randomPool.length) {
    randomFillSync(randomPool);
    randomAt = 0;
  }
  randomAt += bytes;
  return randomPool.toString('hex', randomAt - bytes, randomAt);
}
const CN_OFFSET_MS = 8 * 3600_000;

/** The local (UTC+8) calendar date of an instant. */
export function localDate(at: Date): string {
  return new Date(at.getTime() + CN_OFFSET_MS).toISOString().slice(0, 10);
}

/** Whole years from birthDate to date (both ISO). */
export function ageOn(birthDate: string, date: string): number {
  let age = Number(date.slice(0, 4)) - Number(birthDate.slice(0, 4));
  if (date.slice(5) < birthDate.slice(5)) age--;
  return Math.max(0, age);
}

const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();
const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v));
const dateText = (v: unknown): string => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10));
const dateOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : dateText(v));

function engineError(err: unknown): unknown {
  if (err instanceof InvalidPolicyError) {
    return new AppError(err.status, err.code, err.title, err.detail, {
      errors: err.issues.map((i) => {
        const at = i.indexOf(': ');
        return at < 0 ? { field: '(root)', message: i } : { field: i.slice(0, at), message: i.slice(at + 2) };
      }),
    });
  }
  if (err instanceof SettlementError) return new AppError(err.status, err.code, err.title, err.detail);
  return err;
}

function assertFenInput(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw coreError('CORE_INVALID_AMOUNT', `${what} 应为非负整数（分），收到 ${String(value)}`);
  }
  return value;
}

function assertDate(value: unknown, what: string): string {
  const ok = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value));
  if (!ok || new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) {
    throw coreError('CORE_INVALID_INPUT', `${what} 应为 YYYY-MM-DD 格式的日期，收到 ${String(value)}`);
  }
  return value as string;
}

function assertRegion(regionCode: string): void {
  if (typeof regionCode !== 'string' || !/^\d{6}$/.test(regionCode)) {
    throw coreError('CORE_INVALID_INPUT', `统筹区编码应为 6 位数字：${String(regionCode)}`);
  }
}

function pageArgs(q: { page?: number; pageSize?: number } = {}): { page: number; pageSize: number; offset: number } {
  const page = Math.max(1, Math.floor(q.page ?? 1));
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(q.pageSize ?? 20)));
  return { page, pageSize, offset: (page - 1) * pageSize };
}

type PersonRow = {
  region_code: string;
  person_no: string;
  resident_id_enc: string;
  name_enc: string;
  sex: '1' | '2';
  birth_date: string;
  person_type: PersonType;
};

type VisitRow = {
  region_code: string;
  visit_id: string;
  request_id: string;
  person_no: string;
  institution_code: string;
  institution_level: number;
  insurance_type: InsuranceType;
  medical_type: Visit['medicalType'];
  begin_at: unknown;
  state: Visit['state'];
  fees_version: number;
  presettled_version: number | null;
};

type SettlementRow = {
  region_code: string;
  settlement_id: string;
  request_id: string;
  visit_id: string;
  person_no: string;
  institution_code: string;
  policy_version: string;
  total: number;
  fund_payment: number;
  account_payment: number;
  mutual_aid_payment: number;
  cash_payment: number;
  mutual_aid_payer: string | null;
  accumulator_year: number;
  split: SettlementSplit;
  state: 'settled' | 'reversed';
  settled_at: unknown;
  reversed_at: unknown;
  reversal_request_id: string | null;
};

type FeeRow = {
  line_no: string;
  code: string;
  name: string;
  item_class: 'A' | 'B' | 'C';
  quantity: number;
  unit_price: number;
  self_pay_ratio_bp: number | null;
  price_cap: number | null;
};

/** A visit with what its settlement needs (see `facts`). */
type Facts = VisitRow & {
  person_found: boolean;
  birth_date: string;
  status: string | null;
  fees: FeeRow[];
  accounts: { person_no: string; balance: number }[];
  aid_ok: boolean;
  accumulators: { year: number; grp: string; deductible_paid: number; fund_paid: number }[];
  /** locked reads only: the visit's fees_version in the statement's snapshot */
  seen_fees_version?: number;
  /** pre-settle reads only: the read recorded the pre-settlement on its fee version */
  marked?: boolean;
};

/** A computed settlement before it is written. */
interface Computed {
  split: SettlementSplit;
  mutualAid: number;
  payerBalance: number | null;
  lines: FeeLineResult[];
  year: number;
}

/**
 * A pre-settlement as this process computed it: the inputs, everything it was computed from (`facts`: the visit and its
 * fee version, the balance(s), the accumulator rows, the insurance status and mutual-aid authorisation, as one snapshot)
 * and the engine's result (which names the policy version). Settle reuses it when the inputs are the same, the policy in
 * force is still that version, and one guarded statement finds the rows still as they were (see settleFromPreSettlement).
 */
interface PreSettled {
  at: number;
  useAccount: boolean;
  payer: string | undefined;
  facts: Facts;
  computed: Computed;
}
/** Pre-settlements kept for settle: the newest ones, for a while (only a hint: the guarded write decides). */
const PRESETTLED_MAX = 10_000;
const PRESETTLED_TTL_MS = 15 * 60_000;

export const personAccount = (personNo: string) => `P:${personNo}`;
export const SYSTEM_ACCOUNTS = {
  opening: 'S:opening',
  contributionIncome: 'S:contribution_income',
  settlementClearing: 'S:settlement_clearing',
} as const;

export class ReferenceCoreZone implements CoreZone {
  readonly kind = 'reference' as const;
  private readonly db: Database;
  private readonly privacy: ReferenceOptions['privacy'];
  private readonly faults?: FaultHook;
  private readonly optimisticSettle: boolean;
  private readonly now: () => Date;
  private ecTokenResolver?: EcTokenResolver;
  private readonly policyCache = new Map<string, { at: number; policies: Policy[] }>();
  private readonly presettled = new Map<string, PreSettled>();
  /**
   * How settlements were written, for tests and the bench: `presettled` = the recorded pre-settlement applied in ONE
   * statement; `read` = read, engine, one guarded statement; `locking` = the locking transaction (attempts).
   */
  readonly settlePaths = { presettled: 0, read: 0, locking: 0 };

  constructor(opts: ReferenceOptions) {
    this.db = numericRows(opts.db);
    this.privacy = opts.privacy;
    this.faults = opts.faults;
    this.optimisticSettle = opts.optimisticSettle ?? true;
    this.now = opts.now ?? (() => new Date());
  }

  get database(): Database {
    return this.db;
  }

  get cipher(): Privacy['cipher'] {
    return this.privacy.cipher;
  }

  useEcTokenResolver(resolver: EcTokenResolver): void {
    this.ecTokenResolver = resolver;
  }

  private async fault(point: string): Promise<void> {
    await this.faults?.(point);
  }

  private async serial(ex: Executor, prefix: string, width = 12): Promise<string> {
    const row = await ex.one<{ n: number }>(sql`select nextval('core_serial')::int8 as n`);
    return `${prefix}${String(row?.n).padStart(width, '0')}`;
  }

  // ----------------------------------------------------------------------------------------------- persons

  residentIdIndex(residentId: string): string {
    return this.privacy.blindIndex(residentId.toUpperCase(), 'core_resident_id');
  }

  private toPerson(row: PersonRow): CorePerson {
    return {
      personNo: row.person_no,
      regionCode: row.region_code,
      name: this.privacy.cipher.decrypt(row.name_enc),
      residentId: this.privacy.cipher.decrypt(row.resident_id_enc),
      sex: row.sex,
      birthDate: dateText(row.birth_date),
      personType: row.person_type,
    };
  }

  private async personRow(ex: Executor, regionCode: string, personNo: string): Promise<PersonRow> {
    const row = await ex.one<PersonRow>(
      sql`select * from core_person where region_code = ${regionCode} and person_no = ${personNo}`,
    );
    if (!row) throw coreError('CORE_PERSON_NOT_FOUND', `参保人编号 ${personNo} 在统筹区 ${regionCode} 不存在`);
    return row;
  }

  async findPerson(regionCode: string, key: PersonKey): Promise<CorePerson> {
    assertRegion(regionCode);
    let residentId: string | undefined;
    if ('personNo' in key) return this.toPerson(await this.personRow(this.db, regionCode, String(key.personNo)));
    if ('ecToken' in key) {
      const resolved = this.ecTokenResolver ? await this.ecTokenResolver(regionCode, key.ecToken) : undefined;
      if (!resolved) throw coreError('CORE_EC_TOKEN_UNRESOLVED');
      residentId = resolved.residentId;
    } else {
      residentId = String(key.residentId ?? '');
    }
    const row = await this.db.one<PersonRow>(sql`select * from core_person
      where region_code = ${regionCode} and resident_id_idx = ${this.residentIdIndex(residentId)}`);
    if (!row) throw coreError('CORE_PERSON_NOT_FOUND', '该身份证号码在本统筹区无参保记录');
    return this.toPerson(row);
  }

  async insuranceStatus(regionCode: string, personNo: string): Promise<InsuranceStatus> {
    assertRegion(regionCode);
    const person = await this.personRow(this.db, regionCode, personNo);
    const rows = await this.db.q<{
      insurance_type: InsuranceType;
      status: InsuranceStatus['insurances'][number]['status'];
      start_date: string;
      pause_date: string | null;
      unit_no: string | null;
    }>(sql`select insurance_type, status, start_date, pause_date, unit_no from core_insurance
      where region_code = ${regionCode} and person_no = ${personNo} order by insurance_type`);
    return {
      personNo,
      regionCode,
      personType: person.person_type,
      insurances: rows.map((r) => ({
        insuranceType: r.insurance_type,
        status: r.status,
        startDate: dateText(r.start_date),
        pauseDate: dateOrNull(r.pause_date),
        unitNo: r.unit_no,
      })),
    };
  }

  // ----------------------------------------------------------------------------------------------- accounts

  async accountBalance(regionCode: string, personNo: string): Promise<AccountBalance> {
    assertRegion(regionCode);
    await this.personRow(this.db, regionCode, personNo);
    const row = await this.db.one<{ balance: number }>(
      sql`select balance from core_account where region_code = ${regionCode} and person_no = ${personNo}`,
    );
    return { personNo, regionCode, balance: row?.balance ?? 0, hasAccount: row !== undefined };
  }

  async accountLedger(regionCode: string, personNo: string, query: LedgerQuery = {}): Promise<Page<LedgerEntry>> {
    assertRegion(regionCode);
    await this.personRow(this.db, regionCode, personNo);
    const { page, pageSize, offset } = pageArgs(query);
    const account = personAccount(personNo);
    if (query.from !== undefined) assertDate(query.from, 'from');
    if (query.to !== undefined) assertDate(query.to, 'to');
    const filters = [sql`true`];
    if (query.kind) filters.push(sql`kind = ${query.kind}`);
    if (query.from) filters.push(sql`at >= ${query.from}::date`);
    if (query.to) filters.push(sql`at < (${query.to}::date + 1)`);
    const where = sql.join(filters, sql` and `);
    const rows = await this.db.q<{
      entry_id: number;
      kind: LedgerEntryKind;
      amount: number;
      balance_after: number;
      at: unknown;
      reference: string | null;
      memo: string;
      total: number;
    }>(sql`with e as (
        select entry_id, kind, amount, at, reference, memo,
          sum(amount) over (order by entry_id)::int8 as balance_after
        from core_ledger_entry where region_code = ${regionCode} and account = ${account})
      select *, count(*) over ()::int8 as total from e where ${where}
      order by entry_id desc limit ${pageSize} offset ${offset}`);
    let total = rows[0]?.total;
    if (total === undefined) {
      const c = await this.db.one<{ n: number }>(sql`select count(*)::int8 as n from core_ledger_entry
        where region_code = ${regionCode} and account = ${account} and ${where}`);
      total = c?.n ?? 0;
    }
    return {
      page,
      pageSize,
      total,
      items: rows.map((r) => ({
        entryId: String(r.entry_id),
        kind: r.kind,
        amount: r.amount,
        balanceAfter: r.balance_after,
        at: iso(r.at),
        reference: r.reference,
        memo: r.memo,
      })),
    };
  }

  async contributions(regionCode: string, personNo: string, year?: number): Promise<Contribution[]> {
    assertRegion(regionCode);
    await this.personRow(this.db, regionCode, personNo);
    const yearFilter = year === undefined ? sql`true` : sql`period like ${`${Math.floor(year)}-%`}`;
    const rows = await this.db.q<{
      period: string;
      insurance_type: InsuranceType;
      base: number;
      unit_part: number;
      personal_part: number;
      account_credit: number;
      unit_no: string | null;
      paid_at: unknown;
    }>(sql`select * from core_contribution where region_code = ${regionCode} and person_no = ${personNo}
      and ${yearFilter} order by period desc, insurance_type`);
    return rows.map((r) => ({
      period: r.period,
      insuranceType: r.insurance_type,
      base: r.base,
      unitPart: r.unit_part,
      personalPart: r.personal_part,
      accountCredit: r.account_credit,
      unitNo: r.unit_no,
      paidAt: iso(r.paid_at),
    }));
  }

  /**
   * Posts one balanced double-entry transaction. Personal accounts move their running balance in the same statement
   * (never below zero: CORE_INSUFFICIENT_BALANCE); system accounts have no balance row.
   */
  async post(ex: Executor, regionCode: string, posting: Posting): Promise<string> {
    const p = postingParts(regionCode, posting);
    if (!p.values) return p.txnId;
    if (!p.moved) {
      await ex.q(
        prepared(sql`insert into core_ledger_entry(region_code, txn_id, account, amount, kind, reference, memo)
        values ${p.values}`),
      );
      return p.txnId;
    }
    // one round trip: move the running balances (never below zero) and write the entries only if every move happened
    const written = await ex.q(
      prepared(sql`with moved as (${p.moved})
      insert into core_ledger_entry(region_code, txn_id, account, amount, kind, reference, memo)
      select * from (values ${p.values}) as e(region_code, txn_id, account, amount, kind, reference, memo)
      where (select count(*) from moved) = ${p.personal.length}
      returning 1`),
    );
    if (written.length === 0) throw insufficientBalance(p.personal);
    return p.txnId;
  }

  /** Ledger check: accounts whose running balance differs from the sum of their entries, and unbalanced postings. */
  async checkLedger(regionCode?: string): Promise<{
    accounts: number;
    mismatches: { regionCode: string; personNo: string; balance: number; ledgerSum: number }[];
    unbalancedTransactions: string[];
  }> {
    const region = regionCode === undefined ? sql`true` : sql`a.region_code = ${regionCode}`;
    const rows = await this.db.q<{ region_code: string; person_no: string; balance: number; ledger_sum: number }>(
      sql`select a.region_code, a.person_no, a.balance, coalesce(e.s, 0)::int8 as ledger_sum
        from core_account a left join (
          select region_code, account, sum(amount) as s from core_ledger_entry where account like 'P:%'
          group by region_code, account) e
        on e.region_code = a.region_code and e.account = 'P:' || a.person_no
        where ${region}`,
    );
    const txRegion = regionCode === undefined ? sql`true` : sql`region_code = ${regionCode}`;
    const unbalanced = await this.db.q<{ txn_id: string }>(sql`select txn_id from core_ledger_entry where ${txRegion}
      group by region_code, txn_id having sum(amount) <> 0 limit 100`);
    return {
      accounts: rows.length,
      mismatches: rows
        .filter((r) => r.balance !== r.ledger_sum)
        .map((r) => ({
          regionCode: r.region_code,
          personNo: r.person_no,
          balance: r.balance,
          ledgerSum: r.ledger_sum,
        })),
      unbalancedTransactions: unbalanced.map((r) => r.txn_id),
    };
  }

  async authoriseMutualAid(regionCode: string, payerPersonNo: string, beneficiaryPersonNo: string): Promise<void> {
    assertRegion(regionCode);
    await this.personRow(this.db, regionCode, payerPersonNo);
    await this.personRow(this.db, regionCode, beneficiaryPersonNo);
    if (payerPersonNo === beneficiaryPersonNo) throw coreError('CORE_INVALID_INPUT', '不能授权本人');
    await this.db.q(sql`insert into core_mutual_aid(region_code, payer_person_no, beneficiary_person_no)
      values (${regionCode}, ${payerPersonNo}, ${beneficiaryPersonNo})
      on conflict (region_code, payer_person_no, beneficiary_person_no)
      do update set revoked_at = null, authorised_at = case when core_mutual_aid.revoked_at is null
        then core_mutual_aid.authorised_at else now() end`);
  }

  async revokeMutualAid(regionCode: string, payerPersonNo: string, beneficiaryPersonNo: string): Promise<void> {
    assertRegion(regionCode);
    await this.db.q(sql`update core_mutual_aid set revoked_at = now() where region_code = ${regionCode}
      and payer_person_no = ${payerPersonNo} and beneficiary_person_no = ${beneficiaryPersonNo} and revoked_at is null`);
  }

  async mutualAidBeneficiaries(regionCode: string, payerPersonNo: string): Promise<string[]> {
    assertRegion(regionCode);
    const rows = await this.db.q<{ b: string }>(sql`select beneficiary_person_no as b from core_mutual_aid
      where region_code = ${regionCode} and payer_person_no = ${payerPersonNo} and revoked_at is null order by 1`);
    return rows.map((r) => r.b);
  }

  // ---------------------------------------------------------------------------------------------- enrolment

  private async enrolmentByNo(ex: Executor, regionCode: string, enrolmentNo: string): Promise<Enrolment> {
    const row = await ex.one<{
      enrolment_no: string;
      region_code: string;
      kind: Enrolment['kind'];
      state: Enrolment['state'];
      person_no: string | null;
      submitted_at: unknown;
      decided_at: unknown;
      note: string | null;
    }>(sql`select * from core_enrolment where region_code = ${regionCode} and enrolment_no = ${enrolmentNo}`);
    if (!row) throw coreError('CORE_ENROLMENT_NOT_FOUND', `申请编号 ${enrolmentNo}`);
    const events = await ex.q<{
      state: Enrolment['state'];
      at: unknown;
      note: string | null;
    }>(sql`select state, at, note
      from core_enrolment_event where region_code = ${regionCode} and enrolment_no = ${enrolmentNo} order by seq`);
    return {
      enrolmentNo: row.enrolment_no,
      regionCode: row.region_code,
      kind: row.kind,
      state: row.state,
      personNo: row.person_no,
      submittedAt: iso(row.submitted_at),
      decidedAt: isoOrNull(row.decided_at),
      note: row.note,
      history: events.map((e) => ({ state: e.state, at: iso(e.at), note: e.note })),
    };
  }

  /**
   * Applications are decided at once by the reference core zone's rules (a real core zone may take days; callers
   * poll enrolmentStatus): flexible/resident enrolment creates or re-activates the person's insurance; suspension
   * pauses it. An impossible application is recorded as rejected with a Chinese note.
   */
  async submitEnrolment(input: EnrolmentInput): Promise<Enrolment> {
    assertRegion(input.regionCode);
    const regionCode = input.regionCode;
    if (!input.requestId) throw coreError('CORE_INVALID_INPUT', '缺少请求ID');
    if (!['flexible', 'resident', 'suspension'].includes(input.kind)) {
      throw coreError('CORE_INVALID_INPUT', `未知申请类型 ${String(input.kind)}`);
    }
    const residentId = String(input.residentId ?? '').toUpperCase();
    if (!isValidResidentId(residentId)) throw coreError('CORE_INVALID_RESIDENT_ID');
    if (input.base !== undefined) assertFenInput(input.base, 'base');
    if (input.startDate !== undefined) assertDate(input.startDate, 'startDate');
    const existing = await this.db.one<{ enrolment_no: string }>(sql`select enrolment_no from core_enrolment
      where region_code = ${regionCode} and request_id = ${input.requestId}`);
    if (existing) return this.enrolmentByNo(this.db, regionCode, existing.enrolment_no);
    const enrolmentNo = await this.db.tx(async (tx) => {
      const no = await this.serial(tx, `E${regionCode}`, 10);
      const today = localDate(this.now());
      const idx = this.residentIdIndex(residentId);
      const person = await tx.one<PersonRow>(sql`select * from core_person
        where region_code = ${regionCode} and resident_id_idx = ${idx} for update`);
      let state: Enrolment['state'] = 'approved';
      let note: string | null = null;
      let personNo = person?.person_no ?? null;
      const startDate = input.startDate ?? today;
      if (input.kind === 'suspension') {
        if (!person) {
          state = 'rejected';
          note = '无参保记录，不能办理暂停缴费';
        } else {
          const paused = await tx.q(sql`update core_insurance set status = 'paused', pause_date = ${startDate}
            where region_code = ${regionCode} and person_no = ${person.person_no} and status = 'active' returning 1`);
          if (paused.length === 0) {
            state = 'rejected';
            note = '当前无正常参保险种';
          }
        }
      } else {
        const insuranceType: InsuranceType = input.kind === 'flexible' ? '310' : '390';
        if (!person) {
          personNo = await this.createPerson(tx, {
            regionCode,
            name: String(input.name ?? ''),
            residentId,
            personType: input.kind === 'flexible' ? 'flexible' : 'resident',
          });
        }
        const active = await tx.one(sql`select 1 from core_insurance where region_code = ${regionCode}
          and person_no = ${personNo} and insurance_type = ${insuranceType} and status = 'active'`);
        if (active) {
          state = 'rejected';
          note = insuranceType === '310' ? '已有正常的职工医保参保记录' : '已有正常的居民医保参保记录';
        } else {
          await tx.q(sql`insert into core_insurance(region_code, person_no, insurance_type, status, start_date, base)
            values (${regionCode}, ${personNo}, ${insuranceType}, 'active', ${startDate}, ${input.base ?? 0})
            on conflict (region_code, person_no, insurance_type)
            do update set status = 'active', start_date = excluded.start_date, pause_date = null, base = excluded.base`);
          if (insuranceType === '310') await this.openAccount(tx, regionCode, personNo as string);
        }
      }
      await tx.q(sql`insert into core_enrolment(region_code, enrolment_no, request_id, kind, state, person_no, input,
          decided_at, note)
        values (${regionCode}, ${no}, ${input.requestId}, ${input.kind}, ${state}, ${personNo},
          ${JSON.stringify({ ...input, residentId: undefined, name: undefined })}::jsonb, now(), ${note})`);
      await tx.q(sql`insert into core_enrolment_event(region_code, enrolment_no, seq, state, note) values
        (${regionCode}, ${no}, 1, 'submitted', null), (${regionCode}, ${no}, 2, ${state}, ${note})`);
      return no;
    });
    return this.enrolmentByNo(this.db, regionCode, enrolmentNo);
  }

  async enrolmentStatus(regionCode: string, enrolmentNo: string): Promise<Enrolment> {
    assertRegion(regionCode);
    return this.enrolmentByNo(this.db, regionCode, enrolmentNo);
  }

  /** Creates an insured person (no insurance yet); returns the person number. */
  async createPerson(
    ex: Executor,
    p: { regionCode: string; name: string; residentId: string; personType: PersonType; personNo?: string },
  ): Promise<string> {
    if (!isValidResidentId(p.residentId)) throw coreError('CORE_INVALID_RESIDENT_ID');
    if (p.name.trim() === '') throw coreError('CORE_INVALID_INPUT', '姓名不能为空');
    const facts = residentIdFacts(p.residentId);
    const personNo = p.personNo ?? (await this.serial(ex, p.regionCode, 12));
    await ex.q(sql`insert into core_person(region_code, person_no, resident_id_idx, resident_id_enc, name_enc, sex,
        birth_date, person_type)
      values (${p.regionCode}, ${personNo}, ${this.residentIdIndex(p.residentId)},
        ${this.privacy.cipher.encrypt(p.residentId)}, ${this.privacy.cipher.encrypt(p.name.trim())}, ${facts.sex},
        ${facts.birthDate}, ${p.personType})`);
    return personNo;
  }

  async openAccount(ex: Executor, regionCode: string, personNo: string): Promise<void> {
    await ex.q(sql`insert into core_account(region_code, person_no, balance) values (${regionCode}, ${personNo}, 0)
      on conflict do nothing`);
  }

  // -------------------------------------------------------------------------------------------------- units

  private async unitRow(ex: Executor, regionCode: string, unitNo: string): Promise<Unit> {
    const row = await ex.one<{
      unit_no: string;
      region_code: string;
      uscc: string;
      name: string;
      address: string | null;
      registered_at: unknown;
      staff: number;
    }>(sql`select u.*, (select count(*) from core_insurance i where i.region_code = u.region_code
        and i.unit_no = u.unit_no and i.status = 'active')::int8 as staff
      from core_unit u where u.region_code = ${regionCode} and u.unit_no = ${unitNo}`);
    if (!row) throw coreError('CORE_UNIT_NOT_FOUND', `单位编号 ${unitNo}`);
    return {
      unitNo: row.unit_no,
      regionCode: row.region_code,
      uscc: row.uscc,
      name: row.name,
      address: row.address,
      registeredAt: iso(row.registered_at),
      staffCount: row.staff,
    };
  }

  async registerUnit(input: UnitInput): Promise<Unit> {
    assertRegion(input.regionCode);
    const uscc = String(input.uscc ?? '').toUpperCase();
    if (!isValidUscc(uscc)) throw coreError('CORE_INVALID_USCC');
    if (!input.name?.trim()) throw coreError('CORE_INVALID_INPUT', '单位名称不能为空');
    const existing = await this.db.one<{ unit_no: string; request_id: string | null }>(sql`select unit_no, request_id
      from core_unit where region_code = ${input.regionCode} and uscc = ${uscc}`);
    if (existing) {
      if (existing.request_id === input.requestId) return this.unitRow(this.db, input.regionCode, existing.unit_no);
      throw coreError('CORE_UNIT_EXISTS', `单位编号 ${existing.unit_no}`);
    }
    const unitNo = await this.db.tx(async (tx) => {
      const no = await this.serial(tx, `U${input.regionCode}`, 8);
      await tx.q(sql`insert into core_unit(region_code, unit_no, uscc, name, address, request_id)
        values (${input.regionCode}, ${no}, ${uscc}, ${input.name.trim()}, ${input.address ?? null}, ${input.requestId})`);
      return no;
    });
    return this.unitRow(this.db, input.regionCode, unitNo);
  }

  async getUnit(regionCode: string, unitNo: string): Promise<Unit> {
    assertRegion(regionCode);
    return this.unitRow(this.db, regionCode, unitNo);
  }

  private async staffRow(ex: Executor, regionCode: string, unitNo: string, personNo: string): Promise<UnitStaff> {
    const rows = await this.staffRows(ex, regionCode, unitNo, personNo);
    if (rows.length === 0) throw coreError('CORE_STAFF_NOT_FOUND');
    return rows[0];
  }

  private async staffRows(ex: Executor, regionCode: string, unitNo: string, personNo?: string): Promise<UnitStaff[]> {
    const one = personNo === undefined ? sql`true` : sql`i.person_no = ${personNo}`;
    const rows = await ex.q<PersonRow & { base: number; start_date: string; pause_date: string | null }>(sql`
      select p.*, i.base, i.start_date, i.pause_date from core_insurance i
      join core_person p on p.region_code = i.region_code and p.person_no = i.person_no
      where i.region_code = ${regionCode} and i.unit_no = ${unitNo} and i.insurance_type = '310' and ${one}
      order by i.start_date, i.person_no`);
    return rows.map((r) => {
      const p = this.toPerson(r);
      return {
        personNo: p.personNo,
        name: p.name,
        residentId: p.residentId,
        base: r.base,
        startDate: dateText(r.start_date),
        endDate: dateOrNull(r.pause_date),
      };
    });
  }

  async addStaff(input: StaffAddInput): Promise<UnitStaff> {
    assertRegion(input.regionCode);
    const { regionCode, unitNo } = input;
    assertFenInput(input.base, 'base');
    assertDate(input.startDate, 'startDate');
    const residentId = String(input.residentId ?? '').toUpperCase();
    if (!isValidResidentId(residentId)) throw coreError('CORE_INVALID_RESIDENT_ID');
    await this.unitRow(this.db, regionCode, unitNo);
    const personNo = await this.db.tx(async (tx) => {
      const idx = this.residentIdIndex(residentId);
      const person = await tx.one<PersonRow>(sql`select * from core_person
        where region_code = ${regionCode} and resident_id_idx = ${idx} for update`);
      const no =
        person?.person_no ??
        (await this.createPerson(tx, { regionCode, name: input.name, residentId, personType: 'employee' }));
      const current = await tx.one<{ unit_no: string | null; status: string }>(sql`select unit_no, status
        from core_insurance where region_code = ${regionCode} and person_no = ${no} and insurance_type = '310'`);
      if (current?.status === 'active') {
        if (current.unit_no === unitNo) throw coreError('CORE_STAFF_EXISTS');
        throw coreError('CORE_STAFF_EXISTS', '该人员在其他单位有正常参保记录，请先由原单位减员');
      }
      await tx.q(sql`insert into core_insurance(region_code, person_no, insurance_type, status, start_date, unit_no, base)
        values (${regionCode}, ${no}, '310', 'active', ${input.startDate}, ${unitNo}, ${input.base})
        on conflict (region_code, person_no, insurance_type) do update set status = 'active',
          start_date = excluded.start_date, pause_date = null, unit_no = excluded.unit_no, base = excluded.base`);
      await tx.q(sql`update core_person set person_type = 'employee' where region_code = ${regionCode}
        and person_no = ${no} and person_type in ('resident', 'flexible')`);
      await this.openAccount(tx, regionCode, no);
      return no;
    });
    return this.staffRow(this.db, regionCode, unitNo, personNo);
  }

  async removeStaff(input: StaffRemoveInput): Promise<UnitStaff> {
    assertRegion(input.regionCode);
    assertDate(input.endDate, 'endDate');
    const updated = await this.db.q(sql`update core_insurance set status = 'terminated', pause_date = ${input.endDate}
      where region_code = ${input.regionCode} and person_no = ${input.personNo} and insurance_type = '310'
        and unit_no = ${input.unitNo} and status = 'active' returning 1`);
    if (updated.length === 0) throw coreError('CORE_STAFF_NOT_FOUND');
    return this.staffRow(this.db, input.regionCode, input.unitNo, input.personNo);
  }

  async listStaff(regionCode: string, unitNo: string): Promise<UnitStaff[]> {
    assertRegion(regionCode);
    await this.unitRow(this.db, regionCode, unitNo);
    return this.staffRows(this.db, regionCode, unitNo);
  }

  // -------------------------------------------------------------------------------------- registry/catalogue

  async listInstitutions(regionCode: string, kind?: InstitutionKind): Promise<Institution[]> {
    assertRegion(regionCode);
    const k = kind === undefined ? sql`true` : sql`kind = ${kind}`;
    const rows = await this.db.q<{
      code: string;
      region_code: string;
      kind: InstitutionKind;
      name: string;
      level: number;
    }>(sql`select * from core_institution where region_code = ${regionCode} and ${k} order by code`);
    return rows.map(toInstitution);
  }

  async getInstitution(regionCode: string, code: string): Promise<Institution> {
    assertRegion(regionCode);
    const row = await this.db.one<{
      code: string;
      region_code: string;
      kind: InstitutionKind;
      name: string;
      level: number;
    }>(sql`select * from core_institution where region_code = ${regionCode} and code = ${code}`);
    if (!row) throw coreError('CORE_INSTITUTION_NOT_FOUND', `机构编码 ${code}`);
    return toInstitution(row);
  }

  async catalogueItems(regionCode: string, codes: string[]): Promise<CatalogueItem[]> {
    assertRegion(regionCode);
    if (codes.length === 0) return [];
    const list = sql.join(
      [...new Set(codes)].map((c) => sql`${String(c)}`),
      sql`, `,
    );
    const rows = await this.db.q<CatalogueRow>(sql`select * from core_catalogue
      where region_code = ${regionCode} and code in (${list}) order by code`);
    return rows.map(toCatalogueItem);
  }

  async searchCatalogue(regionCode: string, query: CatalogueQuery = {}): Promise<Page<CatalogueItem>> {
    assertRegion(regionCode);
    const { page, pageSize, offset } = pageArgs(query);
    const f = [sql`region_code = ${regionCode}`];
    if (query.q) f.push(sql`(name like ${`%${query.q}%`} or code like ${`${query.q}%`})`);
    if (query.category) f.push(sql`category = ${query.category}`);
    if (query.itemClass) f.push(sql`item_class = ${query.itemClass}`);
    const where = sql.join(f, sql` and `);
    const rows = await this.db.q<CatalogueRow & { total: number }>(sql`select *, count(*) over ()::int8 as total
      from core_catalogue where ${where} order by code limit ${pageSize} offset ${offset}`);
    return { page, pageSize, total: rows[0]?.total ?? 0, items: rows.map(toCatalogueItem) };
  }

  // ------------------------------------------------------------------------------------------------- policy

  async listPolicies(regionCode: string): Promise<PolicyVersion[]> {
    assertRegion(regionCode);
    const rows = await this.db.q<{
      region_code: string;
      version: string;
      effective_from: string;
      created_at: unknown;
      document: unknown;
    }>(sql`select * from core_policy where region_code = ${regionCode} order by effective_from desc`);
    return rows.map((r) => ({
      regionCode: r.region_code,
      version: r.version,
      effectiveFrom: dateText(r.effective_from),
      createdAt: iso(r.created_at),
      policy: r.document,
    }));
  }

  async createPolicy(regionCode: string, document: unknown): Promise<PolicyVersion> {
    assertRegion(regionCode);
    let policy: Policy;
    try {
      policy = parsePolicy(document);
    } catch (err) {
      throw engineError(err);
    }
    if (policy.regionCode !== regionCode) {
      throw new AppError(
        422,
        'CORE_INVALID_POLICY',
        '待遇政策无效',
        `政策的统筹区 ${policy.regionCode} 与 ${regionCode} 不符`,
        {
          errors: [{ field: 'regionCode', message: `应为 ${regionCode}` }],
        },
      );
    }
    await this.insertPolicy(this.db, policy);
    this.policyCache.delete(regionCode);
    const created = (await this.listPolicies(regionCode)).find((p) => p.version === policy.version);
    if (!created) throw new Error('policy vanished');
    return created;
  }

  async insertPolicy(ex: Executor, policy: Policy): Promise<void> {
    const rows = await ex.q(sql`insert into core_policy(region_code, version, effective_from, document)
      values (${policy.regionCode}, ${policy.version}, ${policy.effectiveFrom}, ${JSON.stringify(policy)}::jsonb)
      on conflict do nothing returning 1`);
    if (rows.length === 0) {
      throw coreError('CORE_POLICY_VERSION_EXISTS', `版本 ${policy.version} 或生效日期 ${policy.effectiveFrom} 已存在`);
    }
  }

  private async policies(ex: Executor, regionCode: string): Promise<Policy[]> {
    const cached = this.policyCache.get(regionCode);
    if (cached && Date.now() - cached.at < 5_000) return cached.policies;
    const rows = await ex.q<{ document: unknown }>(
      sql`select document from core_policy where region_code = ${regionCode}`,
    );
    const policies = rows.map((r) => parsePolicy(r.document));
    this.policyCache.set(regionCode, { at: Date.now(), policies });
    return policies;
  }

  // --------------------------------------------------------------------------------------------- settlement

  private toVisit(r: VisitRow): Visit {
    return {
      visitId: r.visit_id,
      regionCode: r.region_code,
      personNo: r.person_no,
      institutionCode: r.institution_code,
      institutionLevel: r.institution_level as Visit['institutionLevel'],
      insuranceType: r.insurance_type,
      medicalType: r.medical_type,
      beginAt: iso(r.begin_at),
      state: r.state,
    };
  }

  private async visitRow(ex: Executor, regionCode: string, visitId: string, lock = false): Promise<VisitRow> {
    const row = await ex.one<VisitRow>(
      prepared(sql`select * from core_visit where region_code = ${regionCode}
      and visit_id = ${String(visitId)} ${lock ? sql`for update` : sql``}`),
    );
    if (!row) throw coreError('CORE_VISIT_NOT_FOUND', `就诊ID ${visitId}`);
    return row;
  }

  async registerVisit(input: VisitInput): Promise<Visit> {
    assertRegion(input.regionCode);
    const { regionCode } = input;
    if (!input.requestId) throw coreError('CORE_INVALID_INPUT', '缺少报文ID');
    if (!['11', '14', '21', '41'].includes(input.medicalType)) {
      throw coreError('CORE_INVALID_INPUT', `不支持的医疗类别 ${String(input.medicalType)}`);
    }
    // one round trip: a visit of this request id, the person, the person's insurances and the institution
    const found = await this.db.one<{
      existing: boolean;
      person: boolean;
      insurances: Array<{ insurance_type: InsuranceType; status: string }> | null;
      institution: { code: string; region_code: string; kind: InstitutionKind; name: string; level: number } | null;
    }>(sql`select
        exists(select 1 from core_visit where region_code = ${regionCode} and request_id = ${input.requestId}) as existing,
        exists(select 1 from core_person where region_code = ${regionCode} and person_no = ${input.personNo}) as person,
        (select json_agg(json_build_object('insurance_type', insurance_type, 'status', status) order by insurance_type)
          from core_insurance where region_code = ${regionCode} and person_no = ${input.personNo}) as insurances,
        (select row_to_json(i) from core_institution i
          where i.region_code = ${regionCode} and i.code = ${input.institutionCode}) as institution`);
    if (found?.existing) {
      const existing = await this.db.one<VisitRow>(sql`select * from core_visit where region_code = ${regionCode}
        and request_id = ${input.requestId}`);
      if (existing) return this.toVisit(existing);
    }
    if (!found?.person) {
      throw coreError('CORE_PERSON_NOT_FOUND', `参保人编号 ${input.personNo} 在统筹区 ${regionCode} 不存在`);
    }
    const insuranceType = pickActiveInsurance(found.insurances ?? [], input.insuranceType);
    if (!found.institution) throw coreError('CORE_INSTITUTION_NOT_FOUND', `机构编码 ${input.institutionCode}`);
    const institution = toInstitution(found.institution);
    if ((institution.kind === 'pharmacy') !== (input.medicalType === '41')) {
      throw coreError('CORE_INVALID_INPUT', '药店只能办理购药（41），医院不能办理购药');
    }
    const beginAt = input.beginAt ? new Date(input.beginAt) : this.now();
    if (Number.isNaN(beginAt.getTime())) throw coreError('CORE_INVALID_INPUT', `就诊时间无效 ${input.beginAt}`);
    // the visit id from the serial and the insert in one statement (as serial(): prefix + at least 12 digits)
    const row = await this.db.one<VisitRow>(sql`insert into core_visit(region_code, visit_id, request_id, person_no,
          institution_code, institution_level, insurance_type, medical_type, begin_at, diagnosis_code, state)
        select ${regionCode}, ${`V${regionCode}`} || lpad(n, greatest(length(n), 12), '0'), ${input.requestId},
          ${input.personNo}, ${institution.code}, ${institution.level}, ${insuranceType}, ${input.medicalType},
          ${beginAt.toISOString()}, ${input.diagnosisCode ?? null}, 'open'
        from (select nextval('core_serial')::int8::text as n) serial
        on conflict (region_code, request_id) do nothing returning *`);
    if (!row) return this.registerVisit(input); // a concurrent retry won
    return this.toVisit(row);
  }

  /** 2203: diagnosis and other visit details (reference core zone keeps the main diagnosis). */
  async updateVisit(regionCode: string, visitId: string, diagnosisCode: string | null): Promise<Visit> {
    const v = await this.visitRow(this.db, regionCode, visitId);
    if (v.state !== 'open') throw coreError('CORE_VISIT_CLOSED');
    await this.db.q(sql`update core_visit set diagnosis_code = ${diagnosisCode}
      where region_code = ${regionCode} and visit_id = ${visitId}`);
    return this.toVisit(v);
  }

  async cancelVisit(regionCode: string, visitId: string): Promise<Visit> {
    assertRegion(regionCode);
    return this.db.tx(async (tx) => {
      const v = await this.visitRow(tx, regionCode, visitId, true);
      if (v.state === 'cancelled') return this.toVisit(v);
      if (v.state !== 'open') throw coreError('CORE_ALREADY_SETTLED', '已结算的就诊需先冲正结算');
      await tx.q(
        sql`update core_visit set state = 'cancelled' where region_code = ${regionCode} and visit_id = ${visitId}`,
      );
      return this.toVisit({ ...v, state: 'cancelled' });
    });
  }

  async uploadFees(regionCode: string, visitId: string, lines: FeeLineInput[]): Promise<FeeLineResult[]> {
    assertRegion(regionCode);
    if (!Array.isArray(lines) || lines.length === 0) throw coreError('CORE_NO_FEES', '费用明细为空');
    const seen = new Set<string>();
    for (const [i, l] of lines.entries()) {
      if (typeof l.lineNo !== 'string' || l.lineNo === '' || seen.has(l.lineNo)) {
        throw coreError('CORE_INVALID_INPUT', `第 ${i + 1} 行：明细流水号缺失或重复`);
      }
      seen.add(l.lineNo);
      assertFenInput(l.unitPrice, `第 ${i + 1} 行单价`);
      if (typeof l.quantity !== 'number' || !Number.isInteger(l.quantity) || l.quantity < 1 || l.quantity > 1_000_000) {
        throw coreError(
          'CORE_INVALID_QUANTITY',
          `第 ${i + 1} 行数量应为 1..1000000 的整数，收到 ${String(l.quantity)}`,
        );
      }
      if (!Number.isSafeInteger(l.unitPrice * l.quantity))
        throw coreError('CORE_INVALID_AMOUNT', `第 ${i + 1} 行金额过大`);
    }
    const items = new Map(
      (
        await this.catalogueItems(
          regionCode,
          lines.map((l) => l.code),
        )
      ).map((c) => [c.code, c]),
    );
    const unknown = lines.filter((l) => !items.has(l.code)).map((l) => l.code);
    if (unknown.length > 0) {
      throw coreError('CORE_UNKNOWN_ITEM_CODE', `未知编码：${unknown.join('，')}`, { codes: unknown });
    }
    return this.db.tx(async (tx) => {
      const v = await this.visitRow(tx, regionCode, visitId, true);
      if (v.state !== 'open') throw coreError('CORE_VISIT_CLOSED');
      await tx.q(sql`delete from core_fee_line where region_code = ${regionCode} and visit_id = ${visitId}`);
      const values = lines.map((l) => {
        const c = items.get(l.code) as CatalogueItem;
        return sql`(${regionCode}, ${visitId}, ${l.lineNo}, ${c.code}, ${c.name}, ${c.itemClass}, ${l.quantity},
          ${l.unitPrice}, ${c.selfPayRatioBp}, ${c.priceCap})`;
      });
      // the new lines (as stored) and the bumped fee version in one statement
      const stored = await tx.q<FeeRow>(sql`with added as (
          insert into core_fee_line(region_code, visit_id, line_no, code, name, item_class, quantity,
            unit_price, self_pay_ratio_bp, price_cap) values ${sql.join(values, sql`, `)}
          returning line_no, code, name, item_class, quantity, unit_price, self_pay_ratio_bp, price_cap
        ), bumped as (
          update core_visit set fees_version = fees_version + 1, presettled_version = null
          where region_code = ${regionCode} and visit_id = ${visitId}
        )
        select * from added order by line_no`);
      const policy = await this.policyFor(tx, regionCode, v);
      return stored.map((f) => lineResult(f, policy.bClassSelfPayRatioBp));
    });
  }

  async cancelFees(regionCode: string, visitId: string): Promise<void> {
    assertRegion(regionCode);
    await this.db.tx(async (tx) => {
      const v = await this.visitRow(tx, regionCode, visitId, true);
      if (v.state !== 'open') throw coreError('CORE_VISIT_CLOSED');
      await tx.q(sql`delete from core_fee_line where region_code = ${regionCode} and visit_id = ${visitId}`);
      await tx.q(sql`update core_visit set fees_version = fees_version + 1, presettled_version = null
        where region_code = ${regionCode} and visit_id = ${visitId}`);
    });
  }

  private async policyFor(ex: Executor, regionCode: string, v: VisitRow): Promise<Policy> {
    try {
      return selectPolicy(await this.policies(ex, regionCode), regionCode, localDate(new Date(iso(v.begin_at))));
    } catch (err) {
      throw engineError(err);
    }
  }

  /**
   * Everything a settlement needs, in one round trip: the visit, the person, the visit's insurance, the fee lines, the
   * mutual-aid authorisation, the account(s) — locked in person-number order when `lock` (no deadlocks between a payer
   * and a beneficiary settling at once) — and then the visit year's accumulator rows of the person (locked too).
   * With `lock` it locks the visit first (the same order as before: visit, accounts, accumulators); a locked row is the
   * latest committed one. The fee lines are not locked: they change only with the visit's fees_version, under the visit
   * lock, so they are the locked visit's lines unless the statement's snapshot saw another fees_version
   * (`seen_fees_version`, i.e. fees were changed while this waited for the lock) — then the caller reads again, now
   * under the lock.
   */
  private facts(
    ex: Executor,
    regionCode: string,
    visitId: string,
    payer: string | undefined,
    mode: 'lock' | 'presettle' | 'read',
  ) {
    const lock = mode === 'lock';
    // pre-settle: the same statement records the pre-settlement on the fee version this snapshot reads — only if that is
    // still the latest (the scalar subquery reads the snapshot; the UPDATE's condition is checked on the latest row,
    // after waiting for a lock if need be) and the visit is open. The caller undoes it if the engine refuses.
    const key = (t: string) =>
      sql`${sql.raw(t)}.region_code = ${regionCode} and ${sql.raw(t)}.visit_id = ${String(visitId)}`;
    const mark = sql`mark as (update core_visit m set presettled_version = fees_version where ${key('m')}
      and state = 'open' and fees_version = (select s.fees_version from core_visit s where ${key('s')}) returning 1)`;
    // the local (UTC+8) year of the visit, as localDate() computes it
    const year = sql`extract(year from (v.begin_at at time zone 'UTC') + interval '8 hours')::int`;
    return ex.one<Facts>(
      prepared(sql`${
        lock
          ? sql`with v as (select * from core_visit c where ${key('c')} for update)`
          : mode === 'presettle'
            ? sql`with ${mark}`
            : sql``
      } select v.*, p.person_no is not null as person_found, p.birth_date, i.status,${
        lock
          ? sql` (select x.fees_version from core_visit x where x.region_code = v.region_code
          and x.visit_id = v.visit_id) as seen_fees_version,`
          : mode === 'presettle'
            ? sql` exists (select 1 from mark) as marked,`
            : sql``
      }
        (select coalesce(json_agg(f order by f.line_no), '[]'::json) from (select line_no, code, name, item_class,
            quantity, unit_price, self_pay_ratio_bp, price_cap from core_fee_line
          where region_code = v.region_code and visit_id = v.visit_id) f) as fees,
        (select coalesce(json_agg(a order by a.person_no), '[]'::json) from (select person_no, balance
          from core_account where region_code = v.region_code
            and person_no in (v.person_no${payer ? sql`, ${payer}` : sql``})
          order by person_no ${lock ? sql`for update` : sql``}) a) as accounts,
        ${
          payer === undefined
            ? sql`true`
            : sql`exists (select 1 from core_mutual_aid where region_code = v.region_code
          and payer_person_no = ${payer} and beneficiary_person_no = v.person_no and revoked_at is null)`
        } as aid_ok,
        (select coalesce(json_agg(c), '[]'::json) from (select year, grp, deductible_paid, fund_paid
          from core_accumulator where region_code = v.region_code and person_no = v.person_no and year = ${year}
            and insurance_type = v.insurance_type order by grp ${lock ? sql`for update` : sql``}) c) as accumulators
      from ${lock ? sql`v` : sql`core_visit v`}
        left join core_person p on p.region_code = v.region_code and p.person_no = v.person_no
        left join core_insurance i on i.region_code = v.region_code and i.person_no = v.person_no
          and i.insurance_type = v.insurance_type
      ${lock ? sql`` : sql`where ${key('v')}`}`),
    );
  }

  /** Runs the engine on what `facts` read (under the locks when `lock`). */
  private async compute(ex: Executor, v: VisitRow, facts: Facts, input: SettleInput, lock: boolean): Promise<Computed> {
    const regionCode = v.region_code;
    const date = localDate(new Date(iso(v.begin_at)));
    const year = Number(date.slice(0, 4));
    const payer = input.mutualAidPayerPersonNo;
    if (!facts.person_found) throw coreError('CORE_PERSON_NOT_FOUND', `参保人编号 ${v.person_no}`);
    const person = facts;
    if (person.status !== 'active') {
      throw coreError('CORE_INSURANCE_PAUSED', `险种 ${v.insurance_type}:${person.status ?? '未参保'}`);
    }
    const fees = facts.fees;
    if (fees.length === 0) throw coreError('CORE_NO_FEES');
    const policy = await this.policyFor(ex, regionCode, v);
    if (payer !== undefined && !facts.aid_ok) {
      throw coreError('CORE_MUTUAL_AID_NOT_AUTHORISED', `${payer} 未授权 ${v.person_no}`);
    }
    const accounts = facts.accounts;
    const balanceOf = (p: string) => accounts.find((a) => a.person_no === p)?.balance;
    // the rule (not this code) decides whether the account may pay; the own account must exist
    const split = await (async () => {
      const group = policyGroup(policy, v, ageOn(dateText(person.birth_date), date));
      // settle: `facts` locked the year's accumulator rows; the first settlement of the year in this group creates
      // its row, or locks the one a concurrent first settlement just created (ON CONFLICT DO UPDATE locks the row)
      const existing = facts.accumulators.find((a) => a.grp === group && a.year === year);
      const acc =
        lock && !existing
          ? await ex.one<{ deductible_paid: number; fund_paid: number }>(sql`insert into core_accumulator(region_code,
              person_no, year, insurance_type, grp)
            values (${regionCode}, ${v.person_no}, ${year}, ${v.insurance_type}, ${group})
            on conflict (region_code, person_no, year, insurance_type, grp) do update set grp = excluded.grp
            returning deductible_paid, fund_paid`)
          : existing;
      const own = balanceOf(v.person_no);
      try {
        return settleSplit({
          policy,
          insuranceType: v.insurance_type,
          medicalType: v.medical_type,
          institutionLevel: v.institution_level as 1 | 2 | 3,
          age: ageOn(dateText(person.birth_date), date),
          lines: fees.map(toFeeLine),
          accumulators: { deductiblePaidYtd: acc?.deductible_paid ?? 0, fundPaidYtd: acc?.fund_paid ?? 0 },
          accountBalance: own ?? 0,
          useAccount: input.useAccount === true && own !== undefined,
        });
      } catch (err) {
        throw engineError(err);
      }
    })();
    // family mutual aid: the authorising relative's account pays what is still left to pay in cash, up to its balance
    let mutualAid = 0;
    let payerBalance: number | null = null;
    if (payer !== undefined && input.useAccount === true) {
      payerBalance = balanceOf(payer) ?? 0;
      mutualAid = Math.min(payerBalance, split.cashPayment);
    }
    return {
      split,
      mutualAid,
      payerBalance,
      year,
      lines: fees.map((f) => lineResult(f, policy.bClassSelfPayRatioBp)),
    };
  }

  async preSettle(input: SettleInput): Promise<PreSettlement> {
    assertRegion(input.regionCode);
    const key = presettledKey(input.regionCode, input.visitId);
    this.presettled.delete(key);
    // one statement: the visit and everything the engine needs (one snapshot), and the pre-settlement recorded on the
    // fee version of that snapshot if it is still the latest
    const v = await this.facts(this.db, input.regionCode, input.visitId, input.mutualAidPayerPersonNo, 'presettle');
    if (!v) throw coreError('CORE_VISIT_NOT_FOUND', `就诊ID ${input.visitId}`);
    if (v.state === 'settled') throw coreError('CORE_ALREADY_SETTLED');
    if (v.state !== 'open') throw coreError('CORE_VISIT_CLOSED');
    let c: Computed;
    try {
      c = await this.compute(this.db, v, v, input, false);
    } catch (err) {
      // the engine refused: no pre-settlement of this fee version after all (the mark is put back as it was)
      if (v.marked) {
        await this.db.q(sql`update core_visit set presettled_version = ${v.presettled_version}
          where region_code = ${input.regionCode} and visit_id = ${input.visitId}
            and fees_version = ${v.fees_version} and presettled_version = fees_version`);
      }
      throw err;
    }
    if (!v.marked) throw coreError('CORE_VISIT_CLOSED', '预结算期间费用明细或就诊状态已变化，请重试');
    // kept for settle (without the fee lines: the fee version stands for them)
    if (this.optimisticSettle) {
      if (this.presettled.size >= PRESETTLED_MAX) {
        const oldest = this.presettled.keys().next();
        if (!oldest.done) this.presettled.delete(oldest.value);
      }
      this.presettled.set(key, {
        at: Date.now(),
        useAccount: input.useAccount === true,
        payer: input.mutualAidPayerPersonNo,
        facts: { ...v, fees: [] },
        computed: { ...c, lines: [] },
      });
    }
    return { ...toSplit(c.split, c.mutualAid), visitId: v.visit_id, lines: c.lines };
  }

  async settle(input: SettleInput & { requestId: string }): Promise<Settlement> {
    assertRegion(input.regionCode);
    const { regionCode } = input;
    if (!input.requestId) throw coreError('CORE_INVALID_INPUT', '缺少报文ID');
    if (this.optimisticSettle) {
      const done = (await this.settleFromPreSettlement(input)) ?? (await this.settleUnlocked(input));
      if (done) return done;
    }
    this.settlePaths.locking++;
    try {
      return await this.db.tx(async (tx) => {
        // the visit locked, and under its lock the accounts and accumulators, with all the engine needs: one round trip
        let facts = await this.facts(tx, regionCode, input.visitId, input.mutualAidPayerPersonNo, 'lock');
        if (!facts) throw coreError('CORE_VISIT_NOT_FOUND', `就诊ID ${input.visitId}`);
        const v: VisitRow = facts;
        // The msgid is checked before anything else can fail. A settlement of this visit exists only if the visit is
        // 'settled' (both are written in one transaction), so an open, pre-settled visit skips the look-up: a msgid
        // used for another visit then fails the insert (unique request_id) and the catch below answers CONFLICT.
        const settleable =
          v.state === 'open' && v.presettled_version !== null && v.presettled_version === v.fees_version;
        if (!settleable) {
          // a concurrent retry may have committed while we waited for the visit lock
          const again = await this.settlementByRequest(tx, regionCode, input.requestId, input.visitId);
          if (again) return again;
          if (v.state === 'settled') throw coreError('CORE_ALREADY_SETTLED');
          if (v.state !== 'open') throw coreError('CORE_VISIT_CLOSED');
          throw coreError('CORE_NOT_PRESETTLED', '请先预结算（费用明细变更后需重新预结算）');
        }
        let c: Computed;
        if (facts.seen_fees_version !== facts.fees_version) {
          // the fee lines changed while we waited for the visit lock: read them (and the rest) again, under the lock
          facts = await this.facts(tx, regionCode, v.visit_id, input.mutualAidPayerPersonNo, 'lock');
          if (!facts) throw coreError('CORE_VISIT_NOT_FOUND', `就诊ID ${input.visitId}`);
        }
        try {
          c = await this.compute(tx, v, facts, input, true);
        } catch (err) {
          // a refusal (no statement failed): a msgid used for another visit is still CORE_REQUEST_ID_CONFLICT first
          if (err instanceof AppError) await this.settlementByRequest(tx, regionCode, input.requestId, input.visitId);
          throw err;
        }
        const s = toSplit(c.split, c.mutualAid);
        const settlementId = `S${regionCode}${Date.now().toString(36).toUpperCase()}${randomHex(4).toUpperCase()}`;
        const payer = c.mutualAid > 0 ? (input.mutualAidPayerPersonNo ?? null) : null;
        const p = postingParts(regionCode, {
          kind: 'settlement',
          reference: settlementId,
          memo: `结算 ${v.institution_code}`,
          entries: [
            { account: personAccount(v.person_no), amount: -c.split.accountPayment },
            ...(payer
              ? [{ account: personAccount(payer), amount: -c.mutualAid, kind: 'mutual_aid_out' as const }]
              : []),
            { account: SYSTEM_ACCOUNTS.settlementClearing, amount: c.split.accountPayment + c.mutualAid },
          ],
        });
        // ONE statement writes the settlement: the account moves (never below zero), the ledger entries, the
        // accumulators, the visit state and the settlement row — all of it only if every account move happened. (The
        // three fault points after it are one point: a crash there leaves nothing, as the transaction rolls back.)
        const ok = p.moved ? sql`(select count(*) = ${p.personal.length} from moved)` : sql`true`;
        const row = await tx.one<SettlementRow>(
          prepared(sql`with ${p.moved ? sql`moved as (${p.moved}),` : sql``}
          ${
            p.values
              ? sql`ledger as (insert into core_ledger_entry(region_code, txn_id, account, amount, kind, reference, memo)
            select * from (values ${p.values}) as e(region_code, txn_id, account, amount, kind, reference, memo)
            where ${ok}),`
              : sql``
          }
          acc as (update core_accumulator
            set deductible_paid = ${c.split.accumulatorsAfter.deductiblePaidYtd},
              fund_paid = ${c.split.accumulatorsAfter.fundPaidYtd}
            where region_code = ${regionCode} and person_no = ${v.person_no} and year = ${c.year}
              and insurance_type = ${v.insurance_type} and grp = ${c.split.accumulatorGroup} and ${ok}),
          visit as (update core_visit set state = 'settled'
            where region_code = ${regionCode} and visit_id = ${v.visit_id} and ${ok})
          insert into core_settlement(region_code, settlement_id, request_id,
            visit_id, person_no, institution_code, policy_version, total, fund_payment, account_payment,
            mutual_aid_payment, cash_payment, mutual_aid_payer, accumulator_year, split, state)
          select ${regionCode}::char(6), ${settlementId}::text, ${input.requestId}::text, ${v.visit_id}::text,
            ${v.person_no}::text, ${v.institution_code}::text, ${c.split.policyVersion}::text, ${s.total}::int8,
            ${s.fundPayment}::int8, ${s.accountPayment}::int8, ${s.mutualAidPayment}::int8, ${s.cashPayment}::int8,
            ${payer}::text, ${c.year}::int, ${JSON.stringify(c.split)}::jsonb, 'settled'
          where ${ok}
          returning *`),
        );
        if (!row) throw insufficientBalance(p.personal);
        await this.fault('settle:after-ledger');
        await this.fault('settle:after-settlement-row');
        await this.fault('settle:after-accumulators');
        return toSettlement(row as SettlementRow);
      });
    } catch (err) {
      // two retries of one msgid raced: the loser hits the unique constraint; answer with the winner's result
      if (isUniqueViolation(err)) {
        const winner = await this.settlementByRequest(this.db, regionCode, input.requestId, input.visitId);
        if (winner) return winner;
      }
      throw err;
    }
  }

  /**
   * The common case in ONE round trip: the pre-settlement this process recorded for the visit (`PreSettled`) is applied
   * as it is, without reading or running the engine again — when settle's inputs (useAccount, family-aid payer) are the
   * pre-settlement's and the policy in force on the visit date is still the version it used (versions never change),
   * the guarded statement of `writeChecked` finds the rows it was computed from still as they were (visit open and
   * pre-settled on that fee version, i.e. the same fee lines; the same balance(s), no account opened since; the same
   * accumulator values; the insurance still active; the mutual-aid authorisation still in place). The engine is a pure
   * function of exactly these, so its result is the one a fresh computation would give. Anything else answers undefined
   * (and the recorded pre-settlement is dropped): the caller reads afresh.
   */
  private async settleFromPreSettlement(input: SettleInput & { requestId: string }): Promise<Settlement | undefined> {
    const key = presettledKey(input.regionCode, input.visitId);
    const p = this.presettled.get(key);
    if (!p) return undefined;
    this.presettled.delete(key); // used once: a retry or a second settle reads afresh
    if (Date.now() - p.at > PRESETTLED_TTL_MS) return undefined;
    if (p.useAccount !== (input.useAccount === true) || p.payer !== input.mutualAidPayerPersonNo) return undefined;
    let policy: Policy;
    try {
      policy = await this.policyFor(this.db, input.regionCode, p.facts);
    } catch (err) {
      if (err instanceof AppError) return undefined;
      throw err;
    }
    if (policy.version !== p.computed.split.policyVersion) return undefined;
    const done = await this.writeChecked(input, p.facts, p.computed);
    if (done) this.settlePaths.presettled++;
    return done;
  }

  /**
   * The common case without a usable recorded pre-settlement, in 2 round trips and no transaction: read (one snapshot,
   * no locks), run the engine, then the guarded statement of `writeChecked`. Anything else — not settleable as read, a
   * refusal, or whatever `writeChecked` leaves to the locking path — answers undefined, and the caller takes the
   * locking transaction, which decides.
   */
  private async settleUnlocked(input: SettleInput & { requestId: string }): Promise<Settlement | undefined> {
    const { regionCode } = input;
    const f = await this.facts(this.db, regionCode, input.visitId, input.mutualAidPayerPersonNo, 'read');
    if (!f) return undefined;
    if (f.state !== 'open' || f.presettled_version === null || f.presettled_version !== f.fees_version)
      return undefined;
    let c: Computed;
    try {
      c = await this.compute(this.db, f, f, input, false);
    } catch (err) {
      if (err instanceof AppError) return undefined;
      throw err;
    }
    const done = await this.writeChecked(input, f, c);
    if (done) this.settlePaths.read++;
    return done;
  }

  /**
   * ONE statement that locks the visit, the account(s) and the accumulator row — in the locking path's order — and
   * checks they are still exactly as in `f` (what `c` was computed from): visit open and pre-settled on the same fee
   * version (so the same fee lines); the same balances, and no account of the person (or payer) that `f` did not have;
   * the same accumulator values; the visit's insurance still active; the family-aid authorisation still in place. Only
   * then it writes what the locking path writes. The engine's result depends on nothing else that can change (the
   * policy is the caller's check), so it is the result the locking path would compute. No accumulator row yet (the
   * year's first settlement in the group creates it), a failed check, a duplicate msgid, a balance below zero (the
   * CHECK on core_account aborts the whole statement) or a deadlock answer undefined: nothing was written.
   */
  private async writeChecked(
    input: SettleInput & { requestId: string },
    f: Facts,
    c: Computed,
  ): Promise<Settlement | undefined> {
    const { regionCode } = input;
    if (f.state !== 'open') return undefined;
    const seenAcc = f.accumulators.find((a) => a.grp === c.split.accumulatorGroup && a.year === c.year);
    if (!seenAcc) return undefined; // the year's first settlement in this group creates the row: the locking path
    const s = toSplit(c.split, c.mutualAid);
    const settlementId = `S${regionCode}${Date.now().toString(36).toUpperCase()}${randomHex(4).toUpperCase()}`;
    const aidPayer = input.mutualAidPayerPersonNo;
    const payer = c.mutualAid > 0 ? (aidPayer ?? null) : null;
    const p = postingParts(regionCode, {
      kind: 'settlement',
      reference: settlementId,
      memo: `结算 ${f.institution_code}`,
      entries: [
        { account: personAccount(f.person_no), amount: -c.split.accountPayment },
        ...(payer ? [{ account: personAccount(payer), amount: -c.mutualAid, kind: 'mutual_aid_out' as const }] : []),
        { account: SYSTEM_ACCOUNTS.settlementClearing, amount: c.split.accountPayment + c.mutualAid },
      ],
    });
    const accKey = sql`region_code = ${regionCode} and person_no = ${f.person_no} and year = ${c.year}
      and insurance_type = ${f.insurance_type} and grp = ${c.split.accumulatorGroup}`;
    const visitKey = sql`region_code = ${regionCode} and visit_id = ${f.visit_id}`;
    const accounts = f.accounts.map((a) => sql`(${a.person_no}::text, ${a.balance}::int8)`);
    // persons whose account the read did not find: still none (an account opened since would change the result)
    const missing = [f.person_no, ...(aidPayer === undefined ? [] : [aidPayer])].filter(
      (who) => !f.accounts.some((a) => a.person_no === who),
    );
    let row: SettlementRow | undefined;
    try {
      row = await this.db.one<SettlementRow>(
        prepared(sql`with vis as (select 1 from core_visit where ${visitKey} and state = 'open'
            and fees_version = ${f.fees_version} and presettled_version = ${f.fees_version} for update),
          ${
            accounts.length > 0
              ? sql`acct as (select 1 from core_account where region_code = ${regionCode}
            and (person_no, balance) in (values ${sql.join(accounts, sql`, `)}) order by person_no for update),`
              : sql``
          }
          accu as (select 1 from core_accumulator where ${accKey}
            and deductible_paid = ${seenAcc.deductible_paid} and fund_paid = ${seenAcc.fund_paid} for update),
          ok as (select (select count(*) from vis) = 1
            and ${accounts.length > 0 ? sql`(select count(*) from acct) = ${accounts.length}` : sql`true`}
            and (select count(*) from accu) = 1
            and exists (select 1 from core_insurance where region_code = ${regionCode} and person_no = ${f.person_no}
              and insurance_type = ${f.insurance_type} and status = 'active')
            ${
              aidPayer === undefined
                ? sql``
                : sql`and exists (select 1 from core_mutual_aid where region_code = ${regionCode}
              and payer_person_no = ${aidPayer} and beneficiary_person_no = ${f.person_no} and revoked_at is null)`
            }
            ${
              missing.length > 0
                ? sql`and not exists (select 1 from core_account where region_code = ${regionCode}
              and person_no in (${sql.join(
                missing.map((m) => sql`${m}`),
                sql`, `,
              )}))`
                : sql``
            } as ok),
          ${
            p.moved
              ? sql`moved as (update core_account a set balance = a.balance + d.amount
            from (values ${p.deltas}) as d(person_no, amount)
            where a.region_code = ${regionCode} and a.person_no = d.person_no and (select ok from ok)),`
              : sql``
          }
          ${
            p.values
              ? sql`ledger as (insert into core_ledger_entry(region_code, txn_id, account, amount, kind, reference, memo)
            select * from (values ${p.values}) as e(region_code, txn_id, account, amount, kind, reference, memo)
            where (select ok from ok)),`
              : sql``
          }
          acc as (update core_accumulator set deductible_paid = ${c.split.accumulatorsAfter.deductiblePaidYtd},
              fund_paid = ${c.split.accumulatorsAfter.fundPaidYtd}
            where ${accKey} and (select ok from ok)),
          visit as (update core_visit set state = 'settled' where ${visitKey} and (select ok from ok))
          insert into core_settlement(region_code, settlement_id, request_id,
            visit_id, person_no, institution_code, policy_version, total, fund_payment, account_payment,
            mutual_aid_payment, cash_payment, mutual_aid_payer, accumulator_year, split, state)
          select ${regionCode}::char(6), ${settlementId}::text, ${input.requestId}::text, ${f.visit_id}::text,
            ${f.person_no}::text, ${f.institution_code}::text, ${c.split.policyVersion}::text, ${s.total}::int8,
            ${s.fundPayment}::int8, ${s.accountPayment}::int8, ${s.mutualAidPayment}::int8, ${s.cashPayment}::int8,
            ${payer}::text, ${c.year}::int, ${JSON.stringify(c.split)}::jsonb, 'settled'
          where (select ok from ok)
          returning *`),
      );
    } catch (err) {
      // unique request_id (another visit's msgid), balance below zero, deadlock: the locking path decides
      if (['23505', '23514', '40P01'].includes((err as { code?: string })?.code ?? '')) return undefined;
      throw err;
    }
    return row ? toSettlement(row) : undefined;
  }

  private async settlementByRequest(
    ex: Executor,
    regionCode: string,
    requestId: string,
    visitId: string,
  ): Promise<Settlement | undefined> {
    const row = await ex.one<SettlementRow>(
      prepared(sql`select * from core_settlement where region_code = ${regionCode} and request_id = ${requestId}`),
    );
    if (!row) return undefined;
    if (row.visit_id !== visitId) throw coreError('CORE_REQUEST_ID_CONFLICT', `报文ID ${requestId} 已用于其他就诊`);
    return toSettlement(row);
  }

  async getSettlement(regionCode: string, settlementId: string): Promise<Settlement> {
    assertRegion(regionCode);
    const row = await this.db.one<SettlementRow>(sql`select * from core_settlement where region_code = ${regionCode}
      and settlement_id = ${String(settlementId)}`);
    if (!row) throw coreError('CORE_SETTLEMENT_NOT_FOUND', `结算ID ${settlementId}`);
    return toSettlement(row);
  }

  async reverse(input: ReverseInput): Promise<Reversal> {
    assertRegion(input.regionCode);
    const { regionCode } = input;
    if (!input.requestId) throw coreError('CORE_INVALID_INPUT', '缺少报文ID');
    return this.db.tx(async (tx) => {
      const row = await tx.one<SettlementRow>(sql`select * from core_settlement where region_code = ${regionCode}
        and settlement_id = ${String(input.settlementId)} for update`);
      if (!row) throw coreError('CORE_SETTLEMENT_NOT_FOUND', `结算ID ${input.settlementId}`);
      if (row.state === 'reversed') {
        if (row.reversal_request_id === input.requestId) return toReversal(row);
        throw coreError('CORE_ALREADY_REVERSED');
      }
      const split = row.split;
      const owners = [...new Set([row.person_no, ...(row.mutual_aid_payer ? [row.mutual_aid_payer] : [])])].sort();
      const accounts = await tx.q<{ person_no: string; balance: number }>(sql`select person_no, balance
        from core_account where region_code = ${regionCode} and person_no in (${sql.join(
          owners.map((o) => sql`${o}`),
          sql`, `,
        )}) order by person_no for update`);
      const acc = await tx.one<{ deductible_paid: number; fund_paid: number }>(sql`select deductible_paid, fund_paid
        from core_accumulator where region_code = ${regionCode} and person_no = ${row.person_no}
          and year = ${row.accumulator_year} and insurance_type = ${split.insuranceType}
          and grp = ${split.accumulatorGroup} for update`);
      let restored: ReturnType<typeof reverseSplit>;
      try {
        restored = reverseSplit(
          split,
          { deductiblePaidYtd: acc?.deductible_paid ?? 0, fundPaidYtd: acc?.fund_paid ?? 0 },
          accounts.find((a) => a.person_no === row.person_no)?.balance ?? 0,
        );
      } catch (err) {
        throw engineError(err);
      }
      const at = this.now().toISOString();
      const updated =
        await tx.one<SettlementRow>(sql`update core_settlement set state = 'reversed', reversed_at = ${at},
          reversal_request_id = ${input.requestId}
        where region_code = ${regionCode} and settlement_id = ${row.settlement_id} returning *`);
      await this.fault('reverse:after-settlement-row');
      await this.post(tx, regionCode, {
        kind: 'settlement_reversal',
        reference: row.settlement_id,
        memo: '结算冲正',
        entries: [
          { account: personAccount(row.person_no), amount: split.accountPayment },
          ...(row.mutual_aid_payer
            ? [
                {
                  account: personAccount(row.mutual_aid_payer),
                  amount: row.mutual_aid_payment,
                  kind: 'mutual_aid_reversal' as const,
                },
              ]
            : []),
          { account: SYSTEM_ACCOUNTS.settlementClearing, amount: -(split.accountPayment + row.mutual_aid_payment) },
        ],
      });
      await this.fault('reverse:after-ledger');
      await tx.q(sql`update core_accumulator set deductible_paid = ${restored.accumulators.deductiblePaidYtd},
          fund_paid = ${restored.accumulators.fundPaidYtd}
        where region_code = ${regionCode} and person_no = ${row.person_no} and year = ${row.accumulator_year}
          and insurance_type = ${split.insuranceType} and grp = ${split.accumulatorGroup}`);
      return toReversal(updated as SettlementRow);
    });
  }

  async accumulators(regionCode: string, personNo: string, year: number): Promise<AccumulatorRow[]> {
    assertRegion(regionCode);
    await this.personRow(this.db, regionCode, personNo);
    const rows = await this.db.q<{
      insurance_type: InsuranceType;
      grp: string;
      deductible_paid: number;
      fund_paid: number;
    }>(
      sql`select insurance_type, grp, deductible_paid, fund_paid from core_accumulator
        where region_code = ${regionCode} and person_no = ${personNo} and year = ${Math.floor(year)}
        order by insurance_type, grp`,
    );
    return rows.map((r) => ({
      insuranceType: r.insurance_type,
      group: r.grp,
      deductiblePaid: r.deductible_paid,
      fundPaid: r.fund_paid,
    }));
  }
}

// --------------------------------------------------------------------------------------------------- helpers

type CatalogueRow = {
  code: string;
  region_code: string;
  category: CatalogueCategory;
  name: string;
  spec: string | null;
  unit: string;
  item_class: 'A' | 'B' | 'C';
  self_pay_ratio_bp: number | null;
  price_cap: number | null;
};

function toCatalogueItem(r: CatalogueRow): CatalogueItem {
  return {
    code: r.code,
    regionCode: r.region_code,
    category: r.category,
    name: r.name,
    spec: r.spec,
    unit: r.unit,
    itemClass: r.item_class,
    selfPayRatioBp: r.self_pay_ratio_bp,
    priceCap: r.price_cap,
  };
}

/** The visit's insurance: the requested (or first) active one; paused or missing ones are refused. */
function pickActiveInsurance(
  rows: Array<{ insurance_type: InsuranceType; status: string }>,
  insuranceType?: InsuranceType,
): InsuranceType {
  const candidates = insuranceType ? rows.filter((r) => r.insurance_type === insuranceType) : rows;
  const active = candidates.find((r) => r.status === 'active');
  if (active) return active.insurance_type;
  if (candidates.length > 0) {
    throw coreError(
      'CORE_INSURANCE_PAUSED',
      `险种 ${candidates.map((c) => `${c.insurance_type}:${c.status}`).join(', ')}`,
    );
  }
  throw coreError('CORE_INSURANCE_PAUSED', insuranceType ? `未参加险种 ${insuranceType}` : '无参保险种');
}

function toInstitution(r: { code: string; region_code: string; kind: InstitutionKind; name: string; level: number }) {
  return { code: r.code, regionCode: r.region_code, kind: r.kind, name: r.name, level: r.level as 1 | 2 | 3 };
}

function toFeeLine(f: FeeRow): FeeLine {
  return {
    code: f.code,
    name: f.name,
    itemClass: f.item_class,
    unitPriceFen: f.unit_price,
    quantity: f.quantity,
    ...(f.item_class === 'B' && f.self_pay_ratio_bp !== null ? { selfPayRatioBp: f.self_pay_ratio_bp } : {}),
    ...(f.price_cap !== null ? { priceCapFen: f.price_cap } : {}),
  };
}

function lineResult(f: FeeRow, defaultRatio: number): FeeLineResult {
  const amount = f.unit_price * f.quantity;
  const ratio = f.item_class === 'A' ? 0 : f.item_class === 'C' ? 10000 : (f.self_pay_ratio_bp ?? defaultRatio);
  const over =
    f.item_class === 'C' || f.price_cap === null || f.unit_price <= f.price_cap
      ? 0
      : (f.unit_price - f.price_cap) * f.quantity;
  const fully = f.item_class === 'C' ? amount : 0;
  // same rounding as the engine (round half up on basis points)
  const pre = f.item_class === 'B' ? Math.floor(((amount - over) * ratio + 5000) / 10000) : 0;
  return {
    lineNo: f.line_no,
    code: f.code,
    name: f.name,
    itemClass: f.item_class,
    quantity: f.quantity,
    unitPrice: f.unit_price,
    amount,
    selfPayRatioBp: ratio,
    priceCap: f.price_cap,
    overPriceCap: over,
    preSelfPay: pre,
    fullySelfPaid: fully,
    inScope: amount - over - pre - fully,
  };
}

function policyGroup(policy: Policy, v: VisitRow, age: number): string {
  const band = policy.ageBands.find((b) => b.minAge <= age && age <= b.maxAge)?.code;
  const rule = policy.rules.find(
    (r) =>
      r.insuranceType === v.insurance_type &&
      r.medicalType === v.medical_type &&
      (r.institutionLevels as number[]).includes(v.institution_level) &&
      band !== undefined &&
      r.ageBands.includes(band),
  );
  // no rule: the engine will raise CORE_NO_POLICY_RULE; the group name is then irrelevant
  return rule?.accumulatorGroup ?? '-';
}

function toSplit(s: SettlementSplit, mutualAid: number): Split {
  return {
    total: s.total,
    fullySelfPaid: s.fullySelfPaid,
    overPriceCap: s.overPriceCap,
    preSelfPay: s.preSelfPay,
    inScope: s.inScope,
    deductibleApplied: s.deductibleApplied,
    fundPayment: s.fundPayment,
    accountPayment: s.accountPayment + mutualAid,
    mutualAidPayment: mutualAid,
    cashPayment: s.cashPayment - mutualAid,
    balanceAfter: s.accountBalanceAfter,
    policyVersion: s.policyVersion,
    insuranceType: s.insuranceType,
    medicalType: s.medicalType,
    accumulatorGroup: s.accumulatorGroup,
  };
}

function toSettlement(r: SettlementRow): Settlement {
  return {
    ...toSplit(r.split, r.mutual_aid_payment),
    settlementId: r.settlement_id,
    visitId: r.visit_id,
    requestId: r.request_id,
    regionCode: r.region_code,
    personNo: r.person_no,
    institutionCode: r.institution_code,
    mutualAidPayerPersonNo: r.mutual_aid_payer,
    state: r.state,
    settledAt: iso(r.settled_at),
    reversedAt: isoOrNull(r.reversed_at),
  };
}

function toReversal(r: SettlementRow): Reversal {
  return {
    settlementId: r.settlement_id,
    regionCode: r.region_code,
    total: r.total,
    fundRefund: r.fund_payment,
    accountRefund: r.account_payment,
    mutualAidRefund: r.mutual_aid_payment,
    cashRefund: r.cash_payment,
    reversedAt: iso(r.reversed_at),
  };
}

/** bigint columns (and counts) of the core_* tables: node-postgres returns them as strings, PGlite as numbers. */
const BIGINT_COLUMNS = new Set([
  'balance',
  'amount',
  'base',
  'unit_part',
  'personal_part',
  'account_credit',
  'unit_price',
  'price_cap',
  'total',
  'fund_payment',
  'account_payment',
  'mutual_aid_payment',
  'cash_payment',
  'deductible_paid',
  'fund_paid',
  'entry_id',
  'ledger_sum',
  'balance_after',
  'staff',
  'n',
]);

function fixRow<T>(row: T): T {
  if (row === null || typeof row !== 'object') return row;
  const r = row as Record<string, unknown>;
  for (const k of Object.keys(r)) if (BIGINT_COLUMNS.has(k) && typeof r[k] === 'string') r[k] = Number(r[k]);
  return row;
}

function numericExecutor(ex: Executor): Executor {
  return {
    orm: ex.orm,
    q: async <T>(query: Parameters<Executor['q']>[0]) => (await ex.q<T>(query)).map(fixRow),
    one: async <T>(query: Parameters<Executor['one']>[0]) => fixRow(await ex.one<T>(query)),
  };
}

/** The database with bigint columns read as numbers on both drivers (inside transactions too). */
function numericRows(db: Database): Database {
  return {
    ...db,
    ...numericExecutor(db),
    tx: (fn) => db.tx((t) => fn(numericExecutor(t))),
  };
}

type Posting = {
  kind: LedgerEntryKind;
  reference: string | null;
  memo: string;
  /** `kind` per entry overrides the posting's (e.g. the family-aid payer's leg) */
  entries: { account: string; amount: number; kind?: LedgerEntryKind }[];
};

/**
 * A ledger posting as SQL parts: `values` = the entry rows (null when every amount is zero), `moved` = an UPDATE of the
 * personal accounts' running balances that RETURNING the accounts it moved (null when no personal account moves; a
 * move that would go below zero does not happen, so fewer rows come back than `personal`).
 */
function postingParts(
  regionCode: string,
  posting: Posting,
): { txnId: string; values: SQL | null; moved: SQL | null; deltas: SQL | null; personal: string[] } {
  const sum = posting.entries.reduce((s, e) => s + e.amount, 0);
  if (sum !== 0) throw new Error(`unbalanced ledger posting (${sum})`);
  const entries = posting.entries.filter((e) => e.amount !== 0);
  const txnId = `T${randomHex(8)}`;
  if (entries.length === 0) return { txnId, values: null, moved: null, deltas: null, personal: [] };
  const values = sql.join(
    entries.map(
      (e) =>
        sql`(${regionCode}::char(6), ${txnId}::text, ${e.account}::text, ${e.amount}::int8,
          ${e.kind ?? posting.kind}::text, ${posting.reference}::text, ${posting.memo}::text)`,
    ),
    sql`, `,
  );
  const personal = entries.filter((e) => e.account.startsWith('P:'));
  if (new Set(personal.map((e) => e.account)).size !== personal.length) {
    throw new Error('a posting moves one personal account once');
  }
  if (personal.length === 0) return { txnId, values, moved: null, deltas: null, personal: [] };
  const deltas = sql.join(
    personal.map((e) => sql`(${e.account.slice(2)}::text, ${e.amount}::int8)`),
    sql`, `,
  );
  const moved = sql`update core_account a set balance = a.balance + d.amount
    from (values ${deltas}) as d(person_no, amount)
    where a.region_code = ${regionCode} and a.person_no = d.person_no and a.balance + d.amount >= 0
    returning a.person_no`;
  return { txnId, values, moved, deltas, personal: personal.map((e) => e.account.slice(2)) };
}

function presettledKey(regionCode: string, visitId: string): string {
  return `${regionCode}:${String(visitId)}`;
}

function insufficientBalance(personNos: string[]): AppError {
  return coreError('CORE_INSUFFICIENT_BALANCE', `账户 ${personNos.join('、')} 余额不足`);
}

function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: string }).code === '23505') return true;
  }
  return false;
}
