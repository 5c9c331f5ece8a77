import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { buildPlatform, type Platform } from '../../app.ts';
import { loadConfig } from '../../platform/config.ts';
import { openPostgres, sql } from '../../platform/db/index.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../platform/db/testing.ts';
import { messageCenter } from './index.ts';
import { issueTicket } from './stream.ts';
import { personDirectory } from './testing.ts';

const REGION = '990100';

interface InboxEvent {
  unread: number;
  latest: { title: string } | null;
}

/** Opens the SSE stream like EventSource does and collects `inbox` events. */
async function openStream(url: string) {
  const ctrl = new AbortController();
  const res = await fetch(url, { signal: ctrl.signal, headers: { accept: 'text/event-stream' } });
  const events: InboxEvent[] = [];
  const waiters: Array<() => void> = [];
  if (res.ok && res.body) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true });
          let i = buf.indexOf('\n\n');
          while (i >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = block
              .split('\n')
              .find((l) => l.startsWith('data: '))
              ?.slice(6);
            if (block.includes('event: inbox') && data) {
              events.push(JSON.parse(data));
              for (const w of waiters.splice(0)) w();
            }
            i = buf.indexOf('\n\n');
          }
        }
      } catch {
        // aborted
      }
    })();
  }
  return {
    res,
    events,
    async waitFor(pred: (e: InboxEvent) => boolean, ms = 5000): Promise<InboxEvent> {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = events.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no matching event; got ${JSON.stringify(events)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
    },
    close: () => ctrl.abort(),
  };
}

const env = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  JOB_WORKERS: 'false',
  DEMO_SEED: 'false',
  PORT: '0',
  HOST: '127.0.0.1',
} as const;

for (const kind of databaseKinds()) {
  describe(`message inbox live stream [${kind}]`, () => {
    const directory = personDirectory();
    let db: TestDatabase;
    let a: Platform;
    /** The process the person is connected to: on PostgreSQL a second platform with its own pool and LISTEN. */
    let b: Platform;
    let urlB: string;
    before(async () => {
      db = await createTestDatabase(kind);
      a = await buildPlatform(loadConfig(env), { db, centers: [directory.center, messageCenter] });
      await a.start();
      if (kind === 'postgres') {
        const db2 = await openPostgres(db.url!, 3);
        b = await buildPlatform(loadConfig(env), {
          db: db2,
          centers: [directory.center, messageCenter],
          migrate: false,
        });
        await b.start();
      } else {
        b = a;
      }
      urlB = await b.listen();
    });
    after(async () => {
      if (b !== a) await b.close();
      await a.close();
    });

    test('a ticket from an authenticated POST opens the stream; a message delivered anywhere pushes the unread count', async () => {
      const personId = randomUUID();
      directory.add({ id: personId, regionCode: REGION, name: '李四' });
      const token = await b.ctx.tokens.issue({
        sub: personId,
        kind: 'person',
        region: REGION,
        acr: 'pwd',
        amr: ['pwd'],
      });
      const t = await b.app.inject({
        method: 'POST',
        url: '/api/message/inbox/stream-ticket',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(t.statusCode, 200, t.body);
      const stream = await openStream(`${urlB}/api/message/inbox/stream?ticket=${encodeURIComponent(t.json().ticket)}`);
      try {
        assert.equal(stream.res.status, 200);
        assert.match(stream.res.headers.get('content-type')!, /text\/event-stream/);
        await stream.waitFor((e) => e.unread === 0);
        // Process A commits and delivers; the person is connected to process B.
        const svc = a.ctx.services.message!;
        await a.ctx.db.tx((tx) =>
          svc.send(tx, {
            type: 'announcement',
            regionCode: REGION,
            to: { personId },
            payload: { title: '实时通知', body: '您好' },
          }),
        );
        await a.ctx.jobs.drain();
        const e = await stream.waitFor((x) => x.unread === 1);
        assert.equal(e.latest?.title, '实时通知');
        // Marking read in A reaches B as well.
        await svc.markRead(REGION, personId);
        await stream.waitFor((x) => x.unread === 0 && stream.events.indexOf(x) > stream.events.indexOf(e));
      } finally {
        stream.close();
      }
    });

    test('two processes draining the same queue deliver each message exactly once', {
      skip: kind !== 'postgres',
    }, async () => {
      const svc = a.ctx.services.message!;
      const people = Array.from({ length: 40 }, () => randomUUID());
      for (const id of people) directory.add({ id, regionCode: REGION, name: '并发', mobile: '13900000001' });
      await a.ctx.db.tx(async (tx) => {
        for (const personId of people)
          await svc.send(tx, {
            type: 'announcement',
            regionCode: REGION,
            to: { personId },
            payload: { title: '并发投递', body: personId },
          });
      });
      await Promise.all([a.ctx.jobs.drain(), b.ctx.jobs.drain(), a.ctx.jobs.drain(), b.ctx.jobs.drain()]);
      await Promise.all([a.ctx.jobs.drain(), b.ctx.jobs.drain()]);
      const rows = await a.ctx.db.q<{ person_id: string; n: number }>(sql`select person_id, count(*)::int as n
        from message_inbox where region_code = ${REGION} and title = '并发投递' group by person_id`);
      assert.equal(rows.length, people.length);
      assert.ok(
        rows.every((r) => r.n === 1),
        'no inbox message twice',
      );
      const [{ n }] = await a.ctx.db.q<{ n: number }>(sql`select count(*)::int as n from message_delivery d
        join message m on m.region_code = d.region_code and m.id = d.message_id
        where m.payload->>'title' = '并发投递' and d.status = 'delivered'`);
      assert.equal(n, people.length);
    });

    test('a forged, foreign or expired ticket is refused with 401', async () => {
      const good = issueTicket(b.ctx, REGION, 'p1');
      const forged = `${good.split('.')[0]}.${'0'.repeat(64)}`;
      const expired = issueTicket(b.ctx, REGION, 'p1', Date.now() - 120_000);
      const tampered = `${Buffer.from(JSON.stringify({ r: REGION, s: 'p2', e: Date.now() + 60_000 })).toString('base64url')}.${good.split('.')[1]}`;
      for (const ticket of [forged, expired, tampered, 'abc.def.ghi.jkl']) {
        const res = await fetch(`${urlB}/api/message/inbox/stream?ticket=${encodeURIComponent(ticket)}`);
        assert.equal(res.status, 401);
        assert.equal((await res.json()).code, 'MESSAGE_STREAM_TICKET_INVALID');
      }
      const anon = await b.app.inject({ method: 'POST', url: '/api/message/inbox/stream-ticket' });
      assert.equal(anon.statusCode, 401);
    });
  });
}
