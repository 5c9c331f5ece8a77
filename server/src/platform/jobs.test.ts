import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from './db/index.ts';
import { forEachDatabase } from './db/testing.ts';
import { EventBus } from './events.ts';
import { backoffMs, enqueue, JobRunner, NotYet, retryDeadJob } from './jobs.ts';

forEachDatabase('durable jobs', (getDb) => {
  test('a job enqueued in a rolled-back transaction never exists', async () => {
    const db = getDb();
    await assert.rejects(
      db.tx(async (tx) => {
        await enqueue(tx, 't.rollback', { a: 1 });
        throw new Error('business write failed');
      }),
    );
    assert.equal((await db.q(sql`select id from job where queue = 't.rollback'`)).length, 0);
  });

  test('runs once, retries with backoff, then dead-letters', async () => {
    const db = getDb();
    const runner = new JobRunner(db, { pollMs: 10 });
    const seen: unknown[] = [];
    runner.register('t.ok', async (job) => {
      seen.push(job.payload);
    });
    let failures = 0;
    runner.register('t.fail', async () => {
      failures++;
      throw new Error('provider down');
    });
    await db.tx(async (tx) => {
      await enqueue(tx, 't.ok', { n: 1 });
      await enqueue(tx, 't.fail', { n: 2 }, { maxAttempts: 2, regionCode: '990100' });
    });
    await runner.drain();
    assert.deepEqual(seen, [{ n: 1 }]);
    assert.equal(failures, 1);
    const [retry] = await db.q<{ state: string; attempts: number; wait: number }>(
      sql`select state, attempts, extract(epoch from run_at - now())::float as wait from job where queue = 't.fail'`,
    );
    assert.equal(retry.state, 'queued');
    assert.ok(retry.wait > 1 && retry.wait <= backoffMs(1) / 1000 + 1, `backoff ${retry.wait}s`);
    await db.q(sql`update job set run_at = now() where queue = 't.fail'`);
    await runner.drain();
    const [dead] = await db.q<{ id: number; state: string; last_error: string }>(
      sql`select id, state, last_error from job where queue = 't.fail'`,
    );
    assert.equal(dead.state, 'dead');
    assert.match(dead.last_error, /provider down/);
    assert.equal(runner.failures.get('t.fail'), 2);
    assert.equal(await retryDeadJob(db, dead.id, '980100'), false, "another region's job");
    assert.equal(await retryDeadJob(db, dead.id, '990100'), true);
    assert.equal(await retryDeadJob(db, dead.id, '990100'), false);
  });

  test('a job that cannot run yet waits its backoff as a note, not a failure, and dead-letters only in the end', async () => {
    const db = getDb();
    const notes: unknown[] = [];
    const warnings: unknown[] = [];
    const runner = new JobRunner(db, {
      pollMs: 10,
      note: (_m, o) => notes.push(o),
      log: (_m, o) => warnings.push(o),
    });
    runner.register('t.wait', async () => {
      throw new NotYet('原票据尚未开具');
    });
    await enqueue(db, 't.wait', {}, { maxAttempts: 2 });
    await runner.drain();
    const [waiting] = await db.q<{ state: string; last_error: string; wait: number }>(sql`select state, last_error,
      extract(epoch from run_at - now())::float as wait from job where queue = 't.wait'`);
    assert.equal(waiting.state, 'queued');
    assert.equal(waiting.last_error, '等待：原票据尚未开具', 'the reason, no stack trace');
    assert.ok(waiting.wait > 1, 'after its backoff');
    assert.equal(notes.length, 1);
    assert.deepEqual(warnings, []);
    assert.equal(runner.failures.get('t.wait'), undefined, 'not counted as a failure');
    await db.q(sql`update job set run_at = now() where queue = 't.wait'`);
    await runner.drain();
    const [dead] = await db.q<{ state: string }>(sql`select state from job where queue = 't.wait'`);
    assert.equal(dead.state, 'dead', 'a wait that never ends is a failure after all');
    assert.equal(warnings.length, 1);
    assert.equal(runner.failures.get('t.wait'), 1);
  });

  test('a job whose worker died is claimed again after its lock expires', async () => {
    const db = getDb();
    await enqueue(db, 't.crash', {});
    await db.q(sql`update job set state = 'running', attempts = 1, locked_until = now() - interval '1 second'
      where queue = 't.crash'`);
    const runner = new JobRunner(db, { pollMs: 10 });
    let ran = 0;
    runner.register('t.crash', async () => {
      ran++;
    });
    await runner.drain();
    assert.equal(ran, 1);
  });

  test('stats tell due jobs (with the longest wait) from jobs scheduled for later', async () => {
    const db = getDb();
    await enqueue(db, 't.stats', { n: 1 }, { runAt: new Date(Date.now() - 90_000) });
    await enqueue(db, 't.stats', { n: 2 });
    await enqueue(db, 't.stats', { n: 3 }, { runAt: new Date(Date.now() + 3_600_000) });
    const stats = (await new JobRunner(db, { pollMs: 10 }).stats()).filter((s) => s.queue === 't.stats');
    const queued = stats.find((s) => s.state === 'queued');
    assert.equal(queued?.count, 2);
    assert.ok(queued.waitSeconds >= 90 && queued.waitSeconds < 120, String(queued.waitSeconds));
    assert.deepEqual(
      stats.filter((s) => s.state === 'scheduled').map((s) => [s.count, s.waitSeconds]),
      [[1, 0]],
    );
  });

  test("a region's stats count its own jobs and the platform-wide ones, not another region's", async () => {
    const db = getDb();
    await enqueue(db, 't.region-stats', {}, { regionCode: '320100' });
    await enqueue(db, 't.region-stats', {}, { regionCode: '320100' });
    await enqueue(db, 't.region-stats', {}, { regionCode: '330100' });
    await enqueue(db, 't.region-stats', {});
    const runner = new JobRunner(db, { pollMs: 10 });
    const count = async (region?: string) =>
      (await runner.stats(region)).find((s) => s.queue === 't.region-stats' && s.state === 'queued')?.count;
    assert.equal(await count('320100'), 3);
    assert.equal(await count('330100'), 2);
    assert.equal(await count('110100'), 1);
    assert.equal(await count(), 4);
  });

  test('dedupe keys make re-enqueueing harmless', async () => {
    const db = getDb();
    for (let i = 0; i < 3; i++) await enqueue(db, 't.dedupe', { i }, { dedupeKey: 'order-1' });
    assert.equal((await db.q(sql`select id from job where queue = 't.dedupe'`)).length, 1);
  });

  test('events reach every subscriber once', async () => {
    const db = getDb();
    const runner = new JobRunner(db, { pollMs: 10 });
    const bus = new EventBus(runner);
    const got: string[] = [];
    bus.subscribe('t.paid', 'mail', async (job) => void got.push(`mail:${job.payload.orderId}`));
    bus.subscribe('t.paid', 'bill', async (job) => void got.push(`bill:${job.payload.orderId}`));
    await db.tx((tx) => bus.publish(tx, 't.paid', { orderId: 'o1' }, { dedupeKey: 'o1' }));
    await db.tx((tx) => bus.publish(tx, 't.paid', { orderId: 'o1' }, { dedupeKey: 'o1' }));
    await runner.drain();
    assert.deepEqual(got.sort(), ['bill:o1', 'mail:o1']);
  });

  test('concurrent workers never run a job twice', async () => {
    const db = getDb();
    for (let i = 0; i < 40; i++) await enqueue(db, 't.race', { i });
    const counts = new Map<number, number>();
    const runners = [1, 2, 3].map(() => {
      const r = new JobRunner(db, { pollMs: 10, batch: 5 });
      r.register('t.race', async (job) => {
        counts.set(job.payload.i, (counts.get(job.payload.i) ?? 0) + 1);
        await new Promise((res) => setTimeout(res, 1));
      });
      return r;
    });
    await Promise.all(runners.map((r) => r.drain()));
    assert.equal(counts.size, 40);
    assert.ok([...counts.values()].every((n) => n === 1));
  });
});
