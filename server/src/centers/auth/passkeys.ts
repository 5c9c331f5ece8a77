/** Passkeys (WebAuthn via @simplewebauthn/server): register several, name them, remove them, log in with them. */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { Context } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { AccountKind } from './accounts.ts';

export interface PasskeyView {
  id: string;
  name: string;
  deviceType: string | null;
  backedUp: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

interface PasskeyRow {
  region_code: string;
  id: string;
  account_kind: AccountKind;
  account_id: string;
  name: string;
  public_key: string;
  counter: number | string;
  transports: string[];
  device_type: string | null;
  backed_up: boolean;
  created_at: string;
  last_used_at: string | null;
}

const CHALLENGE_SECONDS = 300;
const iso = (v: string | Date | null) => (v ? new Date(v).toISOString() : null);
const passkeyFailed = () => new AppError(400, 'AUTH_PASSKEY_FAILED', '通行密钥验证失败', '请重试或改用其他方式');

type Transport = 'ble' | 'cable' | 'hybrid' | 'internal' | 'nfc' | 'smart-card' | 'usb';

export class Passkeys {
  private readonly ctx: Context;
  readonly rpID: string;
  readonly origin: string;

  constructor(ctx: Context) {
    this.ctx = ctx;
    const url = new URL(ctx.publicUrl);
    this.rpID = url.hostname;
    this.origin = url.origin;
  }

  private async saveChallenge(regionCode: string, id: string, challenge: string, accountId: string | null) {
    await this.ctx.db.q(sql`insert into auth_webauthn_challenge(region_code, id, challenge, account_id, expires_at)
      values (${regionCode}, ${id}, ${challenge}, ${accountId}, now() + make_interval(secs => ${CHALLENGE_SECONDS}))
      on conflict (region_code, id) do update set challenge = excluded.challenge, account_id = excluded.account_id,
        expires_at = excluded.expires_at`);
  }

  /** Takes (deletes) a live challenge. */
  private async takeChallenge(
    regionCode: string,
    id: string,
  ): Promise<{ challenge: string; account_id: string | null } | undefined> {
    return this.ctx.db.one(sql`delete from auth_webauthn_challenge where region_code = ${regionCode} and id = ${id}
      and expires_at > now() returning challenge, account_id`);
  }

  async registrationOptions(account: {
    kind: AccountKind;
    id: string;
    regionCode: string;
    name: string;
    username?: string;
  }) {
    const existing = await this.ctx.db.q<{
      id: string;
      transports: string[];
    }>(sql`select id, transports from auth_passkey
      where region_code = ${account.regionCode} and account_id = ${account.id}`);
    if (existing.length >= 10)
      throw new AppError(409, 'AUTH_PASSKEY_LIMIT', '通行密钥数量已达上限', '最多可登记 10 个');
    const options = await generateRegistrationOptions({
      rpName: '医保公共服务平台',
      rpID: this.rpID,
      userName: account.username ?? account.name,
      userDisplayName: account.name,
      userID: new TextEncoder().encode(account.id),
      attestationType: 'none',
      excludeCredentials: existing.map((c) => ({ id: c.id, transports: c.transports as Transport[] })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    });
    await this.saveChallenge(account.regionCode, `reg:${account.id}`, options.challenge, account.id);
    return options;
  }

  async register(
    account: { kind: AccountKind; id: string; regionCode: string },
    name: string,
    response: unknown,
  ): Promise<PasskeyView> {
    const pending = await this.takeChallenge(account.regionCode, `reg:${account.id}`);
    if (!pending) throw new AppError(400, 'AUTH_PASSKEY_CHALLENGE_EXPIRED', '操作已超时，请重新添加通行密钥');
    let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verification = await verifyRegistrationResponse({
        response: response as Parameters<typeof verifyRegistrationResponse>[0]['response'],
        expectedChallenge: pending.challenge,
        expectedOrigin: this.origin,
        expectedRPID: this.rpID,
        requireUserVerification: false,
      });
    } catch {
      throw passkeyFailed();
    }
    if (!verification.verified || !verification.registrationInfo) throw passkeyFailed();
    const info = verification.registrationInfo;
    const cred = info.credential;
    const transports = `{${(cred.transports ?? []).map((t) => `"${t}"`).join(',')}}`;
    const inserted =
      await this.ctx.db.q(sql`insert into auth_passkey(region_code, id, account_kind, account_id, name, public_key,
        counter, transports, device_type, backed_up)
      values (${account.regionCode}, ${cred.id}, ${account.kind}, ${account.id}, ${name}, ${Buffer.from(cred.publicKey).toString('base64url')},
        ${cred.counter}, ${transports}::text[], ${info.credentialDeviceType}, ${info.credentialBackedUp})
      on conflict do nothing returning id`);
    if (inserted.length === 0) throw new AppError(409, 'AUTH_PASSKEY_EXISTS', '该通行密钥已登记');
    return (await this.list(account.regionCode, account.id)).find((p) => p.id === cred.id)!;
  }

  async list(regionCode: string, accountId: string): Promise<PasskeyView[]> {
    const rows = await this.ctx.db.q<PasskeyRow>(sql`select * from auth_passkey where region_code = ${regionCode}
      and account_id = ${accountId} order by created_at`);
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      deviceType: r.device_type,
      backedUp: r.backed_up,
      createdAt: iso(r.created_at)!,
      lastUsedAt: iso(r.last_used_at),
    }));
  }

  async count(regionCode: string, accountId: string): Promise<number> {
    const row = await this.ctx.db.one<{ n: number }>(sql`select count(*)::int as n from auth_passkey
      where region_code = ${regionCode} and account_id = ${accountId}`);
    return Number(row?.n ?? 0);
  }

  async rename(regionCode: string, accountId: string, id: string, name: string): Promise<void> {
    const rows = await this.ctx.db.q(sql`update auth_passkey set name = ${name} where region_code = ${regionCode}
      and account_id = ${accountId} and id = ${id} returning id`);
    if (rows.length === 0) throw notFound('AUTH_PASSKEY_NOT_FOUND', '通行密钥不存在');
  }

  async remove(regionCode: string, accountId: string, id: string): Promise<void> {
    const rows = await this.ctx.db.q(sql`delete from auth_passkey where region_code = ${regionCode}
      and account_id = ${accountId} and id = ${id} returning id`);
    if (rows.length === 0) throw notFound('AUTH_PASSKEY_NOT_FOUND', '通行密钥不存在');
  }

  /** Options for a login (discoverable credentials) or a step-up (the account's own credentials). */
  async authenticationOptions(regionCode: string, challengeId: string, accountId?: string) {
    const allow = accountId
      ? await this.ctx.db.q<{ id: string; transports: string[] }>(sql`select id, transports from auth_passkey
          where region_code = ${regionCode} and account_id = ${accountId}`)
      : [];
    const options = await generateAuthenticationOptions({
      rpID: this.rpID,
      userVerification: 'preferred',
      allowCredentials: allow.map((c) => ({ id: c.id, transports: c.transports as Transport[] })),
    });
    await this.saveChallenge(regionCode, challengeId, options.challenge, accountId ?? null);
    return options;
  }

  /** Verifies an assertion; returns the account it belongs to (and must equal `accountId` for a step-up). */
  async authenticate(
    regionCode: string,
    challengeId: string,
    response: { id?: unknown } & Record<string, unknown>,
  ): Promise<{ kind: AccountKind; accountId: string; regionCode: string; userVerified: boolean }> {
    const pending = await this.takeChallenge(regionCode, challengeId);
    if (!pending || typeof response?.id !== 'string') throw passkeyFailed();
    const row = await this.ctx.db.one<PasskeyRow>(sql`select * from auth_passkey where id = ${response.id} limit 1`);
    if (!row || (pending.account_id && pending.account_id !== row.account_id)) throw passkeyFailed();
    let result: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      result = await verifyAuthenticationResponse({
        response: response as unknown as Parameters<typeof verifyAuthenticationResponse>[0]['response'],
        expectedChallenge: pending.challenge,
        expectedOrigin: this.origin,
        expectedRPID: this.rpID,
        credential: {
          id: row.id,
          publicKey: new Uint8Array(Buffer.from(row.public_key, 'base64url')),
          counter: Number(row.counter),
          transports: row.transports as Transport[],
        },
        requireUserVerification: false,
      });
    } catch {
      throw passkeyFailed();
    }
    if (!result.verified) throw passkeyFailed();
    await this.ctx.db.q(sql`update auth_passkey set counter = ${result.authenticationInfo.newCounter}, last_used_at = now()
      where region_code = ${row.region_code} and id = ${row.id}`);
    return {
      kind: row.account_kind,
      accountId: row.account_id,
      regionCode: row.region_code,
      userVerified: result.authenticationInfo.userVerified,
    };
  }
}
