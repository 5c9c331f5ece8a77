import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ChannelError, createChannelClient } from '@yibao/sdk';
import { AppError } from '../errors.ts';
import { sm2GenerateKeyPair, verifyEnvelopeDetailed } from './index.ts';

const channel = sm2GenerateKeyPair();
const appSecret = 'channel-secret';
const seen: Array<{ url?: string; idempotencyKey?: string; encrypted: boolean; nonce: string }> = [];

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function send(response: ServerResponse, status: number, type: string, body: unknown): void {
  response.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));
}

/** The platform side in miniature: verify the envelope, echo the data, render errors as problem+json. */
async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const envelope = (await readJson(request)) as { encData?: string };
  if (request.url?.endsWith('/boom'))
    return void response.writeHead(502, { 'content-type': 'text/plain' }).end('upstream down');
  try {
    const verified = verifyEnvelopeDetailed(envelope, {
      publicKey: channel.publicKey,
      appSecret,
      now: Date.now(),
      windowSeconds: 300,
    });
    const idempotencyKey = request.headers['idempotency-key'] as string | undefined;
    seen.push({ url: request.url, idempotencyKey, encrypted: envelope.encData !== undefined, nonce: verified.nonce });
    send(response, 200, 'application/json', { echo: verified.data, transType: verified.transType });
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const problem = {
      type: 'about:blank',
      title: error.title,
      status: error.status,
      code: error.code,
      detail: error.detail,
    };
    send(response, error.status, 'application/problem+json', problem);
  }
}

describe('channel client against a verifying server', () => {
  let server: Server;
  let baseUrl: string;

  before(async () => {
    server = createServer((request, response) => void handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/channel/`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = (overrides: Partial<Parameters<typeof createChannelClient>[0]> = {}) =>
    createChannelClient({ baseUrl, appId: 'wx01', privateKeyHex: channel.privateKey, appSecret, ...overrides });

  it('sends a signed plain envelope with the Idempotency-Key header', async () => {
    const data = { payOrdId: 'P1', feeSumamt: 1000, list: [{ b: 1, a: 2 }] };
    const answer = await client().call<{ echo: unknown; transType: string }>('/pay/6202', '6202', data, {
      idempotencyKey: 'k-1',
    });
    assert.deepEqual(answer, { echo: data, transType: '6202' });
    assert.deepEqual(seen.at(-1)?.url, '/api/channel/pay/6202');
    assert.equal(seen.at(-1)?.idempotencyKey, 'k-1');
    assert.equal(seen.at(-1)?.encrypted, false);
  });

  it('sends an SM4-encrypted body when asked, with a fresh nonce per call', async () => {
    const encrypted = client({ encrypt: true });
    const first = await encrypted.call<{ echo: unknown }>('refund', '6203', { amount: 5 });
    await encrypted.call('refund', '6203', { amount: 5 });
    assert.deepEqual(first.echo, { amount: 5 });
    assert.equal(seen.at(-1)?.encrypted, true);
    assert.equal(seen.at(-1)?.idempotencyKey, undefined);
    assert.notEqual(seen.at(-1)?.nonce, seen.at(-2)?.nonce);
  });

  it('turns problem+json into a ChannelError with status, code and title', async () => {
    const wrong = client({ appSecret: 'not-the-secret' });
    const error = await wrong.call('pay', '6202', {}).then(
      () => assert.fail('expected rejection'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ChannelError);
    assert.equal(error.status, 401);
    assert.equal(error.code, 'SIGNATURE_INVALID');
    assert.equal(error.title, '签名验证失败');
  });

  it('maps a non-problem error body to HTTP_<status>', async () => {
    await assert.rejects(client().call('/boom', '9999', {}), (e: unknown) => {
      return e instanceof ChannelError && e.status === 502 && e.code === 'HTTP_502' && e.detail === 'upstream down';
    });
  });

  it('uses the injected fetch', async () => {
    const calls: string[] = [];
    const fetch: typeof globalThis.fetch = async (input, init) => {
      calls.push(String(input));
      return globalThis.fetch(input, init);
    };
    await client({ fetch }).call('x', '1101', { a: 1 });
    assert.equal(calls.length, 1);
  });
});
