import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createTestDatabase } from './db/testing.ts';

const SERVER = new URL('../testing/probe-server.ts', import.meta.url).pathname;

function start(databaseUrl: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER], {
      env: { ...process.env, DATABASE_URL: databaseUrl, DEMO_SEED: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      process.stderr.write(d);
    });
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}` });
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${err.slice(-2000)}`)));
  });
}

describe('two server processes on one PostgreSQL', { skip: !process.env.TEST_DATABASE_URL }, () => {
  let servers: Array<{ child: ChildProcess; url: string }> = [];
  let databaseUrl = '';
  let close: () => Promise<void>;

  before(async () => {
    const db = await createTestDatabase('postgres');
    databaseUrl = db.url!;
    close = () => db.close();
    servers = await Promise.all([start(databaseUrl), start(databaseUrl)]);
  });

  after(async () => {
    for (const s of servers) s.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await close?.();
  });

  test('a job enqueued through one process runs exactly once across both', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `job-${i}`);
    const res = await fetch(`${servers[0].url}/api/probe/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keys }),
    });
    assert.equal(res.status, 200);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      // A job is marked done just after its work commits: wait for both, then check nothing ran twice.
      let rows: { job_key: string; runs: number }[] = [];
      let pending = -1;
      for (let i = 0; i < 200; i++) {
        rows = (await client.query('select job_key, count(*)::int as runs from probe_run group by job_key')).rows;
        pending = (
          await client.query(`select count(*)::int as n from job where queue = 'probe.work' and state <> 'done'`)
        ).rows[0].n;
        if (rows.length === keys.length && pending === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(rows.length, keys.length);
      assert.ok(
        rows.every((r) => r.runs === 1),
        'a job ran twice',
      );
      assert.equal(pending, 0);
    } finally {
      await client.end();
    }
  });

  test('an idempotent request repeated through the other process returns the first response', async () => {
    const send = (url: string) =>
      fetch(`${url}/api/probe/increment`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'two-proc-0001' },
        body: JSON.stringify({ by: 7 }),
      });
    const first = await send(servers[0].url);
    const second = await send(servers[1].url);
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    const a = await first.json();
    const b = await second.json();
    assert.deepEqual(b, a);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
  });
});
