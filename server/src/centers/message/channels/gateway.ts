import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Database } from '../../../platform/db/index.ts';
import { sql } from '../../../platform/db/index.ts';
import { maskMobile } from '../../../platform/privacy/index.ts';

/**
 * The sandbox counterpart of the SMS gateway and the WeChat official-account API (沙箱), on a loopback port:
 * - SMS: `POST /sms/send` signed with HMAC-SM3 (`x-sms-timestamp`, `x-sms-signature` over "timestamp\nbody"),
 *   answers `{Code: 'OK', BizId}` or an error Code (bad signature, illegal number); `OutId` makes a retry idempotent.
 * - WeChat: `GET /cgi-bin/token?grant_type=client_credential&appid&secret` → `{access_token, expires_in}`;
 *   `POST /cgi-bin/message/template/send?access_token=…` → `{errcode: 0, msgid}`, 40001 for a bad token, 40003 for an
 *   invalid openid; `client_msg_id` makes a retry idempotent.
 * What it accepts is recorded in message_sandbox_outbox (masked), where staff see it. `x-sandbox-fault: 1` makes it
 * answer 503 (fault injection from the console).
 */
export class SandboxGatewayServer {
  readonly smsKey = randomBytes(16).toString('hex');
  readonly smsSecret = randomBytes(32).toString('hex');
  readonly wechatAppId = `wxsandbox${randomBytes(4).toString('hex')}`;
  readonly wechatSecret = randomBytes(16).toString('hex');
  private readonly tokens = new Map<string, number>();
  private readonly db: Database;
  private server?: Server;
  private starting?: Promise<string>;

  constructor(db: Database) {
    this.db = db;
  }

  /** Starts on first use; the base URL. */
  url(): Promise<string> {
    this.starting ??= new Promise((resolve, reject) => {
      const server = createServer((req, res) => {
        this.handle(req, res).catch((err) => json(res, 500, { message: String((err as Error)?.message ?? err) }));
      });
      server.keepAliveTimeout = 5000;
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        this.server = server;
        server.unref();
        resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      });
    });
    return this.starting;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.starting = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  static smsSignature(secret: string, timestamp: string, body: string): string {
    return createHmac('sm3', secret).update(`${timestamp}\n${body}`).digest('hex');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<ServerResponse> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const body = await readBody(req);
    if (req.headers['x-sandbox-fault'] === '1') return json(res, 503, { message: '沙箱网关：模拟服务不可用' });
    if (req.method === 'POST' && url.pathname === '/sms/send') return this.sms(req, res, body);
    if (req.method === 'GET' && url.pathname === '/cgi-bin/token') return this.token(url, res);
    if (req.method === 'POST' && url.pathname === '/cgi-bin/message/template/send')
      return this.template(url, res, body);
    return json(res, 404, { message: 'not found' });
  }

  private async sms(req: IncomingMessage, res: ServerResponse, body: string): Promise<ServerResponse> {
    const ts = String(req.headers['x-sms-timestamp'] ?? '');
    const sig = Buffer.from(String(req.headers['x-sms-signature'] ?? ''));
    const expected = Buffer.from(SandboxGatewayServer.smsSignature(this.smsSecret, ts, body));
    if (req.headers['x-sms-key'] !== this.smsKey || sig.length !== expected.length || !timingSafeEqual(sig, expected))
      return json(res, 401, { Code: 'SignatureDoesNotMatch', Message: '签名校验失败' });
    if (Math.abs(Date.now() - Number(ts)) > 300_000)
      return json(res, 401, { Code: 'InvalidTimeStamp.Expired', Message: '时间戳过期' });
    const m = JSON.parse(body) as {
      PhoneNumbers: string;
      SignName: string;
      Content: string;
      OutId: string;
      Region: string;
    };
    if (!/^1\d{10}$/.test(m.PhoneNumbers ?? ''))
      return json(res, 200, { Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: '手机号码格式错误' });
    const id = await this.record(m.Region, 'sms', m.OutId, maskMobile(m.PhoneNumbers), null, null, m.Content);
    return json(res, 200, { Code: 'OK', Message: 'OK', BizId: `sms-${id}` });
  }

  private token(url: URL, res: ServerResponse): ServerResponse {
    if (url.searchParams.get('appid') !== this.wechatAppId || url.searchParams.get('secret') !== this.wechatSecret)
      return json(res, 200, { errcode: 40125, errmsg: 'invalid appsecret' });
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, Date.now() + 7200_000);
    return json(res, 200, { access_token: token, expires_in: 7200 });
  }

  private async template(url: URL, res: ServerResponse, body: string): Promise<ServerResponse> {
    const exp = this.tokens.get(url.searchParams.get('access_token') ?? '');
    if (!exp || exp < Date.now())
      return json(res, 200, { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' });
    const m = JSON.parse(body) as {
      touser: string;
      template_id: string;
      client_msg_id: string;
      region: string;
      data: { first?: { value: string }; remark?: { value: string } };
    };
    if (!/^[\w-]{6,64}$/.test(m.touser ?? '')) return json(res, 200, { errcode: 40003, errmsg: 'invalid openid' });
    const id = await this.record(
      m.region,
      'wechat',
      m.client_msg_id,
      `openid ${m.touser.slice(0, 10)}…`,
      m.template_id,
      m.data.first?.value ?? null,
      m.data.remark?.value ?? '',
    );
    return json(res, 200, { errcode: 0, errmsg: 'ok', msgid: id });
  }

  /** Idempotent per (region, channel, delivery): a retried request gets the first record's id. */
  private async record(
    region: string,
    channel: 'sms' | 'wechat',
    deliveryId: string,
    address: string,
    templateId: string | null,
    title: string | null,
    content: string,
  ): Promise<string> {
    await this.db.q(sql`insert into message_sandbox_outbox
        (region_code, channel, delivery_id, address, template_id, title, content)
      values (${region}, ${channel}, ${deliveryId}, ${address}, ${templateId}, ${title}, ${content})
      on conflict (region_code, channel, delivery_id) do nothing`);
    const row = await this.db.one<{ id: string }>(sql`select id from message_sandbox_outbox
      where region_code = ${region} and channel = ${channel} and delivery_id = ${deliveryId}`);
    return row!.id;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): ServerResponse {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  return res.end(JSON.stringify(body));
}
