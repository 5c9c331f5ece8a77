/**
 * Message-center benchmarks (loopback only, PostgreSQL from TEST_DATABASE_URL — the harness defaults it):
 * - fan-out of one announcement to 100,000 inboxes with one INSERT … SELECT (goal ≥ 10,000 messages/s);
 *   the floor is the same database's bare INSERT … SELECT of 100,000 rows into the inbox table (no audience,
 *   opt-out or de-duplication work), so the ratio shows what the center's rules cost.
 * - e-mails per second over SMTP to a local `smtp-server` (own process) through the pooled nodemailer transport
 *   (MESSAGE_BENCH_SMTP_CONNECTIONS, default 8)
 *   (goal ≥ 1,000/s); the floor is the same server fed by one raw SMTP client on one connection (no pooling).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createConnection } from 'node:net';
import { SmtpEmailProvider } from '../../../server/src/centers/message/channels/email.ts';
import { messageCenter } from '../../../server/src/centers/message/index.ts';
import type { MessageService } from '../../../server/src/centers/message/service.ts';
import { sql } from '../../../server/src/platform/db/index.ts';
import { createTestPlatform, type TestPlatform } from '../../../server/src/testing/platform.ts';
import type { Benchmark } from '../types.ts';

const REGION = '990100';
const AUDIENCE = 100_000;

interface FanoutCtx {
  p: TestPlatform;
  svc: MessageService;
  fanouts: number;
  messages: number;
  seconds: number;
}

async function announce(c: FanoutCtx): Promise<void> {
  const t0 = performance.now();
  const id = randomUUID();
  await c.p.ctx.db.q(sql`insert into message_announcement
      (region_code, id, title, body, hall, audience, to_inbox, publish_at, status, created_by)
    values (${REGION}, ${id}, '关于调整门诊慢特病待遇的通知', '自下月起，门诊慢特病病种目录调整，详见医保局官网。', 'personal',
      '{"kind":"region_persons"}', true, now(), 'scheduled', 'bench')`);
  const n = await c.svc.publishAnnouncement(c.p.ctx.db, REGION, id);
  if (n !== AUDIENCE) throw new Error(`fan-out reached ${n} inboxes, expected ${AUDIENCE}`);
  c.fanouts++;
  c.messages += n;
  c.seconds += (performance.now() - t0) / 1000;
}

const fanout: Benchmark<FanoutCtx> = {
  name: 'message: announcement fan-out to 100,000 inboxes (1 op = 100,000 messages)',
  unit: 'ops',
  setup: async () => {
    const p = await createTestPlatform('postgres', { centers: [messageCenter] });
    await p.ctx.db.q(sql`insert into message_recipient(region_code, kind, subject_id)
      select ${REGION}, 'person', 'bench-' || g from generate_series(1, ${AUDIENCE}) g`);
    // Some people opted out of announcement inboxes in another region; the anti-join still runs for everyone.
    await p.ctx.db.q(sql`insert into message_preference(region_code, person_id, category, channel, enabled)
      select '980100', 'bench-' || g, 'announcement', 'inbox', false from generate_series(1, 1000) g`);
    return { p, svc: p.ctx.services.message!, fanouts: 0, messages: 0, seconds: 0 };
  },
  run: async (n, c) => {
    for (let i = 0; i < n; i++) await announce(c);
  },
  teardown: async (c) => c.p.close(),
  floor: {
    name: 'bare INSERT … SELECT of 100,000 inbox rows, as fan-outs/s',
    opsPerSec: async (c) => {
      const t0 = performance.now();
      const runs = 2;
      for (let i = 0; i < runs; i++) {
        await c.p.ctx.db.q(sql`insert into message_inbox (region_code, person_id, type_code, category, title, body)
          select ${REGION}, 'floor-' || g, 'announcement', 'announcement', '关于调整门诊慢特病待遇的通知',
            '自下月起，门诊慢特病病种目录调整，详见医保局官网。' from generate_series(1, ${AUDIENCE}) g`);
      }
      return runs / ((performance.now() - t0) / 1000);
    },
  },
  goalRatio: 0.5,
  facts: async (c) => ({
    'messages/s': Math.round(c.messages / c.seconds),
    goal: '≥10000 messages/s',
    met: c.messages / c.seconds >= 10_000 ? 'yes' : 'no',
    audience: AUDIENCE,
  }),
};

interface SmtpCtx {
  sink: ChildProcess;
  port: number;
  provider: SmtpEmailProvider;
  sent: number;
}

const SINK = new URL('../../../server/src/centers/message/smtp-sink.ts', import.meta.url).pathname;

/** The SMTP server runs in its own process, as a real mail server would (loopback). */
function startSink(): Promise<{ sink: ChildProcess; port: number; count(): Promise<number> }> {
  return new Promise((resolve, reject) => {
    const sink = spawn(process.execPath, [SINK], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    const counts: Array<(n: number) => void> = [];
    sink.stdout!.on('data', (d) => {
      out += d;
      const port = /PORT (\d+)/.exec(out);
      if (port) {
        out = out.replace(port[0], '');
        resolve({
          sink,
          port: Number(port[1]),
          count: () =>
            new Promise((r) => {
              counts.push(r);
              sink.stdin!.write('count\n');
            }),
        });
      }
      const count = /COUNT (\d+)/.exec(out);
      if (count) {
        out = out.replace(count[0], '');
        counts.shift()?.(Number(count[1]));
      }
    });
    sink.once('exit', (code) => reject(new Error(`smtp sink exited ${code}`)));
  });
}

let sinkCount: (() => Promise<number>) | undefined;

const message = (i: number) => ({
  regionCode: REGION,
  deliveryId: randomUUID(),
  messageId: randomUUID(),
  typeCode: 'ebill.issued',
  category: 'bill',
  channel: 'email' as const,
  address: `person${i % 1000}@example.test`,
  addressMasked: 'p***@example.test',
  title: '医疗收费电子票据 0000000042',
  body: '您好：\n\n东湖市人民医院于 2026-01-02 09:00 为您开具了医疗收费电子票据。\n票据代码：99010001\n票据号码：0000000042\n金额：99.50 元\n\n医保服务平台',
});

/** One raw SMTP session on one connection, pipelining nothing: the unpooled single-connection rate. */
async function rawSmtpRate(port: number, count: number): Promise<number> {
  const socket = createConnection({ port, host: '127.0.0.1' });
  let buf = '';
  const waiters: Array<(line: string) => void> = [];
  socket.on('data', (d) => {
    buf += d.toString();
    let i = buf.indexOf('\r\n');
    while (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (/^\d{3} /.test(line)) waiters.shift()?.(line);
      i = buf.indexOf('\r\n');
    }
  });
  const reply = () => new Promise<string>((r) => waiters.push(r));
  const cmd = (s: string) => {
    const p = reply();
    socket.write(`${s}\r\n`);
    return p;
  };
  await reply();
  await cmd('EHLO bench');
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    await cmd('MAIL FROM:<noreply@yibao.local>');
    await cmd(`RCPT TO:<person${i}@example.test>`);
    await cmd('DATA');
    await cmd(`Subject: floor ${i}\r\n\r\n${message(i).body}\r\n.`);
  }
  const rate = count / ((performance.now() - t0) / 1000);
  await cmd('QUIT');
  socket.destroy();
  return rate;
}

const smtpBench: Benchmark<SmtpCtx> = {
  name: 'message: e-mails/s over SMTP to a local smtp-server (pooled nodemailer)',
  unit: 'ops',
  concurrency: 64,
  setup: async () => {
    const { sink, port, count } = await startSink();
    sinkCount = count;
    return {
      sink,
      port,
      sent: 0,
      provider: new SmtpEmailProvider(
        `smtp://127.0.0.1:${port}?maxConnections=${process.env.MESSAGE_BENCH_SMTP_CONNECTIONS ?? 8}`,
        '医保服务平台 <noreply@yibao.local>',
      ),
    };
  },
  run: async (n, c) => {
    for (let i = 0; i < n; i++) {
      await c.provider.send(message(c.sent));
      c.sent++;
    }
  },
  teardown: async (c) => {
    await c.provider.close();
    c.sink.kill('SIGTERM');
  },
  floor: { name: 'raw SMTP client, one connection', opsPerSec: (c) => rawSmtpRate(c.port, 1000) },
  facts: async (c) => {
    const received = (await sinkCount?.()) ?? Number.NaN;
    return { goal: '≥1000 e-mails/s', sent: c.sent, 'received by server': received - 1000 };
  },
};

export default [fanout, smtpBench];
