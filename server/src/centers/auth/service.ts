/** The unified authentication center's use cases (统一认证中心). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Provider } from 'oidc-provider';
import { acrLevel, requireAcr, requirePrincipal } from '../../platform/auth.ts';
import type { Context } from '../../platform/context.ts';
import { type Executor, sql } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { passwordChecks } from '../../platform/rate-limit.ts';
import { type AccountDirectory, type AccountKind, type AccountRef, userCenterDirectory } from './accounts.ts';
import { CertificateLogin } from './certs.ts';
import {
  type Channel,
  ChannelRegistry,
  type RegisterChannelInput,
  type RegisteredChannel,
} from './channel/channels.ts';
import { type ChannelAuthOptions, type ChannelVerifier, createChannelVerifier } from './channel/hook.ts';
import { type LoginEventView, LoginGuard, type SessionView } from './login.ts';
import { type LoginMethod, LoginMethods } from './login-methods.ts';
import { type LoginOverview, loginOverview } from './monitor.ts';
import { purgeExpiredPayloads } from './oidc/adapter.ts';
import { OidcProvider } from './oidc/provider.ts';
import { OtpService, type SendOtpInput, type SendOtpResult, type VerifyOtpInput } from './otp.ts';
import { Passkeys } from './passkeys.ts';
import { purgeCounters } from './rate-limit.ts';

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

class OidcFacade extends OidcProvider {
  private readonly handlers = new WeakMap<Provider, NodeHandler>();

  /** The provider's Node request handler (built once per provider instance). */
  handler(provider: Provider): NodeHandler {
    let h = this.handlers.get(provider);
    if (!h) {
      h = provider.callback();
      this.handlers.set(provider, h);
    }
    return h;
  }
}

export class AuthService {
  readonly ctx: Context;
  readonly channels: ChannelRegistry;
  readonly verifier: ChannelVerifier;
  readonly otp: OtpService;
  readonly guard: LoginGuard;
  readonly passkeys: Passkeys;
  readonly certs: CertificateLogin;
  readonly oidc: OidcFacade;
  readonly loginMethods = new LoginMethods();
  private directory?: AccountDirectory;
  private readonly passwordChecks: ReturnType<typeof passwordChecks>;

  constructor(ctx: Context) {
    this.ctx = ctx;
    this.channels = new ChannelRegistry(ctx);
    this.verifier = createChannelVerifier(ctx, this.channels);
    this.otp = new OtpService(ctx);
    this.guard = new LoginGuard(ctx);
    this.passkeys = new Passkeys(ctx);
    this.certs = new CertificateLogin(ctx);
    this.oidc = new OidcFacade(ctx, this);
    this.passwordChecks = passwordChecks(ctx.db);
  }

  /** The account directory (the user center unless replaced, e.g. by a test). */
  accounts(): AccountDirectory {
    this.directory ??= userCenterDirectory(this.ctx);
    return this.directory;
  }

  useAccountDirectory(directory: AccountDirectory): void {
    this.directory = directory;
  }

  /** Registers a channel. Without `publicKeyHex` an SM2 key pair is generated and the private half returned once. */
  registerChannel(input: RegisterChannelInput, ex?: Executor): Promise<RegisteredChannel> {
    return this.channels.register(input, ex);
  }

  listChannels(regionCode: string): Promise<Channel[]> {
    return this.channels.list(regionCode);
  }

  /**
   * Fastify preHandler for channel routes: verifies the signed envelope (SM2 over SM3, ±300 s, nonce replay in
   * the database), sets req.principal {kind:'channel'} and req.channel, and replaces req.body with the data.
   * Declare `schema.body: channelEnvelopeSchema` and parse with `parseChannelData(schema, req.body)`.
   */
  channelAuth(opts: ChannelAuthOptions = {}) {
    return this.verifier.preHandler(opts);
  }

  /** Sends a one-time SMS code (6 digits, 5 min). Throttled per mobile and per IP. */
  sendOtp(input: SendOtpInput): Promise<SendOtpResult> {
    return this.otp.send(input);
  }

  /** Checks a code; true once (the code is consumed). Max 5 attempts per code. */
  verifyOtp(input: VerifyOtpInput): Promise<boolean> {
    return this.otp.verify(input);
  }

  /**
   * For a change that gives lasting access (a passkey, a channel's authorisation): the account's owner, not only a
   * session, must be there. A session with a second factor is enough; otherwise the password shown again
   * (`AUTH_CONFIRM_PASSWORD` asks for it, `AUTH_PASSWORD_WRONG`; counted with the other checks of one's own
   * password), and an account without a password steps up (`STEP_UP_REQUIRED`). Returns the account when it read it.
   */
  async confirmOwner(
    req: FastifyRequest,
    reply: FastifyReply,
    password: string | undefined,
  ): Promise<AccountRef | undefined> {
    const p = requirePrincipal(req, 'person', 'staff');
    if (acrLevel(p.acr) >= acrLevel('mfa')) return undefined;
    const account = await this.accounts().get(p.kind as AccountKind, p.regionCode, p.subject);
    if (!account) throw new AppError(404, 'AUTH_ACCOUNT_NOT_FOUND', '账号不存在');
    if (password === undefined) {
      if (account.passwordSet === false) requireAcr(req, 'mfa');
      throw new AppError(401, 'AUTH_CONFIRM_PASSWORD', '请输入登录密码确认是您本人', '此操作需确认是您本人');
    }
    await this.passwordChecks(req, reply);
    if (!(await this.accounts().verifyPassword(account, password))) {
      throw new AppError(400, 'AUTH_PASSWORD_WRONG', '密码不正确', undefined, {
        errors: [{ field: 'password', message: '密码不正确' }],
      });
    }
    return account;
  }

  /** Adds a login method to the interaction pages (e.g. the e-voucher QR login). */
  registerLoginMethod(method: LoginMethod): void {
    this.loginMethods.register(method);
  }

  /** The account behind a subject (provider sessions know the id only; kind and region come from our session log). */
  async findAccountById(sub: string): Promise<AccountRef | null> {
    const s = await this.ctx.db.one<{
      account_kind: AccountKind;
      region_code: string;
    }>(sql`select account_kind, region_code
      from auth_session where account_id = ${sub} order by created_at desc limit 1`);
    if (!s) return null;
    return this.accounts().get(s.account_kind, s.region_code, sub);
  }

  /** Lifts a login lock (staff action; also used by the user center's unlock). */
  async unlockAccount(input: {
    regionCode: string;
    kind: AccountKind;
    subjectId: string;
    actor?: string;
  }): Promise<boolean> {
    return this.guard.unlock(input.regionCode, input.kind, input.subjectId);
  }

  /**
   * A new password was set (by the person after an SMS code or with the old one, or by a clerk who checked who they
   * are): the login lock and the failures before it no longer stand. Called in the user center's transaction.
   */
  forgetLoginFailures(tx: Executor, account: { kind: AccountKind; id: string }): Promise<void> {
    return this.guard.forget(tx, account.kind, account.id);
  }

  lockState(regionCode: string, kind: AccountKind, accountId: string) {
    return this.guard.lockState(regionCode, kind, accountId);
  }

  /** 登录监控: the region's logins of the last `hours` hours. */
  loginOverview(regionCode: string, hours: number): Promise<LoginOverview> {
    return loginOverview(this.ctx.db, this.accounts(), regionCode, hours);
  }

  loginHistory(regionCode: string, accountId: string, limit?: number): Promise<LoginEventView[]> {
    return this.guard.history(regionCode, accountId, limit);
  }

  sessions(regionCode: string, accountId: string): Promise<SessionView[]> {
    return this.guard.sessions(regionCode, accountId);
  }

  /**
   * Remote sign-out: the session's access tokens stop working at once (ctx.sessionActive), its grants (refresh
   * tokens) are revoked and the provider session is destroyed.
   */
  async revokeSession(regionCode: string, accountId: string | null, sid: string, by: string): Promise<boolean> {
    return this.ctx.db.tx(async (tx) => {
      if (!(await this.guard.revokeSession(regionCode, accountId, sid, by, tx))) return false;
      await this.destroyProviderSession(tx, sid);
      return true;
    });
  }

  /**
   * Signs the account out everywhere but `keep` (the session that asked), as remote sign-out does, in the caller's
   * transaction: the user center calls it when a password is changed or reset and when an account is disabled or
   * deactivated, so a sign-in made with the old password does not outlive it; a clerk ends them all on request.
   * Answers how many sessions ended.
   */
  async endSessions(
    ex: Executor,
    account: { kind: AccountKind; id: string },
    by: string,
    keep?: string,
    /** only the sessions of this region (a clerk acts within the region they chose) */
    regionCode?: string,
  ) {
    const sids = await this.guard.revokeSessionsOf(ex, account, by, keep, regionCode);
    for (const sid of sids) await this.destroyProviderSession(ex, sid);
    return sids.length;
  }

  private async destroyProviderSession(ex: Executor, sid: string): Promise<void> {
    const home = this.ctx.config.DEFAULT_REGION;
    const row = await ex.one<{
      id: string;
      payload: { authorizations?: Record<string, { grantId?: string }> };
    }>(sql`select id, payload from oidc_payload where region_code = ${home} and kind = 'Session' and uid = ${sid}`);
    if (!row) return;
    for (const auth of Object.values(row.payload.authorizations ?? {})) {
      if (auth.grantId) {
        await ex.q(sql`delete from oidc_payload where region_code = ${home} and (grant_id = ${auth.grantId}
          or (kind = 'Grant' and id = ${auth.grantId}))`);
      }
    }
    await ex.q(sql`delete from oidc_payload where region_code = ${home} and kind = 'Session' and id = ${row.id}`);
  }

  /** For ctx.sessionActive: user sessions not revoked; channel tokens while the channel is active. */
  async sessionActive(sid: string, regionCode: string): Promise<boolean> {
    if (sid.startsWith('ch:')) {
      const ch = await this.channels.find(sid.slice(3));
      return ch?.status === 'active';
    }
    return this.guard.isActive(sid, regionCode);
  }

  /** Deletes expired nonces, codes, counters, provider state, forgotten failures and old login history (job 'auth.purge'). */
  async purgeExpired(): Promise<void> {
    await this.verifier.purgeNonces();
    await purgeCounters(this.ctx.db);
    await purgeExpiredPayloads(this.ctx.db);
    await this.ctx.db.q(sql`delete from auth_otp where expires_at < now() - interval '1 day'`);
    await this.ctx.db.q(sql`delete from auth_webauthn_challenge where expires_at < now()`);
    await this.guard.purge(this.ctx.config.LOGIN_HISTORY_DAYS);
  }
}
