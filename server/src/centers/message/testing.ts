/** Test helpers for the message center: a local SMTP server that keeps what arrived, a person directory, job flushing. */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Center } from '../../platform/center.ts';
import { sql } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import type { TestPlatform } from '../../testing/platform.ts';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server (smtp-server) on a loopback port; `mails` holds every message it accepted. */
export async function startSmtp(): Promise<{
  url: string;
  port: number;
  mails: ReceivedMail[];
  close(): Promise<void>;
}> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 100,
    size: 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface TestPerson {
  id: string;
  regionCode: string;
  name: string;
  mobile?: string;
  email?: string;
  residentId?: string;
}

/**
 * Stands in for the user center in the message center's own tests (its contract: getPerson(regionCode, id) → the
 * decrypted account, 404 USER_PERSON_NOT_FOUND when absent), so these tests do not depend on another center's tables.
 */
export function personDirectory(): {
  center: Center;
  add(p: TestPerson): TestPerson;
  addAgent(regionCode: string, unitId: string, personId: string, active?: boolean): void;
} {
  const people = new Map<string, TestPerson>();
  const agents = new Map<string, Array<{ personId: string; active: boolean }>>();
  return {
    addAgent: (regionCode, unitId, personId, active = true) => {
      const key = `${regionCode}:${unitId}`;
      agents.set(key, [...(agents.get(key) ?? []), { personId, active }]);
    },
    add: (p) => {
      people.set(`${p.regionCode}:${p.id}`, p);
      return p;
    },
    center: {
      name: 'user',
      description: '测试用个人目录',
      init(ctx) {
        (ctx.services as Record<string, unknown>).user = {
          getPerson: async (regionCode: string, id: string) => {
            const p = people.get(`${regionCode}:${id}`);
            if (!p) throw new AppError(404, 'USER_PERSON_NOT_FOUND', '用户不存在');
            return { ...p, status: 'active' };
          },
          residentIndexOf: async (regionCode: string, id: string) => {
            const p = people.get(`${regionCode}:${id}`);
            return p?.residentId ? ctx.privacy.blindIndex(p.residentId, 'resident_id') : undefined;
          },
          listAgents: async (regionCode: string, unitId: string) => {
            const list = agents.get(`${regionCode}:${unitId}`);
            if (!list) throw new AppError(404, 'USER_UNIT_NOT_FOUND', '单位不存在');
            return list;
          },
        };
        ctx.permissions = {
          permissionsOf: async (staffId) =>
            new Set(staffId === 'msg-admin' ? ['*'] : staffId === 'msg-viewer' ? ['message:read'] : []),
        };
      },
    },
  };
}

/** Runs every ready message job, pulling scheduled retries (backoff, receipts) forward, until nothing is left. */
export async function flush(p: TestPlatform, rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await p.ctx.db.q(
      sql`update job set run_at = now() where state = 'queued' and (queue like 'message.%' or queue like 'event:%:message')`,
    );
    const n = await p.ctx.jobs.drain();
    if (n === 0) return;
  }
}

/** Runs ready jobs without pulling scheduled ones forward. */
export async function drainReady(p: TestPlatform): Promise<void> {
  await p.ctx.jobs.drain();
}
