/** The e-voucher center's use cases (电子凭证中心). No HTTP types here. */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import {
  decodeEvoucherToken,
  type EvoucherAlg,
  EvoucherTokenError,
  issueEvoucherToken,
  verifyEvoucherToken,
} from '@yibao/sdk';
import QRCode from 'qrcode';
import { z } from 'zod';
import { InstitutionNames } from '../../integration/core-zone/institution-names.ts';
import type { InsuranceStatus } from '../../integration/core-zone/port.ts';
import type { VerifyResult } from '../../integration/national/evoucher-channel.ts';
import { appendAudit } from '../../platform/audit.ts';
import { Batcher, type BatchMetrics } from '../../platform/batch.ts';
import type { Context } from '../../platform/context.ts';
import { type Executor, prepared, sql, textArray } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { maskName, maskResidentId } from '../../platform/privacy/index.ts';
import { businessDate, isoInstant } from '../../platform/time.ts';
import { coreZone, personDirectory } from './deps.ts';
import { KeyRing, type StoredKey } from './keys.ts';
import { type AuthScope, BUSINESS_TYPES, type BusinessType, type Device, type Refusals } from './schema.ts';
import type { LivenessEvidence, RealPersonVerifier } from './verification/port.ts';
import { SandboxVerifier } from './verification/sandbox.ts';

export interface Actor {
  kind: 'person' | 'staff' | 'channel' | 'system';
  id: string;
  ip?: string;
  userAgent?: string;
}

export interface VoucherView {
  id: string;
  regionCode: string;
  status: 'active' | 'suspended';
  name: string;
  residentId: string;
  device: Device | Record<string, never>;
  activatedAt: string;
  updatedAt: string;
}

export interface IssuedCode {
  token: string;
  expiresAt: string;
  ttlSeconds: number;
  keyId: number;
  alg: EvoucherAlg;
  qrVersion: number;
}

export interface VerifyInput {
  token: string;
  businessType: BusinessType;
  institutionCode: string;
  appId: string;
  /** the institution's operator id */
  operator?: string;
  /** what the institution calls the operator or window (收费员 王芳, 门诊收费 5 号窗): the person reads it */
  operatorName?: string;
  device?: string;
  /** the terminal's clock when it scanned (epoch ms) */
  scanTime?: number;
}

const INSURANCE_NAMES: Record<string, string> = { '310': '职工基本医疗保险', '390': '城乡居民基本医疗保险' };
const ACTIVE_STATUS = 'active';
const LIVENESS_TTL_MS = 10 * 60_000;
const EC_TOKEN_TTL_MS = 30 * 60_000;
const AUTH_CODE_TTL_MS = 5 * 60_000;
const CHANNEL_TOKEN_TTL_MS = 2 * 3600_000;
const LOGIN_TICKET_TTL_MS = 3 * 60_000;

const sha = (v: string) => createHash('sm3').update(v).digest('hex');
const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');

export const evoucherError = (status: number, code: string, title: string, detail?: string) =>
  new AppError(status, code, title, detail);

const TOKEN_ERROR_STATUS: Record<string, number> = {
  EVOUCHER_TOKEN_MALFORMED: 400,
  EVOUCHER_TOKEN_UNKNOWN_KEY: 401,
  EVOUCHER_TOKEN_SIGNATURE_INVALID: 401,
  EVOUCHER_TOKEN_EXPIRED: 401,
  EVOUCHER_CLOCK_SKEW: 400,
};

function fromTokenError(e: unknown): never {
  if (e instanceof EvoucherTokenError) throw new AppError(TOKEN_ERROR_STATUS[e.code] ?? 400, e.code, e.title);
  throw e;
}

interface VoucherRow {
  region_code: string;
  id: string;
  code: string;
  person_id: string;
  person_no: string;
  name_enc: string;
  resident_id_enc: string;
  status: 'active' | 'suspended';
  device: Device;
  activated_at: Date | string;
  updated_at: Date | string;
}

/** One scan to record: the voucher it names, the token's nonce and business type, and the ecToken it will answer. */
interface UseRequest {
  regionCode: string;
  voucherCode: string;
  nonce: string;
  businessType: BusinessType;
  institutionCode: string;
  appId: string;
  operator: string | null;
  operatorName: string | null;
  device: string | null;
  ecToken: string;
  ecExpires: string;
}

/**
 * Records the scans of concurrent verifications in one statement (group commit): each request's voucher is looked up;
 * where it is active, the use is recorded (single use per voucher + nonce + business type) with its ecToken, and both
 * commit together or not at all. Inside one batch a repeated nonce and business type is recorded once: the answer
 * carries the use's id only to the request whose ecToken was stored, so the other is a replay.
 */
function useRecorder(
  db: Executor,
  metrics: BatchMetrics,
): Batcher<UseRequest, (VoucherRow & { use_id: string | null }) | undefined> {
  return new Batcher(
    async (requests) => {
      const column = (pick: (r: UseRequest) => string | null) => textArray(requests.map(pick));
      const rows = await db.q<VoucherRow & { use_id: string | null; idx: string }>(
        prepared(sql`with k as (
        select * from unnest(${column((r) => r.regionCode)}::bpchar[], ${column((r) => r.voucherCode)},
          ${column((r) => r.nonce)}, ${column((r) => r.businessType)}, ${column((r) => r.institutionCode)},
          ${column((r) => r.appId)}, ${column((r) => r.operator)}, ${column((r) => r.operatorName)},
          ${column((r) => r.device)}, ${column((r) => r.ecToken)}, ${column((r) => r.ecExpires)}::timestamptz[])
          with ordinality as k(region_code, code, nonce, business_type, institution_code, app_id, operator,
            operator_name, device, ec_token, ec_expires, idx)),
      v as (select k.idx, ev.* from k join evoucher_voucher ev on ev.region_code = k.region_code and ev.code = k.code),
      u as (insert into evoucher_use(region_code, voucher_id, token_nonce, business_type, institution_code, app_id,
          operator, operator_name, device, ec_token)
        select k.region_code, v.id, k.nonce, k.business_type, k.institution_code, k.app_id, k.operator,
          k.operator_name, k.device, k.ec_token from k join v on v.idx = k.idx where v.status = 'active' order by k.idx
        on conflict do nothing returning id, ec_token),
      t as (insert into evoucher_ec_token(region_code, token, voucher_id, person_no, resident_id_enc, institution_code,
          expires_at)
        select k.region_code, k.ec_token, v.id, v.person_no, v.resident_id_enc, k.institution_code, k.ec_expires
        from k join v on v.idx = k.idx join u on u.ec_token = k.ec_token returning token)
      select v.*, u.id as use_id from v join k on k.idx = v.idx left join u on u.ec_token = k.ec_token`),
      );
      const byIndex = new Map(rows.map(({ idx, ...row }) => [Number(idx), row]));
      return requests.map((_, i) => byIndex.get(i + 1));
    },
    { name: 'evoucher_use', metrics },
  );
}

/** Region settings under `settings.evoucher` in region_config (declared in init; the console edits them). */
export const EVOUCHER_SETTINGS = z.strictObject({
  qrTtlSeconds: z.int().min(15).max(300).describe('医保码有效期（秒），默认 60'),
  clockSkewSeconds: z.int().min(0).max(120).describe('允许的时钟偏差（秒），默认 10'),
});
export type EvoucherSettings = z.infer<typeof EVOUCHER_SETTINGS>;

const notActivated = (): never => {
  throw evoucherError(404, 'EVOUCHER_NOT_ACTIVATED', '尚未激活医保电子凭证');
};

export type { VerifyResult };

export class EvoucherService {
  readonly ctx: Context;
  readonly keys: KeyRing;
  readonly sandbox: SandboxVerifier;
  /** The real-person verification port; the sandbox by default. */
  verifier: RealPersonVerifier;
  /** Vouchers by person for the dynamic code, many persons' in one statement under load (phones refresh it often). */
  private readonly vouchersByPerson: Batcher<{ regionCode: string; personId: string }, VoucherRow | undefined>;
  private readonly useRecorder: Batcher<UseRequest, (VoucherRow & { use_id: string | null }) | undefined>;

  private readonly institutions: InstitutionNames;
  private readonly countVerification: (labels: { result: string }) => void;

  constructor(ctx: Context) {
    this.ctx = ctx;
    this.countVerification = ctx.metrics.counter(
      'evoucher_verifications_total',
      'Online e-voucher verifications answered by this process, by result (ok or the refusal code).',
    );
    this.institutions = new InstitutionNames(
      () => coreZone(ctx),
      (err, institution) => ctx.log.warn({ err, institution }, 'evoucher: institution look-up failed'),
    );
    this.vouchersByPerson = new Batcher(
      async (keys) => {
        const rows = await ctx.db.q<VoucherRow>(
          prepared(sql`select v.* from evoucher_voucher v
        join unnest(${textArray(keys.map((k) => k.regionCode))}::bpchar[], ${textArray(keys.map((k) => k.personId))})
          as k(region_code, person_id) on v.region_code = k.region_code and v.person_id = k.person_id`),
        );
        const of = (regionCode: string, personId: string) => `${regionCode}/${personId}`;
        const found = new Map(rows.map((r) => [of(r.region_code, r.person_id), r]));
        return keys.map((k) => found.get(of(k.regionCode, k.personId)));
      },
      { name: 'evoucher_voucher_lookup', metrics: ctx.metrics },
    );
    this.useRecorder = useRecorder(ctx.db, ctx.metrics);
    this.keys = new KeyRing(ctx);
    this.sandbox = new SandboxVerifier(this.keys, ctx.log);
    this.verifier = this.sandbox;
    for (const [table, column] of [
      ['evoucher_voucher', 'name_enc'],
      ['evoucher_voucher', 'resident_id_enc'],
      ['evoucher_ec_token', 'resident_id_enc'],
    ])
      ctx.privacy.registerEncryptedColumn({
        table,
        column,
        key: table === 'evoucher_ec_token' ? ['region_code', 'token'] : ['region_code', 'id'],
      });
    ctx.privacy.registerEncryptedColumn({
      table: 'evoucher_key',
      column: 'private_key_enc',
      key: ['region_code', 'kid'],
    });
  }

  async settings(regionCode: string): Promise<EvoucherSettings> {
    const raw = ((await this.ctx.regions.config(regionCode)).settings.evoucher ?? {}) as Partial<EvoucherSettings>;
    const ttl = Number(raw.qrTtlSeconds ?? 60);
    const skew = Number(raw.clockSkewSeconds ?? 10);
    return {
      qrTtlSeconds: Number.isInteger(ttl) && ttl >= 15 && ttl <= 300 ? ttl : 60,
      clockSkewSeconds: Number.isInteger(skew) && skew >= 0 && skew <= 120 ? skew : 10,
    };
  }

  // ------------------------------------------------------------------------------------------ activation

  async startLiveness(regionCode: string, personId: string) {
    const challenge = `${randomInt(100000, 999999)}`;
    const expiresAt = new Date(Date.now() + LIVENESS_TTL_MS);
    const [row] = await this.ctx.db.q<{ id: string }>(sql`insert into evoucher_liveness(region_code, person_id,
        provider, challenge, expires_at)
      values (${regionCode}, ${personId}, ${this.verifier.name}, ${challenge}, ${expiresAt.toISOString()}) returning id`);
    if (this.verifier.sandbox) this.ctx.log.info({ sandbox: true, sessionId: row.id }, '【沙箱】实人认证会话已创建');
    return {
      sessionId: row.id,
      challenge,
      provider: this.verifier.name,
      sandbox: this.verifier.sandbox,
      captureUrl: this.verifier.captureUrl(regionCode),
      expiresAt: expiresAt.toISOString(),
    };
  }

  /** Activates (or re-binds to a new device) the person's e-voucher after a passed real-person check. */
  async activate(
    regionCode: string,
    personId: string,
    input: { evidence: LivenessEvidence; device: Device },
    actor: Actor,
  ): Promise<VoucherView> {
    const result = await this.verifier.checkEvidence(regionCode, input.evidence);
    const person = await personDirectory(this.ctx).getPerson(regionCode, personId);
    if (!person) throw evoucherError(404, 'EVOUCHER_PERSON_NOT_FOUND', '未找到个人账户');
    const core = coreZone(this.ctx);
    const corePerson = await core.findPerson(regionCode, { residentId: person.residentId }).catch((e) => {
      throw mapCoreError(e);
    });
    if (corePerson.name !== person.name) {
      throw evoucherError(
        409,
        'EVOUCHER_IDENTITY_MISMATCH',
        '账户实名信息与参保登记信息不一致',
        '请到经办窗口核实身份信息',
      );
    }
    const status = await core.insuranceStatus(regionCode, corePerson.personNo).catch((e) => {
      throw mapCoreError(e);
    });
    if (!status.insurances.some((i) => i.status === ACTIVE_STATUS)) {
      throw evoucherError(409, 'EVOUCHER_INSURANCE_INACTIVE', '参保状态为暂停或终止，不能激活医保电子凭证');
    }
    return this.ctx.db.tx(async (tx) => {
      const consumed =
        await tx.q(sql`update evoucher_liveness set status = 'consumed', result = ${JSON.stringify(result)}::jsonb
        where region_code = ${regionCode} and id = ${result.sessionId} and person_id = ${personId}
          and challenge = ${result.challenge} and status = 'pending' and expires_at > now() returning id`);
      if (consumed.length === 0) {
        throw evoucherError(
          409,
          'EVOUCHER_LIVENESS_SESSION_INVALID',
          '实人认证会话无效、已过期或已使用',
          '请重新进行实人认证',
        );
      }
      if (!result.passed) {
        throw evoucherError(422, 'EVOUCHER_LIVENESS_FAILED', '实人认证未通过', result.reason);
      }
      const code = randomHex(8);
      const [existing] = await tx.q<VoucherRow>(sql`select * from evoucher_voucher
        where region_code = ${regionCode} and person_id = ${personId} for update`);
      const nameEnc = this.ctx.privacy.cipher.encrypt(person.name);
      const ridEnc = this.ctx.privacy.cipher.encrypt(person.residentId);
      const bidx = this.ctx.privacy.blindIndex(person.residentId, 'resident_id');
      let row: VoucherRow;
      if (existing) {
        [row] =
          await tx.q<VoucherRow>(sql`update evoucher_voucher set code = ${code}, person_no = ${corePerson.personNo},
            name_enc = ${nameEnc}, resident_id_enc = ${ridEnc}, resident_id_bidx = ${bidx}, status = 'active',
            device = ${JSON.stringify(input.device)}::jsonb, liveness_id = ${result.sessionId}, activated_at = now(),
            updated_at = now()
          where region_code = ${regionCode} and id = ${existing.id} returning *`);
      } else {
        [row] =
          await tx.q<VoucherRow>(sql`insert into evoucher_voucher(region_code, code, person_id, person_no, name_enc,
            resident_id_enc, resident_id_bidx, status, device, liveness_id)
          values (${regionCode}, ${code}, ${personId}, ${corePerson.personNo}, ${nameEnc}, ${ridEnc}, ${bidx}, 'active',
            ${JSON.stringify(input.device)}::jsonb, ${result.sessionId}) returning *`);
      }
      await this.recordEvent(tx, row, existing ? 'reactivate' : 'activate', existing?.status ?? null, 'active', actor);
      await appendAudit(tx, {
        regionCode,
        actorKind: actor.kind,
        actorId: actor.id,
        action: existing ? 'evoucher.reactivate' : 'evoucher.activate',
        targetType: 'evoucher',
        targetId: row.id,
        ip: actor.ip,
        userAgent: actor.userAgent,
        result: 'success',
        detail: { provider: result.provider, sandbox: result.sandbox, mode: result.mode, deviceId: input.device.id },
      });
      return this.view(row);
    });
  }

  private async recordEvent(
    tx: Executor,
    row: { region_code: string; id: string },
    action: string,
    from: string | null,
    to: string,
    actor: Actor,
    reason?: string,
  ): Promise<void> {
    await tx.q(sql`insert into evoucher_voucher_event(region_code, voucher_id, action, from_status, to_status, actor_kind,
        actor_id, reason)
      values (${row.region_code}, ${row.id}, ${action}, ${from}, ${to}, ${actor.kind}, ${actor.id}, ${reason ?? null})`);
  }

  private view(row: VoucherRow, unmasked = false): VoucherView {
    const name = this.ctx.privacy.cipher.decrypt(row.name_enc);
    const rid = this.ctx.privacy.cipher.decrypt(row.resident_id_enc);
    return {
      id: row.id,
      regionCode: row.region_code,
      status: row.status,
      name: unmasked ? name : maskName(name),
      residentId: unmasked ? rid : maskResidentId(rid),
      device: row.device ?? {},
      activatedAt: isoInstant(row.activated_at),
      updatedAt: isoInstant(row.updated_at),
    };
  }

  private async voucherOfPerson(regionCode: string, personId: string, ex: Executor = this.ctx.db): Promise<VoucherRow> {
    const row = await ex.one<VoucherRow>(sql`select * from evoucher_voucher
      where region_code = ${regionCode} and person_id = ${personId}`);
    return row ?? notActivated();
  }

  async mine(regionCode: string, personId: string): Promise<VoucherView> {
    return this.view(await this.voucherOfPerson(regionCode, personId));
  }

  /** Suspend (lost phone) or resume; by the person (own voucher) or staff (any voucher of the region). */
  async setStatus(
    regionCode: string,
    target: { personId: string } | { voucherId: string },
    to: 'active' | 'suspended',
    actor: Actor,
    reason?: string,
  ): Promise<VoucherView> {
    return this.ctx.db.tx(async (tx) => {
      const row =
        'personId' in target
          ? await tx.one<VoucherRow>(sql`select * from evoucher_voucher where region_code = ${regionCode}
              and person_id = ${target.personId} for update`)
          : await tx.one<VoucherRow>(sql`select * from evoucher_voucher where region_code = ${regionCode}
              and id = ${target.voucherId} for update`);
      if (!row) throw evoucherError(404, 'EVOUCHER_NOT_ACTIVATED', '尚未激活医保电子凭证');
      if (row.status === to) {
        throw evoucherError(
          409,
          to === 'suspended' ? 'EVOUCHER_ALREADY_SUSPENDED' : 'EVOUCHER_NOT_SUSPENDED',
          to === 'suspended' ? '电子凭证已处于挂失/暂停状态' : '电子凭证未被挂失/暂停',
        );
      }
      const [updated] = await tx.q<VoucherRow>(sql`update evoucher_voucher set status = ${to}, updated_at = now()
        where region_code = ${regionCode} and id = ${row.id} returning *`);
      await this.recordEvent(tx, row, to === 'suspended' ? 'suspend' : 'resume', row.status, to, actor, reason);
      await appendAudit(tx, {
        regionCode,
        actorKind: actor.kind,
        actorId: actor.id,
        action: to === 'suspended' ? 'evoucher.suspend' : 'evoucher.resume',
        targetType: 'evoucher',
        targetId: row.id,
        ip: actor.ip,
        userAgent: actor.userAgent,
        result: 'success',
        detail: reason ? { reason } : {},
      });
      return this.view(updated);
    });
  }

  async events(regionCode: string, voucherId: string) {
    const rows = await this.ctx.db.q<{
      action: string;
      from_status: string | null;
      to_status: string;
      actor_kind: string;
      reason: string | null;
      at: Date | string;
    }>(sql`select action, from_status, to_status, actor_kind, reason, at from evoucher_voucher_event
      where region_code = ${regionCode} and voucher_id = ${voucherId} order by at desc limit 50`);
    return rows.map((r) => ({
      action: r.action,
      fromStatus: r.from_status,
      toStatus: r.to_status,
      actorKind: r.actor_kind,
      reason: r.reason,
      at: isoInstant(r.at),
    }));
  }

  // ------------------------------------------------------------------------------------------ dynamic code

  /** A fresh signed code for the person's own voucher. Stateless: nothing is written per code. */
  async issueCode(regionCode: string, personId: string): Promise<IssuedCode> {
    const row = (await this.vouchersByPerson.load({ regionCode, personId })) ?? notActivated();
    if (row.status !== 'active') throw evoucherError(409, 'EVOUCHER_SUSPENDED', '电子凭证已挂失/暂停，请先恢复');
    return this.signCode(regionCode, row.code);
  }

  async signCode(regionCode: string, voucherCode: string, withQrVersion = true): Promise<IssuedCode> {
    const { qrTtlSeconds } = await this.settings(regionCode);
    const key = await this.keys.signing(regionCode, 'qr');
    const expiresAt = Math.floor(Date.now() / 1000) + qrTtlSeconds;
    const token = issueEvoucherToken({ voucherCode, expiresAt }, key);
    return {
      token,
      expiresAt: new Date(expiresAt * 1000).toISOString(),
      ttlSeconds: qrTtlSeconds,
      keyId: key.keyId,
      alg: key.alg,
      qrVersion: withQrVersion ? qrVersionOf(token) : 0,
    };
  }

  /** Public keys for offline verification (JWKS-like): active and retiring QR keys of one region or of all. */
  async publicKeys(regionCode?: string) {
    const rows = await this.ctx.db.q<{
      region_code: string;
      kid: number;
      alg: EvoucherAlg;
      public_key: string;
      status: string;
    }>(
      sql`select region_code, kid, alg, public_key, status from evoucher_key where purpose = 'qr' and status <> 'retired'
        ${regionCode ? sql`and region_code = ${regionCode}` : sql``} order by region_code, kid`,
    );
    return rows.map((k) => ({
      kty: k.alg === 'SM2' ? ('SM2' as const) : ('OKP' as const),
      crv: k.alg,
      kid: String(k.kid),
      region: k.region_code,
      alg: k.alg,
      x: k.public_key,
      status: k.status,
    }));
  }

  /**
   * An institution's online verification. Each answer is counted (`evoucher_verifications_total`), and a refusal for
   * the code it carries is kept by day, reason and institution (核验被拒, 用码统计): a rise of one reason is a story
   * — replays, codes shown twice; bad signatures, forgeries; unknown keys, a key retired while its codes were on phones.
   */
  async verify(channelRegion: string, input: VerifyInput, actor: Actor): Promise<VerifyResult> {
    try {
      const answer = await this.verifyScan(channelRegion, input, actor);
      this.countVerification({ result: 'ok' });
      return answer;
    } catch (err) {
      const code = err instanceof AppError ? err.code : 'error';
      this.countVerification({ result: code });
      if (code.startsWith('EVOUCHER_'))
        await this.recordRefusal(channelRegion, input.institutionCode, code).catch((e) =>
          this.ctx.log.warn({ err: e }, '核验被拒未能计数'),
        );
      throw err;
    }
  }

  /** The checks themselves: offline checks + region, suspension, single use; answers an ecToken. */
  private async verifyScan(channelRegion: string, input: VerifyInput, actor: Actor): Promise<VerifyResult> {
    const { clockSkewSeconds } = await this.settings(channelRegion);
    const now = Date.now();
    if (input.scanTime !== undefined && Math.abs(input.scanTime - now) > clockSkewSeconds * 1000) {
      throw evoucherError(400, 'EVOUCHER_CLOCK_SKEW', '时间偏差超出允许范围，请校准终端时间');
    }
    let claims: ReturnType<typeof verifyEvoucherToken>;
    try {
      const { claims: decoded } = decodeEvoucherToken(input.token);
      if (decoded.regionCode !== channelRegion) {
        throw evoucherError(
          403,
          'EVOUCHER_REGION_MISMATCH',
          '该电子凭证不属于本统筹区',
          '请使用本统筹区的医保电子凭证',
        );
      }
      const key = await this.keys.verifying(decoded.regionCode, decoded.keyId, 'qr');
      const { qrTtlSeconds } = await this.settings(decoded.regionCode);
      claims = verifyEvoucherToken(input.token, {
        keyFor: () => key,
        now,
        skewSeconds: clockSkewSeconds,
        maxTtlSeconds: qrTtlSeconds,
      });
    } catch (e) {
      fromTokenError(e);
    }
    const region = claims.regionCode;
    const ecToken = `${region}ec${randomHex(16)}`;
    const ecExpires = new Date(now + EC_TOKEN_TTL_MS);
    const voucher = await this.useRecorder.load({
      regionCode: region,
      voucherCode: claims.voucherCode,
      nonce: claims.nonce,
      businessType: input.businessType,
      institutionCode: input.institutionCode,
      appId: input.appId,
      operator: input.operator ?? null,
      operatorName: input.operatorName ?? null,
      device: input.device ?? null,
      ecToken,
      ecExpires: ecExpires.toISOString(),
    });
    if (!voucher) throw evoucherError(404, 'EVOUCHER_VOUCHER_NOT_FOUND', '电子凭证不存在或已重新激活');
    if (voucher.status !== 'active') throw evoucherError(409, 'EVOUCHER_SUSPENDED', '电子凭证已挂失/暂停');
    if (!voucher.use_id) throw evoucherError(409, 'EVOUCHER_TOKEN_REPLAYED', '该电子凭证码已使用，请刷新后重新出示');
    const useId = voucher.use_id;
    const status = await this.insuranceOf(region, voucher.person_no);
    void actor;
    const shown = this.maskedIdentity(voucher);
    return {
      useId,
      businessType: input.businessType,
      businessTypeName: BUSINESS_TYPES[input.businessType],
      person: { name: shown.name, residentId: shown.residentId, idType: '01' },
      insurance: summarise(status),
      ecToken,
      ecTokenExpiresAt: ecExpires.toISOString(),
      insuOrg: voucher.region_code,
    };
  }

  private readonly insuranceCache = new Map<string, { at: number; value: InsuranceStatus }>();
  private readonly maskedCache = new Map<string, { name: string; residentId: string }>();

  /**
   * The masked name and resident ID an institution is shown, remembered per ciphertext pair (a re-activation stores
   * new ciphertexts, so it never serves a stale identity): a verification need not decrypt both columns each time.
   * Only masked values are kept in memory.
   */
  private maskedIdentity(row: VoucherRow): { name: string; residentId: string } {
    const key = `${row.name_enc}|${row.resident_id_enc}`;
    const hit = this.maskedCache.get(key);
    if (hit) return hit;
    const { name, residentId } = this.view(row);
    const value = { name, residentId };
    if (this.maskedCache.size >= 10_000) this.maskedCache.clear();
    this.maskedCache.set(key, value);
    return value;
  }

  /**
   * The insurance summary shown to institutions, cached for 30 s per person: a scan answers who the person is; the
   * core zone checks the insurance status itself again when the institution settles (1101/2207).
   */
  private async insuranceOf(regionCode: string, personNo: string): Promise<InsuranceStatus> {
    const key = `${regionCode}:${personNo}`;
    const hit = this.insuranceCache.get(key);
    if (hit && Date.now() - hit.at < 30_000) return hit.value;
    const value = await coreZone(this.ctx)
      .insuranceStatus(regionCode, personNo)
      .catch((e) => {
        throw mapCoreError(e);
      });
    if (this.insuranceCache.size > 10_000) this.insuranceCache.clear();
    this.insuranceCache.set(key, { at: Date.now(), value });
    return value;
  }

  /** The core zone's resolver for 1101 with mdtrt_cert_type 01. */
  readonly resolveEcToken = async (
    regionCode: string,
    ecToken: string,
  ): Promise<{ residentId: string } | undefined> => {
    if (!/^\d{6}ec[0-9a-f]{32}$/.test(ecToken) || !ecToken.startsWith(regionCode)) return undefined;
    const row = await this.ctx.db.one<{ resident_id_enc: string }>(sql`select t.resident_id_enc from evoucher_ec_token t
      join evoucher_voucher v on v.region_code = t.region_code and v.id = t.voucher_id
      where t.region_code = ${regionCode} and t.token = ${ecToken} and t.expires_at > now() and v.status = 'active'`);
    return row ? { residentId: this.ctx.privacy.cipher.decrypt(row.resident_id_enc) } : undefined;
  };

  /** The voucher's latest uses, newest first; `since` keeps those after that instant. */
  async uses(regionCode: string, voucherId: string, limit = 50, since?: string) {
    const rows = await this.ctx.db.q<{
      id: string;
      business_type: BusinessType;
      institution_code: string;
      operator: string | null;
      operator_name: string | null;
      used_at: Date | string;
    }>(sql`select id, business_type, institution_code, operator, operator_name, used_at from evoucher_use
      where region_code = ${regionCode} and voucher_id = ${voucherId}
        ${since ? sql`and used_at >= ${since}` : sql``}
      order by used_at desc limit ${limit}`);
    const names = await this.institutions.names(
      regionCode,
      rows.map((r) => r.institution_code),
    );
    return rows.map((r) => ({
      id: r.id,
      businessType: r.business_type,
      businessTypeName: BUSINESS_TYPES[r.business_type] ?? r.business_type,
      institutionCode: r.institution_code,
      institutionName: names.get(r.institution_code) ?? null,
      /** the operator or window as the institution names it (an id means nothing to the person) */
      operator: r.operator_name,
      operatorId: r.operator,
      usedAt: isoInstant(r.used_at),
    }));
  }

  async myUses(regionCode: string, personId: string, since?: string) {
    return this.uses(regionCode, (await this.voucherOfPerson(regionCode, personId)).id, 50, since);
  }

  // ------------------------------------------------------------------------------------------ channel authorisation

  async authorize(
    regionCode: string,
    personId: string,
    input: { appId: string; channelName: string; scopes: AuthScope[]; days: number },
    actor: Actor,
  ) {
    const voucher = await this.voucherOfPerson(regionCode, personId);
    if (voucher.status !== 'active') throw evoucherError(409, 'EVOUCHER_SUSPENDED', '电子凭证已挂失/暂停，请先恢复');
    const code = randomHex(16);
    const expiresAt = new Date(Date.now() + input.days * 86400_000);
    return this.ctx.db.tx(async (tx) => {
      const [row] = await tx.q<{ id: string; created_at: Date | string }>(sql`insert into evoucher_authorization(
          region_code, voucher_id, person_id, app_id, channel_name, scopes, expires_at)
        values (${regionCode}, ${voucher.id}, ${personId}, ${input.appId}, ${input.channelName},
          ${JSON.stringify([...new Set(input.scopes)])}::jsonb, ${expiresAt.toISOString()}) returning id, created_at`);
      await tx.q(sql`insert into evoucher_auth_code(region_code, code_hash, authorization_id, app_id, expires_at)
        values (${regionCode}, ${sha(code)}, ${row.id}, ${input.appId}, ${new Date(Date.now() + AUTH_CODE_TTL_MS).toISOString()})`);
      await appendAudit(tx, {
        regionCode,
        actorKind: actor.kind,
        actorId: actor.id,
        action: 'evoucher.authorize',
        targetType: 'evoucher_authorization',
        targetId: row.id,
        result: 'success',
        detail: { appId: input.appId, scopes: input.scopes, expiresAt: expiresAt.toISOString() },
      });
      return {
        id: row.id,
        authCode: code,
        authCodeExpiresAt: new Date(Date.now() + AUTH_CODE_TTL_MS).toISOString(),
        expiresAt: expiresAt.toISOString(),
      };
    });
  }

  async authorizations(regionCode: string, personId: string) {
    const rows = await this.ctx.db.q<{
      id: string;
      app_id: string;
      channel_name: string;
      scopes: AuthScope[];
      expires_at: Date | string;
      revoked_at: Date | string | null;
      created_at: Date | string;
    }>(sql`select * from evoucher_authorization where region_code = ${regionCode} and person_id = ${personId}
      order by created_at desc limit 100`);
    const now = Date.now();
    return rows.map((r) => ({
      id: r.id,
      appId: r.app_id,
      channelName: r.channel_name,
      scopes: r.scopes,
      expiresAt: isoInstant(r.expires_at),
      revokedAt: r.revoked_at ? isoInstant(r.revoked_at) : null,
      createdAt: isoInstant(r.created_at),
      state: r.revoked_at ? 'revoked' : new Date(r.expires_at).getTime() <= now ? 'expired' : 'active',
    }));
  }

  async revoke(regionCode: string, personId: string, id: string, actor: Actor): Promise<void> {
    await this.ctx.db.tx(async (tx) => {
      const rows = await tx.q(sql`update evoucher_authorization set revoked_at = now()
        where region_code = ${regionCode} and person_id = ${personId} and id = ${id} and revoked_at is null returning id`);
      if (rows.length === 0) throw evoucherError(404, 'EVOUCHER_AUTHORIZATION_NOT_FOUND', '授权不存在或已撤销');
      await tx.q(
        sql`delete from evoucher_channel_token where region_code = ${regionCode} and authorization_id = ${id}`,
      );
      await appendAudit(tx, {
        regionCode,
        actorKind: actor.kind,
        actorId: actor.id,
        action: 'evoucher.revoke_authorization',
        targetType: 'evoucher_authorization',
        targetId: id,
        result: 'success',
      });
    });
  }

  /** The channel exchanges the one-time code (查询授权码) for a server-side token. */
  async exchangeCode(regionCode: string, appId: string, code: string) {
    return this.ctx.db.tx(async (tx) => {
      const [used] = await tx.q<{ authorization_id: string }>(sql`update evoucher_auth_code set used_at = now()
        where region_code = ${regionCode} and code_hash = ${sha(code)} and app_id = ${appId} and used_at is null
          and expires_at > now() returning authorization_id`);
      if (!used) throw evoucherError(400, 'EVOUCHER_AUTH_CODE_INVALID', '授权码无效、已过期或已使用');
      const auth = await tx.one<{ scopes: AuthScope[]; expires_at: Date | string; revoked_at: unknown }>(sql`
        select scopes, expires_at, revoked_at from evoucher_authorization
        where region_code = ${regionCode} and id = ${used.authorization_id}`);
      if (!auth || auth.revoked_at || new Date(auth.expires_at).getTime() <= Date.now()) {
        throw evoucherError(403, 'EVOUCHER_AUTHORIZATION_REVOKED', '授权已撤销或已过期');
      }
      const token = `evt_${randomHex(24)}`;
      const expiresAt = new Date(Math.min(Date.now() + CHANNEL_TOKEN_TTL_MS, new Date(auth.expires_at).getTime()));
      await tx.q(sql`insert into evoucher_channel_token(region_code, token_hash, authorization_id, app_id, expires_at)
        values (${regionCode}, ${sha(token)}, ${used.authorization_id}, ${appId}, ${expiresAt.toISOString()})`);
      return { accessToken: token, expiresAt: expiresAt.toISOString(), scopes: auth.scopes };
    });
  }

  /** For other centers (payment): who a channel token stands for, if the authorisation still holds. */
  async resolveChannelToken(regionCode: string, appId: string, token: string) {
    const row = await this.ctx.db.one<{
      person_id: string;
      person_no: string;
      voucher_id: string;
      scopes: AuthScope[];
      status: string;
    }>(sql`select a.person_id, v.person_no, v.id as voucher_id, a.scopes, v.status
      from evoucher_channel_token t
      join evoucher_authorization a on a.region_code = t.region_code and a.id = t.authorization_id
      join evoucher_voucher v on v.region_code = a.region_code and v.id = a.voucher_id
      where t.region_code = ${regionCode} and t.token_hash = ${sha(token)} and t.app_id = ${appId}
        and t.expires_at > now() and a.revoked_at is null and a.expires_at > now()`);
    if (!row) throw evoucherError(401, 'EVOUCHER_CHANNEL_TOKEN_INVALID', '授权令牌无效、已过期或授权已撤销');
    if (row.status !== 'active') throw evoucherError(409, 'EVOUCHER_SUSPENDED', '电子凭证已挂失/暂停');
    return { personId: row.person_id, personNo: row.person_no, voucherId: row.voucher_id, scopes: row.scopes };
  }

  /** What a channel may read with its token, limited to the granted scopes. */
  async channelPerson(regionCode: string, appId: string, token: string) {
    const auth = await this.resolveChannelToken(regionCode, appId, token);
    const voucher = await this.ctx.db.one<VoucherRow>(sql`select * from evoucher_voucher
      where region_code = ${regionCode} and id = ${auth.voucherId}`);
    const view = this.view(voucher!);
    return {
      scopes: auth.scopes,
      ...(auth.scopes.includes('identity') ? { person: { name: view.name, residentId: view.residentId } } : {}),
      ...(auth.scopes.includes('insurance')
        ? {
            insurance: summarise(
              await coreZone(this.ctx)
                .insuranceStatus(regionCode, auth.personNo)
                .catch((e) => {
                  throw mapCoreError(e);
                }),
            ),
          }
        : {}),
    };
  }

  // ------------------------------------------------------------------------------------------ QR login

  async createLoginTicket(regionCode: string) {
    const secret = randomHex(16);
    const expiresAt = new Date(Date.now() + LOGIN_TICKET_TTL_MS);
    const [row] = await this.ctx.db.q<{
      id: string;
    }>(sql`insert into evoucher_login_ticket(region_code, secret_hash, expires_at)
      values (${regionCode}, ${sha(secret)}, ${expiresAt.toISOString()}) returning id`);
    const qrContent = `${this.ctx.publicUrl}/personal/evoucher/login?ticket=${row.id}`;
    return {
      ticketId: row.id,
      secret,
      expiresAt: expiresAt.toISOString(),
      qrContent,
      qrSvg: await QRCode.toString(qrContent, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 }),
    };
  }

  private async ticket(regionCode: string, id: string, ex: Executor = this.ctx.db) {
    if (!isTicketId(id)) throw ticketNotFound();
    const row = await ex.one<{
      id: string;
      status: string;
      secret_hash: string;
      person_id: string | null;
      expires_at: Date | string;
      created_at: Date | string;
    }>(sql`select * from evoucher_login_ticket where region_code = ${regionCode} and id = ${id}`);
    if (!row) throw ticketNotFound();
    const expired = new Date(row.expires_at).getTime() <= Date.now();
    return { ...row, expired };
  }

  /** The phone (signed-in person) scanned the ticket; they must confirm next. */
  async scanLoginTicket(regionCode: string, id: string, personId: string) {
    const t = await this.ticket(regionCode, id);
    if (t.expired) throw evoucherError(410, 'EVOUCHER_LOGIN_TICKET_EXPIRED', '登录二维码已过期，请在电脑上刷新');
    const rows = await this.ctx.db.q(sql`update evoucher_login_ticket set status = 'scanned', person_id = ${personId}
      where region_code = ${regionCode} and id = ${id} and (status = 'pending' or (status = 'scanned' and person_id = ${personId}))
      returning id`);
    if (rows.length === 0) throw evoucherError(409, 'EVOUCHER_LOGIN_TICKET_USED', '登录二维码已被使用');
    return { ticketId: id, createdAt: isoInstant(t.created_at), expiresAt: isoInstant(t.expires_at) };
  }

  async confirmLoginTicket(regionCode: string, id: string, personId: string, actor: Actor) {
    if (!isTicketId(id)) throw ticketNotFound();
    const voucher = await this.voucherOfPerson(regionCode, personId);
    if (voucher.status !== 'active') throw evoucherError(409, 'EVOUCHER_SUSPENDED', '电子凭证已挂失/暂停，请先恢复');
    await this.ctx.db.tx(async (tx) => {
      const rows = await tx.q(sql`update evoucher_login_ticket set status = 'confirmed', confirmed_at = now()
        where region_code = ${regionCode} and id = ${id} and person_id = ${personId} and status = 'scanned'
          and expires_at > now() returning id`);
      if (rows.length === 0)
        throw evoucherError(409, 'EVOUCHER_LOGIN_TICKET_USED', '登录二维码已失效', '请在电脑上刷新二维码后重新扫码');
      await appendAudit(tx, {
        regionCode,
        actorKind: 'person',
        actorId: personId,
        action: 'evoucher.login_confirm',
        targetType: 'evoucher_login_ticket',
        targetId: id,
        ip: actor.ip,
        userAgent: actor.userAgent,
        result: 'success',
      });
    });
  }

  /** The browser polls with its secret: pending | scanned | confirmed | consumed | expired. */
  async pollLoginTicket(regionCode: string, id: string, secret: string) {
    const t = await this.ticket(regionCode, id);
    if (t.secret_hash !== sha(secret)) throw ticketNotFound();
    return { status: t.expired && t.status !== 'consumed' ? 'expired' : t.status };
  }

  /** Consumes a confirmed ticket (once): the person to log in. Used by the auth center's login method. */
  async completeLoginTicket(regionCode: string, id: string, secret: string): Promise<string | null> {
    if (!isTicketId(id)) return null;
    const rows = await this.ctx.db.q<{ person_id: string }>(sql`update evoucher_login_ticket set status = 'consumed'
      where region_code = ${regionCode} and id = ${id} and secret_hash = ${sha(secret)} and status = 'confirmed'
        and expires_at > now() returning person_id`);
    return rows[0]?.person_id ?? null;
  }

  /** Deletes what has expired for a day: pending/failed liveness sessions, login tickets, ecTokens, codes, tokens. */
  async purgeExpired(): Promise<number> {
    let n = 0;
    for (const q of [
      sql`delete from evoucher_liveness where status <> 'consumed' and expires_at < now() - interval '1 day' returning 1`,
      sql`delete from evoucher_login_ticket where expires_at < now() - interval '1 day' returning 1`,
      sql`delete from evoucher_ec_token where expires_at < now() - interval '1 day' returning 1`,
      sql`delete from evoucher_auth_code where expires_at < now() - interval '1 day' returning 1`,
      sql`delete from evoucher_channel_token where expires_at < now() - interval '1 day' returning 1`,
    ])
      n += (await this.ctx.db.q(q)).length;
    return n;
  }

  // ------------------------------------------------------------------------------------------ console

  /** Staff look-up by resident ID or voucher id; always audited with the stated purpose; answers masked data. */
  async lookup(regionCode: string, query: { residentId?: string; voucherId?: string }, purpose: string, actor: Actor) {
    const row = query.voucherId
      ? await this.ctx.db.one<VoucherRow>(sql`select * from evoucher_voucher where region_code = ${regionCode}
          and id = ${query.voucherId}`)
      : await this.ctx.db.one<VoucherRow>(sql`select * from evoucher_voucher where region_code = ${regionCode}
          and resident_id_bidx = ${this.ctx.privacy.blindIndex(query.residentId ?? '', 'resident_id')}`);
    await this.ctx.db.tx((tx) =>
      appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: actor.id,
        action: 'evoucher.lookup',
        targetType: 'evoucher',
        targetId: row?.id,
        purpose,
        ip: actor.ip,
        userAgent: actor.userAgent,
        result: row ? 'success' : 'failure',
        detail: { by: query.voucherId ? 'voucherId' : 'residentId' },
      }),
    );
    if (!row) throw evoucherError(404, 'EVOUCHER_NOT_ACTIVATED', '未找到该人员的医保电子凭证');
    return {
      voucher: this.view(row),
      events: await this.events(regionCode, row.id),
      uses: await this.uses(regionCode, row.id, 20),
    };
  }

  async listKeys(regionCode: string) {
    await this.keys.signing(regionCode, 'qr');
    return (await this.keys.keys(regionCode, true)).map((k: StoredKey) => ({
      kid: k.keyId,
      purpose: k.purpose,
      alg: k.alg,
      status: k.status,
      publicKey: k.publicKey,
      createdAt: k.createdAt,
      retiredAt: k.retiredAt,
    }));
  }

  async rotateKey(regionCode: string, alg: EvoucherAlg, actor: Actor): Promise<number> {
    return this.ctx.db.tx(async (tx) => {
      const kid = await this.keys.rotate(regionCode, 'qr', alg, actor.id, tx);
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: actor.id,
        action: 'evoucher.key_rotate',
        targetType: 'evoucher_key',
        targetId: String(kid),
        result: 'success',
        detail: { alg },
      });
      return kid;
    });
  }

  async retireKey(regionCode: string, kid: number, actor: Actor): Promise<void> {
    await this.ctx.db.tx(async (tx) => {
      const key = await this.keys.retire(regionCode, kid, tx);
      if (!key) throw evoucherError(409, 'EVOUCHER_KEY_NOT_RETIRABLE', '只能停用已轮换下来的旧密钥');
      await appendAudit(tx, {
        regionCode,
        actorKind: 'staff',
        actorId: actor.id,
        action: 'evoucher.key_retire',
        targetType: 'evoucher_key',
        targetId: String(kid),
        result: 'success',
      });
    });
  }

  /** A refused online verification, counted by China-time day, reason and institution (核验被拒). */
  private async recordRefusal(regionCode: string, institutionCode: string, code: string): Promise<void> {
    await this.ctx.db.q(sql`insert into evoucher_refusal (region_code, day, code, institution_code, count)
      values (${regionCode}, (now() at time zone 'Asia/Shanghai')::date, ${code}, ${institutionCode}, 1)
      on conflict (region_code, day, code, institution_code)
        do update set count = evoucher_refusal.count + 1, last_at = now()`);
  }

  /** Refused verifications of the last `days` days by day and reason, and the institutions with the most. */
  async dailyRefusals(regionCode: string, days: number): Promise<Refusals> {
    const since = businessDate(Date.now() - (days - 1) * 86_400_000);
    const rows = await this.ctx.db.q<{ day: string; code: string; institution_code: string; n: number }>(sql`
      select to_char(day, 'YYYY-MM-DD') as day, code, institution_code, count as n from evoucher_refusal
      where region_code = ${regionCode} and day >= ${since}::date`);
    const byInstitution = new Map<string, number>();
    for (const r of rows)
      byInstitution.set(r.institution_code, (byInstitution.get(r.institution_code) ?? 0) + Number(r.n));
    const top = [...byInstitution].sort((a, b) => b[1] - a[1]).slice(0, 10);
    const names = await this.institutions.names(
      regionCode,
      top.map(([code]) => code),
    );
    const daily = new Map<string, { day: string; code: string; count: number }>();
    for (const r of rows) {
      const key = `${r.day}|${r.code}`;
      const d = daily.get(key) ?? { day: r.day, code: r.code, count: 0 };
      d.count += Number(r.n);
      daily.set(key, d);
    }
    return {
      daily: [...daily.values()].sort((a, b) => a.day.localeCompare(b.day) || a.code.localeCompare(b.code)),
      institutions: top.map(([code, count]) => ({ code, name: names.get(code) ?? null, count })),
    };
  }

  /** Scans per day and business type (for the console chart). */
  async dailyScans(regionCode: string, days: number) {
    const since = new Date(Date.now() - days * 86400_000).toISOString();
    const rows = await this.ctx.db.q<{ day: string; business_type: BusinessType; n: number }>(sql`
      select to_char(used_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD') as day, business_type, count(*)::int as n
      from evoucher_use where region_code = ${regionCode} and used_at >= ${since}
      group by 1, 2 order by 1, 2`);
    return rows.map((r) => ({
      day: r.day,
      businessType: r.business_type,
      businessTypeName: BUSINESS_TYPES[r.business_type] ?? r.business_type,
      count: Number(r.n),
    }));
  }
}

/** A login ticket's id is a UUID (the column's type: anything else would reach the database as a type error). */
const isTicketId = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id);
const ticketNotFound = () => evoucherError(404, 'EVOUCHER_LOGIN_TICKET_NOT_FOUND', '登录二维码无效');

const qrVersions = new Map<number, number>();
/** Every token of a format has the same length and alphabet, so its QR version is computed once per length. */
function qrVersionOf(token: string): number {
  let v = qrVersions.get(token.length);
  if (v === undefined) {
    v = QRCode.create(token, { errorCorrectionLevel: 'M' }).version;
    qrVersions.set(token.length, v);
  }
  return v;
}

function summarise(status: InsuranceStatus): VerifyResult['insurance'] {
  return {
    regionCode: status.regionCode,
    personType: status.personType,
    insurances: status.insurances.map((i) => ({
      insuranceType: i.insuranceType,
      insuranceTypeName: INSURANCE_NAMES[i.insuranceType] ?? i.insuranceType,
      status: i.status,
    })),
  };
}

/** Core-zone failures in the e-voucher's own words (never passing personal data through). */
export function mapCoreError(e: unknown): AppError {
  const code = e instanceof AppError ? e.code : undefined;
  switch (code) {
    case 'CORE_PERSON_NOT_FOUND':
      return evoucherError(422, 'EVOUCHER_NOT_INSURED', '未在本统筹区参保，不能激活医保电子凭证');
    case 'CORE_INSURANCE_PAUSED':
      return evoucherError(409, 'EVOUCHER_INSURANCE_INACTIVE', '参保状态为暂停或终止');
    case 'CORE_INVALID_RESIDENT_ID':
      return evoucherError(422, 'EVOUCHER_RESIDENT_ID_INVALID', '账户的身份证号码无效');
    default:
      return evoucherError(502, 'EVOUCHER_CORE_ZONE_UNAVAILABLE', '核心区服务暂不可用，请稍后重试');
  }
}
