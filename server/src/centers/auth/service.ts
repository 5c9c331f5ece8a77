/** The unified authentication center's use cases (统一认证中心). No HTTP types here except the channel hook factory. */
import type { Context } from '../../platform/context.ts';
import { type Executor, sql } from '../../platform/db/index.ts';
import {
  type Channel,
  ChannelRegistry,
  type RegisterChannelInput,
  type RegisteredChannel,
} from './channel/channels.ts';
import { type ChannelAuthOptions, type ChannelVerifier, createChannelVerifier } from './channel/hook.ts';
import { type LoginMethod, LoginMethods } from './login-methods.ts';
import { OtpService, type SendOtpInput, type SendOtpResult, type VerifyOtpInput } from './otp.ts';
import { purgeCounters } from './rate-limit.ts';

export class AuthService {
  readonly ctx: Context;
  readonly channels: ChannelRegistry;
  readonly verifier: ChannelVerifier;
  readonly otp: OtpService;
  readonly loginMethods = new LoginMethods();

  constructor(ctx: Context) {
    this.ctx = ctx;
    this.channels = new ChannelRegistry(ctx);
    this.verifier = createChannelVerifier(ctx, this.channels);
    this.otp = new OtpService(ctx);
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

  /** Deletes expired nonces, codes and counters (job 'auth.purge'). */
  async purgeExpired(): Promise<void> {
    await this.verifier.purgeNonces();
    await purgeCounters(this.ctx.db);
    await this.ctx.db.q(sql`delete from auth_otp where expires_at < now() - interval '1 day'`);
  }

  /** Adds a login method to the interaction pages (e.g. the e-voucher QR login). */
  registerLoginMethod(method: LoginMethod): void {
    this.loginMethods.register(method);
  }
}
