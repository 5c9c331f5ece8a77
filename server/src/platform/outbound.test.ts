import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { addressRefusal, checkOutboundUrl, type OutboundPolicy, outboundPolicy, postOutbound } from './outbound.ts';

const production: OutboundPolicy = { allowLoopback: false };
const development: OutboundPolicy = { allowLoopback: true };

describe('outbound policy', () => {
  test('link-local (cloud metadata), unspecified, multicast and broadcast are never reached', () => {
    for (const a of [
      '169.254.169.254',
      '::ffff:169.254.169.254',
      'fe80::1',
      '0.0.0.0',
      '::',
      '224.0.0.1',
      '255.255.255.255',
      'ff02::1',
    ]) {
      assert.ok(addressRefusal(a, development), a);
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (c, d) => {
        assert.ok(addressRefusal(`169.254.${c}.${d}`, development));
      }),
    );
  });

  test('loopback only where allowed; the intranet and the internet always', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1']) {
      assert.ok(addressRefusal(a, production), a);
      assert.equal(addressRefusal(a, development), undefined, a);
    }
    for (const a of ['10.1.2.3', '172.16.0.9', '192.168.1.20', '100.64.0.1', '8.8.8.8', 'fd00::1', '2001:db8::1']) {
      assert.equal(addressRefusal(a, production), undefined, a);
    }
  });

  test('production refuses loopback unless configured; other environments allow it', () => {
    assert.equal(outboundPolicy({ NODE_ENV: 'production', OUTBOUND_ALLOW_LOOPBACK: undefined }).allowLoopback, false);
    assert.equal(outboundPolicy({ NODE_ENV: 'production', OUTBOUND_ALLOW_LOOPBACK: true }).allowLoopback, true);
    assert.equal(outboundPolicy({ NODE_ENV: 'test', OUTBOUND_ALLOW_LOOPBACK: undefined }).allowLoopback, true);
  });

  test('a registered URL must be http(s), without credentials, and not a refused address', () => {
    const refused = (url: string, policy = production) =>
      assert.throws(() => checkOutboundUrl(url, policy), { status: 400, code: 'OUTBOUND_URL_REFUSED' }, url);
    refused('file:///etc/passwd');
    refused('ftp://hospital.example/cb');
    refused('gopher://127.0.0.1:6379/_x');
    refused('http://user:pw@hospital.example/cb');
    refused('http://169.254.169.254/latest/meta-data/');
    refused('http://[::1]:8080/cb');
    refused('http://127.0.0.1:8080/cb');
    refused('not a url');
    assert.equal(checkOutboundUrl('https://hospital.example/cb?x=1', production).pathname, '/cb');
    assert.equal(checkOutboundUrl('http://10.20.30.40:8080/cb', production).port, '8080');
    assert.equal(checkOutboundUrl('http://127.0.0.1:8080/cb', development).hostname, '127.0.0.1');
  });
});

describe('postOutbound', () => {
  let server: Server;
  let port: number;
  const seen: Array<{ path: string; body: string; type: string | undefined }> = [];
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ path: req.url ?? '', body, type: req.headers['content-type'] });
        if (req.url === '/slow') return; // never answers
        if (req.url === '/moved') {
          res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
          return;
        }
        res.writeHead(req.url === '/fail' ? 503 : 200, { 'content-type': 'text/plain' }).end(`got ${body}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const post = (host: string, path: string, policy: OutboundPolicy, timeoutMs = 2000) =>
    postOutbound(
      new URL(`http://${host}:${port}${path}`),
      { headers: { 'content-type': 'application/json' }, body: '{"a":1}', timeoutMs },
      policy,
    );

  test('posts the body and answers status and text; redirects are not followed', async () => {
    const ok = await post('127.0.0.1', '/cb?x=1', development);
    assert.deepEqual([ok.status, ok.text], [200, 'got {"a":1}']);
    assert.deepEqual(seen.at(-1), { path: '/cb?x=1', body: '{"a":1}', type: 'application/json' });
    assert.equal((await post('127.0.0.1', '/fail', development)).status, 503);
    const moved = await post('127.0.0.1', '/moved', development);
    assert.equal(moved.status, 302);
    assert.equal(seen.at(-1)?.path, '/moved');
  });

  test('a refused address is not connected to, whether literal or behind a host name', async () => {
    const before = seen.length;
    await assert.rejects(post('127.0.0.1', '/cb', production), { code: 'OUTBOUND_URL_REFUSED' });
    await assert.rejects(post('localhost', '/cb', production), /回环地址/);
    assert.equal(seen.length, before, 'nothing reached the server');
    assert.equal((await post('localhost', '/cb', development)).status, 200);
  });

  test('a receiver that does not answer fails after the timeout', async () => {
    const t0 = performance.now();
    await assert.rejects(post('127.0.0.1', '/slow', development, 150), /超时/);
    assert.ok(performance.now() - t0 < 2000);
  });
});
