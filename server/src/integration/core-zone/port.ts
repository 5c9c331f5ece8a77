/**
 * The core-zone port (核心区接口): the ONLY way the public-service zone reaches enrolment, contributions, personal
 * accounts and settlement. Centers get it as `service(ctx, 'coreZone')` at request time.
 *
 * Two implementations: the in-process reference core zone (`reference/`, default) and an HTTP adapter (`http/`)
 * speaking the national message shape (`POST /fsi/api/callService`), chosen when `CORE_ZONE_URL` is set.
 *
 * Conventions: English names from DOMAIN.md's glossary (national field names live only in this folder's http/ and
 * service/ code); money in integer fen; dates ISO `YYYY-MM-DD`, instants ISO 8601 strings; every call names the
 * pooling region (`regionCode`, 6 digits) it acts in. Failures are `AppError`s with the codes in `CORE_ERRORS`.
 */

/** 310 employee basic (职工基本), 390 urban-rural resident basic (城乡居民基本). */
export type InsuranceType = '310' | '390';
/** 11 general outpatient, 14 chronic/special outpatient, 21 inpatient, 41 pharmacy purchase. */
export type MedicalType = '11' | '14' | '21' | '41';
/** A 甲类, B 乙类, C 丙类/自费. */
export type ItemClass = 'A' | 'B' | 'C';
export type InsuranceStatusCode = 'active' | 'paused' | 'terminated';
/** in-service employee, retired employee, flexibly employed, urban-rural resident, student/child. */
export type PersonType = 'employee' | 'retiree' | 'flexible' | 'resident' | 'student';
/** 01 e-voucher token (ecToken), 02 resident ID number, 03 social-security card. */
export type CredentialType = '01' | '02' | '03';

export type PersonKey = { residentId: string } | { personNo: string } | { ecToken: string };

export interface CorePerson {
  personNo: string;
  regionCode: string;
  name: string;
  residentId: string;
  /** '1' male, '2' female (GB/T 2261) */
  sex: '1' | '2';
  birthDate: string;
  personType: PersonType;
}

export interface InsuranceRecord {
  insuranceType: InsuranceType;
  status: InsuranceStatusCode;
  startDate: string;
  /** set when status is paused or terminated */
  pauseDate: string | null;
  /** the employing unit for 310 employees */
  unitNo: string | null;
}

export interface InsuranceStatus {
  personNo: string;
  regionCode: string;
  personType: PersonType;
  insurances: InsuranceRecord[];
}

export interface AccountBalance {
  personNo: string;
  regionCode: string;
  /** fen; derived from the ledger */
  balance: number;
  /** false when the person has no personal account (residents) */
  hasAccount: boolean;
}

export type LedgerEntryKind =
  | 'opening'
  | 'contribution'
  | 'settlement'
  | 'settlement_reversal'
  | 'mutual_aid_out'
  | 'mutual_aid_reversal';

export interface LedgerEntry {
  entryId: string;
  kind: LedgerEntryKind;
  /** signed fen: + credit to the account, − debit */
  amount: number;
  balanceAfter: number;
  at: string;
  /** settlement id, contribution period, … */
  reference: string | null;
  memo: string;
}

export interface LedgerQuery {
  from?: string;
  to?: string;
  kind?: LedgerEntryKind;
  /** 1-based */
  page?: number;
  /** default 20, max 100 */
  pageSize?: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export interface Contribution {
  /** YYYY-MM */
  period: string;
  insuranceType: InsuranceType;
  /** contribution base (缴费基数), fen; 0 for residents (flat rate) */
  base: number;
  unitPart: number;
  personalPart: number;
  /** the part credited to the personal account */
  accountCredit: number;
  unitNo: string | null;
  paidAt: string;
}

export type EnrolmentKind = 'flexible' | 'resident' | 'suspension';
export type EnrolmentState = 'submitted' | 'approved' | 'rejected';

export interface EnrolmentInput {
  regionCode: string;
  kind: EnrolmentKind;
  /** caller's idempotency key: a repeat returns the first enrolment */
  requestId: string;
  name: string;
  residentId: string;
  mobile?: string;
  /** flexible: contribution base in fen; resident/flexible start date; suspension: reason */
  base?: number;
  startDate?: string;
  reason?: string;
}

export interface Enrolment {
  enrolmentNo: string;
  regionCode: string;
  kind: EnrolmentKind;
  state: EnrolmentState;
  personNo: string | null;
  submittedAt: string;
  decidedAt: string | null;
  /** Chinese reason when rejected */
  note: string | null;
  history: { state: EnrolmentState; at: string; note: string | null }[];
}

export interface UnitInput {
  regionCode: string;
  requestId: string;
  /** Unified Social Credit Code, validated (GB 32100) */
  uscc: string;
  name: string;
  address?: string;
}

export interface Unit {
  unitNo: string;
  regionCode: string;
  uscc: string;
  name: string;
  address: string | null;
  registeredAt: string;
  staffCount: number;
}

export interface StaffAddInput {
  regionCode: string;
  unitNo: string;
  requestId: string;
  name: string;
  residentId: string;
  /** monthly contribution base, fen */
  base: number;
  startDate: string;
}

export interface StaffRemoveInput {
  regionCode: string;
  unitNo: string;
  personNo: string;
  endDate: string;
  reason: string;
}

export interface UnitStaff {
  personNo: string;
  name: string;
  residentId: string;
  base: number;
  startDate: string;
  endDate: string | null;
}

export type InstitutionKind = 'hospital' | 'pharmacy';

export interface Institution {
  /** H/P + 11 digits (6 region + 5 serial) */
  code: string;
  regionCode: string;
  kind: InstitutionKind;
  name: string;
  /** 1/2/3 for hospitals; pharmacies settle at level 1 */
  level: 1 | 2 | 3;
}

export type CatalogueCategory = 'western_drug' | 'patent_drug' | 'service' | 'consumable';

export interface CatalogueItem {
  /** national format: X… (23) / Z… drugs, 15-digit service items, C + 19 consumables */
  code: string;
  regionCode: string;
  category: CatalogueCategory;
  name: string;
  spec: string | null;
  unit: string;
  itemClass: ItemClass;
  /** B only: pre-self-pay ratio in basis points; null = the policy default */
  selfPayRatioBp: number | null;
  /** price cap per unit, fen */
  priceCap: number | null;
}

export interface CatalogueQuery {
  q?: string;
  category?: CatalogueCategory;
  itemClass?: ItemClass;
  page?: number;
  pageSize?: number;
}

// ------------------------------------------------------------------------------------------------------ settlement

export interface VisitInput {
  regionCode: string;
  /** message id (msgid) — a repeat returns the first visit */
  requestId: string;
  personNo: string;
  institutionCode: string;
  medicalType: MedicalType;
  /** which insurance pays; default: the person's active one */
  insuranceType?: InsuranceType;
  /** ISO instant; default now */
  beginAt?: string;
  diagnosisCode?: string;
}

export interface Visit {
  visitId: string;
  regionCode: string;
  personNo: string;
  institutionCode: string;
  institutionLevel: 1 | 2 | 3;
  insuranceType: InsuranceType;
  medicalType: MedicalType;
  beginAt: string;
  state: 'open' | 'cancelled' | 'settled';
}

export interface FeeLineInput {
  /** caller's line number, unique within the visit */
  lineNo: string;
  code: string;
  quantity: number;
  /** fen */
  unitPrice: number;
}

export interface FeeLineResult {
  lineNo: string;
  code: string;
  name: string;
  itemClass: ItemClass;
  quantity: number;
  unitPrice: number;
  amount: number;
  selfPayRatioBp: number;
  priceCap: number | null;
  overPriceCap: number;
  preSelfPay: number;
  fullySelfPaid: number;
  inScope: number;
}

export interface SettleInput {
  regionCode: string;
  visitId: string;
  /** may the personal account pay (the person's choice)? */
  useAccount: boolean;
  /** family mutual aid (家庭共济): a relative who authorised this person pays what the own account does not */
  mutualAidPayerPersonNo?: string;
}

export interface Split {
  total: number;
  fullySelfPaid: number;
  overPriceCap: number;
  preSelfPay: number;
  inScope: number;
  deductibleApplied: number;
  fundPayment: number;
  /** own account + mutual aid; fund + account + cash = total */
  accountPayment: number;
  /** the part of accountPayment paid from a relative's account (家庭共济) */
  mutualAidPayment: number;
  cashPayment: number;
  /** the person's own account after this settlement */
  balanceAfter: number;
  policyVersion: string;
  insuranceType: InsuranceType;
  medicalType: MedicalType;
  accumulatorGroup: string;
}

export type PreSettlement = Split & { visitId: string; lines: FeeLineResult[] };

export interface Settlement extends Split {
  settlementId: string;
  visitId: string;
  /** the msgid the settlement was made under (a retry with the same id returns this) */
  requestId: string;
  regionCode: string;
  personNo: string;
  institutionCode: string;
  mutualAidPayerPersonNo: string | null;
  state: 'settled' | 'reversed';
  settledAt: string;
  reversedAt: string | null;
}

export interface ReverseInput {
  regionCode: string;
  settlementId: string;
  /** msgid of the reversal; a retry returns the first reversal */
  requestId: string;
}

export interface Reversal {
  settlementId: string;
  regionCode: string;
  total: number;
  fundRefund: number;
  accountRefund: number;
  mutualAidRefund: number;
  cashRefund: number;
  reversedAt: string;
}

export interface AccumulatorRow {
  insuranceType: InsuranceType;
  group: string;
  deductiblePaid: number;
  fundPaid: number;
}

// --------------------------------------------------------------------------------------------------------- policy

/** Region policy documents (see reference/settlement/policy.ts for the shape); validated by the core zone. */
export interface PolicyVersion {
  regionCode: string;
  version: string;
  effectiveFrom: string;
  createdAt: string;
  /** the full policy document */
  policy: unknown;
}

// --------------------------------------------------------------------------------------------------------- the port

export interface CoreZone {
  /** 'reference' (in-process, 沙箱/示范), or 'http' (adapter; `endpoint` says where) */
  readonly kind: 'reference' | 'http';
  /** The e-voucher center installs how an ecToken (mdtrt_cert_type 01) becomes a resident ID. */
  useEcTokenResolver(resolver: EcTokenResolver): void;

  // persons and insurance
  /** CORE_PERSON_NOT_FOUND when unknown. `ecToken` goes through the e-voucher resolver. */
  findPerson(regionCode: string, key: PersonKey): Promise<CorePerson>;
  insuranceStatus(regionCode: string, personNo: string): Promise<InsuranceStatus>;

  // personal account
  accountBalance(regionCode: string, personNo: string): Promise<AccountBalance>;
  accountLedger(regionCode: string, personNo: string, query?: LedgerQuery): Promise<Page<LedgerEntry>>;
  /** newest first; year filters on the period */
  contributions(regionCode: string, personNo: string, year?: number): Promise<Contribution[]>;
  /** authorise a relative to pay from this person's account (家庭共济); idempotent */
  authoriseMutualAid(regionCode: string, payerPersonNo: string, beneficiaryPersonNo: string): Promise<void>;
  revokeMutualAid(regionCode: string, payerPersonNo: string, beneficiaryPersonNo: string): Promise<void>;
  mutualAidBeneficiaries(regionCode: string, payerPersonNo: string): Promise<string[]>;

  // enrolment
  submitEnrolment(input: EnrolmentInput): Promise<Enrolment>;
  enrolmentStatus(regionCode: string, enrolmentNo: string): Promise<Enrolment>;

  // units
  registerUnit(input: UnitInput): Promise<Unit>;
  getUnit(regionCode: string, unitNo: string): Promise<Unit>;
  addStaff(input: StaffAddInput): Promise<UnitStaff>;
  removeStaff(input: StaffRemoveInput): Promise<UnitStaff>;
  listStaff(regionCode: string, unitNo: string): Promise<UnitStaff[]>;

  // registry and catalogue
  listInstitutions(regionCode: string, kind?: InstitutionKind): Promise<Institution[]>;
  getInstitution(regionCode: string, code: string): Promise<Institution>;
  /** the items for these codes (unknown codes are simply absent) */
  catalogueItems(regionCode: string, codes: string[]): Promise<CatalogueItem[]>;
  searchCatalogue(regionCode: string, query?: CatalogueQuery): Promise<Page<CatalogueItem>>;

  // settlement (2201–2208)
  registerVisit(input: VisitInput): Promise<Visit>;
  cancelVisit(regionCode: string, visitId: string): Promise<Visit>;
  /** replaces the visit's fee lines; CORE_UNKNOWN_ITEM_CODE, CORE_INVALID_AMOUNT */
  uploadFees(regionCode: string, visitId: string, lines: FeeLineInput[]): Promise<FeeLineResult[]>;
  cancelFees(regionCode: string, visitId: string): Promise<void>;
  /** computes without writing; records that the visit was pre-settled (settle requires it) */
  preSettle(input: SettleInput): Promise<PreSettlement>;
  /** idempotent by requestId (msgid): a retry returns the first result */
  settle(input: SettleInput & { requestId: string }): Promise<Settlement>;
  getSettlement(regionCode: string, settlementId: string): Promise<Settlement>;
  reverse(input: ReverseInput): Promise<Reversal>;
  accumulators(regionCode: string, personNo: string, year: number): Promise<AccumulatorRow[]>;

  // policy (region treatment policy as data)
  listPolicies(regionCode: string): Promise<PolicyVersion[]>;
  /** validates; CORE_INVALID_POLICY with field issues */
  createPolicy(regionCode: string, policy: unknown): Promise<PolicyVersion>;
}

/** Every error code the port raises (as AppError.code), with the HTTP status and Chinese title. */
export const CORE_ERRORS = {
  CORE_PERSON_NOT_FOUND: [404, '未找到参保人'],
  CORE_INSURANCE_PAUSED: [409, '参保状态为暂停或终止，不能结算'],
  CORE_NO_ACCOUNT: [409, '该参保人无个人账户'],
  CORE_UNKNOWN_ITEM_CODE: [422, '医保目录中无此项目编码'],
  CORE_INVALID_AMOUNT: [422, '金额无效'],
  CORE_INVALID_QUANTITY: [422, '数量无效'],
  CORE_INVALID_INPUT: [400, '请求参数无效'],
  CORE_VISIT_NOT_FOUND: [404, '未找到就诊记录'],
  CORE_VISIT_CLOSED: [409, '就诊已撤销或已结算'],
  CORE_NO_FEES: [409, '尚未上传费用明细'],
  CORE_NOT_PRESETTLED: [409, '未预结算，不能结算'],
  CORE_ALREADY_SETTLED: [409, '该就诊已结算'],
  CORE_REQUEST_ID_CONFLICT: [409, '报文ID已用于其他业务'],
  CORE_SETTLEMENT_NOT_FOUND: [404, '未找到结算记录'],
  CORE_ALREADY_REVERSED: [409, '该结算已冲正'],
  CORE_INSUFFICIENT_BALANCE: [409, '个人账户余额不足'],
  CORE_MUTUAL_AID_NOT_AUTHORISED: [403, '未获得家庭共济授权'],
  CORE_INSTITUTION_NOT_FOUND: [404, '未找到定点医药机构'],
  CORE_UNIT_NOT_FOUND: [404, '未找到参保单位'],
  CORE_UNIT_EXISTS: [409, '该单位已登记'],
  CORE_STAFF_NOT_FOUND: [404, '该人员不在本单位参保'],
  CORE_STAFF_EXISTS: [409, '该人员已在本单位参保'],
  CORE_ENROLMENT_NOT_FOUND: [404, '未找到参保申请'],
  CORE_INVALID_RESIDENT_ID: [422, '身份证号码无效'],
  CORE_INVALID_USCC: [422, '统一社会信用代码无效'],
  CORE_INVALID_POLICY: [422, '待遇政策无效'],
  CORE_POLICY_VERSION_EXISTS: [409, '该政策版本或生效日期已存在'],
  CORE_NO_POLICY_IN_FORCE: [422, '无生效的待遇政策'],
  CORE_NO_POLICY_RULE: [422, '无匹配的待遇政策规则'],
  CORE_EC_TOKEN_UNRESOLVED: [404, '电子凭证令牌无效或已过期'],
  CORE_UNAVAILABLE: [502, '核心区服务暂不可用'],
} as const satisfies Record<string, readonly [number, string]>;

export type CoreErrorCode = keyof typeof CORE_ERRORS;

/** Resolves an e-voucher ecToken to the person's resident ID (provided by the e-voucher center). */
export type EcTokenResolver = (regionCode: string, ecToken: string) => Promise<{ residentId: string } | undefined>;
