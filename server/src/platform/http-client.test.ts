import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { sendHttp } from './http-client.ts';

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

/** A server that drops a kept-alive connection's second request unanswered, as one that restarted would. */
async function droppingServer() {
  let connections = 0;
  const server = createServer((req, res) => {
    const seen = ((req.socket as { seen?: number }).seen ?? 0) + 1;
    (req.socket as { seen?: number }).seen = seen;
    if (seen === 2) return req.socket.destroy();
    res.end(`answer on connection ${connections}`);
  });
  server.on('connection', () => connections++);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, connections: () => connections };
}

test('a request on a pooled connection the other side dropped goes again on a fresh one', async () => {
  const s = await droppingServer();
  assert.equal((await sendHttp(s.url, { method: 'GET' })).text, 'answer on connection 1');
  const again = await sendHttp(s.url, { method: 'POST', body: '{}' });
  assert.equal(again.text, 'answer on connection 2');
  assert.equal(s.connections(), 2);
});

test('a fresh connection that fails is not tried again', async () => {
  let requests = 0;
  const server = createServer((req) => {
    requests++;
    req.socket.destroy();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  await assert.rejects(sendHttp(url, { method: 'POST', body: '{}' }), { code: 'ECONNRESET' });
  assert.equal(requests, 1);
});
