/**
 * Mounts the OIDC provider in Fastify and serves the interaction (login / step-up) pages.
 * The provider is a Node handler: its routes are raw (hijacked) Fastify routes whose bodies Fastify leaves unread.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Interaction } from 'oidc-provider';
import type { Context } from '../../../platform/context.ts';
import { AppError } from '../../../platform/errors.ts';
import { type App, nulCharacter } from '../../../platform/http.ts';
import { maskMobile } from '../../../platform/privacy/index.ts';
import type { AccountKind, AccountRef } from '../accounts.ts';
import type { LoginContext } from '../login.ts';
import type { AuthService } from '../service.ts';
import { heldWrites } from './adapter.ts';
import { FAST_GRANT_MAX_BODY, fastGrantCandidate } from './client-credentials.ts';
import { loginPage, passwordChangePage, stepUpPage, stepUpPurpose } from './pages.ts';
import type { YibaoLoginResult } from './provider.ts';

const CSRF_COOKIE = 'yb_csrf';
/** How long the change-password form of a login with a temporary password stays valid. */
const PASSWORD_CHANGE_SECONDS = 600;

const METHOD_LABELS: Record<string, string> = { pwd: '密码', sms: '短信验证码', passkey: '通行密钥', cert: '数字证书' };
const ACR_FOR: Record<string, string> = { pwd: 'pwd', sms: 'sms', passkey: 'passkey', cert: 'cert' };

const CERT_REASON: Record<string, string> = {
  malformed: '证书格式无效',
  untrusted: '证书不是由受信任的机构签发',
  expired: '证书不在有效期内',
  revoked: '证书已被吊销',
  crl_unavailable: '暂时无法核验证书吊销状态',
  signature: '签名验证失败，请重新获取挑战值后签名',
};

function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

let webauthnBundle: string | undefined;
function webauthnScript(): string {
  webauthnBundle ??= readFileSync(
    new URL('../../../../../node_modules/@simplewebauthn/browser/dist/bundle/index.umd.min.js', import.meta.url),
    'utf8',
  );
  return webauthnBundle;
}

export async function mountOidc(app: App, ctx: Context, auth: AuthService): Promise<void> {
  const secure = ctx.publicUrl.startsWith('https:');

  // The provider authenticates its own callers (opaque tokens at /oidc/me, client secrets at /oidc/token): its routes
  // declare so, and the platform leaves their Authorization header alone (platform/auth.ts ownsAuthentication).
  const forward = async (req: FastifyRequest, reply: FastifyReply) => {
    const provider = await auth.oidc.provider();
    if (fastGrantCandidate(req.method, req.url, req.headers)) {
      // A channel back-end's client-credentials grant: answered here when it is the plain case, else the provider
      // gets the request with the body already read (it takes a consumed body from req.body).
      const body = await readSmallBody(req.raw, FAST_GRANT_MAX_BODY);
      const grant = await auth.oidc.clientCredentials(provider, req.headers.authorization!, body);
      if (grant) {
        return reply.header('cache-control', 'no-store').type('application/json; charset=utf-8').send(grant.body);
      }
      (req.raw as IncomingMessage & { body?: string }).body = body;
    }
    reply.hijack();
    auth.oidc.handler(provider)(req.raw, reply.raw);
  };

  await app.register(async (sub) => {
    sub.removeAllContentTypeParsers();
    sub.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    const own = { schema: { hide: true }, config: { ownAuthentication: true } };
    sub.all('/oidc/*', own, forward);
    sub.all('/.well-known/openid-configuration', own, forward);
  });

  app.get('/oidc/assets/webauthn.js', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(webauthnScript()),
  );

  await app.register(async (sub) => {
    sub.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 16_384 },
      (_req, body, done) => {
        if ((body as string).includes('%00')) done(nulCharacter(), undefined);
        else done(null, Object.fromEntries(new URLSearchParams(body as string)));
      },
    );
    interactionRoutes(sub as unknown as App, ctx, auth, secure);
  });
}

/** A request body of at most `limit` bytes (its content-length was checked), as UTF-8 text. */
async function readSmallBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false })) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new AppError(413, 'AUTH_BODY_TOO_LARGE', '请求体过大');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/**
 * Proof, carried by the change-password form, that this interaction checked the account's temporary password: an
 * HMAC over interaction uid, account and expiry (no server state, so any process of the platform accepts it).
 */
interface PasswordChangeTicket {
  uid: string;
  kind: AccountKind;
  id: string;
  regionCode: string;
  exp: number;
}

function ticketSigner(ctx: Context) {
  const key = createSecretKey(
    createHmac('sha256', Buffer.from(ctx.config.BLIND_INDEX_KEY, 'hex')).update('oidc-password-change-ticket').digest(),
  );
  const mac = (body: string) => createHmac('sha256', key).update(body).digest('base64url');
  return {
    sign(t: Omit<PasswordChangeTicket, 'exp'>): string {
      const body = Buffer.from(
        JSON.stringify({ ...t, exp: Math.floor(Date.now() / 1000) + PASSWORD_CHANGE_SECONDS }),
      ).toString('base64url');
      return `${body}.${mac(body)}`;
    },
    verify(ticket: unknown, uid: string): PasswordChangeTicket | undefined {
      if (typeof ticket !== 'string') return undefined;
      const [body, given] = ticket.split('.');
      if (!body || !given || !sameToken(mac(body), given)) return undefined;
      try {
        const t = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as PasswordChangeTicket;
        return t.uid === uid && t.exp > Date.now() / 1000 ? t : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

interface Page {
  interaction: Interaction;
  client: { appId: string; name: string; regionCode: string; loginMethods: string[]; staff: boolean };
  regionCode: string;
  regionName: string;
  kind: AccountKind;
}

function interactionRoutes(app: App, ctx: Context, auth: AuthService, secure: boolean): void {
  const tickets = ticketSigner(ctx);
  const details = async (req: FastifyRequest, reply: FastifyReply): Promise<Page> => {
    const provider = await auth.oidc.provider();
    let interaction: Interaction;
    try {
      interaction = await provider.interactionDetails(req.raw, reply.raw);
    } catch {
      throw new AppError(400, 'AUTH_INTERACTION_EXPIRED', '登录页面已过期，请返回应用重新登录');
    }
    const uid = (req.params as { uid: string }).uid;
    if (interaction.uid !== uid)
      throw new AppError(400, 'AUTH_INTERACTION_EXPIRED', '登录页面已过期，请返回应用重新登录');
    const channel = await auth.channels.find(String(interaction.params.client_id));
    if (!channel) throw new AppError(400, 'AUTH_INTERACTION_EXPIRED', '应用已停用');
    const asked = typeof interaction.params.region === 'string' ? interaction.params.region : '';
    const region = /^\d{6}$/.test(asked) ? await ctx.regions.get(asked) : undefined;
    const regionCode = region ? asked : channel.regionCode;
    const regionName = (region ?? (await ctx.regions.get(regionCode)))?.name ?? regionCode;
    const staff = channel.scopes.includes('staff');
    return {
      interaction,
      client: {
        appId: channel.appId,
        name: channel.name,
        regionCode: channel.regionCode,
        loginMethods: channel.loginMethods,
        staff,
      },
      regionCode,
      regionName,
      kind: staff ? 'staff' : 'person',
    };
  };

  const csrfFor = (req: FastifyRequest, reply: FastifyReply): string => {
    const existing = cookies(req.raw)[CSRF_COOKIE];
    if (existing && /^[\w-]{32,64}$/.test(existing)) return existing;
    const token = randomBytes(24).toString('base64url');
    reply.header(
      'set-cookie',
      `${CSRF_COOKIE}=${token}; Path=/oidc/interaction; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`,
    );
    return token;
  };

  const checkCsrf = (req: FastifyRequest, given: unknown) => {
    if (typeof given !== 'string' || !sameToken(cookies(req.raw)[CSRF_COOKIE], given)) {
      throw new AppError(403, 'AUTH_CSRF_FAILED', '页面已失效，请刷新后重试');
    }
  };

  const lcOf = (req: FastifyRequest, page: Page): LoginContext => ({
    regionCode: page.regionCode,
    ip: req.ip,
    userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined,
    clientId: page.client.appId,
  });

  const methodsOf = (page: Page) => {
    const allowed = page.client.loginMethods;
    const builtIn = ['pwd', 'sms', 'passkey', 'cert']
      .filter((m) => allowed.includes(m))
      .filter((m) => !(page.kind === 'staff' && (m === 'sms' || m === 'cert')))
      .map((code) => ({ code, label: METHOD_LABELS[code]! }));
    const extra = auth.loginMethods
      .all()
      .filter((m) => allowed.includes(m.amr))
      .map((m) => ({ code: m.amr, label: m.label }));
    return [...builtIn, ...extra];
  };

  // the codes go through the message center's SMS channel when it is there, else to the auth center's own outbox
  const smsIsSandbox = () => ctx.services.message?.providers.sms.sandbox ?? true;

  const stepUpNeeded = (page: Page) =>
    page.interaction.prompt.name === 'login' &&
    page.interaction.prompt.reasons.includes('acr_step_up') &&
    Boolean(page.interaction.session?.accountId);

  const render = async (
    req: FastifyRequest,
    reply: FastifyReply,
    page: Page,
    opts: { status?: number; error?: string; notice?: string; method?: string; loginId?: string; mobile?: string } = {},
  ) => {
    const csrf = csrfFor(req, reply);
    interactionPage(reply, opts.status);
    if (stepUpNeeded(page)) {
      const account = await currentAccount(page);
      return reply.send(
        stepUpPage({
          uid: page.interaction.uid,
          csrf,
          clientName: page.client.name,
          mobileMasked: account?.mobile ? maskMobile(account.mobile) : undefined,
          hasPasskey: account ? (await auth.passkeys.count(account.regionCode, account.id)) > 0 : false,
          staff: account?.kind === 'staff',
          purpose: stepUpPurpose(page.interaction.params.step_up_for),
          error: opts.error,
          notice: opts.notice,
          sandboxSms: smsIsSandbox(),
        }),
      );
    }
    const methods = methodsOf(page);
    const wanted = opts.method ?? ((req.query as { m?: string }).m || methods[0]?.code || 'pwd');
    const method = methods.some((m) => m.code === wanted) ? wanted : (methods[0]?.code ?? 'pwd');
    const extra = auth.loginMethods.get(method);
    const certChallenge =
      method === 'cert' ? await auth.certs.challenge(page.regionCode, page.interaction.uid) : undefined;
    return reply.send(
      loginPage({
        uid: page.interaction.uid,
        csrf,
        clientName: page.client.name,
        regionName: page.regionName,
        method,
        methods,
        staff: page.kind === 'staff',
        error: opts.error,
        notice: opts.notice,
        loginId: opts.loginId,
        mobile: opts.mobile,
        panel: extra?.renderPanel({ uid: page.interaction.uid, csrf, regionCode: page.regionCode }),
        certChallenge,
        sandboxSms: smsIsSandbox(),
      }),
    );
  };

  const currentAccount = async (page: Page): Promise<AccountRef | null> => {
    const sid = page.interaction.session?.uid;
    const s = sid ? await auth.guard.sessionBySid(sid) : undefined;
    if (!s) return null;
    return auth.accounts().get(s.account_kind, s.region_code, s.account_id);
  };

  /**
   * Finishes the interaction with a login: the login's audit entry and history row, and the interaction's result (what
   * lets the provider go on with the login), commit in one transaction. Returns where to redirect.
   */
  const finish = async (
    req: FastifyRequest,
    page: Page,
    account: AccountRef,
    acr: string,
    amr: string[],
    audit: { lc: LoginContext; method: string },
  ): Promise<string> => {
    const yibao: YibaoLoginResult = {
      kind: account.kind,
      accountId: account.id,
      regionCode: account.regionCode,
      acr,
      amr,
      ip: req.ip,
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'].slice(0, 300) : undefined,
    };
    // What provider.interactionResult(…, {mergeWithLastSubmission: false}) does, on the interaction this request
    // already loaded (saves a look-up of it per login) — its write held and committed with the audit entry.
    const { interaction } = page;
    interaction.result = { login: { accountId: account.id, acr, amr, remember: true }, yibao };
    const save = await heldWrites(() => interaction.save(interaction.exp - Math.floor(Date.now() / 1000)));
    await auth.guard.record(audit.lc, { account, kind: account.kind, method: audit.method, result: 'success' }, save);
    return interaction.returnTo;
  };

  /** Shared outcome handling for the form logins. */
  const attempt = async (
    req: FastifyRequest,
    reply: FastifyReply,
    page: Page,
    method: string,
    loginId: string,
    resolve: () => Promise<AccountRef | null>,
    verify: (account: AccountRef | null) => Promise<boolean>,
    formState: { loginId?: string; mobile?: string },
  ) => {
    const lc = lcOf(req, page);
    const account = await resolve();
    const key = auth.guard.key(page.kind, account, loginId);
    let hadFailures: boolean;
    try {
      hadFailures = await auth.guard.before(lc, key);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      await auth.guard.record(lc, {
        account,
        kind: page.kind,
        method,
        result: err.status === 423 ? 'locked' : 'throttled',
      });
      return render(req, reply, page, {
        status: err.status,
        error: `${err.title}。${err.detail ?? ''}`,
        method,
        ...formState,
      });
    }
    const ok = await verify(account);
    if (!ok || !account || account.status !== 'active') {
      const state = await auth.guard.fail(lc, key);
      await auth.guard.record(lc, { account, kind: page.kind, method, result: 'failure' });
      const error = state.hardLocked
        ? '账号已锁定。连续登录失败次数过多，请联系经办机构解锁或通过短信验证码重置密码'
        : method === 'sms'
          ? '手机号或验证码错误'
          : '账号或密码错误';
      return render(req, reply, page, { status: state.hardLocked ? 423 : 401, error, method, ...formState });
    }
    if (hadFailures) await auth.guard.succeed(lc.regionCode, key);
    if (method === 'pwd' && account.mustChangePassword) {
      // A temporary password (set in the console): the login completes only once the account has chosen its own.
      const ticket = tickets.sign({
        uid: page.interaction.uid,
        kind: account.kind,
        id: account.id,
        regionCode: account.regionCode,
      });
      return renderPasswordChange(req, reply, page, ticket, account);
    }
    const redirectTo = await finish(req, page, account, ACR_FOR[method] ?? 'pwd', [method], { lc, method });
    return reply.redirect(redirectTo, 303);
  };

  const renderPasswordChange = (
    req: FastifyRequest,
    reply: FastifyReply,
    page: Page,
    ticket: string,
    account: AccountRef,
    opts: { status?: number; error?: string } = {},
  ) =>
    interactionPage(reply, opts.status).send(
      passwordChangePage({
        expiredAfterDays: account.passwordExpiredAfterDays,
        uid: page.interaction.uid,
        csrf: csrfFor(req, reply),
        ticket,
        clientName: page.client.name,
        regionName: page.regionName,
        error: opts.error,
      }),
    );

  const formSchema = { hide: true } as const;
  type Form = Record<string, string | undefined>;
  const str = (v: unknown, max = 128) => (typeof v === 'string' ? v.slice(0, max) : '');

  app.get('/oidc/interaction/:uid', { schema: formSchema }, async (req, reply) => {
    const page = await details(req, reply);
    return render(req, reply, page);
  });

  app.get('/oidc/interaction/:uid/abort', { schema: formSchema }, async (req, reply) => {
    const provider = await auth.oidc.provider();
    await details(req, reply);
    const redirectTo = await provider.interactionResult(
      req.raw,
      reply.raw,
      { error: 'access_denied', error_description: '用户取消了登录' },
      { mergeWithLastSubmission: false },
    );
    return reply.redirect(redirectTo, 303);
  });

  app.post('/oidc/interaction/:uid/password', { schema: formSchema }, async (req, reply) => {
    const page = await details(req, reply);
    const form = (req.body ?? {}) as Form;
    checkCsrf(req, form.csrf);
    const loginId = str(form.loginId, 64).trim();
    const password = str(form.password, 128);
    if (!loginId || !password)
      return render(req, reply, page, { status: 400, error: '请输入账号和密码', method: 'pwd', loginId });
    if (!page.client.loginMethods.includes('pwd'))
      return render(req, reply, page, { status: 400, error: '该应用不支持密码登录' });
    return attempt(
      req,
      reply,
      page,
      'pwd',
      loginId,
      () => auth.accounts().findByLogin(page.kind, page.regionCode, loginId),
      (account) => auth.accounts().verifyPassword(account, password),
      { loginId },
    );
  });

  // ---- a temporary or outworn password is replaced before the login completes ----
  app.post('/oidc/interaction/:uid/password/change', { schema: formSchema }, async (req, reply) => {
    const page = await details(req, reply);
    const form = (req.body ?? {}) as Form;
    checkCsrf(req, form.csrf);
    const ticket = tickets.verify(form.ticket, page.interaction.uid);
    const directory = auth.accounts();
    const account = ticket ? await directory.get(ticket.kind, ticket.regionCode, ticket.id) : null;
    if (!ticket || account?.status !== 'active' || !account.mustChangePassword || !directory.changePassword) {
      return render(req, reply, page, { status: 400, error: '修改密码的页面已失效，请重新登录', method: 'pwd' });
    }
    const newPassword = str(form.newPassword, 129);
    if (newPassword !== str(form.confirmPassword, 129)) {
      return renderPasswordChange(req, reply, page, form.ticket!, account, {
        status: 400,
        error: '两次输入的新密码不一致',
      });
    }
    const lc = lcOf(req, page);
    try {
      await directory.changePassword(account, newPassword, { ip: lc.ip, userAgent: lc.userAgent?.slice(0, 300) });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const error = err.detail && err.detail !== err.title ? `${err.title}：${err.detail}` : err.title;
      return renderPasswordChange(req, reply, page, form.ticket!, account, { status: err.status, error });
    }
    const redirectTo = await finish(req, page, account, 'pwd', ['pwd'], { lc, method: 'pwd' });
    return reply.redirect(redirectTo, 303);
  });

  app.post('/oidc/interaction/:uid/sms/send', { schema: formSchema }, async (req, reply) => {
    const page = await details(req, reply);
    const form = (req.body ?? {}) as Form;
    checkCsrf(req, form.csrf);
    const mobile = str(form.mobile, 20).trim();
    try {
      await auth.sendOtp({ regionCode: page.regionCode, mobile, purpose: 'login', ip: req.ip });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return render(req, reply, page, { status: err.status, error: err.detail ?? err.title, method: 'sms', mobile });
    }
    return render(req, reply, page, {
      notice: '验证码已发送（如该手机号已注册），5 分钟内有效',
      method: 'sms',
      mobile,
    });
  });

  app.post('/oidc/interaction/:uid/sms', { schema: formSchema }, async (req, reply) => {
    const page = await details(req, reply);
    const form = (req.body ?? {}) as Form;
    checkCsrf(req, form.csrf);
    const mobile = str(form.mobile, 20).trim();
    const code = str(form.code, 12).trim();
    if (page.kind === 'staff' || !page.client.loginMethods.includes('sms')) {
      return render(req, reply, page, { status: 400, error: '该应用不支持短信登录' });
    }
    return attempt(
      req,
      reply,
      page,
      'sms',
      mobile,
      () => auth.accounts().findByMobile(page.kind, page.regionCode, mobile),
      async (account) => {
        const ok = await auth.verifyOtp({ regionCode: page.regionCode, mobile, purpose: 'login', code });
        return ok && account !== null;
      },
      { mobile },
    );
  });

  // ---- step-up (second factor for an existing session) ----
  app.post('/oidc/interaction/:uid/stepup/sms/send', { schema: formSchema }, async (req, reply) => {
    const page = await details(req, reply);
    checkCsrf(req, ((req.body ?? {}) as Form).csrf);
    const account = stepUpNeeded(page) ? await currentAccount(page) : null;
    if (!account?.mobile) return render(req, reply, page, { status: 400, error: '无法发送验证码' });
    try {
      await auth.sendOtp({ regionCode: account.regionCode, mobile: account.mobile, purpose: 'step_up', ip: req.ip });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return render(req, reply, page, { status: err.status, error: err.detail ?? err.title });
    }
    return render(req, reply, page, { notice: '验证码已发送，5 分钟内有效' });
  });

  app.post('/oidc/interaction/:uid/stepup/sms', { schema: formSchema }, async (req, reply) => {
    const page = await details(req, reply);
    const form = (req.body ?? {}) as Form;
    checkCsrf(req, form.csrf);
    const account = stepUpNeeded(page) ? await currentAccount(page) : null;
    if (!account?.mobile) return render(req, reply, page, { status: 400, error: '无法验证' });
    const lc = lcOf(req, page);
    const key = auth.guard.key(account.kind, account, '');
    try {
      await auth.guard.before(lc, key);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return render(req, reply, page, { status: err.status, error: err.title });
    }
    const ok = await auth.verifyOtp({
      regionCode: account.regionCode,
      mobile: account.mobile,
      purpose: 'step_up',
      code: str(form.code, 12).trim(),
    });
    if (!ok) {
      await auth.guard.fail(lc, key);
      await auth.guard.record(lc, { account, kind: account.kind, method: 'stepup_sms', result: 'failure' });
      return render(req, reply, page, { status: 401, error: '验证码错误或已过期' });
    }
    const prev = page.interaction.session?.amr ?? [];
    const redirectTo = await finish(req, page, account, 'mfa', [...new Set([...prev, 'sms', 'mfa'])], {
      lc,
      method: 'stepup_sms',
    });
    return reply.redirect(redirectTo, 303);
  });

  // ---- passkeys (JSON from the page script) ----
  app.post('/oidc/interaction/:uid/passkey/options', { schema: formSchema }, async (req, reply) => {
    const page = await details(req, reply);
    checkCsrf(req, ((req.body ?? {}) as Form).csrf);
    const account = stepUpNeeded(page) ? await currentAccount(page) : null;
    return auth.passkeys.authenticationOptions(
      account?.regionCode ?? page.regionCode,
      `login:${page.interaction.uid}`,
      account?.id,
    );
  });

  app.post('/oidc/interaction/:uid/passkey', { schema: formSchema }, async (req, reply) => {
    const page = await details(req, reply);
    const body = (req.body ?? {}) as { csrf?: string; response?: Record<string, unknown> };
    checkCsrf(req, body.csrf);
    const stepUp = stepUpNeeded(page) ? await currentAccount(page) : null;
    const lc = lcOf(req, page);
    let verified: Awaited<ReturnType<AuthService['passkeys']['authenticate']>>;
    try {
      verified = await auth.passkeys.authenticate(
        stepUp?.regionCode ?? page.regionCode,
        `login:${page.interaction.uid}`,
        body.response ?? {},
      );
    } catch (err) {
      await auth.guard.record(lc, { account: stepUp, kind: page.kind, method: 'passkey', result: 'failure' });
      throw err;
    }
    const account = await auth.accounts().get(verified.kind, verified.regionCode, verified.accountId);
    if (account?.status !== 'active' || account.kind !== page.kind) {
      throw new AppError(400, 'AUTH_PASSKEY_FAILED', '通行密钥验证失败', '请重试或改用其他方式');
    }
    await auth.guard.succeed(account.regionCode, auth.guard.key(account.kind, account, ''));
    const amr = stepUp ? [...new Set([...(page.interaction.session?.amr ?? []), 'hwk', 'mfa'])] : ['hwk', 'user'];
    const redirectTo = await finish(req, page, account, stepUp ? 'mfa' : 'passkey', amr, {
      lc: { ...lc, regionCode: account.regionCode },
      method: 'passkey',
    });
    return { redirectTo };
  });

  // ---- digital certificate: chain, validity, CRL, proof of possession over the challenge ----
  app.post('/oidc/interaction/:uid/cert', { schema: formSchema }, async (req, reply) => {
    const page = await details(req, reply);
    const form = (req.body ?? {}) as Form;
    checkCsrf(req, form.csrf);
    if (page.kind === 'staff' || !page.client.loginMethods.includes('cert')) {
      return render(req, reply, page, { status: 400, error: '该应用不支持证书登录' });
    }
    const lc = lcOf(req, page);
    const check = await auth.certs.verify(
      page.regionCode,
      page.interaction.uid,
      str(form.certificate, 20_000),
      str(form.signature, 2_000),
    );
    const account =
      check.ok && check.residentId
        ? await auth.accounts().findByLogin('person', page.regionCode, check.residentId)
        : null;
    if (!check.ok || account?.status !== 'active') {
      await auth.guard.record(lc, { account, kind: page.kind, method: 'cert', result: 'failure' });
      const reason = check.ok ? '证书持有人未注册或账号不可用' : CERT_REASON[check.reason];
      return render(req, reply, page, { status: 401, error: `证书登录失败：${reason}`, method: 'cert' });
    }
    const redirectTo = await finish(req, page, account, 'cert', ['swk', 'pop'], { lc, method: 'cert' });
    return reply.redirect(redirectTo, 303);
  });

  // ---- login methods contributed by other centers (e.g. the e-voucher QR login) ----
  app.post('/oidc/interaction/:uid/method/:amr', { schema: formSchema }, async (req, reply) => {
    const page = await details(req, reply);
    const form = (req.body ?? {}) as Form;
    checkCsrf(req, form.csrf);
    const method = auth.loginMethods.get((req.params as { amr: string }).amr);
    if (!method || !page.client.loginMethods.includes(method.amr)) {
      return render(req, reply, page, { status: 400, error: '该应用不支持此登录方式' });
    }
    const lc = lcOf(req, page);
    const strings = Object.fromEntries(Object.entries(form).filter(([, v]) => typeof v === 'string')) as Record<
      string,
      string
    >;
    const res = await method.complete({ regionCode: page.regionCode, form: strings, ip: req.ip });
    const account = res ? await auth.accounts().get(res.kind, res.regionCode, res.accountId) : null;
    if (account?.status !== 'active' || account.kind !== page.kind) {
      await auth.guard.record(lc, { account, kind: page.kind, method: method.amr, result: 'failure' });
      return render(req, reply, page, { status: 401, error: '登录失败，请重试', method: method.amr });
    }
    const redirectTo = await finish(req, page, account, method.acr, [method.amr], { lc, method: method.amr });
    return reply.redirect(redirectTo, 303);
  });
}

/** An interaction page: never cached, never framed, forms post only here. */
function interactionPage(reply: FastifyReply, status = 200): FastifyReply {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('content-security-policy', "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    .header('referrer-policy', 'no-referrer');
}
