/**
 * HTTP adapter: the CoreZone port over a core-zone service speaking the national message shape
 * (POST {baseUrl}/fsi/api/callService). Used when CORE_ZONE_URL is set. See ../service/handler.ts for the infno list.
 */
import { randomBytes } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { signedHttpHeaders } from '../../../platform/crypto/index.ts';
import { AppError } from '../../../platform/errors.ts';
import { coreError } from '../errors.ts';
import {
  feeLineFrom,
  personFrom1101,
  preSettleFrom,
  reversalFrom,
  settlementFrom,
  toYuan,
  visitFrom,
} from '../national.ts';
import type {
  AccountBalance,
  AccumulatorRow,
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
  LedgerEntry,
  LedgerQuery,
  Page,
  PersonKey,
  PolicyVersion,
  PreSettlement,
  Reversal,
  ReverseInput,
  SettleInput,
  Settlement,
  StaffAddInput,
  StaffRemoveInput,
  Unit,
  UnitInput,
  UnitStaff,
  Visit,
  VisitInput,
} from '../port.ts';
import { CALLER_SIGNATURE } from '../signature.ts';

export interface HttpCoreZoneOptions {
  baseUrl: string;
  /** fixmedins_code to send when a call has no institution (queries); default: the platform's own */
  institutionCode?: string;
  timeoutMs?: number;
  /** override the transport (tests); default: node:http(s) with a keep-alive agent (3–4× faster than fetch here) */
  fetch?: typeof fetch;
  /**
   * Shared secret of the caller signature (CORE_ZONE_SECRET): every call carries `x-core-timestamp`, `-nonce` and
   * `-signature` = HMAC-SM3 over them, the method, path and body (platform/crypto/signed-http.ts); a core zone that
   * has the secret refuses calls without it. Unset: calls go unsigned.
   */
  secret?: string;
}

type Post = (
  url: string,
  body: string,
  timeoutMs: number,
  headers: Record<string, string>,
) => Promise<{ status: number; text: string }>;

/** POST over node:http(s) with a keep-alive connection pool (always to `serviceUrl`: its parts are parsed once). */
function keepAlivePost(serviceUrl: string): Post {
  const https = serviceUrl.startsWith('https:');
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: 64 })
    : new HttpAgent({ keepAlive: true, maxSockets: 64 });
  const request = https ? httpsRequest : httpRequest;
  const u = new URL(serviceUrl);
  const target = {
    protocol: u.protocol,
    hostname: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port,
    path: `${u.pathname}${u.search}`,
    ...(u.username || u.password
      ? { auth: `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` }
      : {}),
  };
  return (_url, text, timeoutMs, headers) =>
    new Promise((resolve, reject) => {
      const body = Buffer.from(text, 'utf8');
      const req = request(
        {
          ...target,
          method: 'POST',
          agent,
          timeout: timeoutMs,
          headers: { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
}

function fetchPost(f: typeof fetch): Post {
  return async (url, body, timeoutMs, headers) => {
    const res = await f(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, text: await res.text() };
  };
}

/** msgid: institution code (12) + yyyyMMddHHmmss + 4-digit sequence, as nationally; random tail keeps it unique. */
export function newMsgid(institutionCode: string): string {
  const t = new Date(Date.now() + 8 * 3600_000).toISOString().replace(/\D/g, '').slice(0, 14);
  const r = randomBytes(7); // one call: 3 bytes for the 4-digit sequence, 4 for the random tail
  return `${institutionCode.padEnd(12, '0').slice(0, 12)}${t}${r.readUIntBE(0, 3).toString().padStart(8, '0').slice(-4)}${r.toString('hex', 3)}`;
}

export class HttpCoreZone implements CoreZone {
  readonly kind = 'http' as const;
  private readonly url: string;
  private readonly institutionCode: string;
  private readonly timeoutMs: number;
  private readonly post: Post;
  private readonly secret?: string;
  private readonly path: string;
  private ecTokenResolver?: EcTokenResolver;

  constructor(opts: HttpCoreZoneOptions) {
    this.url = `${opts.baseUrl.replace(/\/$/, '')}/fsi/api/callService`;
    this.institutionCode = opts.institutionCode ?? 'H00000000000';
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.post = opts.fetch ? fetchPost(opts.fetch) : keepAlivePost(this.url);
    this.secret = opts.secret;
    this.path = new URL(this.url).pathname;
  }

  useEcTokenResolver(resolver: EcTokenResolver): void {
    this.ecTokenResolver = resolver;
  }

  /** One call; failures come back as AppError with the service's code. */
  async call<T = any>(
    infno: string,
    regionCode: string,
    input: unknown,
    opts: { msgid?: string; institutionCode?: string } = {},
  ): Promise<T> {
    const body = {
      infno,
      msgid: opts.msgid ?? newMsgid(opts.institutionCode ?? this.institutionCode),
      mdtrtarea_admvs: regionCode,
      insuplc_admdvs: regionCode,
      fixmedins_code: opts.institutionCode ?? this.institutionCode,
      opter_type: '1',
      infver: 'V1.0',
      signtype: 'SM3',
      input,
    };
    const text = JSON.stringify(body);
    const headers = this.secret ? signedHttpHeaders(CALLER_SIGNATURE, this.secret, 'POST', this.path, text) : {};
    let res: { status: number; text: string };
    try {
      res = await this.post(this.url, text, this.timeoutMs, headers);
    } catch (err) {
      throw coreError('CORE_UNAVAILABLE', `${infno}: ${(err as Error).message}`);
    }
    if (res.status === 401) {
      throw coreError('CORE_UNAVAILABLE', `${infno}: 核心区拒绝了平台的调用签名（请核对 CORE_ZONE_SECRET）`);
    }
    let answer: any;
    try {
      answer = JSON.parse(res.text);
    } catch {
      throw coreError('CORE_UNAVAILABLE', `${infno}: HTTP ${res.status}，应答不是 JSON`);
    }
    if (answer?.infcode === 0) return answer.output as T;
    const code = typeof answer?.err_code === 'string' ? answer.err_code : 'CORE_UNAVAILABLE';
    const status = typeof answer?.err_status === 'number' ? answer.err_status : 502;
    const msg = String(answer?.err_msg ?? '核心区返回失败');
    const at = msg.indexOf('：');
    const title = at < 0 ? msg : msg.slice(0, at);
    const detail = at < 0 ? undefined : msg.slice(at + 1);
    throw new AppError(status, code, title, detail, answer?.err_errors ? { errors: answer.err_errors } : {});
  }

  private own<T>(infno: string, regionCode: string, ...args: unknown[]): Promise<T> {
    return this.call<T>(infno, regionCode, { args: [regionCode, ...args] });
  }

  private ownInput<T>(infno: string, input: { regionCode: string }): Promise<T> {
    return this.call<T>(infno, input.regionCode, { args: [input] });
  }

  async findPerson(regionCode: string, key: PersonKey): Promise<CorePerson> {
    if ('personNo' in key) return this.own('Y001', regionCode, key);
    let residentId: string;
    if ('ecToken' in key) {
      if (this.ecTokenResolver) {
        const resolved = await this.ecTokenResolver(regionCode, key.ecToken);
        if (!resolved) throw coreError('CORE_EC_TOKEN_UNRESOLVED');
        residentId = resolved.residentId;
      } else {
        const out = await this.call('1101', regionCode, {
          data: { mdtrt_cert_type: '01', mdtrt_cert_no: key.ecToken },
        });
        return personFrom1101(out).person;
      }
    } else {
      residentId = key.residentId;
    }
    const out = await this.call('1101', regionCode, {
      data: { mdtrt_cert_type: '02', mdtrt_cert_no: residentId, psn_cert_type: '01', certno: residentId },
    });
    return personFrom1101(out).person;
  }

  insuranceStatus(regionCode: string, personNo: string): Promise<InsuranceStatus> {
    return this.own('Y002', regionCode, personNo);
  }
  accountBalance(regionCode: string, personNo: string): Promise<AccountBalance> {
    return this.own('Y101', regionCode, personNo);
  }
  accountLedger(regionCode: string, personNo: string, query?: LedgerQuery): Promise<Page<LedgerEntry>> {
    return this.own('Y102', regionCode, personNo, query ?? {});
  }
  contributions(regionCode: string, personNo: string, year?: number): Promise<Contribution[]> {
    return this.own('Y103', regionCode, personNo, ...(year === undefined ? [] : [year]));
  }
  async authoriseMutualAid(regionCode: string, payer: string, beneficiary: string): Promise<void> {
    await this.own('Y104', regionCode, payer, beneficiary);
  }
  async revokeMutualAid(regionCode: string, payer: string, beneficiary: string): Promise<void> {
    await this.own('Y105', regionCode, payer, beneficiary);
  }
  mutualAidBeneficiaries(regionCode: string, payer: string): Promise<string[]> {
    return this.own('Y106', regionCode, payer);
  }
  submitEnrolment(input: EnrolmentInput): Promise<Enrolment> {
    return this.ownInput('Y201', input);
  }
  enrolmentStatus(regionCode: string, enrolmentNo: string): Promise<Enrolment> {
    return this.own('Y202', regionCode, enrolmentNo);
  }
  registerUnit(input: UnitInput): Promise<Unit> {
    return this.ownInput('Y301', input);
  }
  getUnit(regionCode: string, unitNo: string): Promise<Unit> {
    return this.own('Y302', regionCode, unitNo);
  }
  addStaff(input: StaffAddInput): Promise<UnitStaff> {
    return this.ownInput('Y303', input);
  }
  removeStaff(input: StaffRemoveInput): Promise<UnitStaff> {
    return this.ownInput('Y304', input);
  }
  listStaff(regionCode: string, unitNo: string): Promise<UnitStaff[]> {
    return this.own('Y305', regionCode, unitNo);
  }
  listInstitutions(regionCode: string, kind?: InstitutionKind): Promise<Institution[]> {
    return this.own('Y401', regionCode, ...(kind === undefined ? [] : [kind]));
  }
  getInstitution(regionCode: string, code: string): Promise<Institution> {
    return this.own('Y402', regionCode, code);
  }
  catalogueItems(regionCode: string, codes: string[]): Promise<CatalogueItem[]> {
    return this.own('Y403', regionCode, codes);
  }
  searchCatalogue(regionCode: string, query?: CatalogueQuery): Promise<Page<CatalogueItem>> {
    return this.own('Y404', regionCode, query ?? {});
  }

  async registerVisit(input: VisitInput): Promise<Visit> {
    const out = await this.call(
      '2201',
      input.regionCode,
      {
        data: {
          psn_no: input.personNo,
          med_type: input.medicalType,
          ...(input.insuranceType ? { insutype: input.insuranceType } : {}),
          ...(input.beginAt ? { begntime: input.beginAt } : {}),
          ...(input.diagnosisCode ? { dise_codg: input.diagnosisCode } : {}),
        },
      },
      { msgid: input.requestId, institutionCode: input.institutionCode },
    );
    return visitFrom(out);
  }

  async cancelVisit(regionCode: string, visitId: string): Promise<Visit> {
    return visitFrom(await this.call('2202', regionCode, { data: { mdtrt_id: visitId } }));
  }

  async uploadFees(regionCode: string, visitId: string, lines: FeeLineInput[]): Promise<FeeLineResult[]> {
    for (const l of lines) {
      if (typeof l.unitPrice !== 'number' || !Number.isSafeInteger(l.unitPrice) || l.unitPrice < 0) {
        throw coreError('CORE_INVALID_AMOUNT', `明细 ${l.lineNo} 单价应为非负整数（分），收到 ${String(l.unitPrice)}`);
      }
    }
    const out = await this.call<{ result: unknown[] }>('2204', regionCode, {
      feedetail: lines.map((l) => ({
        feedetl_sn: l.lineNo,
        mdtrt_id: visitId,
        med_list_codg: l.code,
        medins_list_codg: l.code,
        cnt: l.quantity,
        pric: toYuan(l.unitPrice),
        det_item_fee_sumamt: Number.isSafeInteger(l.unitPrice * l.quantity) ? toYuan(l.unitPrice * l.quantity) : null,
      })),
    });
    return out.result.map(feeLineFrom);
  }

  async cancelFees(regionCode: string, visitId: string): Promise<void> {
    await this.call('2205', regionCode, { data: { mdtrt_id: visitId, chrg_bchno: '0000' } });
  }

  private settleData(input: SettleInput) {
    return {
      data: {
        mdtrt_id: input.visitId,
        acct_used_flag: input.useAccount ? '1' : '0',
        psn_setlway: '01',
        ...(input.mutualAidPayerPersonNo ? { mulaid_psn_no: input.mutualAidPayerPersonNo } : {}),
      },
    };
  }

  async preSettle(input: SettleInput): Promise<PreSettlement> {
    return preSettleFrom(await this.call('2206', input.regionCode, this.settleData(input)));
  }

  async settle(input: SettleInput & { requestId: string }): Promise<Settlement> {
    return settlementFrom(
      await this.call('2207', input.regionCode, this.settleData(input), { msgid: input.requestId }),
    );
  }

  async getSettlement(regionCode: string, settlementId: string): Promise<Settlement> {
    return this.own('Y501', regionCode, settlementId);
  }

  async reverse(input: ReverseInput): Promise<Reversal> {
    return reversalFrom(
      await this.call('2208', input.regionCode, { data: { setl_id: input.settlementId } }, { msgid: input.requestId }),
    );
  }

  accumulators(regionCode: string, personNo: string, year: number): Promise<AccumulatorRow[]> {
    return this.own('Y502', regionCode, personNo, year);
  }
  listPolicies(regionCode: string): Promise<PolicyVersion[]> {
    return this.own('Y601', regionCode);
  }
  createPolicy(regionCode: string, policy: unknown): Promise<PolicyVersion> {
    return this.own('Y602', regionCode, policy);
  }
}
