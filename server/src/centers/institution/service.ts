/**
 * The institution workstation's relay (医药机构工作台). The browser cannot hold an institution's channel key (and the
 * SDK's SM3/SM4 use Node's crypto), so the server keeps each institution's channel credentials and, for a signed-in
 * staff member of that institution, signs and sends the channel calls — over HTTP, through `@yibao/sdk`'s channel
 * client — exactly as the institution's own HIS would: e-voucher verification, 6201 fee upload, 6301
 * query, 6203 refund, 6401 cancel. The channel API sees an ordinary signed institution channel.
 */
import { randomUUID } from 'node:crypto';
import {
  type ChannelClientOptions,
  ChannelError,
  createEvoucherClient,
  createPaymentClient,
  type EvoucherVerifyRequest,
  type OrderResult,
  type PricedFeeDetail,
  type RefundResult,
} from '@yibao/sdk';
import type { CatalogueItem, CoreZone, Institution, Page } from '../../integration/core-zone/port.ts';
import { appendAudit } from '../../platform/audit.ts';
import type { Context } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { maskName } from '../../platform/privacy/index.ts';
import { businessDate } from '../../platform/time.ts';

export type Fetch = typeof globalThis.fetch;

export interface Workstation {
  regionCode: string;
  institution: Institution;
  appId: string;
}

export interface VerifiedPerson {
  name: string;
  residentIdMasked: string;
  ecToken: string;
  ecTokenExpiresAt: string;
  insuranceRegion: string;
  businessTypeName: string;
}

export interface FeeLine {
  code: string;
  quantity: number;
  /** fen */
  unitPrice: number;
}

/** What the national-shaped channel answers (6201, 6301, 6401), as the SDK types it. */
export type ChannelOrder = OrderResult & {
  payToken?: string;
  feedetail?: PricedFeeDetail[];
  refdList?: RefundResult[];
};

export class InstitutionService {
  private readonly ctx: Context;
  /** How the relay reaches the channel API (the server's origin): real HTTP to this server (set by the routes). */
  channelFetch: () => { baseUrl: string; fetch: Fetch };

  constructor(ctx: Context) {
    this.ctx = ctx;
    this.channelFetch = () => ({ baseUrl: ctx.publicUrl, fetch: globalThis.fetch });
  }

  /** The operator as the person will read it in 用码记录 (the staff account's display name). */
  private async staffName(staffId: string): Promise<string | undefined> {
    const staff = await this.ctx.services.user?.getStaff(staffId).catch(() => undefined);
    return staff?.displayName;
  }

  private core(): CoreZone {
    const core = (this.ctx.services as Record<string, unknown>).coreZone as CoreZone | undefined;
    if (!core) throw new AppError(503, 'INSTITUTION_CORE_ZONE_UNAVAILABLE', '核心区服务暂不可用');
    return core;
  }

  /** Registers the institution's channel (type institution, scopes payment + evoucher) once; keys stored encrypted. */
  async provision(regionCode: string, institutionCode: string): Promise<{ appId: string }> {
    const existing = await this.ctx.db.one<{ app_id: string }>(
      sql`select app_id from institution_channel where region_code = ${regionCode} and institution_code = ${institutionCode}`,
    );
    if (existing) return { appId: existing.app_id };
    const institution = await this.core().getInstitution(regionCode, institutionCode);
    const auth = this.ctx.services.auth;
    if (!auth) throw new AppError(503, 'INSTITUTION_AUTH_UNAVAILABLE', '统一认证服务暂不可用');
    const reg = await auth.registerChannel({
      regionCode,
      name: `${institution.name}（工作台）`,
      type: 'institution',
      scopes: ['payment', 'evoucher'],
      institutionCode,
    });
    const { cipher } = this.ctx.privacy;
    await this.ctx.db.q(sql`insert into institution_channel (region_code, institution_code, app_id, app_secret_enc, private_key_enc)
      values (${regionCode}, ${institutionCode}, ${reg.appId}, ${cipher.encrypt(reg.appSecret)}, ${cipher.encrypt(reg.privateKeyHex)})
      on conflict (region_code, institution_code) do nothing`);
    return { appId: reg.appId };
  }

  async assignStaff(regionCode: string, staffId: string, institutionCode: string): Promise<void> {
    await this.core().getInstitution(regionCode, institutionCode);
    await this.ctx.db.q(sql`insert into institution_staff (region_code, staff_id, institution_code)
      values (${regionCode}, ${staffId}, ${institutionCode})
      on conflict (region_code, staff_id) do update set institution_code = excluded.institution_code`);
  }

  async workstation(regionCode: string, staffId: string): Promise<Workstation> {
    const row = await this.ctx.db.one<{ institution_code: string; app_id: string | null }>(
      sql`select s.institution_code, c.app_id from institution_staff s
        left join institution_channel c on c.region_code = s.region_code and c.institution_code = s.institution_code
        where s.region_code = ${regionCode} and s.staff_id = ${staffId}`,
    );
    if (!row)
      throw new AppError(403, 'INSTITUTION_STAFF_UNBOUND', '您的账号未绑定定点医药机构', '请联系医保经办机构绑定');
    if (!row.app_id) throw new AppError(409, 'INSTITUTION_CHANNEL_MISSING', '本机构尚未开通渠道接入');
    const institution = await this.core().getInstitution(regionCode, row.institution_code);
    return { regionCode, institution, appId: row.app_id };
  }

  async catalogue(regionCode: string, q: string | undefined, page = 1): Promise<Page<CatalogueItem>> {
    return this.core().searchCatalogue(regionCode, { q, page, pageSize: 20 });
  }

  /** The institution's signed clients of the channel API, as its own HIS would hold them. */
  private async client(ws: Workstation) {
    const row = await this.ctx.db.one<{ app_secret_enc: string; private_key_enc: string }>(
      sql`select app_secret_enc, private_key_enc from institution_channel
        where region_code = ${ws.regionCode} and institution_code = ${ws.institution.code}`,
    );
    if (!row) throw new AppError(409, 'INSTITUTION_CHANNEL_MISSING', '本机构尚未开通渠道接入');
    const options: ChannelClientOptions = {
      ...this.channelFetch(),
      appId: ws.appId,
      appSecret: this.ctx.privacy.cipher.decrypt(row.app_secret_enc),
      privateKeyHex: this.ctx.privacy.cipher.decrypt(row.private_key_enc),
      encrypt: true,
    };
    return { payment: createPaymentClient(options), evoucher: createEvoucherClient(options) };
  }

  /** Scanned or pasted e-voucher code → the person (masked) and the ecToken for the fee upload. */
  async verify(
    ws: Workstation,
    staffId: string,
    qrCode: string,
    businessType: EvoucherVerifyRequest['businessType'],
  ): Promise<VerifiedPerson> {
    const c = await this.client(ws);
    const r = await relayed(
      c.evoucher.verify(
        {
          qrCode,
          businessType,
          operatorId: staffId,
          operatorName: await this.staffName(staffId),
          deviceId: 'yibao-workstation',
          scanTime: Date.now(),
        },
        { idempotencyKey: randomUUID() },
      ),
    );
    return {
      name: r.person.name,
      residentIdMasked: r.person.residentId.includes('*')
        ? r.person.residentId
        : `${r.person.residentId.slice(0, 6)}********${r.person.residentId.slice(-4)}`,
      ecToken: r.ecToken,
      ecTokenExpiresAt: r.ecTokenExpiresAt,
      insuranceRegion: r.insuOrg,
      businessTypeName: r.businessTypeName,
    };
  }

  /**
   * 6201 with the person's ecToken (or, at the counter, resident ID): the fees are uploaded and pre-settled; the person
   * then confirms and pays in their own hall or app (which places the order, 6202), and the workstation watches 6301.
   */
  async createOrder(
    ws: Workstation,
    staffId: string,
    input: {
      credential: { type: '01' | '02'; value: string };
      personName: string;
      medicalType: '11' | '14' | '21' | '41';
      lines: FeeLine[];
    },
  ): Promise<ChannelOrder> {
    const c = await this.client(ws);
    const orgBizSer = `WS${Date.now()}${randomUUID().slice(0, 8)}`;
    const uploaded = await relayed(
      c.payment.upload6201(
        {
          orgCodg: ws.institution.code,
          orgBizSer,
          mdtrtCertType: input.credential.type,
          mdtrtCertNo: input.credential.value,
          medType: input.medicalType,
          feedetail: input.lines.map((l, i) => ({
            feedetlSn: String(i + 1),
            medListCodg: l.code,
            cnt: l.quantity,
            pric: l.unitPrice,
          })),
        },
        { idempotencyKey: `6201-${orgBizSer}` },
      ),
    );
    const payToken = uploaded.payToken;
    await this.ctx.db.tx(async (tx) => {
      await tx.q(sql`insert into institution_order (region_code, id, institution_code, org_biz_ser, pay_token_enc, person_name, total, status, created_by)
        values (${ws.regionCode}, ${uploaded.payOrdId}, ${ws.institution.code}, ${orgBizSer},
          ${this.ctx.privacy.cipher.encrypt(payToken)}, ${maskName(input.personName)}, ${uploaded.feeSumamt}, ${uploaded.ordStas}, ${staffId})`);
      await appendAudit(tx, {
        regionCode: ws.regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'institution.order.upload',
        targetType: 'payment_order',
        targetId: uploaded.payOrdId,
        result: 'success',
        detail: { institutionCode: ws.institution.code, total: uploaded.feeSumamt },
      });
    });
    return uploaded;
  }

  private async orderRow(ws: Workstation, id: string) {
    const row = await this.ctx.db.one<{ pay_token_enc: string; person_name: string }>(
      sql`select pay_token_enc, person_name from institution_order
        where region_code = ${ws.regionCode} and id = ${id} and institution_code = ${ws.institution.code}`,
    );
    if (!row) throw new AppError(404, 'INSTITUTION_ORDER_NOT_FOUND', '未找到该订单', `订单号 ${id}`);
    return { payToken: this.ctx.privacy.cipher.decrypt(row.pay_token_enc), personName: row.person_name };
  }

  private async track(regionCode: string, o: ChannelOrder): Promise<void> {
    await this.ctx.db.q(sql`update institution_order set status = ${o.ordStas}, updated_at = now()
      where region_code = ${regionCode} and id = ${o.payOrdId}`);
  }

  /**
   * 6301: the order as the payment center sees it now, with the (masked) name it was taken for: after a reload the
   * cashier still sees whose it is.
   */
  async order(ws: Workstation, id: string): Promise<ChannelOrder & { personName: string }> {
    const { personName } = await this.orderRow(ws, id);
    const c = await this.client(ws);
    const o = await relayed(c.payment.query6301({ payOrdId: id }));
    await this.track(ws.regionCode, o);
    return { ...o, personName };
  }

  /** 6203 full refund (fund, account and cash legs). */
  async refund(ws: Workstation, staffId: string, id: string, reason: string, requestId: string) {
    const { payToken } = await this.orderRow(ws, id);
    const c = await this.client(ws);
    const r = await relayed(
      c.payment.refund6203(
        { payOrdId: id, payToken, appRefdSn: requestId, refdType: 'ALL', expContent: reason },
        { idempotencyKey: `6203-${requestId}` },
      ),
    );
    await this.ctx.db.tx(async (tx) => {
      await appendAudit(tx, {
        regionCode: ws.regionCode,
        actorKind: 'staff',
        actorId: staffId,
        action: 'institution.order.refund',
        targetType: 'payment_order',
        targetId: id,
        result: 'success',
        detail: { reason },
      });
    });
    return r;
  }

  /** 6401: withdraw the fee upload before payment. */
  async cancel(ws: Workstation, id: string, reason: string): Promise<ChannelOrder> {
    const { payToken } = await this.orderRow(ws, id);
    const c = await this.client(ws);
    const o = await relayed(
      c.payment.cancel6401({ payOrdId: id, payToken, expContent: reason }, { idempotencyKey: `6401-${id}` }),
    );
    await this.track(ws.regionCode, o);
    return o;
  }

  async recent(ws: Workstation) {
    const rows = await this.ctx.db.q<{
      id: string;
      person_name: string;
      total: string | number;
      status: string;
      created_at: string | Date;
    }>(sql`select id, person_name, total, status, created_at from institution_order
      where region_code = ${ws.regionCode} and institution_code = ${ws.institution.code}
      order by created_at desc limit 20`);
    return rows.map((r) => ({
      id: r.id,
      personName: r.person_name,
      total: Number(r.total),
      status: r.status,
      createdAt: new Date(r.created_at).toISOString(),
    }));
  }

  /** Today's orders (China time) of this institution by status, with their fee totals: the home page's figures. */
  async today(ws: Workstation) {
    const rows = await this.ctx.db.q<{ status: string; n: number; total: string | number }>(sql`
      select status, count(*)::int as n, coalesce(sum(total), 0) as total from institution_order
      where region_code = ${ws.regionCode} and institution_code = ${ws.institution.code}
        and created_at >= date_trunc('day', now() at time zone 'Asia/Shanghai') at time zone 'Asia/Shanghai'
      group by status`);
    const byStatus = Object.fromEntries(rows.map((r) => [r.status, { count: Number(r.n), total: Number(r.total) }]));
    return {
      day: businessDate(Date.now()),
      count: rows.reduce((n, r) => n + Number(r.n), 0),
      total: rows.reduce((n, r) => n + Number(r.total), 0),
      byStatus,
    };
  }
}

/** A refusal of the channel API as this API's problem (its code and fields kept); an unreachable channel as 502. */
async function relayed<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof ChannelError && err.status > 0 && err.status < 500) {
      const body = (err.body ?? {}) as { errors?: Array<{ field: string; message: string }> };
      throw new AppError(err.status, err.code, err.title, err.detail, { errors: body.errors });
    }
    const why = err instanceof ChannelError ? err.title : String(err);
    throw new AppError(502, 'INSTITUTION_CHANNEL_FAILED', '医保渠道接口调用失败，请稍后重试', why);
  }
}
