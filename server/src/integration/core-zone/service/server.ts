/** A plain HTTP server for the core-zone service: POST /fsi/api/callService, GET /healthz. */
import { createServer, type Server } from 'node:http';
import type { ReferenceCoreZone } from '../reference/core-zone.ts';
import { callerRefusal, ReplayGuard } from '../signature.ts';
import { handleMessage, type NationalRequest } from './handler.ts';

const MAX_BODY = 2 * 1024 * 1024;

/** With `secret`, only signed calls are answered (see ../signature.ts); without, any caller is (tests, a lone host). */
export function createCoreZoneServer(
  core: ReferenceCoreZone,
  opts: { log?: (msg: string, o?: object) => void; secret?: string } = {},
): Server {
  const replay = new ReplayGuard();
  return createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      const bytes = Buffer.from(JSON.stringify(body), 'utf8'); // encoded once (not measured, then encoded again)
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length });
      res.end(bytes);
    };
    if (req.method === 'GET' && req.url === '/healthz') return send(200, { status: 'ok', kind: 'reference' });
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/fsi/api/callService') {
      return send(404, { infcode: -1, err_msg: '未知接口', output: null, err_code: 'CORE_INVALID_INPUT' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const refused = opts.secret ? callerRefusal(opts.secret, replay, req.headers, req.url ?? '', text) : undefined;
      if (refused) {
        opts.log?.('core-zone call refused', { reason: refused, from: req.socket.remoteAddress });
        return send(401, {
          infcode: -1,
          err_msg: refused,
          output: null,
          err_code: 'CORE_CALLER_REFUSED',
          err_status: 401,
        });
      }
      let msg: NationalRequest;
      try {
        msg = JSON.parse(text);
      } catch {
        return send(400, { infcode: -1, err_msg: '报文不是合法的 JSON', output: null, err_code: 'CORE_INVALID_INPUT' });
      }
      const answer = await handleMessage(core, msg);
      if (answer.infcode !== 0 && (answer.err_status ?? 500) >= 500) {
        opts.log?.('core-zone service error', { infno: msg?.infno, msgid: msg?.msgid, err: answer.err_msg });
      }
      send(200, answer);
    });
  });
}
