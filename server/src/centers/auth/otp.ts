/** SMS one-time codes: 6 digits, 5 minutes, 5 attempts, resend after 60 s, per-mobile and per-IP limits in the DB. */
import { randomInt, timingSafeEqual } from 'node:crypto';
import { audit } from '../../platform/audit.ts';
import type { Context } from '../../platform/context.ts';
import { type Executor, sql } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { isValidMobile, maskMobile } from '../../platform/privacy/index.ts';
import { hit, type Limit } from './rate-limit.ts';

export const OTP_PURPOSES = ['register', 'login', 'reset', 'change_mobile', 'step_up', 'deactivate'] as const;
export type OtpPurpose = (typeof OTP_PURPOSES)[number];
/** Other spellings callers use (the user center's hyphenated names). */
export const OTP_PURPOSE_ALIASES: Record<string, OtpPurpose> = {
  'reset-password': 'reset',
  'change-mobile': 'change_mobile',
};
/** Purposes accepted on the wire, including aliases. */
export const OTP_PURPOSE_INPUTS = [...OTP_PURPOSES, ...Object.keys(OTP_PURPOSE_ALIASES)] as [string, ...string[]];

export function normalisePurpose(purpose: string): OtpPurpose {
  const p = OTP_PURPOSE_ALIASES[purpose] ?? purpose;
  if (!(OTP_PURPOSES as readonly string[]).includes(p)) {
    throw new AppError(400, 'VALIDATION_FAILED', '请求参数校验失败', 'purpose: 用途无效', {
      errors: [{ field: 'purpose', message: '用途无效' }],
    });
  }
  return p as OtpPurpose;
}

export const OTP_TTL_SECONDS = 300;
export const OTP_MAX_ATTEMPTS = 5;
export const OTP_RESEND_SECONDS = 60;

const PURPOSE_TEXT: Record<OtpPurpose, string> = {
  register: '注册',
  login: '登录',
  reset: '重置密码',
  change_mobile: '更换手机号',
  step_up: '身份验证',
  deactivate: '注销账号',
};

const LIMITS = {
  resend: { bucket: 'otp.mobile.resend', windowSeconds: OTP_RESEND_SECONDS, max: 1 },
  mobileHour: { bucket: 'otp.mobile.hour', windowSeconds: 3600, max: 5 },
  mobileDay: { bucket: 'otp.mobile.day', windowSeconds: 86_400, max: 10 },
  ipHour: { bucket: 'otp.ip.hour', windowSeconds: 3600, max: 30 },
} satisfies Record<string, Limit>;

export interface SendOtpInput {
  regionCode: string;
  mobile: string;
  /** One of OTP_PURPOSES (or an alias such as 'reset-password'). */
  purpose: OtpPurpose | string;
  /** Caller IP (per-IP limit); omitted for internal sends. */
  ip?: string;
}

export interface SendOtpResult {
  expiresInSeconds: number;
  resendAfterSeconds: number;
  /** True when delivered to the sandbox outbox (no real SMS gateway). */
  sandbox: boolean;
}

export interface VerifyOtpInput {
  regionCode: string;
  mobile: string;
  purpose: OtpPurpose | string;
  code: string;
}

/** The part of the message center's service the OTP sender uses (port; optional). */
interface MessageSender {
  send(
    tx: Executor,
    msg: {
      type: string;
      regionCode: string;
      to: { mobile?: string };
      payload: Record<string, unknown>;
      dedupeKey?: string;
    },
  ): Promise<unknown>;
}

const tooMany = (retryAfterSeconds: number, detail: string) =>
  new AppError(429, 'AUTH_OTP_RATE_LIMITED', '验证码发送过于频繁，请稍后再试', detail, {
    extra: { retryAfterSeconds },
  });

export function checkMobile(mobile: string): string {
  const m = typeof mobile === 'string' ? mobile.trim() : '';
  if (!isValidMobile(m)) {
    throw new AppError(400, 'VALIDATION_FAILED', '请求参数校验失败', 'mobile: 手机号格式不正确', {
      errors: [{ field: 'mobile', message: '手机号格式不正确' }],
    });
  }
  return m;
}

export class OtpService {
  private readonly ctx: Context;

  constructor(ctx: Context) {
    this.ctx = ctx;
  }

  private codeHash(id: string, code: string): string {
    return this.ctx.privacy.blindIndex(`${id}:${code}`, 'auth_otp');
  }

  mobileIndex(mobile: string): string {
    return this.ctx.privacy.blindIndex(mobile, 'mobile');
  }

  async send(input: SendOtpInput): Promise<SendOtpResult> {
    const mobile = checkMobile(input.mobile);
    const { regionCode } = input;
    const purpose = normalisePurpose(input.purpose);
    const bidx = this.mobileIndex(mobile);
    const db = this.ctx.db;
    if (input.ip) {
      const ip = await hit(db, regionCode, LIMITS.ipHour, input.ip);
      if (!ip.allowed) throw tooMany(ip.retryAfterSeconds, '该网络地址请求验证码次数过多');
    }
    const resend = await hit(db, regionCode, LIMITS.resend, `${bidx}:${purpose}`);
    if (!resend.allowed) throw tooMany(resend.retryAfterSeconds, `${OTP_RESEND_SECONDS} 秒内只能发送一次`);
    for (const limit of [LIMITS.mobileHour, LIMITS.mobileDay]) {
      const r = await hit(db, regionCode, limit, bidx);
      if (!r.allowed) throw tooMany(r.retryAfterSeconds, '该手机号今日请求验证码次数过多');
    }
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const message = (this.ctx.services as Record<string, unknown>).message as MessageSender | undefined;
    await db.tx(async (tx) => {
      const row = await tx.one<{
        id: string;
      }>(sql`insert into auth_otp(region_code, mobile_bidx, purpose, code_hash, expires_at, ip)
        values (${regionCode}, ${bidx}, ${purpose}, '', now() + make_interval(secs => ${OTP_TTL_SECONDS}), ${input.ip ?? null})
        returning id`);
      const id = row!.id;
      await tx.q(
        sql`update auth_otp set code_hash = ${this.codeHash(id, code)} where region_code = ${regionCode} and id = ${id}`,
      );
      // Older codes for the same purpose stop working once a new one is sent.
      await tx.q(sql`update auth_otp set consumed_at = now() where region_code = ${regionCode} and mobile_bidx = ${bidx}
        and purpose = ${purpose} and id <> ${id} and consumed_at is null`);
      if (message) {
        await message.send(tx, {
          type: 'auth.otp',
          regionCode,
          to: { mobile },
          payload: { code, purpose, purposeText: PURPOSE_TEXT[purpose], minutes: OTP_TTL_SECONDS / 60 },
          dedupeKey: `auth.otp:${id}`,
        });
      } else {
        await this.sandboxSms(tx, regionCode, mobile, purpose, code);
      }
    });
    return { expiresInSeconds: OTP_TTL_SECONDS, resendAfterSeconds: OTP_RESEND_SECONDS, sandbox: !message };
  }

  private async sandboxSms(tx: Executor, regionCode: string, mobile: string, purpose: OtpPurpose, code: string) {
    const text = `【医保服务】您的${PURPOSE_TEXT[purpose]}验证码为 ${code}，${OTP_TTL_SECONDS / 60} 分钟内有效。请勿告诉他人。`;
    await tx.q(sql`insert into auth_sms_outbox(region_code, mobile_enc, mobile_bidx, mobile_masked, purpose, text)
      values (${regionCode}, ${this.ctx.privacy.cipher.encrypt(mobile)}, ${this.mobileIndex(mobile)}, ${maskMobile(mobile)},
        ${purpose}, ${text})`);
    this.ctx.log.info(
      { regionCode, mobile: maskMobile(mobile), purpose },
      '沙箱短信：验证码已写入沙箱发件箱（未真实发送）',
    );
  }

  async verify(input: VerifyOtpInput): Promise<boolean> {
    if (typeof input.code !== 'string' || !/^\d{6}$/.test(input.code)) return false;
    let mobile: string;
    let purpose: OtpPurpose;
    try {
      mobile = checkMobile(input.mobile);
      purpose = normalisePurpose(input.purpose);
    } catch {
      return false;
    }
    const bidx = this.mobileIndex(mobile);
    const row = await this.ctx.db.one<{ id: string; code_hash: string }>(sql`update auth_otp set attempts = attempts + 1
      where region_code = ${input.regionCode} and id = (
        select id from auth_otp where region_code = ${input.regionCode} and mobile_bidx = ${bidx}
          and purpose = ${purpose} and consumed_at is null and expires_at > now()
        order by created_at desc limit 1)
        and attempts < ${OTP_MAX_ATTEMPTS} and consumed_at is null
      returning id, code_hash`);
    if (!row) return false;
    const expected = Buffer.from(row.code_hash);
    const actual = Buffer.from(this.codeHash(row.id, input.code));
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      await audit(this.ctx.db, {
        regionCode: input.regionCode,
        actorKind: 'anonymous',
        actorId: `mobile:${bidx.slice(0, 16)}`,
        action: 'auth.otp.verify',
        result: 'failure',
        detail: { purpose },
      });
      return false;
    }
    const consumed = await this.ctx.db.q(sql`update auth_otp set consumed_at = now()
      where region_code = ${input.regionCode} and id = ${row.id} and consumed_at is null returning id`);
    return consumed.length === 1;
  }

  async outbox(
    regionCode: string,
    limit = 100,
  ): Promise<Array<{ id: string; mobileMasked: string; purpose: string; text: string; createdAt: string }>> {
    const rows = await this.ctx.db.q<{
      id: string;
      mobile_masked: string;
      purpose: string;
      text: string;
      created_at: string;
    }>(
      sql`select id, mobile_masked, purpose, text, created_at from auth_sms_outbox where region_code = ${regionCode}
        order by created_at desc limit ${limit}`,
    );
    return rows.map((r) => ({
      id: r.id,
      mobileMasked: r.mobile_masked,
      purpose: r.purpose,
      text: r.text,
      createdAt: new Date(r.created_at).toISOString(),
    }));
  }

  /** The last sandbox SMS to a mobile (tests and the console's "find by number"). */
  async lastSandboxSms(regionCode: string, mobile: string): Promise<string | undefined> {
    const row = await this.ctx.db.one<{
      text: string;
    }>(sql`select text from auth_sms_outbox where region_code = ${regionCode}
      and mobile_bidx = ${this.mobileIndex(mobile)} order by created_at desc limit 1`);
    return row?.text;
  }
}
